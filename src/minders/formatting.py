"""How numbers are written for people: one rule for the command line, tables and the dashboard."""

from __future__ import annotations

import math
from typing import Any


def format_number(value: Any, digits: int = 3) -> str:
    """Integers with thousands separators, other numbers to ``digits`` significant digits.

    Strings pass through; NaN is written ``-``.

    Examples
    --------
    >>> format_number(150000), format_number(0.012345), format_number(1234.5678)
    ('150,000', '0.0123', '1.23e+03')
    >>> format_number(1234.5678, digits=6), format_number(float("nan")), format_number("x")
    ('1234.57', '-', 'x')
    """
    if isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "-"
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:.{digits}g}"


def format_measure(value: Any) -> str:
    """A measured value in a summary table: integers with separators, others to 4 digits.

    Unlike :func:`format_number`, a large non-integer keeps its integer part
    (``1,234.6``), as a count averaged over steps should.

    Examples
    --------
    >>> format_measure(3), format_measure(0.123456), format_measure(1234.56), format_measure("a")
    ('3', '0.1235', '1,234.6', 'a')
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            return str(value)
    if math.isnan(value):
        return "-"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.4g}" if abs(value) < 10 else f"{value:,.1f}"


#: Tier colours of every figure, command line and dashboard alike (Tableau 10,
#: friendlier to colour-blind readers than matplotlib's and Bokeh's defaults).
TIER_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
#: Line styles cycled with the colours, so lines that lie on each other stay distinguishable.
TIER_LINESTYLES = ("-", "--", "-.", ":")


def tier_colour(k: int) -> str:
    """Colour of the ``k``-th tier (in the order of the records).

    Examples
    --------
    >>> tier_colour(0), tier_colour(10) == tier_colour(0)
    ('#4e79a7', True)
    """
    return TIER_COLOURS[k % len(TIER_COLOURS)]
