"""One chunk of runs, as a worker runs it.

A :class:`ChunkTask` holds only plain data (a scenario dict, run ids, seeds,
overrides and metric specs), so it pickles cheaply to a local process or a
Dask worker; :func:`run_chunk` is a top-level function, importable by
``spawn`` and ``forkserver`` children and by Dask workers on other machines
(which need the same version of minders installed). A run's outcome depends
only on its scenario and seed: chunking changes nothing but overhead.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RunSpec:
    """One run: its id, where it sits in the design, its seed and its overrides.

    Examples
    --------
    >>> RunSpec(run_id=7, point=2, replicate=1, seed=42,
    ...         overrides={"model.fear_per_event": 0.1}).point
    2
    """

    run_id: int
    point: int
    replicate: int
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChunkTask:
    """Runs that share a base scenario and metrics, sent to a worker in one message.

    Examples
    --------
    >>> task = ChunkTask(kind="minders", base={}, runs=[], metrics=[])
    >>> run_chunk(task).run_ids.size
    0
    """

    kind: str
    base: dict[str, Any]
    runs: list[RunSpec]
    metrics: list[dict[str, Any]]
    keep_records: bool = False
    steps: int | None = None
    threads: int | None = None


@dataclass
class ChunkResult:
    """What comes back: run ids, a (runs x metrics) array, and optionally the records.

    Examples
    --------
    >>> ChunkResult(np.array([3]), np.array([[1.0]])).values.shape
    (1, 1)
    """

    run_ids: np.ndarray
    values: np.ndarray
    records: pd.DataFrame | None = None
    seconds: float = 0.0


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run every run of a chunk and compute its metrics.

    Parameters
    ----------
    task : ChunkTask
        The runs to do.

    Returns
    -------
    ChunkResult
        Values in the order of ``task.runs``.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> base = Scenario.model_validate({"run": {"steps": 3}, "tiers": {
    ...     "w": {"size": 30, "minded_by": "m", "span": 10}, "m": {"size": "auto"}}})
    >>> task = ChunkTask("minders", base.model_dump(mode="json"),
    ...                  [RunSpec(0, 0, 0, seed=1, overrides={"tiers.w.span": 5})],
    ...                  [{"kind": "surveillance_headcount"}])
    >>> run_chunk(task).values.tolist()
    [[6.0]]
    """
    import time

    start = time.perf_counter()
    with _numba_threads(task.threads):
        return _run(task, start)


def _run(task: ChunkTask, start: float) -> ChunkResult:
    import time

    from minders import kinds
    from minders.experiments.metrics import compute_metrics, parse_metric
    from minders.kinds import validate_scenario
    from minders.spec import apply_overrides

    metrics = [parse_metric(m) for m in task.metrics]
    values = np.full((len(task.runs), len(metrics)), np.nan)
    frames = []
    scenarios: dict[str, Any] = {}  # replicates of one point share a validated scenario
    simulate = kinds.get(task.kind).simulate if task.runs else None
    for row, run in enumerate(task.runs):
        key = json.dumps(run.overrides, sort_keys=True, default=str)
        if key not in scenarios:
            data = apply_overrides(copy.deepcopy(task.base), run.overrides)
            scenarios = {key: validate_scenario(data)}  # keep one: chunks are point-major
        result = simulate(scenarios[key], seed=run.seed, steps=task.steps)
        values[row] = compute_metrics(result, metrics)
        if task.keep_records:
            records = result.records.copy()
            if "tier" in records.columns:
                records["tier"] = records["tier"].astype(str)
            records.insert(0, "run_id", np.int64(run.run_id))
            frames.append(records)
    records = pd.concat(frames, ignore_index=True) if frames else None
    return ChunkResult(
        run_ids=np.array([r.run_id for r in task.runs], dtype=np.int64), values=values,
        records=records, seconds=time.perf_counter() - start,
    )


@contextlib.contextmanager
def _numba_threads(threads: int | None) -> Iterator[None]:
    """Cap the engine's Numba threads while a chunk runs (None: leave them as they are).

    The surveillance kernel is parallel. Two worker processes on two cores,
    each with two Numba threads, would fight over the cores (Numba's workers
    spin while they wait) and run many times slower; so each worker gets its
    share of the cores. The setting is per thread, so Dask's threaded workers
    each set their own. Results do not depend on it.
    """
    if not threads:
        yield
        return
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def warm_up() -> None:
    """Import the engine (and load its compiled kernels) in a fresh worker process.

    Examples
    --------
    >>> warm_up()
    """
    import minders.engine  # noqa: F401
