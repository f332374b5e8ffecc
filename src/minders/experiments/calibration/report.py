"""What a calibration reports: posterior summary, predictive bands, hold-out scores, figures."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from minders.experiments.calibration.schema import Prior

#: Posterior sd / prior sd below which the data identified a parameter.
IDENTIFIED = 0.5
#: ... and at or above which they did not (in between: weakly identified).
UNIDENTIFIED = 0.8


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: Any) -> np.ndarray:
    """Quantiles of a weighted sample (midpoint rule on the cumulative weights).

    Examples
    --------
    >>> weighted_quantile(np.array([1.0, 2.0, 3.0]), np.ones(3), [0.5]).tolist()
    [2.0]
    """
    order = np.argsort(values)
    values, weights = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cumulative = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(np.atleast_1d(q), cumulative, values)


def weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    """Standard deviation of a weighted sample.

    Examples
    --------
    >>> round(weighted_sd(np.array([0.0, 2.0]), np.ones(2)), 6)
    1.0
    """
    weights = np.asarray(weights, float) / np.sum(weights)
    mean = np.sum(weights * values)
    return float(np.sqrt(np.sum(weights * (values - mean) ** 2)))


def summary_table(posterior: pd.DataFrame, weights: np.ndarray,
                  priors: dict[str, Prior], truth: dict[str, float] | None = None
                  ) -> pd.DataFrame:
    """Per parameter: prior, posterior median and 90% interval, and how well it was identified.

    ``sd_ratio`` is the posterior sd over the prior sd, on the log scale for a
    log-uniform prior (the scale the prior is flat on). Below
    :data:`IDENTIFIED` the data pin the parameter down; at or above
    :data:`UNIDENTIFIED` they say little beyond the prior (``unidentified``).

    Examples
    --------
    >>> from minders.experiments.calibration.schema import Prior
    >>> post = pd.DataFrame({"x": np.linspace(0.4, 0.6, 50)})
    >>> table = summary_table(post, np.ones(50), {"x": Prior(prior="uniform", low=0, high=1)})
    >>> table.loc["x", "status"]
    'identified'
    """
    rows = []
    for name, prior in priors.items():
        values = posterior[name].to_numpy(float)
        low, median, high = weighted_quantile(values, weights, [0.05, 0.5, 0.95])
        if prior.prior == "loguniform":
            post_sd = weighted_sd(np.log(np.maximum(values, 1e-300)), weights)
            prior_sd = (math.log(prior.high) - math.log(prior.low)) / math.sqrt(12)
        else:
            post_sd = weighted_sd(values, weights)
            prior_sd = float(prior.rv().std())
        ratio = post_sd / prior_sd if prior_sd > 0 else float("nan")
        status = ("identified" if ratio < IDENTIFIED else
                  "unidentified" if ratio >= UNIDENTIFIED else "weak")
        row = {"parameter": name, "prior": prior.describe(), "median": median, "low_90": low,
               "high_90": high, "posterior_sd": weighted_sd(values, weights),
               "sd_ratio": ratio, "status": status}
        if truth is not None and name in truth:
            row["truth"] = truth[name]
            row["covered"] = bool(low <= truth[name] <= high)
        rows.append(row)
    return pd.DataFrame(rows).set_index("parameter")


def bands(draws: np.ndarray) -> dict[str, np.ndarray]:
    """Median and the 50% and 90% central bands of predictive draws (draws x periods)."""
    q = np.quantile(draws, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    return {"q05": q[0], "q25": q[1], "median": q[2], "q75": q[3], "q95": q[4]}


def crps(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """The continuous ranked probability score of an ensemble, per period (lower is better).

    ``E|X - y| - E|X - X'| / 2`` over the ensemble's members (Gneiting and
    Raftery 2007, eq. 20); a single member reduces it to the absolute error.

    Examples
    --------
    >>> crps(np.array([[1.0], [3.0]]), np.array([2.0])).tolist()
    [0.5]
    >>> crps(np.array([[5.0]]), np.array([2.0])).tolist()
    [3.0]
    """
    draws = np.asarray(draws, float)
    error = np.mean(np.abs(draws - observed[None, :]), axis=0)
    # E|X - X'| from the sorted members: 2 / m^2 * sum_i (2i - m - 1) x_(i)
    m = draws.shape[0]
    ordered = np.sort(draws, axis=0)
    ranks = (2 * np.arange(1, m + 1) - m - 1)[:, None]
    spread = 2.0 * np.sum(ranks * ordered, axis=0) / m**2
    return error - 0.5 * spread


def holdout_scores(draws: np.ndarray, observed: np.ndarray, fit: np.ndarray) -> dict[str, Any]:
    """Scores of the forecast of the held-out periods (those where ``fit`` is False).

    Coverage of the 50% and 90% central bands, the mean CRPS of the
    predictive draws, and that of the naive forecast that carries the last
    fitted value forward; ``skill`` is ``1 - crps / crps_naive`` (above 0:
    better than the naive forecast).

    Examples
    --------
    >>> draws = np.tile(np.arange(100.0)[:, None], (1, 3))
    >>> s = holdout_scores(draws, np.array([50.0, 40.0, 60.0]), np.array([True, False, False]))
    >>> s["coverage_90"], s["periods"]
    (1.0, 2)
    """
    held = ~np.asarray(fit, bool)
    if not held.any():
        return {}
    b = bands(draws[:, held])
    y = observed[held]
    fitted = observed[~held]
    last = fitted[-1] if fitted.size else y[0]  # the naive forecast: last fitted value
    model = float(np.mean(crps(draws[:, held], y)))
    naive = float(np.mean(np.abs(y - last)))
    return {
        "periods": int(held.sum()),
        "coverage_50": float(np.mean((y >= b["q25"]) & (y <= b["q75"]))),
        "coverage_90": float(np.mean((y >= b["q05"]) & (y <= b["q95"]))),
        "crps": model,
        "crps_naive": naive,
        "skill": 1.0 - model / naive if naive > 0 else float("nan"),
    }


def pair_plot(posterior: pd.DataFrame, weights: np.ndarray, names: list[str],
              truth: dict[str, float] | None = None) -> Figure:
    """Weighted histograms on the diagonal, particle clouds below it (matplotlib)."""
    import matplotlib.pyplot as plt

    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k + 1, 2.4 * k + 1), squeeze=False)
    alpha = 0.15 + 0.85 * weights / weights.max()
    for i, row in enumerate(names):
        for j, column in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(posterior[row], bins=20, weights=weights, color="tab:blue", alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(posterior[column], posterior[row], s=8, c="tab:blue",
                           alpha=alpha, linewidths=0)
            if truth is not None:
                if column in truth:
                    ax.axvline(truth[column], color="tab:red", lw=1)
                if i != j and row in truth:
                    ax.axhline(truth[row], color="tab:red", lw=1)
            if i == k - 1:
                ax.set_xlabel(column, fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(row, fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle("posterior (last ABC-SMC generation)", fontsize=10)
    fig.tight_layout()
    return fig


def predictive_plot(table: pd.DataFrame, title: str, source: str,
                    fit_until: str | None = None) -> Figure:
    """Observed series against the posterior predictive median and its 50% and 90% bands."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    x = np.arange(len(table))
    ax.fill_between(x, table["q05"], table["q95"], color="tab:blue", alpha=0.18,
                    label="90% predictive band")
    ax.fill_between(x, table["q25"], table["q75"], color="tab:blue", alpha=0.35,
                    label="50% band")
    ax.plot(x, table["median"], color="tab:blue", lw=1.5, label="predictive median")
    fitted = table["fitted"].to_numpy(bool)
    ax.plot(x[fitted], table["observed"][fitted], "o", color="black", ms=4, label="observed "
            "(fitted)")
    if (~fitted).any():
        ax.plot(x[~fitted], table["observed"][~fitted], "o", mfc="white", mec="black", ms=5,
                label="observed (held out)")
        ax.axvline(np.flatnonzero(~fitted)[0] - 0.5, color="grey", ls="--", lw=1)
    step = max(1, len(table) // 12)
    ax.set_xticks(x[::step], table["label"][::step], rotation=45, fontsize=8)
    ax.set_ylabel("arrivals per period")
    ax.set_title(title, fontsize=10)
    if source:
        ax.text(0.0, -0.28, f"data: {source}", transform=ax.transAxes, fontsize=7,
                color="grey")
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
