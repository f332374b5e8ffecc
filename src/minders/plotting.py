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
    for k, shock in enumerate(result.scenario.shocks):
        end = shock.end if shock.end is not None else result.steps
        for ax in (top, bottom):
            ax.axvspan(shock.start / per_year, end / per_year, color="grey", alpha=0.12)
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
