"""The summary figure of a run: defections and discontent over time, per tier."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg", force=False)  # headless by default; notebooks keep their backend
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

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
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (tier, rows) in enumerate(records.groupby("tier", observed=True, sort=False)):
        colour = colours[k % len(colours)]
        years = rows["step"].to_numpy() / per_year
        top.plot(years, np.cumsum(rows["defections"].to_numpy()), color=colour, label=str(tier))
        true = rows["true_discontent"].to_numpy()
        measured = rows["measured_discontent"].to_numpy()
        bottom.plot(years, true, color=colour, label=f"{tier}: true")
        bottom.plot(years, measured, color=colour, linestyle="--", label=f"{tier}: measured")
        bottom.fill_between(years, measured, true, color=colour, alpha=0.15, linewidth=0)
    windows = [(shock.start, shock.end if shock.end is not None else result.steps)
               for shock in result.scenario.shocks]
    for start, end in merged_windows(windows):  # one patch per stretch, however many shocks
        for ax in (top, bottom):
            ax.axvspan(start / per_year, end / per_year, color="grey", alpha=0.12)
    labelled = result.scenario.shocks[:MAX_SHOCK_LABELS]
    for k, shock in enumerate(labelled):
        top.annotate(
            shock.label or shock.kind, (shock.start / per_year, 0.98 - 0.06 * k),
            xycoords=("data", "axes fraction"), va="top", fontsize=8, color="dimgrey",
        )
    top.set_ylabel("cumulative defections")
    top.set_title(f"{result.scenario.name} (seed {result.seed})")
    top.legend(fontsize=8, loc="upper left")
    bottom.set_ylabel("share of tier in post")
    bottom.set_xlabel("years")
    bottom.set_title("discontent: true (solid) vs measured by the regime (dashed); gap shaded",
                     fontsize=10)
    bottom.legend(fontsize=7, ncol=2, loc="upper right")
    return fig
