"""Per-point summaries of a sweep: each metric's estimate with the interval that fits it.

A metric's ``quantity`` (see :mod:`minders.experiments.metrics`) picks the
interval (see :mod:`minders.experiments.intervals`): Wilson for a
probability (``cascade``), quasi-Poisson exact for counts and rates (never
below zero), Kaplan-Meier for a time to an event (``time_to_cascade``: the
column holds the **median** time, runs that never reach the event are
censored, not averaged, and ``METRIC_never`` is the share of them),
quantiles over runs for sizes, Student's t for anything else.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import minders.experiments.intervals as intervals

#: Quantiles over runs reported for sizes (``METRIC_q10``, ``METRIC_q50``, ``METRIC_q90``).
SIZE_QUANTILES = (0.1, 0.5, 0.9)


def summarize_frame(
    runs: pd.DataFrame, parameters: list[str], metrics: list[str], confidence: float = 0.95,
    quantities: dict[str, str] | None = None,
    horizons: float | pd.Series | None = None,
    units: Callable[[int, str], float | None] | None = None,
) -> pd.DataFrame:
    """Per point: the parameters, ``n`` and for each metric its estimate, ``low`` and ``high``.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run, with ``point``, the parameters and the metrics.
    parameters, metrics : list of str
        Column names.
    confidence : float
        Two-sided confidence level of the intervals.
    quantities : dict, optional
        Metric -> quantity (``probability``, ``count``, ``size``, ``time``,
        ``continuous``, ``constant``); missing ones are ``continuous`` (t interval).
    horizons : float or Series, optional
        Steps of the runs (a Series: per point), needed by ``time`` metrics: a
        time equal to the horizon means the event never happened.
    units : callable, optional
        ``units(point, metric)``: the value of one event, asked only where a
        count's runs are all zero (its upper bound needs it).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``point``; columns ``n``, the parameters, then ``METRIC``,
        ``METRIC_low`` and ``METRIC_high`` for every metric; ``METRIC_never``
        (and its ``_low``, ``_high``) for times; ``METRIC_q10``, ``_q50``,
        ``_q90`` for sizes. ``table.attrs["intervals"]`` names each metric's method.

    Examples
    --------
    >>> runs = pd.DataFrame({"point": [0, 0, 1, 1], "span": [5, 5, 10, 10],
    ...                      "cascade": [0.0, 0.0, 1.0, 1.0]})
    >>> table = summarize_frame(runs, ["span"], ["cascade"], quantities={"cascade": "probability"})
    >>> table[["span", "n", "cascade", "cascade_low", "cascade_high"]].round(2).values.tolist()
    [[5.0, 2.0, 0.0, 0.0, 0.66], [10.0, 2.0, 1.0, 0.34, 1.0]]
    >>> table.attrs["intervals"]
    {'cascade': 'wilson'}
    """
    intervals._check(confidence)
    quantities = quantities or {}
    grouped = runs.groupby("point", sort=True)
    table = grouped[parameters].first() if parameters else pd.DataFrame(index=grouped.size().index)
    table["n"] = grouped.size()
    methods: dict[str, str] = {}
    for metric in metrics:
        quantity = quantities.get(metric, "continuous")
        columns: dict[str, list[float]] = {}
        for point, values in grouped[metric]:
            x = values.to_numpy(dtype=float)
            if quantity == "time":
                horizon = _horizon(horizons, point, metric)
                summary = intervals.time_to_event(x, horizon, confidence)
                row = {"": summary.median, "_low": summary.low, "_high": summary.high,
                       "_never": summary.never, "_never_low": summary.never_low,
                       "_never_high": summary.never_high}
                methods[metric] = "kaplan-meier median"
            else:
                unit = None
                if quantity in ("count", "size") and units is not None and not np.any(x):
                    unit = units(int(point), metric)
                found = intervals.interval(x, quantity, confidence, unit)
                row = {"": found.estimate, "_low": found.low, "_high": found.high}
                if quantity == "size":
                    for level, value in zip(SIZE_QUANTILES, intervals.quantiles(x, SIZE_QUANTILES),
                                            strict=True):
                        row[f"_q{round(100 * level)}"] = value
                # The widest method wins the label: t where a count went negative, say.
                methods.setdefault(metric, found.method)
                if found.method != methods[metric]:
                    methods[metric] = "mixed"
            for suffix, value in row.items():
                columns.setdefault(suffix, []).append(value)
        for suffix, values in columns.items():
            table[metric + suffix] = values
    table.index.name = "point"
    table.attrs["intervals"] = methods
    return table


def _horizon(horizons: float | pd.Series | None, point: Any, metric: str) -> float:
    if horizons is None:
        from minders.errors import ScenarioError

        raise ScenarioError("horizons", None, f"the steps of the runs, to censor '{metric}'")
    if isinstance(horizons, pd.Series):
        return float(horizons.loc[point])
    return float(horizons)


def summarize(directory: str | Path, confidence: float = 0.95) -> pd.DataFrame:
    """The per-point summary of a results folder (see :func:`summarize_frame`).

    Each metric gets the interval of its quantity, read from the experiment
    recorded in the folder's manifest.

    Examples
    --------
    >>> import tempfile
    >>> from minders.experiments import run_sweep, validate_experiment
    >>> out = tempfile.mkdtemp()
    >>> _ = run_sweep(validate_experiment({"scenario": "overseas_workers",
    ...     "replicates": 2, "set": {"run.steps": 8},
    ...     "parameters": {"tiers.minders.span": {"values": [5, 10]}}}), out, "serial")
    >>> summarize(out)[["tiers.minders.span", "n"]].values.tolist()
    [[5, 2], [10, 2]]
    """
    from minders.experiments.store import load_results, read_manifest

    manifest = read_manifest(directory)
    runs = load_results(directory)
    context = ManifestContext(manifest, runs)
    return summarize_frame(runs, list(manifest["parameters"]), manifest["metrics"], confidence,
                           quantities=context.quantities(), horizons=context.horizons(),
                           units=context.unit)


class ManifestContext:
    """What a summary needs to know of an experiment, read from its manifest.

    The metrics' quantities, each point's horizon (``run.steps``, swept or
    not) and, on demand, the value of one event of a count at a point (which
    validates that point's scenario, so it is asked only where needed).

    Examples
    --------
    >>> manifest = {"metrics": ["cascade"], "parameters": {},
    ...             "experiment": {"metrics": [{"kind": "cascade"}]},
    ...             "base_scenario": {"run": {"steps": 52}}}
    >>> context = ManifestContext(manifest, pd.DataFrame({"point": [0]}))
    >>> context.quantities(), context.horizons()
    ({'cascade': 'probability'}, 52.0)
    """

    def __init__(self, manifest: dict[str, Any], runs: pd.DataFrame) -> None:
        from minders.experiments.metrics import parse_metric

        self.manifest = manifest
        self.runs = runs
        specs = manifest.get("experiment", {}).get("metrics") or []
        self.metrics = {}
        for spec in specs:
            metric = parse_metric(dict(spec))
            self.metrics[metric.label] = metric
        self._scenarios: dict[int, Any] = {}

    def quantities(self) -> dict[str, str]:
        """Metric column -> quantity."""
        return {label: metric.measures() for label, metric in self.metrics.items()}

    def _steps_parameter(self) -> str | None:
        for name, paths in self.manifest.get("parameters", {}).items():
            if "run.steps" in paths:
                return name
        return None

    def horizons(self) -> float | pd.Series:
        """Steps of the runs: one number, or per point where ``run.steps`` is swept."""
        swept = self._steps_parameter()
        if swept is not None and swept in self.runs.columns:
            return self.runs.groupby("point", sort=True)[swept].first().astype(float)
        steps = self.manifest.get("base_scenario", {}).get("run", {}).get("steps")
        return float(steps) if steps is not None else math.nan

    def unit(self, point: int, label: str) -> float | None:
        """Value of one event of metric ``label`` at ``point`` (None when unknown)."""
        metric = self.metrics.get(label)
        if metric is None:
            return None
        scenario = self._scenario(point)
        return metric.unit(scenario, int(scenario.run.steps))

    def _scenario(self, point: int) -> Any:
        if point not in self._scenarios:
            from minders.kinds import validate_scenario
            from minders.spec import apply_overrides

            row = self.runs.loc[self.runs["point"] == point].iloc[0]
            overrides = {path: _plain(row[name])
                         for name, paths in self.manifest["parameters"].items() for path in paths}
            data = apply_overrides(copy.deepcopy(self.manifest["base_scenario"]), overrides)
            self._scenarios[point] = validate_scenario(data)
        return self._scenarios[point]


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value a scenario file would hold."""
    return value.item() if isinstance(value, np.generic) else value
