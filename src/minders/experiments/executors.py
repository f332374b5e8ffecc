"""Where chunks of runs execute: in this process, on local processes, or on Dask.

Every executor is a context manager with ``map(fn, tasks)``, which yields
the results *as they complete* (in any order); the caller writes each one
away at once, so an interrupted sweep keeps everything finished so far.
Results never depend on the executor: each run carries its own seed.

- :class:`SerialExecutor` runs chunks one after the other here (debugging, tests).
- :class:`LocalExecutor` uses a :class:`concurrent.futures.ProcessPoolExecutor`
  with ``forkserver`` workers (``spawn`` where there is no forkserver), which
  load the engine once and then take chunk after chunk.
- :class:`DaskExecutor` submits to a Dask scheduler (``address``), or starts a
  :class:`distributed.LocalCluster` when none is given. On SLURM or PBS, start
  the cluster with dask-jobqueue and pass its scheduler address.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from minders.errors import ScenarioError

T = TypeVar("T")
R = TypeVar("R")

#: Names accepted by :func:`make_executor` (and ``--executor``).
EXECUTORS = ("local", "dask", "serial")


class WorkerDied(RuntimeError):
    """A worker process of :class:`LocalExecutor` ended without finishing its chunk."""


def _worker_died_message() -> str:
    """Why a local worker may have died, with the likeliest cause for this program first."""
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    causes = "it ran out of memory or was killed"
    if script is None:  # an interactive session or a notebook: no script to re-import
        return f"a worker process ended abruptly: {causes}"
    return (
        "a worker process ended abruptly. Workers are fresh Python processes that import "
        f"the script that started them ({script}): put its top-level code under "
        "'if __name__ == \"__main__\":' (Python's rule for the 'forkserver' and 'spawn' "
        f"start methods), or the workers start the same runs again and fail. Otherwise "
        f"{causes}"
    )


def default_workers() -> int:
    """The cores this process may use.

    Examples
    --------
    >>> default_workers() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class Executor(Protocol):
    """What the sweep needs of an executor.

    Examples
    --------
    >>> executor: Executor = SerialExecutor()
    >>> executor.name, executor.workers, executor.threads
    ('serial', 1, None)
    """

    name: str
    workers: int
    threads: int | None  # Numba threads per chunk (None: the engine's default)

    def __enter__(self) -> Executor: ...  # noqa: D105

    def __exit__(self, *exc: object) -> None: ...  # noqa: D105

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(task)`` for every task, as each completes."""
        ...


class SerialExecutor:
    """Run chunks one by one in this process.

    Examples
    --------
    >>> with SerialExecutor() as ex:
    ...     sorted(ex.map(abs, [-2, 1]))
    [1, 2]
    """

    name = "serial"

    def __init__(self) -> None:
        self.workers = 1
        self.threads: int | None = None  # the engine keeps all its threads

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Yield ``fn(task)`` in order."""
        for task in tasks:
            yield fn(task)


#: Seconds between two checks of the watchdog that ends an orphaned worker.
WATCHDOG_EVERY = 0.5


def _init_worker(owner: int) -> None:
    """Set up a worker process of :class:`LocalExecutor` (``owner``: the sweep's process id).

    Ctrl-C goes to the whole process group; only the parent handles it (it
    keeps what is done and stops the workers), so workers ignore it. A worker
    must also never outlive the sweep: if the sweep is killed (``kill -9``,
    out of memory), nothing tells the workers, and they would run on.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from minders.helper_signals import exit_on_sigterm

    signal.signal(signal.SIGTERM, exit_on_sigterm)
    _die_with_parent()
    _watch_owner(owner)
    from minders.experiments.runner import warm_up

    warm_up()


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (``prctl(PR_SET_PDEATHSIG)``)."""
    if not os.uname().sysname == "Linux":
        return
    import ctypes

    pr_set_pdeathsig = 1  # from <linux/prctl.h>
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _watch_owner(owner: int) -> None:
    """Exit when the sweep's process is gone or this process is orphaned (any platform).

    The parent of a ``forkserver`` worker is the fork server, not the sweep, so
    the parent-death signal alone relies on the fork server noticing the
    sweep's death; this thread checks the sweep itself as well.
    """
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_EVERY)
            if os.getppid() != parent or not _alive(owner):
                os._exit(1)

    threading.Thread(target=watch, name="minders-watchdog", daemon=True).start()


def _stop_fork_server() -> None:
    """Kill this process's multiprocessing fork server, if it has one running."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie counts as gone where /proc says so)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True  # no /proc: the signal check above is all there is


class LocalExecutor:
    """A pool of local worker processes (all usable cores by default).

    Parameters
    ----------
    workers : int, optional
        Number of processes (default: :func:`default_workers`).
    start_method : str, optional
        ``forkserver`` (default where available) or ``spawn``. Both start
        clean interpreters, so no lock or thread of the parent leaks in.

    Examples
    --------
    >>> with LocalExecutor(workers=2) as ex:  # doctest: +SKIP
    ...     results = list(ex.map(run_chunk, tasks))
    """

    name = "local"

    def __init__(self, workers: int | None = None, start_method: str | None = None) -> None:
        self.workers = int(workers or default_workers())
        # Each process gets its share of the cores for the engine's parallel kernel.
        self.threads: int | None = max(1, default_workers() // self.workers)
        methods = multiprocessing.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self._pool: Any = None

    def __enter__(self) -> LocalExecutor:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import resource_tracker

        context = multiprocessing.get_context(self.start_method)
        # The parent keeps its own Ctrl-C handler all along (ignoring SIGINT here, even
        # for a moment, loses a Ctrl-C: numpy's BLAS threads would take and drop it). The
        # helpers ignore it themselves: the resource tracker at once, the fork server as
        # its first preload (before it imports the engine, which takes seconds), and the
        # workers from birth, since they restore the handler the server started with.
        resource_tracker.ensure_running()
        if self.start_method == "forkserver":
            from multiprocessing import forkserver

            # Workers fork from a server that has already imported the engine: fast starts.
            context.set_forkserver_preload(
                ["minders.helper_signals", "minders.experiments.runner",
                 "minders.engine"]
            )
            forkserver.ensure_running()
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=context, initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if exc_type is None:
            pool.shutdown(wait=True)
            return
        # Interrupted or failed: drop queued chunks and stop the running ones now;
        # finished chunks are already saved, the rest run again on resume. The workers
        # and the manager thread are read first: shutdown() forgets them.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        # Wait for them to go: a worker still starting when this process exits would find
        # the pool's semaphores gone and print a traceback after our one line.
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)
        if manager is not None and self.start_method == "forkserver":
            manager.join(timeout=5)
            if manager.is_alive():
                # Still waiting for the fork server to start a worker (a Ctrl-C while the
                # pool starts): the interpreter's exit would join this thread without a
                # limit. Stopping the server ends the wait; the next pool starts a new one.
                _stop_fork_server()

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Submit every task, then yield results as they complete."""
        from concurrent.futures import as_completed

        if self._pool is None:
            raise RuntimeError("use the executor in a with-block")
        # Workers start here; they ignore SIGINT from birth (forked from the quiet fork
        # server) or from their initializer (spawned, where fork servers do not exist).
        from concurrent.futures.process import BrokenProcessPool

        futures = [self._pool.submit(fn, task) for task in tasks]
        try:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except BrokenProcessPool as exc:
                    raise WorkerDied(_worker_died_message()) from exc
                yield result
        finally:
            for future in futures:
                future.cancel()


class DaskExecutor:
    """Run chunks on a Dask cluster.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``tcp://host:8786``). Without one, a
        :class:`distributed.LocalCluster` is started for the duration.
    workers : int, optional
        Workers of the local cluster (default: :func:`default_workers`).
    processes : bool
        Local cluster only: worker processes (default) or threads in this process.

    Examples
    --------
    >>> with DaskExecutor(workers=2) as ex:  # doctest: +SKIP
    ...     results = list(ex.map(run_chunk, tasks))
    """

    name = "dask"

    def __init__(
        self, address: str | None = None, workers: int | None = None, processes: bool = True
    ) -> None:
        self.address = address
        self.workers = int(workers or default_workers())
        self.processes = processes
        # Dask runs one chunk per worker thread: one engine thread each.
        self.threads: int | None = 1
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        import logging

        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ScenarioError(
                "--executor", "dask",
                "dask[distributed] installed (pip install 'minders[distributed]')",
            ) from None
        if self.address:
            try:
                self._client = Client(self.address, timeout="20s")
            except OSError as exc:
                raise ScenarioError("--scheduler", self.address,
                                    f"the address of a running Dask scheduler ({exc})") from None
            self._check_versions()
            info = self._client.scheduler_info()
            self.workers = max(1, sum(w.get("nthreads", 1) for w in info["workers"].values()))
        else:
            with _sigint_ignored():  # the worker processes inherit it: Ctrl-C is for us only
                self._cluster = LocalCluster(
                    n_workers=self.workers if self.processes else 1,
                    threads_per_worker=1 if self.processes else self.workers,
                    processes=self.processes, dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            self._client = Client(self._cluster)
        return self

    def _check_versions(self) -> None:
        """Refuse workers that run another version of minders (their results would differ)."""
        from minders import __version__

        versions = self._client.run(_minders_version)
        other = {v for v in versions.values() if v != __version__}
        if other:
            raise ScenarioError("--scheduler", self.address,
                                f"workers running minders {__version__} (found {sorted(other)})")

    def __exit__(self, *exc: object) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        with contextlib.suppress(Exception):
            if client is not None:
                client.close()
        with contextlib.suppress(Exception):
            if cluster is not None:
                cluster.close()

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Submit every task, then yield results as they complete."""
        from distributed import as_completed

        if self._client is None:
            raise RuntimeError("use the executor in a with-block")
        tasks = list(tasks)
        if not tasks:
            return
        # pure=False: identical chunks are still distinct work (no result reuse by key)
        futures = self._client.map(fn, tasks, pure=False)
        try:
            for future in as_completed(futures):
                yield future.result()
                future.release()
        finally:
            with contextlib.suppress(Exception):
                self._client.cancel(futures)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while a Dask local cluster starts its processes, so they ignore it too.

    Ctrl-C reaches the whole process group; the sweep stops the cluster itself.
    A Ctrl-C in this short window is lost (the local executor needs no such
    window: see :mod:`minders.helper_signals`).
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _minders_version() -> str:
    from minders import __version__

    return __version__


def make_executor(
    name: str = "local", workers: int | None = None, scheduler: str | None = None
) -> Executor:
    """An executor by name: ``local``, ``dask`` or ``serial``.

    Examples
    --------
    >>> make_executor("serial").workers
    1
    >>> make_executor("cloud")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: --executor: expected one of local, dask, serial, got 'cloud'
    """
    if workers is not None and workers < 1:
        raise ScenarioError("--workers", workers, "an integer >= 1")
    if scheduler and name != "dask":
        raise ScenarioError("--scheduler", scheduler, "--executor dask with a scheduler address")
    if name == "local":
        return LocalExecutor(workers)
    if name == "dask":
        import importlib.util

        # Checked here, before a results folder is created for a sweep that cannot run.
        if importlib.util.find_spec("distributed") is None:
            raise ScenarioError("--executor", "dask", "Dask installed: pip install "
                                "'minders[distributed]'")
        return DaskExecutor(scheduler, workers)
    if name == "serial":
        return SerialExecutor()
    raise ScenarioError("--executor", name, f"one of {', '.join(EXECUTORS)}")


def chunk_size(todo: int, workers: int, requested: int | None = None) -> int:
    """Runs per chunk: about 8 chunks per worker, at most 64 runs each.

    Enough chunks keep every worker busy to the end and the progress bar
    moving; enough runs per chunk amortise the cost of sending a task. The
    chunking never changes the results.

    Examples
    --------
    >>> chunk_size(1000, 2), chunk_size(10, 4), chunk_size(10, 4, requested=5)
    (63, 1, 5)
    """
    if requested is not None:
        if requested < 1:
            raise ScenarioError("--chunk-size", requested, "an integer >= 1")
        return requested
    return max(1, min(64, -(-todo // (8 * max(1, workers)))))
