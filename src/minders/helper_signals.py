"""Make a multiprocessing fork server quiet: no Ctrl-C, no stderr, before heavy imports.

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
    """Ignore SIGINT, and send the server's (and its workers') stderr to the null device.

    Workers report results and errors through the pool, never on stderr; what
    they would print there is the noise of an interrupted start (a worker that
    was still starting when the sweep stopped finds the pool gone), which would
    follow the sweep's one ``interrupted:`` line.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


if in_fork_server():
    quiet_fork_server()
