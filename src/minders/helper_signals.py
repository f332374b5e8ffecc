"""Make a multiprocessing fork server quiet: no Ctrl-C, no stderr, before heavy imports.

:func:`exit_on_sigterm` is the workers' SIGTERM handler (kept here, light to import).

The local executor names this module first in the fork server's preload
list (a top-level module: importing ``minders.experiments`` first would take
seconds). Ctrl-C reaches the whole process group; the sweep's own process stops
the workers and reports, so the helper processes must ignore it from their
first moment, or a Ctrl-C while they start would print their tracebacks.
Workers forked from the server restore the handler it started with, so they
ignore SIGINT from birth too.

Importing this module anywhere else changes nothing: it acts only in a
process started as a multiprocessing fork server.
"""

from __future__ import annotations

import os
import signal
import sys


def in_fork_server() -> bool:
    """Whether this process is a multiprocessing fork server.

    Examples
    --------
    >>> in_fork_server()
    False
    """
    return any("multiprocessing.forkserver" in arg for arg in getattr(sys, "orig_argv", []))


def quiet_fork_server() -> None:
    """Ignore SIGINT and SIGTERM; send the server's (and its workers') stderr to the null device.

    Workers report results and errors through the pool, never on stderr; what
    they would print there is the noise of an interrupted start (a worker that
    was still starting when the sweep stopped finds the pool gone), which would
    follow the sweep's one ``interrupted:`` line.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM to the process group (`timeout`, a batch scheduler) would kill the server
    # without its exit handlers, leaking the lock Numba made in it; it ends instead when
    # the sweep does (the end of its pipe), and its workers install exit_on_sigterm.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


def exit_on_sigterm(signum: int, frame: object) -> None:
    """End a helper process stopped by SIGTERM as a clean exit would.

    ``timeout`` and batch schedulers signal the whole process group: the fork
    server, its workers and the sweep, which then also stops its workers.
    Dying by the signal skips multiprocessing's exit handlers, so a lock made
    in the process (Numba makes one) stays registered with the resource
    tracker, which then warns of 'leaked semaphore objects' after the sweep's
    last line. The handler ignores further SIGTERMs (a second one would end it
    between unlinking a lock and telling the tracker) and leaves with
    ``os._exit`` after those handlers, not ``sys.exit``: a pool's worker loop
    would catch SystemExit as its task's result.
    """
    from multiprocessing import util

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        util._exit_function()  # what a multiprocessing process runs when it ends normally
    finally:
        os._exit(128 + signum)


if in_fork_server():
    quiet_fork_server()
