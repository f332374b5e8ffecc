"""The results folder of a sweep: a manifest, the design, and Parquet parts.

Layout::

    DIR/manifest.json          the experiment, its hash, the base scenario, versions
    DIR/points.parquet         the design: one row per point (and the raw SALib sample)
    DIR/runs/part-*.parquet    per-run outcomes: run_id, point, replicate, seed,
                               scenario_hash, the varied parameters, the metrics
    DIR/records/part-*.parquet per-step records of every run (``output.records``)

Each part holds one finished chunk and is written to a hidden temporary file,
flushed to disk and renamed into place (``os.replace``), so a part is either
complete or absent, whatever kills the process. A records part is renamed
before the runs part of the same chunk: the runs part is the commit mark. On
resume the runs parts say which run ids are done; only the others run, in
chunks of any size, so no run is lost or done twice. A lock file keeps two
sweeps from writing into one folder at the same time.

Query the parts with pandas, polars or DuckDB::

    duckdb.sql("select point, avg(defections) from 'DIR/runs/*.parquet' group by point")
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from minders.errors import ScenarioError
from minders.result import atomic_path, command_line, machine

if TYPE_CHECKING:
    from minders.experiments.design import Sweep

MANIFEST = "manifest.json"
POINTS = "points.parquet"
RUNS = "runs"
RECORDS = "records"
FORMAT = 1


class ResultsStore:
    """An open results folder (create it, or resume into it).

    Parameters
    ----------
    directory : str or Path
        The folder; created if missing.
    sweep : Sweep
        The sweep that writes into it. A folder holding another experiment
        (another hash) is refused.

    Examples
    --------
    >>> with ResultsStore(tmp / "out", sweep) as store:  # doctest: +SKIP
    ...     done = store.done_ids()
    """

    def __init__(self, directory: str | Path, sweep: Sweep) -> None:
        self.directory = Path(directory)
        self.sweep = sweep
        self._lock: Any = None

    # ------------------------------------------------------------------ open / close
    def __enter__(self) -> ResultsStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Lock the folder, then check (resume) or write (new) the manifest and design."""
        directory = self.directory
        if directory.exists() and not directory.is_dir():
            raise ScenarioError("--out", str(directory), "a folder, not a file")
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(directory)
        try:
            manifest_path = directory / MANIFEST
            if manifest_path.exists():
                self._check_resume(read_manifest(directory))
            else:
                leftovers = [p.name for p in directory.iterdir() if p.name != ".lock"]
                if leftovers:
                    raise ScenarioError(
                        "--out", str(directory),
                        "an empty folder or the results of this same experiment "
                        f"(it holds {', '.join(sorted(leftovers)[:3])} but no {MANIFEST})",
                    )
                self._create()
            self._clean()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the lock."""
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.close()

    def _create(self) -> None:
        sweep = self.sweep
        (self.directory / RUNS).mkdir(exist_ok=True)
        if sweep.experiment.output.records:
            (self.directory / RECORDS).mkdir(exist_ok=True)
        _write_parquet(_points_frame(sweep), self.directory / POINTS)
        _write_text(self.directory / MANIFEST, json.dumps(manifest_of(sweep), indent=2) + "\n")

    def _check_resume(self, manifest: dict[str, Any]) -> None:
        sweep = self.sweep
        if manifest.get("hash") != sweep.hash:
            raise ScenarioError(
                "--out", str(self.directory),
                "an empty folder or the results of this same experiment: it holds "
                f"'{manifest.get('name')}' (hash {str(manifest.get('hash'))[:12]}), this "
                f"experiment has hash {sweep.hash[:12]}; use another --out or delete the folder",
            )
        stored = pd.read_parquet(self.directory / POINTS)
        fresh = _points_frame(sweep)
        same = list(stored.columns) == list(fresh.columns) and len(stored) == len(fresh) and all(
            np.array_equal(stored[c].to_numpy(), fresh[c].to_numpy()) for c in fresh.columns
        )
        if not same:  # e.g. another SALib version drew another sample from the same seed
            raise ScenarioError(
                "--out", str(self.directory),
                f"the design points stored in {POINTS} (this installation draws other points "
                "for the same experiment; use another --out)",
            )
        (self.directory / RUNS).mkdir(exist_ok=True)
        if sweep.experiment.output.records:
            (self.directory / RECORDS).mkdir(exist_ok=True)

    def _clean(self) -> None:
        """Remove what a killed sweep left: temporary files, records parts without runs parts."""
        runs = self.directory / RUNS
        records = self.directory / RECORDS
        for folder in (runs, records, self.directory):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        tmp.unlink()
        if records.is_dir():
            committed = {p.name for p in runs.glob("part-*.parquet")}
            for part in records.glob("part-*.parquet"):
                if part.name not in committed:
                    part.unlink()

    # ------------------------------------------------------------------ parts
    @staticmethod
    def count_saved(directory: str | Path) -> int:
        """Distinct runs saved in a results folder (0 where there is none yet).

        Examples
        --------
        >>> ResultsStore.count_saved("no/such/folder")
        0
        """
        import pyarrow.parquet as pq

        parts = sorted((Path(directory) / RUNS).glob("part-*.parquet"))
        ids = [pq.read_table(p, columns=["run_id"])["run_id"].to_numpy() for p in parts]
        return int(np.unique(np.concatenate(ids)).size) if ids else 0

    def done_ids(self) -> np.ndarray:
        """Sorted ids of the runs already saved."""
        import pyarrow.parquet as pq

        ids = [
            pq.read_table(part, columns=["run_id"])["run_id"].to_numpy()
            for part in sorted((self.directory / RUNS).glob("part-*.parquet"))
        ]
        return np.unique(np.concatenate(ids)) if ids else np.zeros(0, dtype=np.int64)

    def write_part(self, runs: pd.DataFrame, records: pd.DataFrame | None = None) -> Path:
        """Save one chunk: its records part (if any), then its runs part (the commit)."""
        ids = runs["run_id"].to_numpy(dtype=np.int64)
        digest = hashlib.sha1(ids.tobytes()).hexdigest()[:10]
        name = f"part-{int(ids.min()):010d}-{ids.size:05d}-{digest}.parquet"
        if records is not None:
            _write_parquet(records, self.directory / RECORDS / name)
        target = self.directory / RUNS / name
        _write_parquet(runs, target)
        return target


# --------------------------------------------------------------------------- reading
def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a results folder.

    Raises
    ------
    ScenarioError
        If the folder holds no sweep results.

    Examples
    --------
    >>> read_manifest("no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: results: expected a results folder of 'minders sweep' ...
    """
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ScenarioError("results", str(directory),
                            f"a results folder of 'minders sweep' (with {MANIFEST})")
    return json.loads(path.read_text(encoding="utf-8"))


def load_results(
    directory: str | Path, library: Literal["pandas", "polars"] = "pandas",
    duplicates: Literal["error", "drop"] = "error",
) -> Any:
    """The per-run outcomes of a sweep, one row per run, sorted by ``run_id``.

    Parameters
    ----------
    directory : str or Path
        A results folder written by :func:`~minders.experiments.run_sweep`.
    library : {"pandas", "polars"}
        The kind of DataFrame to return.
    duplicates : {"error", "drop"}
        What to do when a run id is saved in more than one part (a sweep
        never writes that; a copied or restored part file does): ``"error"``
        (default) raises a :class:`ScenarioError` naming the parts;
        ``"drop"`` keeps the copy in the first part (by name) and drops the
        others, the files being left as they are.

    Returns
    -------
    pandas.DataFrame or polars.DataFrame
        Columns ``run_id``, ``point``, ``replicate``, ``seed``, ``scenario_hash``,
        the varied parameters and the metrics. A sweep still running or
        interrupted gives the runs saved so far.

    Raises
    ------
    ScenarioError
        If the folder holds no sweep results, or a run id is saved twice
        (with ``duplicates="error"``).

    Examples
    --------
    >>> import tempfile
    >>> from minders.experiments import run_sweep, validate_experiment
    >>> out = tempfile.mkdtemp()
    >>> _ = run_sweep(validate_experiment({"scenario": "overseas_workers",
    ...     "replicates": 2, "set": {"run.steps": 8},
    ...     "parameters": {"tiers.minders.span": {"values": [5, 10]}}}), out, "serial")
    >>> load_results(out).groupby("point")["cascade"].count().tolist()
    [2, 2]
    >>> load_results(out, library="polars").height
    4
    """
    manifest = read_manifest(directory)
    columns = ["run_id", "point", "replicate", "seed", "scenario_hash",
               *manifest["parameters"], *manifest["metrics"]]
    return _load(Path(directory) / RUNS, library, columns, ["run_id"], duplicates)


def load_records(
    directory: str | Path, library: Literal["pandas", "polars"] = "pandas",
    duplicates: Literal["error", "drop"] = "error",
) -> Any:
    """The per-step records of every run (sweeps with ``output.records = true``).

    ``duplicates`` is as for :func:`load_results`.

    Examples
    --------
    >>> load_records("results/span_sweep").query("run_id == 0")  # doctest: +SKIP
    """
    read_manifest(directory)
    folder = Path(directory) / RECORDS
    if not folder.is_dir():
        raise ScenarioError("output.records", False,
                            "true in the experiment, to keep the per-step records")
    return _load(folder, library, None, ["run_id", "step"], duplicates)


def _load(folder: Path, library: str, columns: list[str] | None, order: list[str],
          duplicates: str = "error") -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if library not in ("pandas", "polars"):
        raise ScenarioError("library", library, "'pandas' or 'polars'")
    if duplicates not in ("error", "drop"):
        raise ScenarioError("duplicates", duplicates, "'error' or 'drop'")
    parts = sorted(folder.glob("part-*.parquet"))
    if parts:
        tables = [pq.read_table(p) for p in parts]
        _check_overlap(folder, parts, tables, drop=duplicates == "drop")
        frame = pa.concat_tables(tables).to_pandas()
        keys = ["run_id", "step", "tier"] if "step" in frame.columns else ["run_id"]
        keys = [k for k in keys if k in frame.columns]
        # keep="first": the parts are in name order, so the first part's copy stays.
        frame = frame.drop_duplicates(subset=keys).sort_values(order, kind="stable")
        frame = frame.reset_index(drop=True)
    else:
        frame = pd.DataFrame(columns=columns or ["run_id"])
    if library == "polars":
        import polars as pl

        return pl.from_pandas(frame)
    return frame


def _check_overlap(folder: Path, parts: list[Path], tables: list[Any], drop: bool) -> None:
    """Raise a :class:`ScenarioError` if a run id appears in two parts (unless ``drop``)."""
    if drop:
        return
    unique = [np.unique(t["run_id"].to_numpy()) for t in tables]
    ids = np.concatenate(unique)
    where = np.repeat(np.arange(len(parts)), [u.size for u in unique])
    order = np.argsort(ids, kind="stable")
    twice = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if twice.size:
        k = twice[0]
        first, second = parts[where[order[k]]].name, parts[where[order[k + 1]]].name
        raise ScenarioError(
            "results", str(folder),
            f"each run saved once, but run {int(ids[order[k]])} is in {first} and {second} "
            f"({twice.size:,} runs twice: a copied or restored part?); delete the extra part, "
            "or pass duplicates='drop' to load_results to keep the first copy",
        )


# --------------------------------------------------------------------------- helpers
def manifest_of(sweep: Sweep) -> dict[str, Any]:
    """What ``manifest.json`` records about a sweep.

    Examples
    --------
    >>> sorted(manifest_of(sweep))[:3]  # doctest: +SKIP
    ['base_scenario', 'created', 'description']
    """
    from importlib.metadata import PackageNotFoundError, version

    from minders import __version__

    versions = {"minders": __version__, "python": platform.python_version()}
    for package in ("numpy", "pandas", "pyarrow", "numba", "SALib"):
        with contextlib.suppress(PackageNotFoundError):
            versions[package] = version(package)
    experiment = sweep.experiment
    return {
        "format": FORMAT,
        "name": experiment.name,
        "description": experiment.description,
        "hash": sweep.hash,
        "experiment": experiment.model_dump(mode="json"),
        "kind": sweep.kind,
        "base_scenario": sweep.base,
        "parameters": {name: sweep.paths[name] for name in sweep.parameters},
        "metrics": sweep.metric_columns,
        "method": experiment.design.method,
        "problem": sweep.problem,
        "points": sweep.n_points,
        "replicates": experiment.replicates,
        "runs": sweep.n_runs,
        "versions": versions,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
    }


def _points_frame(sweep: Sweep) -> pd.DataFrame:
    frame = sweep.points.copy()
    frame["scenario_hash"] = sweep.point_hashes
    if sweep.sample is not None:
        for k, name in enumerate(sweep.parameters):
            frame[f"sample:{name}"] = sweep.sample[:, k]
    return frame


def _write_parquet(frame: pd.DataFrame, target: Path) -> None:
    """Write a Parquet file atomically: temporary file, fsync, rename."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
        _fsync(tmp)


def _write_text(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
        _fsync(tmp)


def _fsync(path: Path) -> None:
    # The rename makes a part visible only whole; the fsync makes it survive a power cut too.
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


class _Lock:
    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.handle.close()  # closing the file releases the lock (also on SIGKILL)


def _lock(directory: Path) -> _Lock:
    """Take an exclusive lock on ``DIR/.lock``, so two sweeps never write into one folder."""
    handle = open(directory / ".lock", "a+")  # noqa: SIM115 - held until close()
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return _Lock(handle)
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ScenarioError("--out", str(directory),
                            "a folder no other sweep is writing to (it is locked)") from None
    return _Lock(handle)
