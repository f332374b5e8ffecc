"""The figure of a plan: surveillance headcount against the yearly defection rate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from minders.experiments.planning import PlanResult


def cost_curve(result: PlanResult) -> Figure:
    """Headcount against yearly defection rate, one colour per number of tiers.

    Dots are designs (mean rate, with a bar up to the upper bound); the line is
    the frontier: the lowest bound reached with at most that many minders.
    Dashed lines are the targets.

    Examples
    --------
    >>> fig = plan(scenario, [0.01]).figure()  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    designs = result.designs
    fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    span_columns = [c for c in designs.columns if c.startswith("span:")]
    for k, (extra, rows) in enumerate(designs.groupby("extra", sort=True)):
        colour = colours[k % len(colours)]
        levels = int(rows[span_columns].notna().iloc[0].sum())
        label = ("as given" if extra == 0 else f"+{extra} tier{'s' if extra > 1 else ''} of "
                 "minders of minders") + f" ({levels} minder tiers)"
        x = rows["headcount"].to_numpy()
        mean = rows["rate_mean"].to_numpy()
        ax.errorbar(x, mean, yerr=[np.zeros_like(mean), rows["ucb_line"].to_numpy() - mean],
                    fmt="o", ms=3, color=colour, alpha=0.35, elinewidth=0.8)
        frontier = rows.sort_values(["headcount", "ucb_line"])
        best = np.minimum.accumulate(frontier["ucb_line"].to_numpy())
        ax.step(frontier["headcount"], best, where="post", color=colour, label=label,
                linestyle=("-", "--", "-.", ":")[k % 4], alpha=0.9)
    for target in result.settings.get("targets", []):
        ax.axhline(target, color="grey", linestyle="--", linewidth=0.8)
        chosen = result.cheapest(target)
        if chosen is not None:  # the plan for this target
            ax.plot(chosen["headcount"], chosen["ucb_line"], marker="*", ms=12, color="black",
                    linestyle="none")
            ax.annotate(f"target {target:g}: {int(chosen['headcount']):,}",
                        (chosen["headcount"], chosen["ucb_line"]), textcoords="offset points",
                        xytext=(6, 6), fontsize=8)
    ax.set_xscale("log")
    if (designs["ucb_line"] > 0).all():  # rates span orders of magnitude
        ax.set_yscale("log")
    ax.set_xlabel("surveillance headcount (positions in minder tiers)")
    ax.set_ylabel("yearly defection rate")
    level = round(100 * result.settings.get("confidence", 0.95))
    ax.set_title(f"cost of surveillance: line = lowest {level}% upper bound reachable with that "
                 "many minders; star = plan", fontsize=9)
    # Below the axes: a legend inside would sit on designs or on the frontier.
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2,
              frameon=False)
    return fig
