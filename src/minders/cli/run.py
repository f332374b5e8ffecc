"""``minders run``, ``minders validate`` and ``minders schema``: one scenario at a time.

Every user error (a bad scenario, override, flag or graph file) prints one
line naming the field, the value and what was expected, and exits with
status 2. The commands ask the scenario's kind (:mod:`minders.kinds`) for
everything kind-specific: checks, summary table, figure.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from minders.cli._console import console, fail, print_table, progress, say, user_errors
from minders.errors import ScenarioError
from minders.formatting import format_measure

ScenarioPath = Annotated[
    str, typer.Argument(help="Scenario file (.toml, .yaml) or the name of a bundled scenario.",
                        metavar="SCENARIO"),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a value: dotted.path=value (repeatable).",
                 metavar="PATH=VALUE"),
]
SeedOption = Annotated[
    str | None, typer.Option(help="Base seed (default: run.seed).", metavar="INTEGER")
]
StepsOption = Annotated[
    str | None, typer.Option(help="Steps (default: run.steps).", metavar="INTEGER")
]

#: Short headers for the summary columns that have long names.
HEADERS = {
    "defections_per_year": "per year", "interceptions": "intercepted",
    "peak_surprise_gap": "peak gap", "minders_per_ward": "minders/ward",
}


def register(app: typer.Typer) -> None:
    """Add ``run``, ``validate`` and ``schema`` to ``app``."""
    app.command("run")(run)
    app.command("validate")(validate)
    app.command("schema")(schema)


def integer_option(text: str | None, flag: str, check: Callable[[Any, str], int]) -> int | None:
    """Read an integer flag given as text and check it, so a bad value gets the one-line error.

    ``check`` is the library's own check of the value (:func:`minders.kinds.check_seed`,
    :func:`minders.kinds.check_steps`), which names ``flag`` in its message.

    Examples
    --------
    >>> from minders.kinds import check_steps
    >>> integer_option("12", "--steps", check_steps)
    12
    >>> integer_option("abc", "--steps", check_steps)
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: --steps: expected an integer in [1, 10,000,000], got 'abc'
    """
    if text is None:
        return None
    try:
        value: Any = int(text.replace("_", ""))
    except ValueError:
        value = text  # not a number: the check says what was expected
    return check(value, flag)


def run(
    scenario: ScenarioPath,
    seed: SeedOption = None,
    steps: StepsOption = None,
    set_: SetOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: results/NAME).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
    replicates: Annotated[
        int | None, typer.Option(help="Run this many seeds derived from the base seed "
                                 "(SeedSequence(seed, spawn_key=(0, r))); draw a fan chart "
                                 "and give each metric with its interval.", min=1)
    ] = None,
    executor: Annotated[
        str, typer.Option(help="Where replicates run: local (processes), dask or serial.")
    ] = "local",
    workers: Annotated[
        int | None, typer.Option(help="Processes for the replicates (default: all cores).",
                                 min=1)
    ] = None,
    figure_format: Annotated[
        str, typer.Option("--format", help="Figure format: png, svg or pdf.")
    ] = "png",
) -> None:
    """Run a scenario; write records.parquet, run.json and summary.png.

    With --replicates N: N runs into a results folder (records with a
    replicate column), fan.png and a summary table with intervals.
    """
    from minders import kinds

    if figure_format not in FIGURE_FORMATS:
        fail(ScenarioError("--format", figure_format, f"one of {', '.join(FIGURE_FORMATS)}"))

    with user_errors():
        seed_value = integer_option(seed, "--seed", kinds.check_seed)
        steps_value = integer_option(steps, "--steps", kinds.check_steps)
        spec = kinds.load_scenario(scenario, set_ or [])
        kind = kinds.of(spec)
        kind.checks(spec, steps_value)
    target = out if out is not None else Path("results") / spec.name
    if target.exists() and not target.is_dir():
        fail(ScenarioError("--out", str(target), "a folder for the results, not a file"))
    notes = []
    if steps_value is not None and steps_value < spec.run.steps:
        late = spec.shocks_after(steps_value)
        if late:
            notes.append(f"--steps {steps_value} ends before the shock(s) {', '.join(late)}; "
                         "they do not happen in this run")
    seed_shown = spec.run.seed if seed_value is None else seed_value
    if replicates is not None:
        for note in notes:
            say("note", note)
        _run_replicates(spec, replicates, seed_value, steps_value, out, executor, workers,
                        figure_format, quiet)
        return
    try:
        # the bar counts the burn-in's steps too; the summary counts the recorded ones
        unit = "steps, burn-in included" if getattr(spec.run, "burn_in", 0) else "steps"
        with progress(f"{spec.name} seed {seed_shown}", unit, quiet) as update:
            # Notes wait for the first step: a problem found while the run is built (a graph
            # file, memory) must still be the only line printed.
            result = kind.simulate(spec, seed=seed_value, steps=steps_value,
                                   progress=_after_notes(notes, update))
        paths = result.save(target, figure_format)
    except ScenarioError as exc:  # found while building (e.g. memory, graph file)
        fail(exc)
    except OSError as exc:  # the results folder cannot be written
        fail(ScenarioError("--out", str(target), f"a writable folder ({exc.strerror})"))
    except KeyboardInterrupt:
        say("interrupted", "no results were written")
        raise typer.Exit(130) from None
    if quiet:
        return
    print_table(summary_table(result))
    console().print(
        f"{result.steps:,} steps in {result.wall_time:.1f} s. Results: {paths['records']}, "
        f"{paths['run']}, figure: {paths['figure']}", highlight=False, markup=False,
    )


#: Figure formats of ``--format``.
FIGURE_FORMATS = ("png", "svg", "pdf")


def _run_replicates(spec: Any, n: int, seed: int | None, steps: int | None, out: Path | None,
                    executor: str, workers: int | None, figure_format: str,
                    quiet: bool) -> None:
    """``minders run --replicates N``: the runs, the fan chart and the summary with intervals."""
    import matplotlib.pyplot as plt

    from minders.experiments.replicates import run_replicates
    from minders.result import atomic_path

    target = out if out is not None else Path("results") / f"{spec.name}-replicates"
    if target.exists() and not target.is_dir():
        fail(ScenarioError("--out", str(target), "a folder for the results, not a file"))
    try:
        with user_errors(), progress(f"{spec.name} x {n} replicates", "runs", quiet,
                                     rate=True) as update:
            reps = run_replicates(spec, n, seed, steps, out=target, executor=executor,
                                  workers=workers, progress=update)
        figure = target / f"fan.{figure_format}"
        fig = reps.figure()
        with atomic_path(figure) as tmp:
            fig.savefig(tmp, dpi=120, format=figure_format)
        plt.close(fig)
    except KeyboardInterrupt:
        say("interrupted", f"finished replicates are saved in {target}; run the same command "
            "again to resume")
        raise typer.Exit(130) from None
    if quiet:
        return
    print_table(replicates_table(reps))
    report = reps.report
    done = (f"{report.ran:,} runs in {report.seconds:.1f} s on {report.executor} x "
            f"{report.workers}" if report.ran else f"all {report.total:,} runs were saved already")
    console().print(
        f"{done}. Results: {target} (runs/, records/, manifest.json; "
        f"'minders results {target}' reads it), figure: {figure}",
        highlight=False, markup=False, soft_wrap=True,
    )


def replicates_table(reps: Any, confidence: float = 0.95) -> Table:
    """Each metric of the replicates with its interval, its method and its spread over runs."""
    import math

    from minders.cli._console import fitting
    from minders.experiments.intervals import statistic
    from minders.formatting import format_estimate, format_interval, spread_notes

    summary = reps.summary(confidence)
    title = Text(f"{reps.scenario.name}: {reps.n} replicates (base seed {reps.seed}); "
                 f"estimate [{round(100 * confidence)}% interval]")
    rows = []
    for metric, row in summary.iterrows():
        interval = format_interval(row["estimate"], row["low"], row["high"], digits=4)
        notes = spread_notes(*(row.get(part, math.nan) for part in ("never", "q10", "q50", "q90")),
                             digits=4)
        rows.append((str(metric), statistic(row["method"]), format_estimate(row["estimate"], 4),
                     interval, row["method"], "; ".join(notes)))
    wide = Table(title=title)
    for name in ("metric", "", "estimate", "interval", "method", "notes"):
        wide.add_column(name, justify="right" if name in ("estimate", "interval") else "left")
    # Narrow terminals and pipes: two columns, the value's words wrap but are never cut.
    narrow = Table(title=title)
    narrow.add_column("metric", overflow="fold")
    narrow.add_column(Text("estimate [interval], method; notes"))
    for cells in rows:
        wide.add_row(*(Text(c) for c in cells))
        text = f"{cells[1]} {cells[2]} {cells[3]}".rstrip() + f", {cells[4]}"
        narrow.add_row(Text(cells[0]), Text(text + (f"; {cells[5]}" if cells[5] else "")))
    layouts = [wide, narrow]
    return fitting(*layouts)


def _after_notes(notes: list[str], update: Callable[[int, int], None]
                 ) -> Callable[[int, int], None]:
    """``update``, printing ``notes`` (once) before its first call."""

    def first_update(done: int, total: int) -> None:
        while notes:
            say("note", notes.pop(0))
        update(done, total)

    return first_update


def summary_table(result) -> Table:
    """The result's summary as a Rich table (integers with separators, rates to 4 digits).

    A tier per row where that fits the terminal; else a measure per row and a
    tier per column; else one row per value, so no cell is ever cut (``posi…``).
    """
    from minders.cli._console import fitting

    summary = result.summary()
    title = Text(f"{result.scenario.name}: {result.steps:,} steps, seed {result.seed}")
    headers = [HEADERS.get(name, name.replace("_", " ")) for name in summary.columns]
    cells = {index: [format_measure(value) for value in row] for index, row in summary.iterrows()}
    wide = Table(title=title)
    wide.add_column(str(summary.index.name or ""), no_wrap=True)
    for header in headers:
        wide.add_column(header, justify="right")
    for index, row in cells.items():
        wide.add_row(Text(str(index)), *row)
    transposed = Table(title=title)
    transposed.add_column("")
    for index in cells:
        transposed.add_column(Text(str(index)), justify="right")
    for k, header in enumerate(headers):
        transposed.add_row(header, *(row[k] for row in cells.values()))
    long = Table(title=title)
    long.add_column(str(summary.index.name or ""), overflow="fold")
    long.add_column("measure", overflow="fold")
    long.add_column("value", justify="right")
    for index, row in cells.items():
        for k, header in enumerate(headers):
            long.add_row(Text(str(index)) if k == 0 else "", header, row[k],
                         end_section=k == len(headers) - 1)
    return fitting(wide, transposed, long)


def validate(scenario: ScenarioPath, set_: SetOption = None) -> None:
    """Check a scenario file without running it."""
    from minders import kinds

    with user_errors():
        spec = kinds.load_scenario(scenario, set_ or [])
        kinds.of(spec).checks(spec)
    console().print(f"ok {scenario}: {spec.describe()}", highlight=False, markup=False,
                    soft_wrap=True)


def schema(
    kind: Annotated[str, typer.Option(help="Scenario kind (minders, epstein, ...).")] = "minders",
) -> None:
    """Print the JSON Schema of the scenario format (for editors)."""
    from minders import kinds

    with user_errors():
        cls = kinds.get(kind).scenario_class
    sys.stdout.write(json.dumps(cls.model_json_schema(), indent=2) + "\n")
