"""The one error class users see, and its message template.

Every problem with user input (a scenario file, an override, a graph file)
is raised as :class:`ScenarioError`, whose message names the field, the value
and what was expected, in the style of scikit-learn's parameter validation.
The CLI prints the message and exits with status 2.
"""

from __future__ import annotations

import reprlib
from typing import Any


class ScenarioError(ValueError):
    """A scenario (or anything read from the user) is invalid.

    Parameters
    ----------
    field : str
        Dotted path of the offending field, e.g. ``"tiers.workers.span"``.
    value : Any
        The value that was given.
    expected : str
        What would have been accepted, in words.

    Examples
    --------
    >>> err = ScenarioError("tiers.workers.span", -3, "an integer >= 1")
    >>> print(err)
    tiers.workers.span: expected an integer >= 1, got -3
    """

    def __init__(self, field: str, value: Any, expected: str) -> None:
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}: expected {expected}, got {format_value(value)}")


class ScenarioErrors(ScenarioError):
    """Several problems found in one scenario, reported together."""

    def __init__(self, errors: list[ScenarioError]) -> None:
        self.errors = errors
        first = errors[0]
        ValueError.__init__(self, "\n".join(str(e) for e in errors))
        self.field, self.value, self.expected = first.field, first.value, first.expected


def format_value(value: Any) -> str:
    """Render a user-supplied value compactly for an error message.

    Containers are abbreviated while they are rendered, so a huge value (an
    expanded YAML alias bomb) costs no more than a small one.

    Examples
    --------
    >>> format_value("x"), format_value(list(range(1000)))
    ("'x'", '[0, 1, 2, 3, 4, 5, ...]')
    """
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlong = 40
