"""Rolling early-warning statistics of many series at once, computed causally.

For a (runs x steps) array ``x``, the value of a statistic at step ``t``
uses only ``x[:, :t + 1]``: what an observer could have computed at ``t``.
Five statistics over a window of ``w`` steps ending at ``t`` (Scheffer et
al. 2009, Dakos et al. 2012):

- ``level``: the mean of the raw series;
- ``trend``: its least-squares slope per step;
- ``variance``, ``ac1`` (lag-1 autocorrelation) and ``skewness`` of the
  residuals after detrending.

Detrending: ``none`` (residuals from the window's mean), ``linear`` (from the
window's least-squares line) or ``gaussian`` (from a Gaussian kernel
smoothing of the series up to ``t``, standard deviation ``bandwidth``
steps, as in Dakos et al. 2012 and ewstools, but causal: the smoothing is
redone at every ``t`` on the data seen so far).

A window with no variation (e.g. no arrests at all) has variance 0 and, by
convention here, autocorrelation and skewness 0.

Examples
--------
>>> x = np.tile(np.arange(10.0), (2, 1))
>>> stats = rolling_statistics(x, window=4, detrend="linear")
>>> stats["trend"][0, 3:].tolist()
[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
>>> bool(np.isnan(stats["level"][0, 2])), float(stats["variance"][0, 9])
(True, 0.0)
"""

from __future__ import annotations

import numpy as np

STATISTICS = ("level", "trend", "variance", "ac1", "skewness")
DETRENDING = ("none", "linear", "gaussian")


def rolling_statistics(
    x: np.ndarray,
    window: int,
    detrend: str = "gaussian",
    bandwidth: float = 13.0,
    statistics: tuple[str, ...] | list[str] = STATISTICS,
) -> dict[str, np.ndarray]:
    """Causal rolling statistics of every row of ``x``.

    Parameters
    ----------
    x : numpy.ndarray, shape (runs, steps)
        The series (NaN-free).
    window : int
        Steps in the rolling window (at least 3).
    detrend : {"none", "linear", "gaussian"}
        How residuals are taken before variance, ac1 and skewness.
    bandwidth : float
        Standard deviation of the Gaussian kernel, in steps.
    statistics : sequence of str
        Which of :data:`STATISTICS` to compute.

    Returns
    -------
    dict of str to numpy.ndarray
        Each of shape (runs, steps); NaN before the first full window.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(3, 50))
    >>> out = rolling_statistics(x, window=20, detrend="none", statistics=["variance"])
    >>> bool(abs(out["variance"][0, 49] - x[0, 30:].var(ddof=1)) < 1e-12)
    True
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError("x must be a (runs x steps) array")
    if window < 3:
        raise ValueError("window must be at least 3 steps")
    if detrend not in DETRENDING:
        raise ValueError(f"detrend must be one of {DETRENDING}")
    unknown = [s for s in statistics if s not in STATISTICS]
    if unknown:
        raise ValueError(f"unknown statistics {unknown}; expected {STATISTICS}")
    # Imported here: the experiment schema imports this module's names, and SciPy's ndimage
    # would slow every command's start-up.
    from scipy.ndimage import gaussian_filter1d

    runs, steps = x.shape
    out = {name: np.full((runs, steps), np.nan) for name in statistics}
    position = np.arange(window, dtype=float) - (window - 1) / 2  # centred time in the window
    spread = float((position**2).sum())
    for t in range(window - 1, steps):
        raw = x[:, t - window + 1 : t + 1]
        mean = raw.mean(axis=1, keepdims=True)
        slope = ((raw - mean) * position).sum(axis=1, keepdims=True) / spread
        if "level" in out:
            out["level"][:, t] = mean[:, 0]
        if "trend" in out:
            out["trend"][:, t] = slope[:, 0]
        if not {"variance", "ac1", "skewness"} & out.keys():
            continue
        if detrend == "none":
            resid = raw - mean
        elif detrend == "linear":
            resid = raw - mean - slope * position
        else:
            seen = x[:, : t + 1]
            smooth = gaussian_filter1d(seen, bandwidth, axis=1, mode="nearest")
            resid = (seen - smooth)[:, -window:]
        _moments(resid, t, out)
    return out


def _moments(resid: np.ndarray, t: int, out: dict[str, np.ndarray]) -> None:
    """Variance, lag-1 autocorrelation and skewness of residual windows, row by row."""
    centred = resid - resid.mean(axis=1, keepdims=True)
    m2 = (centred**2).mean(axis=1)
    flat = m2 <= 1e-24 * np.maximum(1.0, np.abs(resid).max(axis=1)) ** 2
    safe = np.where(flat, 1.0, m2)
    if "variance" in out:
        n = resid.shape[1]
        out["variance"][:, t] = np.where(flat, 0.0, m2 * n / (n - 1))
    if "ac1" in out:
        a, b = centred[:, :-1], centred[:, 1:]
        a = a - a.mean(axis=1, keepdims=True)
        b = b - b.mean(axis=1, keepdims=True)
        denominator = np.sqrt((a**2).sum(axis=1) * (b**2).sum(axis=1))
        good = ~flat & (denominator > 0)
        out["ac1"][:, t] = np.where(
            good, (a * b).sum(axis=1) / np.where(good, denominator, 1.0), 0.0)
    if "skewness" in out:
        m3 = (centred**3).mean(axis=1)
        out["skewness"][:, t] = np.where(flat, 0.0, m3 / safe**1.5)
