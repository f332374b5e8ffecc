"""Run a sweep into its results folder: only what is missing, chunk by chunk.

:func:`run_sweep` opens (or resumes) the results folder, asks it which runs
are saved, cuts the others into chunks of consecutive run ids (the
replicates of a point travel together and share one validated scenario),
hands the chunks to an executor and saves each finished chunk as a Parquet
part at once. Kill it at any moment and call it again: it picks up where it
stopped and ends with the same table as an uninterrupted run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minders.experiments.design import Experiment, Sweep, build_sweep, load_experiment
from minders.experiments.executors import Executor, chunk_size, make_executor
from minders.experiments.runner import ChunkResult, ChunkTask, RunSpec, run_chunk
from minders.experiments.store import ResultsStore


@dataclass
class SweepReport:
    """What a call of :func:`run_sweep` did.

    Attributes
    ----------
    directory : Path
        The results folder.
    total : int
        Runs in the experiment.
    done_before : int
        Runs already saved when the call began (a resume).
    ran : int
        Runs done by this call.
    seconds : float
        Wall time of this call, executor start-up included.
    executor : str
        ``local``, ``dask`` or ``serial``.
    workers : int
        Workers (processes or Dask threads).
    chunk_size : int
        Runs per chunk.

    Examples
    --------
    >>> SweepReport(Path("out"), 10, 4, 6, 2.0, "local", 2, 3).complete
    True
    """

    directory: Path
    total: int
    done_before: int
    ran: int
    seconds: float
    executor: str
    workers: int
    chunk_size: int

    @property
    def complete(self) -> bool:
        """Every run of the experiment is saved."""
        return self.done_before + self.ran >= self.total

    @property
    def runs_per_second(self) -> float:
        """Runs done by this call per second of wall time."""
        return self.ran / self.seconds if self.seconds > 0 else float("nan")


def run_sweep(
    sweep: Sweep | Experiment | str | Path,
    out: str | Path,
    executor: Executor | str = "local",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Run every missing run of an experiment and save it in ``out``.

    Parameters
    ----------
    sweep : Sweep, Experiment or path
        What to run (an experiment file is loaded and built).
    out : str or Path
        The results folder; a folder of the same experiment is resumed, one
        of another experiment is refused with a :class:`ScenarioError`.
    executor : Executor or str
        ``"local"`` (processes, default), ``"dask"``, ``"serial"``, or an executor.
    workers : int, optional
        Processes (local) or workers of a local Dask cluster (default: all cores).
    scheduler : str, optional
        Dask scheduler address; without one a LocalCluster is started.
    chunk : int, optional
        Runs per chunk (default: see :func:`~minders.experiments.executors.chunk_size`).
    progress : callable, optional
        Called as ``progress(done, total)`` after each saved chunk (and once at the start).

    Returns
    -------
    SweepReport

    Examples
    --------
    >>> import tempfile
    >>> from minders.experiments.design import validate_experiment
    >>> experiment = validate_experiment({"scenario": "overseas_workers",
    ...     "replicates": 2, "set": {"run.steps": 8},
    ...     "parameters": {"tiers.minders.span": {"values": [5, 10]}}})
    >>> out = tempfile.mkdtemp()
    >>> report = run_sweep(experiment, out, "serial")
    >>> report.ran, report.complete, run_sweep(experiment, out, "serial").ran  # resumes: none left
    (4, True, 0)
    """
    start = time.perf_counter()
    if isinstance(sweep, str | Path):
        sweep = load_experiment(sweep)
    if isinstance(sweep, Experiment):
        sweep = build_sweep(sweep)
    if isinstance(executor, str):
        executor = make_executor(executor, workers=workers, scheduler=scheduler)
    with ResultsStore(out, sweep) as store:
        done = store.done_ids()
        todo = np.setdiff1d(np.arange(sweep.n_runs, dtype=np.int64), done)
        total, saved = sweep.n_runs, int(done.size)
        if progress is not None:
            progress(saved, total)
        size = chunk_size(todo.size, executor.workers, chunk)
        ran = 0
        if todo.size:
            with executor:  # entered first: a Dask cluster tells its size only once connected
                size = chunk_size(todo.size, executor.workers, chunk)
                tasks = [chunk_task(sweep, todo[k:k + size], executor.threads)
                         for k in range(0, todo.size, size)]
                for result in executor.map(run_chunk, tasks):
                    runs, records = part_frames(sweep, result)
                    store.write_part(runs, records)
                    ran += int(result.run_ids.size)
                    if progress is not None:
                        progress(saved + ran, total)
    return SweepReport(
        directory=Path(out), total=total, done_before=saved, ran=ran,
        seconds=time.perf_counter() - start, executor=executor.name,
        workers=executor.workers, chunk_size=size,
    )


def chunk_task(sweep: Sweep, run_ids: np.ndarray, threads: int | None = None) -> ChunkTask:
    """The task that runs ``run_ids`` of a sweep (with at most ``threads`` engine threads).

    Examples
    --------
    >>> from minders.experiments.design import validate_experiment
    >>> sweep = build_sweep(validate_experiment({"scenario": "overseas_workers",
    ...     "replicates": 2, "set": {"run.steps": 8},
    ...     "parameters": {"tiers.minders.span": {"values": [5, 10]}}}))
    >>> task = chunk_task(sweep, np.arange(3), threads=1)
    >>> [(run.point, run.replicate) for run in task.runs]
    [(0, 0), (0, 1), (1, 0)]
    """
    from minders.experiments.design import metric_specs

    overrides: dict[int, dict[str, Any]] = {}
    runs = []
    for run_id in run_ids.tolist():
        point, replicate = sweep.locate(run_id)
        if point not in overrides:
            overrides[point] = sweep.overrides_of(point)
        runs.append(RunSpec(run_id, point, replicate, sweep.seed_of(run_id), overrides[point]))
    return ChunkTask(
        kind=sweep.kind, base=sweep.base, runs=runs, metrics=metric_specs(sweep.experiment),
        keep_records=sweep.experiment.output.records, threads=threads,
    )


def part_frames(sweep: Sweep, result: ChunkResult) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The runs table (and records) of one finished chunk, with fixed column types.

    Examples
    --------
    >>> from minders.experiments.design import validate_experiment
    >>> sweep = build_sweep(validate_experiment({"scenario": "overseas_workers",
    ...     "replicates": 2, "set": {"run.steps": 8},
    ...     "parameters": {"tiers.minders.span": {"values": [5, 10]}}}))
    >>> runs, records = part_frames(sweep, run_chunk(chunk_task(sweep, np.arange(3))))
    >>> list(runs.columns[:5]), records is None
    (['run_id', 'point', 'replicate', 'seed', 'scenario_hash'], True)
    """
    order = np.argsort(result.run_ids, kind="stable")
    ids = result.run_ids[order]
    points, replicates = np.divmod(ids, sweep.experiment.replicates)
    frame: dict[str, Any] = {
        "run_id": ids,
        "point": points.astype(np.int64),
        "replicate": replicates.astype(np.int64),
        "seed": np.array([sweep.seed_of(i) for i in ids.tolist()], dtype=np.int64),
        "scenario_hash": np.array([sweep.point_hashes[p] for p in points.tolist()], dtype=object),
    }
    for name in sweep.parameters:
        frame[name] = sweep.points[name].to_numpy()[points]
    for k, label in enumerate(sweep.metric_columns):
        frame[label] = result.values[order, k].astype(float)
    records = result.records
    if records is not None:
        records = records.sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)
    return pd.DataFrame(frame), records
