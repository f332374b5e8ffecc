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

from minders.cli._console import console, fail, progress, say, user_errors
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
) -> None:
    """Run a scenario; write records.parquet, run.json and summary.png."""
    from minders import kinds

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
    try:
        with progress(f"{spec.name} seed {seed_shown}", "steps", quiet) as update:
            # Notes wait for the first step: a problem found while the run is built (a graph
            # file, memory) must still be the only line printed.
            result = kind.simulate(spec, seed=seed_value, steps=steps_value,
                                   progress=_after_notes(notes, update))
        paths = result.save(target)
    except ScenarioError as exc:  # found while building (e.g. memory, graph file)
        fail(exc)
    except OSError as exc:  # the results folder cannot be written
        fail(ScenarioError("--out", str(target), f"a writable folder ({exc.strerror})"))
    except KeyboardInterrupt:
        say("interrupted", "no results were written")
        raise typer.Exit(130) from None
    if quiet:
        return
    console().print(summary_table(result))
    console().print(
        f"{result.steps:,} steps in {result.wall_time:.1f} s. Results: {paths['records']}, "
        f"{paths['run']}, figure: {paths['figure']}", highlight=False, markup=False,
    )


def _after_notes(notes: list[str], update: Callable[[int, int], None]
                 ) -> Callable[[int, int], None]:
    """``update``, printing ``notes`` (once) before its first call."""

    def first_update(done: int, total: int) -> None:
        while notes:
            say("note", notes.pop(0))
        update(done, total)

    return first_update


def summary_table(result) -> Table:
    """The result's summary as a Rich table (integers with separators, rates to 4 digits)."""
    summary = result.summary()
    table = Table(title=f"{result.scenario.name}: {result.steps:,} steps, seed {result.seed}")
    table.add_column(str(summary.index.name or ""), no_wrap=True)
    for name in summary.columns:
        table.add_column(HEADERS.get(name, name.replace("_", " ")), justify="right")
    for index, row in summary.iterrows():
        table.add_row(str(index), *(format_measure(value) for value in row))
    return table


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
