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


def format_estimate(value: Any, digits: int = 3) -> str:
    """An estimate as :func:`format_number` writes it; an infinite time is 'not reached'.

    A Kaplan-Meier median is infinite where fewer than half the runs reach the event.

    Examples
    --------
    >>> format_estimate(float("inf")), format_estimate(0.08762), format_estimate("x")
    ('not reached', '0.0876', 'x')
    """
    try:
        if math.isinf(float(value)):
            return "not reached"
    except (TypeError, ValueError):
        pass
    return format_number(value, digits)


def format_interval(estimate: float, low: float, high: float, digits: int = 3) -> str:
    """``[low, high]``; empty where there is none (NaN) or it is the estimate alone.

    The latter is a constant, or a median that neither it nor its bounds reach.

    Examples
    --------
    >>> format_interval(0.5, 0.25, 0.75), format_interval(1.0, 1.0, 1.0)
    ('[0.25, 0.75]', '')
    """
    if math.isnan(low) or math.isnan(high) or low == high == estimate:
        return ""
    return f"[{format_estimate(low, digits)}, {format_estimate(high, digits)}]"


def spread_notes(never: float, q10: float, q50: float, q90: float,
                 digits: int = 3) -> list[str]:
    """What reads a replicate summary beside its interval; NaN where a metric has none.

    For a time, the share of runs that never reach the event (why a median can
    be 'not reached'); for a size, its 10%, 50% and 90% quantiles over runs.

    Examples
    --------
    >>> nan = float("nan")
    >>> spread_notes(0.25, nan, nan, nan), spread_notes(nan, 1, 2.5, 40)
    (['never in 25% of runs'], ['runs 10/50/90%: 1/2.5/40'])
    """
    notes = []
    if not math.isnan(never):
        notes.append(f"never in {100 * never:.0f}% of runs")
    if not math.isnan(q50):
        notes.append("runs 10/50/90%: " + "/".join(format_estimate(q, digits)
                                                   for q in (q10, q50, q90)))
    return notes


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
