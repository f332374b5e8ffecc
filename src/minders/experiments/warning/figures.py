"""Figures of an early-warning report (matplotlib, Agg).

- ``trajectories.png``: indicators of runs that cascade against runs that
  don't (median and 10-90% band), aligned on the cascade or a shock;
- ``warning.png``: four panels: the best observable indicator's
  trajectories, ROC curves, AUC against lead time, and the defector survey.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from minders.experiments.warning.scores import roc_curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from minders.experiments.warning.analysis import WarningReport

CASCADE_COLOR, QUIET_COLOR, HIDDEN_COLOR = "#c0392b", "#7f8c8d", "#2c3e50"


def picks(report: WarningReport, count: int = 4) -> list[tuple[str, str]]:
    """The (indicator, statistic) pairs shown: the best observable ones, then the benchmark.

    Examples
    --------
    >>> picks(report)  # doctest: +SKIP
    [('measured_discontent', 'level'), ...]
    """
    chosen = [tuple(r) for r in report.best(count=count)[["indicator", "statistic"]].values]
    hidden = report.best(count=1, hidden=True)
    chosen += [tuple(r) for r in hidden[["indicator", "statistic"]].values]
    return [(str(a), str(b)) for a, b in chosen]


def aligned(report: WarningReport, key: tuple[str, str], before: int,
            after: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps relative to the alignment, and the (runs x offsets) values around it."""
    values = report.values[key]
    runs, steps = values.shape
    if report.spec.align == "shock" and report.shock_step is not None:
        anchor = np.full(runs, report.shock_step)
    else:
        anchor = report.labels["reference_step"].to_numpy()
    offsets = np.arange(-before, after + 1)
    index = anchor[:, None] + offsets[None, :]
    inside = (index >= 0) & (index < steps)
    out = np.full(index.shape, np.nan)
    rows = np.broadcast_to(np.arange(runs)[:, None], index.shape)
    out[inside] = values[rows[inside], index[inside]]
    return offsets, out


def _bands(ax: Axes, report: WarningReport, key: tuple[str, str]) -> None:
    spec = report.spec
    before, after = max(spec.leads) + spec.window, max(13, spec.window // 2)
    offsets, values = aligned(report, key, before, after)
    cascade = report.labels["cascade"].to_numpy()
    for mask, color, name in ((cascade, CASCADE_COLOR, "cascade"),
                              (~cascade, QUIET_COLOR, "no cascade")):
        if not mask.any():
            continue
        group = values[mask]
        counted = np.isfinite(group).sum(axis=0) > 0
        if not counted.any():
            continue
        low, mid, high = (np.full(offsets.size, np.nan) for _ in range(3))
        low[counted], mid[counted], high[counted] = np.nanquantile(
            group[:, counted], [0.1, 0.5, 0.9], axis=0)
        ax.fill_between(offsets, low, high, color=color, alpha=0.2, linewidth=0)
        ax.plot(offsets, mid, color=color, label=f"{name} ({int(mask.sum())} runs)")
    ax.axvline(0, color="black", linewidth=0.8, linestyle=":")
    where = "the shock" if spec.align == "shock" and report.shock_step is not None \
        else "the cascade"
    ax.set_xlabel(f"steps from {where}")
    ax.set_title(f"{key[0]}: {key[1]}", fontsize=9)


def _roc(ax: Axes, report: WarningReport, chosen: list[tuple[str, str]]) -> None:
    lead = report.middle_lead()
    labels = report.labels
    cascade = labels["cascade"].to_numpy()
    at = labels["reference_step"].to_numpy() - lead
    for key in chosen:
        values = report.values[key]
        ok = at >= 0
        score = np.full(at.size, np.nan)
        score[ok] = values[np.flatnonzero(ok), at[ok]]
        fpr, tpr = roc_curve(score[cascade], score[~cascade])
        row = report.scores[(report.scores["indicator"] == key[0])
                            & (report.scores["statistic"] == key[1])
                            & (report.scores["lead"] == lead)].iloc[0]
        hidden = bool(row["hidden"])
        ax.step(fpr, tpr, where="post", linestyle="--" if hidden else "-",
                color=HIDDEN_COLOR if hidden else None,
                label=f"{key[0]} {key[1]} (AUC {row['auc']:.2f})")
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.7, linestyle=":")
    ax.set_xlabel("false-alarm rate")
    ax.set_ylabel("hit rate")
    ax.set_title(f"ROC, {lead} steps before the cascade", fontsize=9)
    ax.legend(fontsize=6, loc="lower right")


def _auc_by_lead(ax: Axes, report: WarningReport, chosen: list[tuple[str, str]]) -> None:
    scores = report.scores
    for key in chosen:
        rows = scores[(scores["indicator"] == key[0]) & (scores["statistic"] == key[1])]
        rows = rows.sort_values("lead")
        hidden = bool(rows["hidden"].iloc[0])
        ax.errorbar(rows["lead"], rows["auc"],
                    yerr=[rows["auc"] - rows["auc_low"], rows["auc_high"] - rows["auc"]],
                    marker="o", markersize=3, capsize=2, linestyle="--" if hidden else "-",
                    color=HIDDEN_COLOR if hidden else None, label=f"{key[0]} {key[1]}")
    ax.axhline(0.5, color="grey", linewidth=0.7, linestyle=":")
    ax.set_xlabel("lead time (steps before the cascade)")
    ax.set_ylabel("ROC AUC (95% interval)" if report.spec.confidence == 0.95 else "ROC AUC")
    ax.set_ylim(0, 1.02)
    ax.set_title("AUC against lead time", fontsize=9)
    ax.legend(fontsize=6)


def _survey(ax: Axes, report: WarningReport) -> None:
    table = report.survey
    if table is None or table.empty:
        ax.text(0.5, 0.5, "no survey ([warning.survey] runs = 0)", ha="center",
                transform=ax.transAxes)
        ax.set_axis_off()
        return
    spec = report.spec
    merged = table.merge(report.labels[["run_id", "reference_step"]], on="run_id")
    merged["offset"] = merged["step"] - merged["reference_step"]
    before = max(spec.leads) + spec.window
    merged = merged[(merged["offset"] >= -before) & (merged["offset"] <= 13)]
    for flag, color, name in ((True, CASCADE_COLOR, "cascade"), (False, QUIET_COLOR, "no cascade")):
        group = merged[merged["cascade"] == flag]
        if group.empty:
            continue
        mean = group.groupby("offset")[["survey", "truth"]].mean()
        runs = group["run_id"].nunique()
        ax.plot(mean.index, mean["survey"], color=color,
                label=f"survey of leavers, {name} ({runs} runs)")
        ax.plot(mean.index, mean["truth"], color=color, linestyle="--",
                label=f"true discontent of stayers, {name}")
    ax.axvline(0, color="black", linewidth=0.8, linestyle=":")
    ax.set_xlabel("steps from the cascade")
    ax.set_ylabel("share discontented")
    ax.set_title("Defector survey against the truth at home", fontsize=9)
    ax.legend(fontsize=6)


def save_figures(report: WarningReport, directory: Path) -> dict[str, Path]:
    """Write ``trajectories.png`` and ``warning.png`` into ``directory``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from minders.result import atomic_path

    chosen = picks(report)
    paths = {}
    if not chosen:
        return paths
    columns = min(3, len(chosen))
    rows = -(-len(chosen) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for ax, key in zip(axes.flat, chosen, strict=False):
        _bands(ax, report, key)
    for ax in list(axes.flat)[len(chosen):]:
        ax.set_axis_off()
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    paths["trajectories"] = directory / "trajectories.png"
    with atomic_path(paths["trajectories"]) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)

    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    _bands(axes[0, 0], report, chosen[0])
    axes[0, 0].legend(fontsize=7)
    _roc(axes[0, 1], report, chosen)
    _auc_by_lead(axes[1, 0], report, chosen)
    _survey(axes[1, 1], report)
    fig.tight_layout()
    paths["figure"] = directory / "warning.png"
    with atomic_path(paths["figure"]) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return paths
