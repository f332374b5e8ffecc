"""Reading a run of Model I: outbursts (punctuated equilibrium), the summary table, the figure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from minders.classic.epstein.scenario import STATUS_NAMES
from minders.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def outbursts(active: np.ndarray, level: float) -> pd.DataFrame:
    """Spells during which at least ``level`` citizens are active.

    Parameters
    ----------
    active : int array
        Active citizens per step.
    level : float
        How many actives make an outburst.

    Returns
    -------
    pandas.DataFrame
        One row per outburst: ``start``, ``end`` (exclusive), ``peak``.

    Examples
    --------
    >>> outbursts(np.array([0, 5, 60, 80, 3, 0, 70, 1]), 50).values.tolist()
    [[2, 4, 80], [6, 7, 70]]
    """
    above = np.concatenate([[False], np.asarray(active) >= level, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    peaks = [int(np.max(active[s:e])) for s, e in zip(starts, ends, strict=True)]
    return pd.DataFrame({"start": starts, "end": ends, "peak": peaks}, dtype=np.int64)


def summary(result: Result) -> pd.DataFrame:
    """Per citizen status: mean, sd, max and final count, and the mean share of citizens.

    Examples
    --------
    >>> from minders.classic.epstein import EpsteinScenario, simulate
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> summary(simulate(s, steps=5)).index.tolist()
    ['quiet', 'active', 'jailed']
    """
    rec = result.records.iloc[1:] if len(result.records) > 1 else result.records
    citizens = int(result.records.loc[0, ["quiet", "active", "jailed"]].sum())
    table = pd.DataFrame({
        "mean": [float(rec[s].mean()) for s in STATUS_NAMES],
        "sd": [float(rec[s].std(ddof=0)) for s in STATUS_NAMES],
        "max": [int(rec[s].max()) for s in STATUS_NAMES],
        "final": [int(rec[s].iloc[-1]) for s in STATUS_NAMES],
        "mean_share": [float(rec[s].mean()) / max(citizens, 1) for s in STATUS_NAMES],
    }, index=pd.Index(list(STATUS_NAMES), name="citizens"))
    return table


def figure(result: Result) -> Figure:
    """Quiet, active and jailed citizens over time, legitimacy on a second axis."""
    import matplotlib.pyplot as plt

    from minders import plotting  # noqa: F401  (selects the headless backend)

    rec = result.records
    fig, ax = plt.subplots(figsize=(10, 4.8), constrained_layout=True)
    for name, colour in zip(STATUS_NAMES, ("tab:blue", "tab:red", "dimgrey"), strict=True):
        ax.plot(rec["step"], rec[name], color=colour, linewidth=1.0, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("citizens")
    conv = result.scenario.conventions
    ax.set_title(f"{result.scenario.name} (seed {result.seed}): Epstein (2002) Model I; "
                 f"C/A {conv.arrest_ratio}, {conv.activation} activation", fontsize=10)
    twin = ax.twinx()
    twin.plot(rec["step"], rec["legitimacy"], color="tab:green", linestyle="--", linewidth=1.0,
              label="legitimacy")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("legitimacy L")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    return fig


