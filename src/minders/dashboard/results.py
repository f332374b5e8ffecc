"""Outcome tables of an experiment results folder (``minders sweep``), for heatmaps.

Loosely coupled on purpose: the folder is read with pandas alone. Per-run
outcomes are the Parquet parts under ``DIR/runs/`` when that folder exists,
else every ``*.parquet`` under ``DIR`` except per-step ``records``. When a
``manifest.json`` names the varied ``parameters`` and the ``metrics``, they
are used; otherwise they are guessed from the columns. Parts that cannot be
read are skipped and listed. Nothing outside ``DIR`` is read, even through
a symbolic link.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Columns that identify a run rather than describe it.
ID_COLUMNS = ("run_id", "point", "replicate", "seed", "scenario_hash", "run", "index")
#: Most distinct values a column may have to be offered as a heatmap axis.
MAX_LEVELS = 60


@dataclass
class ExperimentResults:
    """The per-run outcomes of one results folder.

    Attributes
    ----------
    directory : Path
        The folder that was read.
    runs : pandas.DataFrame
        One row per run.
    parameters : list of str
        Columns that were varied (heatmap axes).
    outcomes : list of str
        Numeric outcome columns.
    files : int
        Parquet parts read.
    skipped : list of str
        Parts (relative paths) that could not be read, with why.
    quantities : dict of str to str
        What each outcome measures (``probability``, ``count``, ...; see
        :mod:`minders.experiments.intervals`), from the experiment's metrics.
    """

    directory: Path
    runs: pd.DataFrame
    parameters: list[str]
    outcomes: list[str]
    files: int = 0
    skipped: list[str] = field(default_factory=list)
    quantities: dict[str, str] = field(default_factory=dict)


def _inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except OSError:
        return False


def load_results(directory: str | Path) -> ExperimentResults:
    """Read the per-run outcome parts of a results folder.

    Parameters
    ----------
    directory : str or Path
        A folder written by ``minders sweep`` (or any folder of Parquet tables
        with one row per run).

    Returns
    -------
    ExperimentResults

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "sweep"; (folder / "runs").mkdir(parents=True)
    >>> pd.DataFrame({"tiers.residents.span": [10, 20], "defections": [5, 3]}).to_parquet(
    ...     folder / "runs" / "part-0.parquet")
    >>> load_results(folder).parameters
    ['tiers.residents.span']
    """
    root = Path(directory).resolve()
    base = root / "runs" if (root / "runs").is_dir() else root
    parts = sorted(
        p for p in base.glob("**/*.parquet")
        if p.is_file() and _inside(p, root) and "records" not in p.relative_to(root).parts[:-1]
        and not p.name.startswith(".") and p.name not in ("points.parquet", "records.parquet")
    )
    frames, skipped = [], []
    for part in parts:
        try:
            frames.append(pd.read_parquet(part))
        except Exception as exc:  # a damaged or foreign file must not take the page down
            skipped.append(f"{part.relative_to(root)} ({type(exc).__name__})")
    runs = pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()
    manifest = _manifest(root)
    parameters = [p for p in manifest.get("parameters", []) if p in runs.columns]
    outcomes = [m for m in manifest.get("metrics", []) if m in runs.columns
                and pd.api.types.is_numeric_dtype(runs[m])]
    if not parameters:
        parameters = guess_parameters(runs)
    if not outcomes:
        outcomes = [c for c in runs.columns if c not in parameters and c not in ID_COLUMNS
                    and pd.api.types.is_numeric_dtype(runs[c])
                    and not pd.api.types.is_bool_dtype(runs[c])]
    return ExperimentResults(directory=root, runs=runs, parameters=parameters,
                             outcomes=outcomes, files=len(frames), skipped=skipped,
                             quantities=_quantities(root))


def _quantities(root: Path) -> dict[str, str]:
    """Metric column -> the quantity it measures, from the experiment in ``manifest.json``."""
    from minders.experiments.metrics import parse_metric

    try:
        data = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        specs = data["experiment"]["metrics"] or []
        metrics = [parse_metric(dict(spec)) for spec in specs]
    except Exception:  # a foreign or older folder: plain t intervals
        return {}
    return {metric.label: metric.measures() for metric in metrics}


def _manifest(root: Path) -> dict:
    """``parameters`` and ``metrics`` from ``manifest.json``, if it has them (else {})."""
    try:
        data = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    parameters = data.get("parameters")
    metrics = data.get("metrics")
    return {
        "parameters": list(parameters) if isinstance(parameters, dict | list) else [],
        "metrics": list(metrics) if isinstance(metrics, list) else [],
    }


def guess_parameters(runs: pd.DataFrame) -> list[str]:
    """Columns that look varied: dotted scenario paths first, then few-valued numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> guess_parameters(pd.DataFrame({"model.fear": [0.1, 0.2], "defections": [3, 4],
    ...                                "seed": [1, 2]}))
    ['model.fear']
    """
    dotted = [c for c in runs.columns if "." in str(c) and runs[c].nunique() > 1]
    if dotted:
        return dotted
    return [
        c for c in runs.columns
        if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(runs[c])
        and 1 < runs[c].nunique() <= min(MAX_LEVELS, max(2, len(runs) // 2))
    ]


def heatmap_table(runs: pd.DataFrame, x: str, y: str, outcome: str,
                  statistic: str = "mean", quantity: str = "continuous") -> pd.DataFrame:
    """The outcome over two parameters: one row per (x, y) cell with the statistic and count.

    With ``statistic = "mean"`` each cell also gets the 95% interval of its mean
    that fits what the outcome measures (``quantity``: Wilson for a
    probability, Poisson for counts, Student t otherwise; see
    :func:`minders.experiments.intervals.interval`); other statistics get none.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run.
    x, y : str
        Varied parameters (columns).
    outcome : str
        A numeric column.
    statistic : {"mean", "median", "min", "max", "std"}
        How the replicates of a cell are summarised.
    quantity : str
        What the outcome measures (:data:`minders.experiments.intervals.QUANTITIES`).

    Examples
    --------
    >>> import pandas as pd
    >>> runs = pd.DataFrame({"a": [1, 1, 2, 2], "b": [0, 0, 0, 1], "out": [1, 3, 5, 7]})
    >>> heatmap_table(runs, "a", "b", "out")[["a", "b", "value", "n"]]
       a  b  value  n
    0  1  0    2.0  2
    1  2  0    5.0  1
    2  2  1    7.0  1
    """
    if statistic not in ("mean", "median", "min", "max", "std"):
        raise ValueError(f"statistic must be mean, median, min, max or std; got {statistic!r}")
    if runs.empty or not {x, y, outcome} <= set(runs.columns) or x == y:
        return pd.DataFrame(columns=[x, y, "value", "n", "low", "high"])
    grouped = runs.groupby([x, y], observed=True, dropna=True)[outcome]
    table = grouped.agg([statistic, "count"]).reset_index()
    table.columns = [x, y, "value", "n"]
    table["value"] = table["value"].astype(float)
    table["low"] = table["high"] = np.nan
    if statistic == "mean":
        from minders.experiments.intervals import interval

        bounds = [interval(group.to_numpy(dtype=float), quantity)
                  for _, group in grouped if len(group)]
        table["low"] = [b.low for b in bounds]
        table["high"] = [b.high for b in bounds]
    return table
