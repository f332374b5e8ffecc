"""How well an indicator separates runs that cascade from runs that don't.

- :func:`auc` - the ROC AUC (the Mann-Whitney probability that a cascading
  run scores higher than a quiet one, ties counting one half) with DeLong's
  variance (DeLong et al. 1988, in the fast form of Sun and Xu 2014) and a
  normal interval clipped to [0, 1];
- :func:`roc_curve` - false- and true-alarm rates at every threshold;
- :func:`alarm_rates` - hit and false-alarm rates and the median lead time
  of a fixed threshold watched over a window of steps.

Examples
--------
>>> auc([3.0, 4.0], [1.0, 2.0])[0], auc([1.0, 2.0], [1.0, 2.0])[0]
(1.0, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm, rankdata


def auc(positive, negative, confidence: float = 0.95) -> tuple[float, float, float]:
    """ROC AUC of scores of positives (cascades) against negatives, with DeLong's interval.

    Parameters
    ----------
    positive, negative : array-like of float
        Scores; NaN entries are left out.
    confidence : float
        Level of the interval.

    Returns
    -------
    (auc, low, high)
        NaN when either group is empty; the interval needs two of each.

    Examples
    --------
    >>> value, low, high = auc([0.9, 0.8, 0.4, 0.7], [0.1, 0.5, 0.3, 0.6])
    >>> value, bool(low < value < high <= 1)
    (0.875, True)
    """
    x = np.asarray(positive, dtype=float)
    y = np.asarray(negative, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    m, n = x.size, y.size
    if m == 0 or n == 0:
        return float("nan"), float("nan"), float("nan")
    both = rankdata(np.concatenate([x, y]))  # mid-ranks: ties count one half
    value = float((both[:m].sum() - m * (m + 1) / 2) / (m * n))
    if m < 2 or n < 2:
        return value, float("nan"), float("nan")
    # DeLong's structural components (Sun and Xu 2014, eq. 11-12).
    v10 = (both[:m] - rankdata(x)) / n
    v01 = 1.0 - (both[m:] - rankdata(y)) / m
    se = float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))
    half = norm.ppf(0.5 + confidence / 2) * se
    return value, max(0.0, value - half), min(1.0, value + half)


def roc_curve(positive, negative) -> tuple[np.ndarray, np.ndarray]:
    """False-alarm and hit rates for every threshold, from the highest down.

    Returns
    -------
    (false_alarm_rate, hit_rate)
        Both start at 0 and end at 1.

    Examples
    --------
    >>> fpr, tpr = roc_curve([2.0, 3.0], [1.0, 2.5])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    x = np.asarray(positive, dtype=float)
    y = np.asarray(negative, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if x.size == 0 or y.size == 0:
        return np.array([0.0, 1.0]), np.array([0.0, 1.0])
    thresholds = np.unique(np.concatenate([x, y]))[::-1]
    hits = np.array([(x >= th).mean() for th in thresholds])
    alarms = np.array([(y >= th).mean() for th in thresholds])
    return np.concatenate([[0.0], alarms]), np.concatenate([[0.0], hits])


@dataclass(frozen=True)
class Alarms:
    """Outcome of watching an indicator against a fixed threshold.

    Attributes
    ----------
    threshold : float
        The alarm level.
    hit_rate : float
        Share of cascading runs with an alarm before their cascade.
    false_alarm_rate : float
        Share of quiet runs with an alarm in their watch window.
    median_lead : float
        Median steps from the first alarm to the cascade, over the hits (NaN: no hit).
    hits, cascades, false_alarms, quiet : int
        The counts behind the rates.
    """

    threshold: float
    hit_rate: float
    false_alarm_rate: float
    median_lead: float
    hits: int
    cascades: int
    false_alarms: int
    quiet: int


def alarm_rates(values: np.ndarray, cascade: np.ndarray, start: int, stop: np.ndarray,
                threshold: float) -> Alarms:
    """Hit and false-alarm rates of ``values > threshold`` watched from ``start`` to ``stop``.

    Parameters
    ----------
    values : numpy.ndarray, shape (runs, steps)
        The indicator (NaN: not computable yet, never an alarm).
    cascade : numpy.ndarray of bool, shape (runs,)
        Which runs cascade.
    start : int
        First step watched.
    stop : numpy.ndarray of int, shape (runs,)
        Per run, the step the watch ends before: the cascade step of a cascading
        run, a comparable reference step for a quiet one.
    threshold : float
        The alarm level.

    Examples
    --------
    >>> values = np.array([[0, 0, 1, 2, 3], [0, 0, 0, 0, 0], [0, 2, 0, 0, 0.]])
    >>> a = alarm_rates(values, np.array([True, False, False]), 1, np.array([4, 4, 4]), 0.5)
    >>> a.hit_rate, a.false_alarm_rate, a.median_lead
    (1.0, 0.5, 2.0)
    """
    runs, steps = values.shape
    columns = np.arange(steps)
    watched = (columns >= start) & (columns < np.asarray(stop)[:, None])
    alarm = watched & np.nan_to_num(values > threshold, nan=False)
    any_alarm = alarm.any(axis=1)
    first = np.where(any_alarm, alarm.argmax(axis=1), -1)
    cascade = np.asarray(cascade, dtype=bool)
    hit = cascade & any_alarm
    leads = (np.asarray(stop) - first)[hit]
    quiet = ~cascade
    return Alarms(
        threshold=float(threshold),
        hit_rate=float(hit.sum() / cascade.sum()) if cascade.any() else float("nan"),
        false_alarm_rate=float((quiet & any_alarm).sum() / quiet.sum()) if quiet.any()
        else float("nan"),
        median_lead=float(np.median(leads)) if leads.size else float("nan"),
        hits=int(hit.sum()), cascades=int(cascade.sum()),
        false_alarms=int((quiet & any_alarm).sum()), quiet=int(quiet.sum()),
    )
