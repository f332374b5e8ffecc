"""The command line: ``minders run``, ``minders validate``, ``minders schema``.

Every user error (a bad scenario, override or graph file) prints one line
naming the field, the value and what was expected, and exits with status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from minders.errors import ScenarioError

app = typer.Typer(
    name="minders",
    help="Simulate surveillance hierarchies, preference falsification and defection cascades.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def console() -> Console:
    """Standard output (made per call, so the terminal width is read when printing)."""
    return Console()


def errors() -> Console:
    """Standard error, for progress and problems."""
    return Console(stderr=True)


ScenarioPath = Annotated[Path, typer.Argument(help="Scenario file (.toml, .yaml).")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a value: dotted.path=value (repeatable).",
                 metavar="PATH=VALUE"),
]


def fail(exc: ScenarioError) -> None:
    """Print a user error without a traceback and exit with status 2."""
    errors().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _version(value: bool) -> None:
    if value:
        from minders import __version__

        console().print(f"minders {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """Simulate surveillance hierarchies, preference falsification and defection cascades."""


@app.command()
def run(
    scenario: ScenarioPath,
    seed: Annotated[int | None, typer.Option(help="Base seed (default: run.seed).", min=0)] = None,
    steps: Annotated[int | None, typer.Option(help="Steps (default: run.steps).", min=1)] = None,
    set_: SetOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder (default: results/NAME).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")] = False,
) -> None:
    """Run a scenario; write records.parquet, run.json and summary.png."""
    from minders import kinds
    from minders.scenario import load_scenario

    try:
        spec = load_scenario(scenario, set_ or [])
        kind = kinds.get(spec.kind)
    except ScenarioError as exc:
        fail(exc)
    target = out if out is not None else Path("results") / spec.name
    if target.exists() and not target.is_dir():
        fail(ScenarioError("--out", str(target), "a folder for the results, not a file"))
    if steps is not None and steps < spec.run.steps:
        late = [s.label or s.kind for s in getattr(spec, "shocks", []) if s.start >= steps]
        if late:
            errors().print(f"[yellow]note:[/] --steps {steps} ends before the shock(s) "
                           f"{', '.join(late)}; they do not happen in this run")
    label = f"[bold]{spec.name}[/] seed {spec.run.seed if seed is None else seed}"
    try:
        with Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("steps"),
            TimeRemainingColumn(), console=errors(), transient=True, disable=quiet,
        ) as bar:
            task = bar.add_task("run", total=steps or spec.run.steps)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            # a shorter trial (--steps) may end before the scenario's shocks
            result = kind.simulate(spec, seed=seed, steps=steps, progress=progress)
        paths = result.save(target)
    except ScenarioError as exc:  # found while building (e.g. memory, graph file)
        fail(exc)
    except OSError as exc:  # the results folder cannot be written
        fail(ScenarioError("--out", str(target), f"a writable folder ({exc.strerror})"))
    except KeyboardInterrupt:
        errors().print("[yellow]interrupted:[/] no results were written")
        raise typer.Exit(130) from None
    if quiet:
        return
    console().print(summary_table(result))
    console().print(
        f"{result.steps} steps in {result.wall_time:.1f} s. Results: [bold]{paths['records']}[/], "
        f"{paths['run']}, figure: [bold]{paths['figure']}[/]"
    )


#: Short headers for the summary columns that have long names.
HEADERS = {
    "defections_per_year": "per year", "interceptions": "intercepted",
    "peak_surprise_gap": "peak gap", "minders_per_ward": "minders/ward",
}


def summary_table(result) -> Table:
    """The result's summary as a Rich table (integers with separators, rates to 4 digits)."""
    summary = result.summary()
    table = Table(title=f"{result.scenario.name}: {result.steps} steps, seed {result.seed}")
    table.add_column(str(summary.index.name or ""), no_wrap=True)
    for name in summary.columns:
        table.add_column(HEADERS.get(name, name.replace("_", " ")), justify="right")
    for index, row in summary.iterrows():
        cells = []
        for value in row:
            if isinstance(value, float) and not value.is_integer():
                cells.append(f"{value:.3f}" if abs(value) < 10 else f"{value:,.1f}")
            elif isinstance(value, int | float):
                cells.append(f"{value:,.0f}")
            else:
                cells.append(str(value))
        table.add_row(str(index), *cells)
    return table


@app.command()
def validate(scenario: ScenarioPath, set_: SetOption = None) -> None:
    """Check a scenario file without running it."""
    from minders.population import check_fits, estimate_bytes
    from minders.scenario import load_scenario

    try:
        spec = load_scenario(scenario, set_ or [])
        if spec.kind == "minders":
            check_fits(spec)
            if spec.network.file is not None and not Path(spec.network.file).is_file():
                raise ScenarioError("network.file", spec.network.file, "an existing graph file")
    except ScenarioError as exc:
        fail(exc)
    if spec.kind != "minders":
        console().print(f"[green]ok[/] {scenario}: {spec.kind} scenario '{spec.name}', "
                        f"{spec.run.steps} steps")
        return
    sizes = spec.tier_sizes()
    tiers = ", ".join(f"{name} {size:,}" for name, size in sizes.items())
    console().print(
        f"[green]ok[/] {scenario}: '{spec.name}', {sum(sizes.values()):,} positions ({tiers}), "
        f"{spec.run.steps} steps, {len(spec.shocks)} shocks, "
        f"~{estimate_bytes(spec) / 2**20:,.0f} MiB"
    )


@app.command()
def schema(
    kind: Annotated[str, typer.Option(help="Scenario kind (minders, epstein, ...).")] = "minders",
) -> None:
    """Print the JSON Schema of the scenario format (for editors)."""
    from minders import kinds

    try:
        cls = kinds.get(kind).scenario_class
    except ScenarioError as exc:
        fail(exc)
    sys.stdout.write(json.dumps(cls.model_json_schema(), indent=2) + "\n")


# --------------------------------------------------------------------------- more commands
# Packages with commands of their own add them here, one line each: module.register(app).
from minders.experiments import commands as _experiments; _experiments.register(app)  # noqa: E402, E702, I001
from minders.dashboard import commands as _dashboard; _dashboard.register(app)  # noqa: E402, E702, I001


def main() -> None:
    """Entry point of the ``minders`` command."""
    try:
        app()
    except KeyboardInterrupt:  # outside a run (e.g. while importing): still no traceback
        errors().print("[yellow]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
