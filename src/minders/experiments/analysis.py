"""Analyses of an ensemble's runs: tipping curves, early signals, lagged co-movement.

Three questions the model exists to answer (docs/experiments.md, 'Three results'):

- :func:`tipping_curve` - how the share of runs that cascade changes with a
  parameter, with a Wilson interval per value (Wilson 1927, through SciPy),
  and where the same parameters gave both outcomes;
- :func:`roc_auc` - how well a signal measured before a shock separates the
  runs that will cascade from those that won't: the area under the ROC curve
  (the Mann-Whitney U statistic over n1 n0, through SciPy) with the interval
  of Hanley and McNeil (1982);
- :func:`lagged_correlation` - whether one flow follows another: the
  correlation of two per-step series at each lag, one value per run, with a
  Student-t interval over the runs (runs are independent; steps are not).

They read the tables an experiment writes (:func:`minders.experiments.load_results`,
:func:`minders.experiments.load_records`) or plain arrays, and never run anything.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from minders.errors import ScenarioError


def tipping_curve(
    runs: pd.DataFrame, parameter: str, outcome: str, confidence: float = 0.95,
) -> pd.DataFrame:
    """Share of runs with ``outcome`` (0 or 1) at each value of ``parameter``, with intervals.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run, with the columns ``parameter`` and ``outcome``.
    parameter : str
        The swept parameter's column.
    outcome : str
        A 0/1 column, such as an ``uprising`` metric.
    confidence : float
        Confidence of the Wilson interval.

    Returns
    -------
    pandas.DataFrame
        One row per value, sorted: ``runs``, ``cascades``, ``share``, ``low``,
        ``high`` and ``both`` (True where some runs cascaded and some did not).

    Examples
    --------
    >>> runs = pd.DataFrame({"depth": [0.3] * 4 + [0.4] * 4, "cascade": [1, 1, 1, 0, 0, 0, 0, 0]})
    >>> tipping_curve(runs, "depth", "cascade")[["runs", "cascades", "share", "both"]]
           runs  cascades  share   both
    depth
    0.3       4         3   0.75   True
    0.4       4         0   0.00  False
    """
    for column in (parameter, outcome):
        if column not in runs.columns:
            raise ScenarioError("column", column, f"a column of the runs ({', '.join(runs)})")
    values = runs[outcome].to_numpy(dtype=float)
    if not np.all(np.isin(values, (0.0, 1.0))):
        raise ScenarioError(outcome, "values other than 0 and 1", "a 0/1 outcome per run")
    counts = runs.groupby(parameter, sort=True)[outcome].agg(["size", "sum"])
    intervals = {  # one interval per distinct (cascades, runs)
        (k, n): stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
        for k, n in set(zip(counts["sum"].astype(int), counts["size"], strict=True))
    }
    rows = []
    for value, (n, k) in zip(counts.index, zip(counts["size"], counts["sum"].astype(int),
                                                strict=True), strict=True):
        interval = intervals[k, n]
        rows.append({parameter: value, "runs": int(n), "cascades": k, "share": k / n,
                     "low": interval.low, "high": interval.high, "both": bool(0 < k < n)})
    return pd.DataFrame(rows).set_index(parameter)


class Auc(NamedTuple):
    """Area under the ROC curve with its interval.

    Attributes
    ----------
    auc : float
        P(score of a random positive > score of a random negative), ties counting half.
    low, high : float
        Interval (Hanley and McNeil 1982), clipped to [0, 1].
    positives, negatives : int
        Runs with and without the outcome.
    """

    auc: float
    low: float
    high: float
    positives: int
    negatives: int


def roc_auc(labels: np.ndarray, scores: np.ndarray, confidence: float = 0.95) -> Auc:
    """How well ``scores`` separate runs labelled 1 from runs labelled 0.

    0.5 is no better than chance; 1 separates them perfectly (higher scores
    for the positives); below 0.5, the signal points the wrong way.

    Examples
    --------
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])).auc
    1.0
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.0, 0.0, 0.0, 0.0])).auc
    0.5
    """
    labels = np.asarray(labels, dtype=float)
    scores = np.asarray(scores, dtype=float)
    if labels.shape != scores.shape or not np.all(np.isin(labels, (0.0, 1.0))):
        raise ScenarioError("labels", "not one 0/1 label per score", "a 0/1 label per score")
    positive, negative = scores[labels == 1.0], scores[labels == 0.0]
    n1, n0 = positive.size, negative.size
    if n1 == 0 or n0 == 0:
        raise ScenarioError("labels", f"{n1} positives and {n0} negatives",
                            "runs with and without the outcome")
    u = stats.mannwhitneyu(positive, negative, alternative="two-sided").statistic
    auc = float(u / (n1 * n0))
    # Hanley & McNeil (1982), eq. 2: the variance of the AUC from Q1, Q2.
    q1, q2 = auc / (2.0 - auc), 2.0 * auc**2 / (1.0 + auc)
    variance = (auc * (1.0 - auc) + (n1 - 1) * (q1 - auc**2) + (n0 - 1) * (q2 - auc**2)) \
        / (n1 * n0)
    half = stats.norm.ppf(0.5 + confidence / 2.0) * np.sqrt(max(variance, 0.0))
    return Auc(auc, max(0.0, auc - half), min(1.0, auc + half), int(n1), int(n0))


def detrend(series: np.ndarray, window: int) -> np.ndarray:
    """``series`` less its centred moving average over ``window`` steps (edges padded).

    Removes what two flows share through a slow common trend (a cascade that
    grows), leaving the step-to-step co-movement the lag structure is about.

    Examples
    --------
    >>> detrend(np.arange(6.0), 3).round(6).tolist()
    [-0.333333, 0.0, 0.0, 0.0, 0.0, 0.333333]
    """
    series = np.asarray(series, dtype=float)
    before, after = window // 2, window - 1 - window // 2
    padded = np.pad(series, (before, after), mode="edge")
    return series - np.convolve(padded, np.ones(window) / window, mode="valid")


def lagged_correlation(
    leader: np.ndarray, follower: np.ndarray, lags: range | list[int],
    trend_window: int | None = None, confidence: float = 0.95,
) -> pd.DataFrame:
    """Correlation of ``leader`` at step t with ``follower`` at step t + lag, over runs.

    Parameters
    ----------
    leader, follower : array, shape (runs, steps) or (runs, steps, units)
        Per-step series of each run (for example wards' escapes and minders'
        defections). With units (for example work units,
        :func:`minders.experiments.units.unit_series`), a run's correlation
        pools every (step, unit) pair.
    lags : sequence of int
        Lags in steps; positive: the follower comes after the leader.
    trend_window : int, optional
        Remove each series' centred moving average over this many steps first
        (:func:`detrend`).
    confidence : float
        Confidence of the interval over runs.

    Returns
    -------
    pandas.DataFrame
        One row per lag: ``mean`` (over the runs where both series vary),
        ``low``, ``high`` (Student t over those runs) and ``runs``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> lead = rng.poisson(1.0, (20, 200)).astype(float)
    >>> follow = np.roll(lead, 3, axis=1) + rng.poisson(1.0, (20, 200))
    >>> table = lagged_correlation(lead, follow, range(-4, 5))
    >>> int(table["mean"].idxmax())
    3
    """
    leader = np.asarray(leader, dtype=float)
    follower = np.asarray(follower, dtype=float)
    if leader.ndim == 2:  # one unit per run
        leader, follower = leader[:, :, None], follower[:, :, None]
    if leader.shape != follower.shape:
        raise ScenarioError("follower", f"shape {follower.shape}",
                            f"the leader's shape {leader.shape}")
    if trend_window:
        leader = np.apply_along_axis(detrend, 1, leader, trend_window)
        follower = np.apply_along_axis(detrend, 1, follower, trend_window)
    steps = leader.shape[1]
    rows = []
    for lag in lags:
        if abs(lag) >= steps - 2:
            raise ScenarioError("lags", lag, f"lags shorter than the series ({steps} steps)")
        a = leader[:, : steps - lag] if lag >= 0 else leader[:, -lag:]
        b = follower[:, lag:] if lag >= 0 else follower[:, : steps + lag]
        values = np.array([_correlation(x.ravel(), y.ravel()) for x, y in zip(a, b, strict=True)])
        values = values[~np.isnan(values)]
        n = values.size
        mean = float(values.mean()) if n else float("nan")
        if n > 1:
            half = stats.t.ppf(0.5 + confidence / 2.0, n - 1) * values.std(ddof=1) / np.sqrt(n)
        else:
            half = float("nan")
        rows.append({"lag": lag, "mean": mean, "low": mean - half, "high": mean + half,
                     "runs": n})
    return pd.DataFrame(rows).set_index("lag")


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation, NaN where either series is constant."""
    if x.std() == 0.0 or y.std() == 0.0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])
