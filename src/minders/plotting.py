"""The summary figure of a run: defections and discontent over time, per tier."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg", force=False)  # headless by default; notebooks keep their backend
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from minders.formatting import TIER_LINESTYLES, tier_colour  # noqa: E402

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from minders.result import Result


#: Shocks labelled in the figure (the rest are shaded only; labels would overlap).
MAX_SHOCK_LABELS = 8


def merged_windows(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of ``[start, end)`` windows, as disjoint sorted windows.

    Examples
    --------
    >>> merged_windows([(5, 9), (0, 2), (1, 3), (8, 12)])
    [(0, 3), (5, 12)]
    """
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def summary_figure(result: Result) -> Figure:
    """Two panels: cumulative defections, and true vs measured discontent with the gap shaded.

    Shock windows are shaded in grey. Time is in years (``run.steps_per_year``).
    """
    records = result.records
    per_year = result.scenario.run.steps_per_year
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True, constrained_layout=True)
    for k, (tier, rows) in enumerate(records.groupby("tier", observed=True, sort=False)):
        colour = tier_colour(k)
        years = rows["step"].to_numpy() / per_year
        # Tiers with no defections all lie on zero: distinct dashes and a little
        # transparency keep every one of them visible.
        top.plot(years, np.cumsum(rows["defections"].to_numpy()), color=colour, alpha=0.85,
                 linestyle=TIER_LINESTYLES[k % len(TIER_LINESTYLES)], linewidth=1.8,
                 label=str(tier))
        true = rows["true_discontent"].to_numpy()
        measured = rows["measured_discontent"].to_numpy()
        bottom.plot(years, true, color=colour, alpha=0.85, label=f"{tier}: true")
        bottom.plot(years, measured, color=colour, alpha=0.85, linestyle="--",
                    label=f"{tier}: measured")
        bottom.fill_between(years, measured, true, color=colour, alpha=0.15, linewidth=0)
    # Shocks after a shortened run's horizon did not happen: neither shaded nor labelled
    # (they would also stretch the time axis past the data).
    happened = [shock for shock in result.scenario.shocks if shock.start < result.steps]
    windows = [(shock.start, min(shock.end if shock.end is not None else result.steps,
                                 result.steps)) for shock in happened]
    for start, end in merged_windows(windows):  # one patch per stretch, however many shocks
        for ax in (top, bottom):
            ax.axvspan(start / per_year, end / per_year, color="grey", alpha=0.12)
    labelled = happened[:MAX_SHOCK_LABELS]
    for k, shock in enumerate(labelled):
        top.annotate(
            shock.label or shock.kind, (shock.start / per_year, 0.98 - 0.06 * k),
            xycoords=("data", "axes fraction"), va="top", fontsize=8, color="dimgrey",
        )
    top.set_ylabel("cumulative defections")
    top.set_title(f"{result.scenario.name} (seed {result.seed})")
    top.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    bottom.set_ylabel("share of tier in post")
    bottom.set_xlabel("years")
    bottom.set_title("discontent: true (solid) vs measured by the regime (dashed); gap shaded",
                     fontsize=10)
    # Legends beside the panels, never over the curves.
    bottom.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def time_axis(steps: np.ndarray, steps_per_year: int | None) -> tuple[np.ndarray, str]:
    """Steps as years where a step has a calendar length, else as steps, with the axis label.

    Examples
    --------
    >>> time_axis(np.array([0, 26, 52]), 52)
    (array([0. , 0.5, 1. ]), 'years')
    >>> time_axis(np.array([0, 1]), None)[1]
    'steps'
    """
    if steps_per_year:
        return steps / steps_per_year, "years"
    return steps.astype(float), "steps"


def fan_figure(records: Any, scenario: Any, title: str = "") -> Figure:
    """Fan chart of replicates: per tier the median line and the 50% and 90% bands.

    Top panel: cumulative defections; bottom: true discontent (the minders
    model), or the first value column of another kind. ``records`` holds every
    replicate's records with ``replicate``, ``step`` and (optionally) ``tier``.

    Examples
    --------
    >>> import pandas as pd
    >>> rec = pd.DataFrame({"replicate": [0, 0, 1, 1], "step": [0, 1, 0, 1],
    ...                     "defections": [0, 1, 1, 1]})
    >>> fig = fan_figure(rec, None)
    >>> len(fig.axes)
    1
    """
    columns = [c for c in records.columns if c not in ("run_id", "replicate", "step", "tier")]
    panels = [c for c in ("defections", "true_discontent") if c in columns] or columns[:1]
    cumulative = {"defections"}
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 3.2 * len(panels) + 0.8), sharex=True,
                             squeeze=False, constrained_layout=True)
    per_year = scenario.steps_per_year() if scenario is not None else None
    tiers = (list(dict.fromkeys(records["tier"].astype(str))) if "tier" in records.columns
             else [None])
    for ax, column in zip(axes[:, 0], panels, strict=True):
        for k, tier in enumerate(tiers):
            rows = records if tier is None else records[records["tier"].astype(str) == tier]
            wide = rows.pivot_table(index="step", columns="replicate", values=column,
                                    aggfunc="sum").sort_index()
            values = wide.to_numpy(dtype=float)
            if column in cumulative:
                values = np.cumsum(values, axis=0)
            x, label = time_axis(wide.index.to_numpy(), per_year)
            colour = tier_colour(k)
            for (low, high), alpha in zip(BANDS, (0.15, 0.3), strict=True):
                ax.fill_between(x, np.quantile(values, low, axis=1),
                                np.quantile(values, high, axis=1), color=colour, alpha=alpha,
                                linewidth=0)
            ax.plot(x, np.median(values, axis=1), color=colour, alpha=0.9, linewidth=1.8,
                    linestyle=TIER_LINESTYLES[k % len(TIER_LINESTYLES)],
                    label="all" if tier is None else tier)
        ax.set_ylabel(("cumulative " if column in cumulative else "") + column.replace("_", " "))
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  title="median; bands 50%, 90%", title_fontsize=7)
    axes[-1, 0].set_xlabel(label)  # the panels share their time axis
    axes[0, 0].set_title(title)
    return fig


#: Bands of a fan chart, (low, high) quantiles over replicates, widest first.
BANDS = ((0.05, 0.95), (0.25, 0.75))
