"""``minders export``: the tables of a results folder as CSV, Excel or Parquet, with metadata.

The scenario's metadata (``run.json`` of a run, ``manifest.json`` of a
sweep) travels with every export: a sidecar ``NAME.metadata.json`` beside
each CSV file, a ``metadata`` sheet in the Excel workbook (one row per
dotted key), and the ``minders`` key of each Parquet file's schema
metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from minders.errors import ScenarioError
from minders.report.folders import flatten, folder_kind, metadata, tables
from minders.result import atomic_path

#: The formats ``export`` writes.
FORMATS = ("csv", "xlsx", "parquet")
#: Rows an Excel sheet holds, its header included.
EXCEL_ROWS = 1_048_576


def export(directory: str | Path, to: str, out: str | Path | None = None) -> list[Path]:
    """Write the tables of a results folder in format ``to``; the paths written.

    Parameters
    ----------
    directory : str or Path
        A ``minders run`` or ``minders sweep`` results folder.
    to : {"csv", "xlsx", "parquet"}
        The format.
    out : str or Path, optional
        Where to write (default: ``DIRECTORY/export``).

    Raises
    ------
    ScenarioError
        For a folder that holds no results, an unknown format, or a table
        too long for an Excel sheet.

    Examples
    --------
    >>> import minders, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> scenario = minders.load_scenario("granovetter_riot")
    >>> _ = minders.simulate(scenario, steps=5).save(folder)
    >>> [path.name for path in export(folder, "csv")]
    ['records.csv', 'records.metadata.json']
    """
    if to not in FORMATS:
        raise ScenarioError("--to", to, f"one of {', '.join(FORMATS)}")
    kind = folder_kind(directory)
    target = Path(out) if out is not None else Path(directory) / "export"
    if target.exists() and not target.is_dir():
        raise ScenarioError("--out", str(target), "a folder for the exports, not a file")
    info = metadata(directory)
    frames = tables(directory)
    if to == "xlsx":
        return [_excel(frames, info, target / f"{kind}.xlsx")]
    written = []
    for name, frame in frames.items():
        if to == "csv":
            written.append(_write(target / f"{name}.csv", lambda tmp, f=frame: f.to_csv(
                tmp, index=False)))
            written.append(_write(target / f"{name}.metadata.json", lambda tmp: tmp.write_text(
                json.dumps(info, indent=2) + "\n", encoding="utf-8")))
        else:
            written.append(_write(target / f"{name}.parquet",
                                  lambda tmp, f=frame: _parquet(f, info, tmp)))
    return written


def read_parquet_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata :func:`export` stored in a Parquet file (``{}`` if none)."""
    import pyarrow.parquet as pq

    stored = pq.read_schema(path).metadata or {}
    raw = stored.get(b"minders")
    return json.loads(raw) if raw else {}


def metadata_rows(info: dict[str, Any]) -> pd.DataFrame:
    """The metadata as ``key`` / ``value`` rows (values that are lists or texts as JSON).

    Examples
    --------
    >>> metadata_rows({"seed": 3, "scenario": {"name": "x"}}).values.tolist()
    [['seed', 3], ['scenario.name', 'x']]
    """
    rows = [(key, value if isinstance(value, int | float | str | bool) or value is None
             else json.dumps(value)) for key, value in flatten(info).items()]
    return pd.DataFrame(rows, columns=["key", "value"])


def _write(target: Path, write: Any) -> Path:
    with atomic_path(target) as tmp:
        write(tmp)
    return target


def _parquet(frame: pd.DataFrame, info: dict[str, Any], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = {**(table.schema.metadata or {}), b"minders": json.dumps(info).encode()}
    pq.write_table(table.replace_schema_metadata(schema), path)


def _excel(frames: dict[str, pd.DataFrame], info: dict[str, Any], target: Path) -> Path:
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise ScenarioError("--to", "xlsx", "an installed openpyxl (pip install "
                            "'minders[report]'), or --to csv") from None
    for name, frame in frames.items():
        if len(frame) >= EXCEL_ROWS:
            raise ScenarioError("--to", "xlsx", f"a table that fits an Excel sheet: {name} has "
                                f"{len(frame):,} rows (at most {EXCEL_ROWS - 1:,}); use --to "
                                "csv or parquet")

    def write(tmp: Path) -> None:
        with pd.ExcelWriter(tmp, engine="openpyxl") as book:
            for name, frame in frames.items():
                frame.to_excel(book, sheet_name=name, index=False)
            metadata_rows(info).to_excel(book, sheet_name="metadata", index=False)

    return _write(target, write)
