"""The per-tier summary of a minders run: what ``minders run`` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from minders.result import Result


def tier_summary(result: Result) -> pd.DataFrame:
    """Per tier: positions, totals of the flows, peak surprise gap, minders per ward.

    ``defections_per_year`` is the mean yearly number of defections;
    ``minders_per_ward`` is averaged over the steps.

    Examples
    --------
    >>> import minders
    >>> result = minders.simulate(minders.load_scenario("scenarios/pyongyang.toml"),
    ...                           steps=5)  # doctest: +SKIP
    >>> tier_summary(result).loc["residents", "defections"]  # doctest: +SKIP
    """
    rec = result.records
    grouped = rec.groupby("tier", observed=True, sort=False)
    sizes = result.scenario.tier_sizes()
    years = result.steps / result.scenario.run.steps_per_year
    table = pd.DataFrame({
        "positions": [sizes[str(t)] for t in grouped.groups],
        "defections": grouped["defections"].sum(),
        "interceptions": grouped["interceptions"].sum(),
        "arrests": grouped["arrests"].sum(),
        "purges": grouped["purges"].sum(),
        "peak_surprise_gap": grouped["surprise_gap"].max(),
        "minders_per_ward": grouped["minders_per_ward"].mean(),
    })
    table.insert(2, "defections_per_year", table["defections"] / years)
    table.index = table.index.astype(str)
    table.index.name = "tier"
    return table
