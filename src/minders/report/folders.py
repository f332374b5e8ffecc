"""What kind of results folder a path is, and its tables and metadata.

A ``minders run`` folder holds ``run.json`` and ``records.parquet``; a
``minders sweep`` (or ``sensitivity``, ``warning``) folder holds
``manifest.json`` and ``runs/part-*.parquet``; a ``minders calibrate``
folder holds ``report.json``, ``summary.csv`` and ``posterior.parquet``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from minders.errors import ScenarioError

Kind = Literal["run", "sweep", "plan", "calibration"]
EXPECTED = ("a results folder of 'minders run' (run.json), 'minders sweep' (manifest.json) or "
            "'minders plan' (plan.json) or 'minders calibrate' (report.json)")


def folder_kind(directory: str | Path) -> Kind:
    """``"run"``, ``"sweep"``, ``"plan"`` or ``"calibration"``; else a :class:`ScenarioError`.

    Examples
    --------
    >>> folder_kind("no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: results: expected a results folder of 'minders run' ...
    """
    directory = Path(directory)
    if (directory / "run.json").is_file() and (directory / "records.parquet").is_file():
        return "run"
    if (directory / "manifest.json").is_file():
        return "sweep"
    if (directory / "plan.json").is_file() and (directory / "plan.parquet").is_file():
        return "plan"
    if all((directory / name).is_file()
           for name in ("report.json", "summary.csv", "posterior.parquet")):
        return "calibration"
    raise ScenarioError("results", str(directory), EXPECTED)


def metadata(directory: str | Path) -> dict[str, Any]:
    """The folder's metadata: ``run.json`` of a run, ``manifest.json`` of a sweep.

    ``plan.json`` of a plan; ``report.json`` of a calibration.
    """
    directory = Path(directory)
    name = {"run": "run.json", "sweep": "manifest.json", "plan": "plan.json",
            "calibration": "report.json"}[folder_kind(directory)]
    return json.loads((directory / name).read_text(encoding="utf-8"))


def tables(directory: str | Path) -> dict[str, pd.DataFrame]:
    """The folder's tables by name.

    ``records`` of a run; ``runs`` (and ``records``) of a sweep; ``designs``
    and ``choices`` of a plan; ``summary``, ``posterior`` and ``predictive`` of a
    calibration. A sweep's records are there only when the experiment kept them
    (``output.records = true``).
    """
    directory = Path(directory)
    kind = folder_kind(directory)
    if kind == "run":
        return {"records": pd.read_parquet(directory / "records.parquet")}
    if kind == "plan":
        return {"designs": pd.read_parquet(directory / "plan.parquet"),
                "choices": pd.read_csv(directory / "choices.csv")}
    if kind == "calibration":
        found = {"summary": pd.read_csv(directory / "summary.csv"),
                 "posterior": pd.read_parquet(directory / "posterior.parquet")}
        if (directory / "predictive.parquet").is_file():
            found["predictive"] = pd.read_parquet(directory / "predictive.parquet")
        return found
    from minders.experiments.store import load_records, load_results

    found = {"runs": load_results(directory)}
    if (directory / "records").is_dir():
        found["records"] = load_records(directory)
    return found


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as ``{"dotted.path": leaf}``.

    Examples
    --------
    >>> flatten({"run": {"seed": 1}, "shocks": [{"start": 3}]})
    {'run.seed': 1, 'shocks.0.start': 3}
    """
    if isinstance(value, dict) and value:
        items = value.items()
    elif isinstance(value, list) and value:
        items = ((str(k), v) for k, v in enumerate(value))
    else:
        return {prefix: value}
    found: dict[str, Any] = {}
    for key, item in items:
        found.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return found
