"""Per-point summaries of a sweep: mean and confidence interval of each metric.

The interval is Student's t over the replicates of a point,
``mean +- t(1 - alpha/2, n - 1) * sd / sqrt(n)``: replicates are independent
runs (distinct seeds), and the t-interval holds for their mean even when a
single run's outcome is far from normal, once there are a few dozen
replicates; with very few it is an approximation (and none with one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def summarize_frame(
    runs: pd.DataFrame, parameters: list[str], metrics: list[str], confidence: float = 0.95
) -> pd.DataFrame:
    """Per point: the parameters, ``n`` and for each metric ``mean``, ``low``, ``high``.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run, with ``point``, the parameters and the metrics.
    parameters, metrics : list of str
        Column names.
    confidence : float
        Two-sided confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``point``; columns ``n``, the parameters, then ``METRIC``,
        ``METRIC_low`` and ``METRIC_high`` for every metric.

    Examples
    --------
    >>> runs = pd.DataFrame({"point": [0, 0, 1, 1], "span": [5, 5, 10, 10],
    ...                      "defections": [1.0, 3.0, 4.0, 4.0]})
    >>> table = summarize_frame(runs, ["span"], ["defections"])
    >>> table[["span", "n", "defections", "defections_high"]].round(2).values.tolist()
    [[5.0, 2.0, 2.0, 14.71], [10.0, 2.0, 4.0, 4.0]]
    """
    from scipy import stats

    if not 0.0 < confidence < 1.0:
        from minders.errors import ScenarioError

        raise ScenarioError("--confidence", confidence, "a level in (0, 1)")
    grouped = runs.groupby("point", sort=True)
    table = grouped[parameters].first() if parameters else pd.DataFrame(index=grouped.size().index)
    table["n"] = grouped.size()
    n = table["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n > 1, stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)), np.nan)
        for metric in metrics:
            mean = grouped[metric].mean().to_numpy()
            sd = grouped[metric].std(ddof=1).to_numpy()
            half = t * sd / np.sqrt(n)
            table[metric] = mean
            table[f"{metric}_low"] = mean - half
            table[f"{metric}_high"] = mean + half
    table.index.name = "point"
    return table


def summarize(directory: str | Path, confidence: float = 0.95) -> pd.DataFrame:
    """The per-point summary of a results folder (see :func:`summarize_frame`).

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
    return summarize_frame(runs, list(manifest["parameters"]), manifest["metrics"], confidence)
