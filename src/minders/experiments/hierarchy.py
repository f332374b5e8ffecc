"""Edits of a scenario's hierarchy that planning searches over: spans and added tiers.

These functions work on the *dict* of a scenario (``model_dump(mode="json")``),
because an edit passes through states that are not valid scenarios yet (an
added tier whose wards have no span); :func:`~minders.kinds.validate_scenario`
checks the result. Facts about a validated scenario (its tiers' depths,
sizes and wards) are :class:`~minders.scenario.Scenario`'s methods.
"""

from __future__ import annotations

import copy
from typing import Any

from minders.errors import ScenarioError

#: Name of the first added tier of minders of minders (then ``overseers_2``, ...).
OVERSEERS = "overseers"


def minder_levels(tiers: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Level of every minder tier: 1 if it watches only governed tiers, else 1 + its wards' max.

    This counts up from the governed tiers (those that watch nobody), which
    is what a span ladder needs: level 1 is the bottom minders, whose span
    the search bisects. :meth:`~minders.scenario.Scenario.tier_depths` counts
    down from the top instead, and the two differ when branches of the
    hierarchy have different heights; it also needs a validated scenario,
    while this works on the dicts being edited here.

    Examples
    --------
    >>> minder_levels({"w": {"minded_by": "m"}, "m": {"minded_by": "s"}, "s": {}})
    {'m': 1, 's': 2}
    """
    wards: dict[str, list[str]] = {name: [] for name in tiers}
    for name, tier in tiers.items():
        if tier.get("minded_by"):
            wards[tier["minded_by"]].append(name)
    levels: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in levels:
            levels[name] = 1 + max((level(w) for w in wards[name] if wards[w]), default=0)
        return levels[name]

    return {name: level(name) for name in tiers if wards[name]}


def add_overseers(data: dict[str, Any], count: int) -> dict[str, Any]:
    """A copy of a scenario dict with ``count`` tiers of minders of minders on top.

    Each new tier copies the attributes of the top minder tier it watches and
    is sized ``auto``; the watched tiers get a span later (see :func:`staff`).

    Examples
    --------
    >>> data = {"tiers": {"w": {"size": 10, "minded_by": "m", "span": 5},
    ...                   "m": {"size": "auto"}}}
    >>> list(add_overseers(data, 1)["tiers"])
    ['w', 'm', 'overseers']
    """
    data = copy.deepcopy(data)
    tiers = data["tiers"]
    for k in range(count):
        levels = minder_levels(tiers)
        tops = [name for name in levels if not tiers[name].get("minded_by")]
        if not tops:
            raise ScenarioError("--extra-tiers", count,
                                "a scenario whose top tier watches another tier")
        name = OVERSEERS if k == 0 else f"{OVERSEERS}_{k + 1}"
        while name in tiers:
            name += "_"
        template = copy.deepcopy(tiers[max(tops, key=lambda t: levels[t])])
        template.update({"size": "auto", "minded_by": None, "span": None})
        for top in tops:
            tiers[top]["minded_by"] = name
            tiers[top]["span"] = 1  # set by staff()
        tiers[name] = template
    return data


def staff(data: dict[str, Any], spans: dict[str, int]) -> dict[str, Any]:
    """Give every ward of each minder tier that tier's span; size all minder tiers ``auto``.

    Examples
    --------
    >>> data = {"tiers": {"w": {"size": 10, "minded_by": "m", "span": 5}, "m": {"size": 9}}}
    >>> staffed = staff(data, {"m": 2})
    >>> staffed["tiers"]["w"]["span"], staffed["tiers"]["m"]["size"]
    (2, 'auto')
    """
    data = copy.deepcopy(data)
    tiers = data["tiers"]
    for tier in tiers.values():
        minder = tier.get("minded_by")
        if minder:
            tier["span"] = int(spans[minder])
            tiers[minder]["size"] = "auto"
    return data
