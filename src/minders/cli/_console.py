"""The command line's one console, error printer and progress display.

Every command prints user errors through :func:`fail` (one line, exit 2),
shows progress through :func:`progress` and writes numbers with
:mod:`minders.formatting`. Text that comes from the user (a path, a key, a
value) is always printed literally, never read as Rich markup.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from minders.errors import ScenarioError

#: Seconds between two plain progress lines when stderr is not a terminal.
PLAIN_PROGRESS_EVERY = 5.0
#: Whether a command has said it was interrupted (so the entry point does not say it again).
interrupt_reported = False


def console() -> Console:
    """Standard output (made per call, so the terminal width is read when printing)."""
    return Console()


def errors() -> Console:
    """Standard error, for progress and problems."""
    return Console(stderr=True)


def fitting(*tables: Any) -> Any:
    """The first table whose natural width fits standard output, else the last one.

    Give the widest layout first and one that keeps every value in a narrow
    column last (one row per value): a table wider than the terminal (or the
    80 columns of a pipe) would otherwise cut cells to ``posi…`` or fold
    numbers into vertical fragments.
    """
    from rich.measure import Measurement

    out = console()
    unbounded = out.options.update_width(1_000_000)  # the natural width, not the clamped one
    for table in tables[:-1]:
        if Measurement.get(out, unbounded, table).maximum <= out.width:
            return table
    return tables[-1]


def print_table(table: Any) -> None:
    """Print ``table`` on standard output without cutting any cell.

    Rich folds a table's cells to fit the console, but where its columns
    cannot narrow enough it crops the lines (80 columns in a pipe or a log
    file), which loses the right-hand columns. Such a table is printed at its
    natural width instead (a file has no width; a terminal wraps the long
    lines); any other table as usual.
    """
    import io

    from rich.cells import cell_len
    from rich.measure import Measurement

    out = console()
    probe = Console(file=io.StringIO(), width=out.width, color_system=None)
    probe.print(table, crop=False)
    widest = max((cell_len(line) for line in probe.file.getvalue().splitlines()), default=0)
    if widest > out.width:
        if not out.is_terminal:
            widest = max(widest, Measurement.get(out, out.options.update_width(1_000_000),
                                                 table).maximum)
        out = Console(width=widest)
    out.print(table)


def say(label: str, message: str, style: str = "yellow") -> None:
    """Print ``label: message`` on stderr, the label styled and the message literal."""
    global interrupt_reported
    interrupt_reported = interrupt_reported or label == "interrupted"
    line = Text(f"{label}:", style=style)
    line.append(" " + message)
    errors().print(line, highlight=False, soft_wrap=True)


def fail(problem: ScenarioError | str) -> NoReturn:
    """Print a user error as one line without a traceback and exit with status 2."""
    say("error", str(problem), style="bold red")
    raise typer.Exit(2)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a :class:`ScenarioError` raised inside the block into :func:`fail`."""
    try:
        yield
    except ScenarioError as exc:
        fail(exc)


@contextlib.contextmanager
def progress(label: str, unit: str, quiet: bool = False,
             rate: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A progress display on stderr; yields ``update(done, total)``.

    On a terminal it is a Rich bar (done/total, optional rate, time left).
    Otherwise (a pipe, a log file, a batch job) it prints a plain line at the
    first update, then at most every :data:`PLAIN_PROGRESS_EVERY` seconds, and
    when the work is done, so long jobs are never silent. The rate counts only
    what this call does: work already done when it starts (a resumed sweep) is
    not counted as speed.
    """
    if quiet:
        yield lambda done, total: None
        return
    if not sys.stderr.isatty():
        with _plain_progress(label, unit) as update:
            yield update
        return
    columns: list[Any] = [TextColumn(label.replace("[", r"\[")), BarColumn(),
                          MofNCompleteColumn(), TextColumn(unit)]
    if rate:
        columns += [_RateColumn(unit), TimeElapsedColumn(), TextColumn("left")]
    columns.append(TimeRemainingColumn())
    with Progress(*columns, console=errors(), transient=True) as bar:
        task: list[Any] = []
        start: list[int] = []

        def update(done: int, total: int) -> None:
            if not task:  # start at what was already done, so the rate counts this run only
                start.append(done)
                task.append(bar.add_task(unit, total=total - done, completed=0))
            bar.update(task[0], completed=done - start[0], total=total - start[0])

        yield update


@contextlib.contextmanager
def _plain_progress(label: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    state: dict[str, float] = {}

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if "start" not in state:
            state.update(start=now, first=done, shown=now)
        finished = done >= total
        first = "printed" not in state
        if not (first or finished) and now - state["shown"] < PLAIN_PROGRESS_EVERY:
            return
        state["printed"] = 1.0
        state["shown"] = now
        elapsed = now - state["start"]
        counted = done - state["first"]
        left = ""
        if counted > 0 and not finished:
            left = f", {_duration(elapsed / counted * (total - done))} left"
        sys.stderr.write(f"{label}: {done:,}/{total:,} {unit} ({_duration(elapsed)}{left})\n")
        sys.stderr.flush()

    yield update


def _duration(seconds: float) -> str:
    """``1:02:03`` or ``2:03``."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _RateColumn(ProgressColumn):
    """Units per second over the last half minute."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} {self.unit}/s" if speed else f"- {self.unit}/s",
                    style="progress.data")
