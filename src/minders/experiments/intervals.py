"""Confidence intervals that fit the quantity: probabilities, counts, times to an event, sizes.

A sweep's replicates are independent runs; what a good interval for their
mean is depends on what the metric measures (its ``quantity``, see
:mod:`minders.experiments.metrics`):

- **probability** (a 0/1 outcome per run, e.g. ``cascade``): the Wilson score
  interval (:func:`statsmodels.stats.proportion.proportion_confint`). It is
  never ``0 ± 0``: 0 of 12 runs gives ``[0, 0.24]`` at 95%.
- **count** and **size** (non-negative multiples of one event: defections,
  defections per year, rates, the largest burst of defections): the exact
  Poisson (Garwood) interval of the total, scaled by the dispersion of the
  runs (quasi-Poisson: ``phi = max(variance / mean, unit)``, where ``unit`` is
  the value of one event). It never goes below zero, and 0 events in n runs
  still gives an upper bound (``3.7 / n`` events per run at 95%). Runs that
  burst (cascades) are overdispersed; ``phi`` carries that into the width.
  Sizes also get their spread over runs (10%, 50%, 90% quantiles), since a
  mean of bursts hides that most runs have none.
- **time** (the step an event first happens, or the horizon when it never
  does): Kaplan-Meier with right censoring at the horizon
  (:class:`statsmodels.duration.survfunc.SurvfuncRight`): the median time and
  its interval (Brookmeyer-Crowley), and the share of runs that never reach
  the event. Runs that never reach it are not averaged in.
- **continuous** (anything else): Student's t interval of the mean.
- **constant** (a design quantity, the same in every run): no interval.

Examples
--------
>>> round(proportion(0, 12).high, 3), proportion(0, 12).low
(0.242, 0.0)
>>> round(count_mean(np.zeros(20)).high, 3)
0.184
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

#: The kinds of quantity a metric can measure, each with its interval.
QUANTITIES = ("probability", "count", "size", "time", "continuous", "constant")


def statistic(method: str) -> str:
    """What an interval method's estimate is, in words: a share, a median or a mean.

    Examples
    --------
    >>> statistic("wilson"), statistic("kaplan-meier median"), statistic("quasi-poisson")
    ('share', 'median', 'mean')
    """
    return {"kaplan-meier median": "median", "wilson": "share"}.get(method, "mean")


@dataclass(frozen=True)
class Interval:
    """An estimate with its two-sided interval and the method that gave it.

    Examples
    --------
    >>> Interval(0.5, 0.2, 0.8, "wilson").half_width
    0.3
    """

    estimate: float
    low: float
    high: float
    method: str

    def __post_init__(self) -> None:  # plain floats, whatever NumPy scalar came in
        for name in ("estimate", "low", "high"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def half_width(self) -> float:
        """Half the interval's width (NaN where there is none)."""
        return (self.high - self.low) / 2


def _check(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        from minders.errors import ScenarioError

        raise ScenarioError("--confidence", confidence, "a level in (0, 1)")


def proportion(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval of a probability from ``successes`` of ``n`` runs.

    Examples
    --------
    >>> i = proportion(12, 12)
    >>> i.estimate, round(i.low, 3), i.high
    (1.0, 0.758, 1.0)
    """
    from statsmodels.stats.proportion import proportion_confint

    _check(confidence)
    if n <= 0:
        return Interval(math.nan, math.nan, math.nan, "wilson")
    low, high = proportion_confint(int(successes), int(n), alpha=1 - confidence, method="wilson")
    # At 0 (or n) successes the Wilson bound is exactly 0 (or 1): drop the rounding error.
    low = 0.0 if successes <= 0 else max(0.0, float(low))
    high = 1.0 if successes >= n else min(1.0, float(high))
    return Interval(successes / n, low, high, "wilson")


def count_mean(values: np.ndarray, confidence: float = 0.95,
               unit: float | None = None) -> Interval:
    """Interval of the mean of non-negative counts (or rates): quasi-Poisson exact.

    Parameters
    ----------
    values : array
        One value per run, each a non-negative multiple of ``unit``.
    confidence : float
        Two-sided level.
    unit : float, optional
        Value of one event (1 for a count, ``1 / years`` for a yearly count).
        Default: the smallest positive value, or 1 when every value is zero.

    Examples
    --------
    >>> i = count_mean(np.array([0, 0, 3, 0, 1, 0, 0, 0, 0, 0.0]))
    >>> round(i.estimate, 2), round(i.low, 3) >= 0, round(i.high, 2)
    (0.4, True, 1.58)
    """
    from scipy import stats

    _check(confidence)
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, "quasi-poisson")
    mean = float(x.mean())
    if unit is None or not unit > 0:
        positive = x[x > 0]
        unit = float(positive.min()) if positive.size else 1.0
    alpha = 1 - confidence
    if mean <= 0:
        return Interval(0.0, 0.0, unit * stats.chi2.ppf(1 - alpha / 2, 2) / 2 / n,
                        "quasi-poisson")
    # Each run varies at least as a Poisson count of its events would (phi >= unit).
    phi = max(float(x.var(ddof=1)) / mean if n > 1 else unit, unit)
    events = x.sum() / phi
    low = stats.chi2.ppf(alpha / 2, 2 * events) / 2
    high = stats.chi2.ppf(1 - alpha / 2, 2 * events + 2) / 2
    return Interval(mean, float(phi * low / n), float(phi * high / n), "quasi-poisson")


def mean_t(values: np.ndarray, confidence: float = 0.95) -> Interval:
    """Student's t interval of a mean (NaN bounds with fewer than two values).

    Examples
    --------
    >>> i = mean_t(np.array([1.0, 3.0]))
    >>> i.estimate, round(i.high, 2)
    (2.0, 14.71)
    """
    from scipy import stats

    _check(confidence)
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return Interval(math.nan, math.nan, math.nan, "t")
    mean = float(x.mean())
    if x.size < 2:
        return Interval(mean, math.nan, math.nan, "t")
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return Interval(mean, mean - half, mean + half, "t")


@dataclass(frozen=True)
class TimeToEvent:
    """Kaplan-Meier summary of times to an event, censored at the horizon.

    Attributes
    ----------
    median, low, high : float
        Median time to the event and its interval; ``inf`` where the survival
        curve (or its bound) never falls to one half within the horizon (more
        than half the runs never reach the event).
    never : float
        Share of runs in which the event never happened (censored).
    never_low, never_high : float
        Wilson interval of that share.
    n : int
        Runs.

    Examples
    --------
    >>> t = time_to_event(np.array([3, 5, 104, 104.0]), horizon=104)
    >>> t.median, t.never
    (5.0, 0.5)
    """

    median: float
    low: float
    high: float
    never: float
    never_low: float
    never_high: float
    n: int

    def __post_init__(self) -> None:
        for name in ("median", "low", "high", "never", "never_low", "never_high"):
            object.__setattr__(self, name, float(getattr(self, name)))


def time_to_event(times: np.ndarray, horizon: float | np.ndarray,
                  confidence: float = 0.95) -> TimeToEvent:
    """Median time to an event (Kaplan-Meier), censoring runs that reached the horizon.

    Parameters
    ----------
    times : array
        Per run: the step the event first happened, or the horizon if it never did.
    horizon : float or array
        The run's length in steps (a time equal to it or beyond is censored).
    confidence : float
        Two-sided level of the median's and the never-share's intervals.

    Examples
    --------
    >>> t = time_to_event(np.full(5, 104.0), horizon=104)
    >>> t.median, t.never, round(t.never_low, 2)
    (inf, 1.0, 0.57)
    """
    _check(confidence)
    t = np.asarray(times, dtype=float)
    keep = np.isfinite(t)
    t = t[keep]
    limit = np.broadcast_to(np.asarray(horizon, dtype=float), keep.shape)[keep]
    n = int(t.size)
    if n == 0:
        return TimeToEvent(*(math.nan,) * 6, n=0)
    reached = t < limit
    share = proportion(int((~reached).sum()), n, confidence)
    if not reached.any():
        return TimeToEvent(math.inf, math.inf, math.inf, share.estimate, share.low,
                           share.high, n)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # A curve that drops to zero makes statsmodels' log-log transform warn; the bounds
        # it gives are still right (inf where not reached).
        warnings.simplefilter("ignore", RuntimeWarning)
        return _kaplan_meier(t, limit, reached, share, n, confidence)


def _kaplan_meier(t: np.ndarray, limit: np.ndarray, reached: np.ndarray, share: Interval,
                  n: int, confidence: float) -> TimeToEvent:
    from statsmodels.duration.survfunc import SurvfuncRight

    curve = SurvfuncRight(np.minimum(t, limit), reached.astype(int))
    # The median is the first time the curve falls to one half or below (statsmodels'
    # quantile asks for strictly below, which misses a curve that steps to exactly 0.5).
    below = np.flatnonzero(curve.surv_prob <= 0.5 + 1e-12)
    median = float(curve.surv_times[below[0]]) if below.size else math.inf
    try:
        low, high = curve.quantile_ci(0.5, alpha=1 - confidence)
    except (ValueError, ZeroDivisionError, FloatingPointError):  # one event: no variance
        low, high = math.nan, math.nan
    return TimeToEvent(median, _finite_or_inf(low), _finite_or_inf(high), share.estimate,
                       share.low, share.high, n)


def _finite_or_inf(value: float) -> float:
    """Statsmodels says 'not reached' with NaN or inf; say it with inf."""
    value = float(value)
    return value if math.isfinite(value) else math.inf


def quantiles(values: np.ndarray, levels: tuple[float, ...] = (0.1, 0.5, 0.9)) -> list[float]:
    """Quantiles of the values over runs (the spread of outcomes, not an interval of a mean).

    Examples
    --------
    >>> quantiles(np.arange(11.0))
    [1.0, 5.0, 9.0]
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return [math.nan] * len(levels)
    return [float(q) for q in np.quantile(x, levels)]


def interval(values: np.ndarray, quantity: str, confidence: float = 0.95,
             unit: float | None = None) -> Interval:
    """The interval of the mean that fits ``quantity`` (see the module docstring).

    ``time`` is not a mean: use :func:`time_to_event`.

    Examples
    --------
    >>> interval(np.array([0.0, 0, 1, 0]), "probability").method
    'wilson'
    >>> interval(np.array([7.0, 7.0]), "constant")
    Interval(estimate=7.0, low=7.0, high=7.0, method='constant')
    """
    x = np.asarray(values, dtype=float)
    finite = x[np.isfinite(x)]
    if quantity == "probability" and np.isin(finite, (0.0, 1.0)).all():
        return proportion(int(finite.sum()), int(finite.size), confidence)
    if quantity in ("count", "size") and (finite >= 0).all():
        return count_mean(finite, confidence, unit)
    if quantity == "constant" and finite.size and np.ptp(finite) == 0:
        value = float(finite[0])
        return Interval(value, value, value, "constant")
    return mean_t(finite, confidence)
