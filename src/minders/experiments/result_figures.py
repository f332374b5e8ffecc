"""Figures of a sweep's summary: each metric against each swept parameter, with intervals.

:func:`results_figure` draws one panel per (metric, parameter): every point's
estimate with its interval (the one that fits the metric, see
:mod:`minders.experiments.summary`) against the parameter's value. With
exactly two parameters on a grid it draws a heatmap per metric instead (the
estimate in each cell, its interval written in it when the grid is small).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Most cells of a heatmap that get their interval written in.
ANNOTATED_CELLS = 64


def results_figure(table: pd.DataFrame, manifest: dict[str, Any],
                   confidence: float = 0.95) -> Figure:
    """Each metric against each swept parameter (or a heatmap per metric for a 2-D grid).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`minders.experiments.summary.summarize`.
    manifest : dict
        The results folder's manifest (parameters, metrics, design).
    confidence : float
        Level of the intervals drawn (as summarised).

    Examples
    --------
    >>> table = pd.DataFrame({"span": [5, 10], "n": [3, 3], "rate": [0.1, 0.3],
    ...                       "rate_low": [0.05, 0.2], "rate_high": [0.2, 0.4]})
    >>> fig = results_figure(table, {"name": "x", "parameters": {"span": ["s"]},
    ...                              "metrics": ["rate"], "method": "grid"})
    >>> len(fig.axes)
    1
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    parameters, metrics = list(manifest["parameters"]), list(manifest["metrics"])
    if not parameters:  # an ensemble: one point, one bar per metric
        parameters = []
    heatmap = len(parameters) == 2 and manifest.get("method") == "grid"
    columns = 1 if heatmap else max(1, len(parameters))
    fig, axes = plt.subplots(len(metrics), columns, squeeze=False, constrained_layout=True,
                             figsize=(max(4.5, 4.2 * columns), 2.9 * len(metrics) + 0.6))
    level = round(100 * confidence)
    for row, metric in enumerate(metrics):
        if heatmap:
            _heatmap(axes[row, 0], table, parameters, metric, fig)
            continue
        if not parameters:
            _ensemble(axes[row, 0], table, metric)
            continue
        for col, parameter in enumerate(parameters):
            _against(axes[row, col], table, parameter, metric)
    fig.suptitle(f"{manifest['name']}: estimate per point with its {level}% interval",
                 fontsize=10)
    return fig


def _finite(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=float)


def _against(ax: Any, table: pd.DataFrame, parameter: str, metric: str) -> None:
    """Estimates against one parameter's values, with asymmetric interval bars."""
    x = pd.to_numeric(table[parameter], errors="coerce").to_numpy(dtype=float)
    y = _finite(table[metric])
    low, high = _finite(table[f"{metric}_low"]), _finite(table[f"{metric}_high"])
    shown = np.isfinite(x) & np.isfinite(y)
    with np.errstate(invalid="ignore"):  # inf - inf where a time is not reached
        lower = np.where(np.isfinite(low) & np.isfinite(y), y - low, 0.0)
        upper = np.where(np.isfinite(high) & np.isfinite(y), high - y, 0.0)
    order = np.argsort(x[shown], kind="stable")
    ax.errorbar(x[shown][order], y[shown][order], yerr=[lower[shown][order],
                upper[shown][order]], fmt="o", markersize=3.5, capsize=2, alpha=0.75,
                linewidth=1, color="#4e79a7")
    hidden = int((~shown).sum())
    if hidden:  # e.g. a median time to cascade not reached
        ax.annotate(f"{hidden} point(s) not reached / undefined", (0.01, 0.98),
                    xycoords="axes fraction", va="top", fontsize=7, color="dimgrey")
    ax.set_xlabel(parameter, fontsize=8)
    ax.set_ylabel(metric, fontsize=8)
    ax.tick_params(labelsize=7)


def _ensemble(ax: Any, table: pd.DataFrame, metric: str) -> None:
    row = table.iloc[0]
    y, low, high = float(row[metric]), float(row[f"{metric}_low"]), float(row[f"{metric}_high"])
    if np.isfinite(y):
        err = [[y - low if np.isfinite(low) else 0.0], [high - y if np.isfinite(high) else 0.0]]
        ax.errorbar([0], [y], yerr=err, fmt="o", capsize=3, color="#4e79a7")
    ax.set_xticks([])
    ax.set_ylabel(metric, fontsize=8)


def _heatmap(ax: Any, table: pd.DataFrame, parameters: list[str], metric: str,
             fig: Any) -> None:
    """The estimate on the grid of two parameters; small grids carry their intervals."""
    first, second = parameters
    grid = table.pivot_table(index=second, columns=first, values=metric, aggfunc="first")
    values = grid.to_numpy(dtype=float)
    shown = np.where(np.isfinite(values), values, np.nan)
    image = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns], fontsize=7)
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in grid.index], fontsize=7)
    ax.set_xlabel(first, fontsize=8)
    ax.set_ylabel(second, fontsize=8)
    ax.set_title(metric, fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.85)
    if values.size <= ANNOTATED_CELLS:
        from minders.formatting import format_number

        lows = table.pivot_table(index=second, columns=first, values=f"{metric}_low",
                                 aggfunc="first").to_numpy(dtype=float)
        highs = table.pivot_table(index=second, columns=first, values=f"{metric}_high",
                                  aggfunc="first").to_numpy(dtype=float)
        bright = image.norm(np.nan_to_num(shown)) > 0.6  # dark text on viridis' yellows
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                text = format_number(values[i, j], 2)
                if (np.isfinite(lows[i, j]) and np.isfinite(highs[i, j])
                        and lows[i, j] != highs[i, j]):
                    text += f"\n[{format_number(lows[i, j], 2)}, {format_number(highs[i, j], 2)}]"
                ax.text(j, i, text, ha="center", va="center", fontsize=6,
                        color="black" if bright[i, j] else "white")
