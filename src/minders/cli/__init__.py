"""The command line: ``minders run``, ``validate``, ``schema``, the experiments and the dashboard.

The app lives in :mod:`~minders.cli.commands`; each group of commands lives in its
own module (:mod:`~minders.cli.run`, :mod:`~minders.cli.experiments`,
:mod:`~minders.cli.dashboard`) and the one console, error printer and
progress display in :mod:`~minders.cli._console`. Only this package imports
Typer: the library below it raises :class:`~minders.errors.ScenarioError`,
which the commands print as one line and exit with status 2.

This module imports nothing heavy, so that Ctrl-C while the command starts
(Python importing NumPy, Numba, Rich) still ends with one line and status 130.
SIGTERM (``timeout``, a batch scheduler, ``kill``) takes the same way out as
Ctrl-C, with status 143: what is finished is saved, the workers are stopped
and the command says how to resume.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def main() -> None:
    """Entry point of the ``minders`` command.

    Usage errors (an unknown flag, a missing argument) get the same one-line
    ``error:`` form and status 2 as errors in a scenario.
    """
    done, code = False, None
    terminated: list[bool] = []

    def terminate(signum: int, frame: Any) -> None:
        terminated.append(True)
        # Once: `timeout` signals the command, then its group, and a second signal would
        # cut short the saving and stopping that the first one started.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt  # the way out Ctrl-C takes: save, stop workers, say so

    signal.signal(signal.SIGTERM, terminate)
    try:
        import typer

        from minders.cli.commands import app

        click = _click_exceptions()
        try:
            code = app(standalone_mode=False)
        except click.NoArgsIsHelpError:  # Typer has printed the help already
            code = 0
        except click.UsageError as exc:
            from minders.cli._console import say

            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            say("error", (_bad_value(exc) or exc.format_message()) + hint, style="bold red")
            code = 2
        except typer.Abort:  # end of input at a prompt
            code = 1
        except Exception as exc:
            # Only a loaded executors module raises WorkerDied; importing it up front would
            # load pandas and the experiments at every start of the command.
            executors = sys.modules.get("minders.experiments.executors")
            if executors is None or not isinstance(exc, executors.WorkerDied):
                raise
            from minders.cli._console import say

            say("error", "a worker process ended abruptly: it ran out of memory or was "
                "killed (runs written before it are kept)", style="bold red")
            code = 1
        if code == 130:  # Ctrl-C inside a command (Typer turns it into status 130)
            from minders.cli import _console

            if not _console.interrupt_reported:
                _console.say("interrupted", "stopped")
        done = True
        # The command's work is done and reported: a Ctrl-C while the interpreter shuts
        # down must not turn its status into a death by signal (status -2, nothing said).
        _ignore_stops()
    except KeyboardInterrupt:
        if done:  # it landed between the end of the command and the line above
            _ignore_stops()
        else:  # outside a run (e.g. while importing): still no traceback
            sys.stderr.write("interrupted: stopped before anything was written\n")
            sys.stderr.flush()
            # Exit at once: an interrupt that cut an import short leaves Python wanting to
            # re-raise SIGINT at shutdown (status -2) and may leave half-initialised modules.
            os._exit(143 if terminated else 130)
    if terminated and code == 130:
        code = 143  # 128 + SIGTERM, as a shell reports a command it terminated
    sys.exit(code if isinstance(code, int) else 0)


def _ignore_stops() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _bad_value(exc: Any) -> str | None:
    """``--option: expected ..., got ...`` for an option value Typer refused, else None.

    Typer checks types and ranges with pydantic, whose message ("Input should be
    greater than or equal to 1") names neither the option nor the value; every
    other error of the command line names both.
    """
    param, cause = getattr(exc, "param", None), exc.__cause__
    if param is None or not hasattr(cause, "errors"):
        return None
    problems = cause.errors()
    if not problems:
        return None
    problem = problems[0]
    from minders.spec import expected_from

    low, high = getattr(param, "min", None), getattr(param, "max", None)
    comparison = problem["type"] in ("greater_than_equal", "less_than_equal", "greater_than",
                                     "less_than")
    if comparison and low is not None and high is not None:
        expected = f"a value in [{low:,}, {high:,}]"
    elif problem["type"] in ("int_parsing", "int_from_float"):
        expected = "an integer"
    else:  # as a scenario error words it
        expected = expected_from(problem["msg"])
    given = problem.get("input")
    try:  # a number as typed, anything else quoted (as the scenario errors print them)
        float(given)
        shown = str(given)
    except (TypeError, ValueError):
        shown = repr(given)
    name = max(getattr(param, "opts", None) or [param.name], key=len)
    return f"{name}: expected {expected}, got {shown}"


def _click_exceptions() -> Any:
    """Click's exception classes, as the installed Typer uses them (it may vendor Click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # Typer releases that use the click package itself
        from click import exceptions
    return exceptions


def __getattr__(name: str) -> Any:
    if name == "app":  # ``from minders.cli import app`` (tests, embedding)
        from minders.cli.commands import app

        return app
    raise AttributeError(f"module 'minders.cli' has no attribute {name!r}")


__all__ = ["app", "main"]
