"""Replicates of one scenario: N seeds, their records, a fan chart and a summary with intervals.

One stochastic run cannot tell signal from noise. :func:`run_replicates`
runs a scenario with ``n`` seeds as a one-point sweep (the sweep's executors,
results folder and resume): replicate ``r`` gets the seed
``SeedSequence(seed, spawn_key=(0, r))`` (63 bits of its state; see
:func:`minders.experiments.design.run_seed`), so the replicates are the same
whichever executor or how many workers run them, and replicate ``r`` is the
run ``r`` of point 0 of any sweep with the same seed.

Examples
--------
>>> import minders, tempfile
>>> scenario = minders.load_scenario("overseas_workers", ["run.steps=8"])
>>> reps = run_replicates(scenario, 3, out=tempfile.mkdtemp(), executor="serial")
>>> reps.records.groupby("replicate").size().tolist()
[32, 32, 32]
>>> reps.summary().loc["cascade", "method"]
'wilson'
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from minders import kinds
from minders.errors import ScenarioError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from minders.experiments.sweep import SweepReport

#: Most replicates one call runs.
MAX_REPLICATES = 100_000


@dataclass
class Replicates:
    """The replicates of one scenario.

    Attributes
    ----------
    scenario : ScenarioBase
        The scenario run.
    seed : int
        The base seed the replicates' seeds derive from.
    runs : pandas.DataFrame
        One row per replicate: ``replicate``, ``seed`` and the metrics.
    records : pandas.DataFrame
        Every replicate's per-step records, with a ``replicate`` column.
    directory : Path
        The results folder (a sweep folder: ``minders results`` reads it).
    report : SweepReport
        What the run did (time, executor, workers).
    """

    scenario: Any
    seed: int
    runs: pd.DataFrame
    records: pd.DataFrame
    directory: Path
    report: SweepReport
    metrics: list[str]
    quantities: dict[str, str]
    horizon: int
    specs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Number of replicates."""
        return len(self.runs)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Per metric: ``estimate``, ``low``, ``high`` and ``method`` (plus never-share, spread).

        The interval fits the quantity (see :mod:`minders.experiments.intervals`):
        Wilson for the cascade probability, quasi-Poisson for counts, Kaplan-Meier
        median for the time to a cascade (``never``: share of replicates without one).
        """
        from minders.experiments.summary import summarize_frame

        frame = summarize_frame(self.runs.assign(point=0), [], self.metrics, confidence,
                                quantities=self.quantities, horizons=float(self.horizon),
                                units=self._unit)
        row = frame.iloc[0]
        rows = []
        for metric in self.metrics:
            entry = {"metric": metric, "estimate": row[metric], "low": row[f"{metric}_low"],
                     "high": row[f"{metric}_high"],
                     "method": frame.attrs["intervals"].get(metric, "t")}
            for extra in ("never", "q10", "q50", "q90"):
                if f"{metric}_{extra}" in row.index:
                    entry[extra] = row[f"{metric}_{extra}"]
            rows.append(entry)
        table = pd.DataFrame(rows).set_index("metric")
        table.attrs["n"] = self.n
        table.attrs["confidence"] = confidence
        return table

    def _unit(self, point: int, label: str) -> float | None:
        from minders.experiments.metrics import parse_metric

        for spec in self.specs:
            metric = parse_metric(dict(spec))
            if metric.label == label:
                return metric.unit(self.scenario, self.horizon)
        return None

    def figure(self) -> Figure:
        """Fan chart: per tier the median and the 50% and 90% bands over replicates."""
        from minders.plotting import fan_figure

        return fan_figure(self.records, self.scenario, title=(
            f"{self.scenario.name}: {self.n} replicates (base seed {self.seed})"))



def replicate_metrics(scenario: Any) -> list[dict[str, Any]]:
    """The metrics of a replicate run: the kind's defaults, per-tier counts and cascades.

    Examples
    --------
    >>> import minders
    >>> [m["kind"] for m in replicate_metrics(minders.load_scenario("overseas_workers"))][:4]
    ['defections_per_year', 'peak_surprise_gap', 'cascade', 'time_to_cascade']
    """
    kind = kinds.of(scenario)
    specs = [dict(m) for m in kind.default_metrics(scenario)]
    if "defections" in kind.columns:
        specs += [{"kind": "time_to_cascade"}, {"kind": "cascade_size"}]
        per_tier = "defections_per_year" if scenario.steps_per_year() else "defections"
        specs += [{"kind": per_tier, "tier": tier} for tier in scenario.groups()]
    seen: set[str] = set()
    unique = []
    for spec in specs:  # a default may already be one of ours
        key = repr(sorted(spec.items()))
        if key not in seen:
            seen.add(key)
            unique.append(spec)
    return unique


def run_replicates(
    scenario: Any,
    n: int,
    seed: int | None = None,
    steps: int | None = None,
    *,
    out: str | Path | None = None,
    executor: Any = "local",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Replicates:
    """Run ``n`` replicates of a scenario (seeds derived from ``seed``) and keep every record.

    Parameters
    ----------
    scenario : ScenarioBase
        From :func:`minders.load_scenario`.
    n : int
        Replicates.
    seed : int, optional
        Base seed (default: the scenario's ``run.seed``).
    steps : int, optional
        Horizon (default: ``run.steps``).
    out : str or Path, optional
        Results folder (default: a temporary folder). A folder of the same
        replicates is resumed.
    executor : str or Executor
        ``local``, ``dask``, ``serial`` or an executor, as for sweeps.
    workers : int, optional
        Processes or Dask workers.
    progress : callable, optional
        ``progress(done, total)`` in runs.

    Returns
    -------
    Replicates
    """
    from minders.experiments.design import build_sweep
    from minders.experiments.schema import Experiment
    from minders.experiments.store import load_records, load_results
    from minders.experiments.sweep import run_sweep

    if not isinstance(n, int | np.integer) or isinstance(n, bool) or not 1 <= n <= MAX_REPLICATES:
        raise ScenarioError("--replicates", n, f"an integer in [1, {MAX_REPLICATES:,}]")
    seed = kinds.check_seed(seed if seed is not None else scenario.run.seed, "--seed")
    if steps is not None:
        steps = kinds.check_steps(steps, "--steps")
    kinds.of(scenario).checks(scenario, steps)
    specs = replicate_metrics(scenario)
    if not specs:
        raise ScenarioError("--replicates", n, f"a kind with default metrics (the {scenario.kind} "
                            "kind has none: write an experiment file with replicates and "
                            "metrics, and run it with 'minders sweep')")
    settings: dict[str, Any] = {"run.steps": steps} if steps is not None else {}
    experiment = Experiment.model_validate({
        "name": f"{scenario.name}-replicates", "scenario": "-", "replicates": int(n),
        "seed": seed, "set": settings, "metrics": specs, "output": {"records": True},
    })
    sweep = build_sweep(experiment, base=scenario)
    directory = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="minders-"))
    report = run_sweep(sweep, directory, executor, workers=workers, progress=progress)
    runs = load_results(directory)
    records = load_records(directory)
    records.insert(1, "replicate", records["run_id"].to_numpy() % int(n))
    from minders.experiments.metrics import parse_metric

    metrics = [parse_metric(dict(s)) for s in specs]
    result = Replicates(
        scenario=scenario, seed=seed, runs=runs[["replicate", "seed", *sweep.metric_columns]],
        records=records, directory=directory, report=report, metrics=sweep.metric_columns,
        quantities={m.label: m.measures() for m in metrics},
        horizon=int(steps if steps is not None else scenario.run.steps), specs=specs,
    )
    return result


def simulate(
    scenario: Any,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    replicates: int | None = None,
    executor: Any = "local",
    workers: int | None = None,
    out: str | Path | None = None,
) -> Any:
    """Run a scenario once (a :class:`~minders.result.Result`), or ``replicates`` times.

    ``minders.simulate``. Without ``replicates`` it is
    :func:`minders.kinds.simulate`. With it, it is :func:`run_replicates`
    (``progress`` then counts runs, not steps) and returns :class:`Replicates`.

    Examples
    --------
    >>> import minders
    >>> scenario = minders.load_scenario("overseas_workers", ["run.steps=4"])
    >>> minders.simulate(scenario, replicates=2, executor="serial").runs["replicate"].tolist()
    [0, 1]
    """
    if replicates is None:
        return kinds.simulate(scenario, seed=seed, steps=steps, progress=progress)
    return run_replicates(scenario, replicates, seed, steps, out=out, executor=executor,
                          workers=workers, progress=progress)
