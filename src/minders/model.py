"""The minders model as a scenario kind: how the interfaces run, check, summarise and draw it.

The rules live in the engine (:mod:`minders.engine`, :mod:`minders.kernels`);
this module holds the kind's hooks (see :class:`~minders.kinds.Kind`): the
per-tier summary table ``minders run`` prints, the checks that need more than
the schema (memory, graph files), the extra metadata of ``run.json`` and the
default metrics of an experiment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from minders.kinds import Kind
from minders.records import COUNT_COLUMNS, RATE_COLUMNS
from minders.scenario import Scenario

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from minders.result import Result


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run a minders scenario once (see :func:`minders.engine.simulate`)."""
    from minders.engine import simulate as run

    return run(scenario, seed=seed, steps=steps, progress=progress)


def tier_summary(result: Result) -> pd.DataFrame:
    """Per tier: positions, totals of the flows, peak surprise gap, minders per ward.

    ``defections_per_year`` is the mean yearly number of defections;
    ``minders_per_ward`` is averaged over the steps.

    Examples
    --------
    >>> import minders
    >>> result = minders.simulate(minders.load_scenario("pyongyang"), steps=5)
    >>> list(tier_summary(result).index)
    ['residents', 'elites', 'minders', 'security']
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


def figure(result: Result) -> Figure:
    """The summary figure (see :func:`minders.plotting.summary_figure`)."""
    from minders.plotting import summary_figure

    return summary_figure(result)


def checks(scenario: Scenario, steps: int | None = None) -> None:
    """Refuse what the schema cannot see: a run too large for memory, a bad graph file.

    The graph file is read in full, so every problem in it (a missing file,
    binary content, ids out of range) is found before a run is built.
    """
    from minders.network import load_graph
    from minders.population import check_fits

    check_fits(scenario, steps)
    if scenario.network.file is not None:
        load_graph(scenario.network.file, sum(scenario.tier_sizes().values()))


def metadata(scenario: Scenario) -> dict[str, Any]:
    """The resolved tier sizes, for ``run.json``."""
    return {"tier_sizes": scenario.tier_sizes()}


def default_metrics(scenario: Scenario) -> list[dict[str, Any]]:
    """Defections per year, the peak surprise gap and whether a cascade happened."""
    return [{"kind": "defections_per_year"}, {"kind": "peak_surprise_gap"}, {"kind": "cascade"}]


KIND = Kind(
    name="minders", scenario_class=Scenario, simulate=simulate, summary=tier_summary,
    figure=figure, description="Surveillance hierarchies and defection cascades (docs/model.md).",
    columns=(*COUNT_COLUMNS, *RATE_COLUMNS), checks=checks, metadata=metadata,
    default_metrics=default_metrics, features=frozenset({"dashboard", "plan"}),
)
