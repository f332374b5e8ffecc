"""The ``calibrate`` command: fit a scenario to an observed series with ABC-SMC.

:func:`register` adds it to the ``minders`` Typer app. pyabc is imported
only when a calibration runs, so ``minders --help`` stays fast. Every user
error prints one line and exits with status 2, before anything is written.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from minders.cli._console import console, print_table, say, user_errors
from minders.cli._console import progress as progress_display
from minders.cli.experiments import ExecutorOption, SchedulerOption, WorkersOption
from minders.formatting import format_number


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to ``app``.

    Examples
    --------
    >>> app = typer.Typer()
    >>> register(app)
    >>> [c.name for c in app.registered_commands]
    ['calibrate']
    """
    app.command("calibrate")(calibrate)


def calibrate(
    calibration: Annotated[Path, typer.Argument(help="Calibration file (.toml, .yaml) or the "
                                                "name of a bundled one.")],
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: "
                                             "results/calibrate-NAME, -until-YEAR with "
                                             "--fit-until).")] = None,
    fit_until: Annotated[str | None, typer.Option(
        "--fit-until", help="Fit periods up to this one (a year: 2015) and score the "
        "forecast of the rest.")] = None,
    population: Annotated[int | None, typer.Option(help="Particles per generation (default: "
                                                   "the file's).", min=4)] = None,
    generations: Annotated[int | None, typer.Option(help="Most generations (default: the "
                                                    "file's).", min=1)] = None,
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or table.")] = False,
) -> None:
    """Fit a scenario to observed data (ABC-SMC); rerun the same command to resume it."""
    from minders.experiments.calibration import calibrate as run_calibration
    from minders.experiments.calibration import load_calibration
    from minders.experiments.calibration.fit import default_folder

    with user_errors():
        spec = load_calibration(calibration if calibration.exists() else str(calibration))
        total = generations or spec.inference.generations
        size = population or spec.inference.population
        folder = out if out is not None else default_folder(spec, fit_until)
        state: dict[str, Any] = {"start": time.monotonic(), "seen": 0, "fresh": []}

        def on_generation(generation: Any, planned: int) -> None:
            state["seen"] = generation.t + 1
            if generation.seconds:
                state["fresh"].append(generation.seconds)
            if quiet:
                return
            left = ""
            if state["fresh"] and state["seen"] < planned:
                average = sum(state["fresh"]) / len(state["fresh"])
                left = f", about {_duration(average * (planned - state['seen']))} left"
            resumed = "" if generation.seconds else " (saved earlier)"
            say("generation", f"{generation.t + 1}/{planned}: epsilon "
                f"{format_number(generation.epsilon, 3)}, acceptance "
                f"{100 * generation.acceptance:.1f}% ({generation.accepted:,} of "
                f"{generation.simulations:,} simulations){resumed}{left}", style="cyan")

        try:
            with progress_display(f"calibrate {spec.name}", "particles", quiet,
                                  rate=True) as update:
                def on_particle(done: int, n: int) -> None:
                    update(min(state["seen"], total) * size + done, total * size)

                result = run_calibration(
                    spec, folder, executor, workers=workers, scheduler=scheduler,
                    fit_until=fit_until, population=population, generations=generations,
                    on_generation=on_generation, on_particle=on_particle,
                )
        except KeyboardInterrupt:
            import signal

            signal.signal(signal.SIGINT, signal.SIG_IGN)
            say("interrupted", f"finished generations are saved in {folder / 'abc.db'}; run "
                "the same command again to resume")
            raise typer.Exit(130) from None
    if quiet:
        return
    print_table(_summary(result))
    if result.scores:
        s = result.scores
        _print(f"forecast of {s['periods']} held-out periods: 50% band covers "
               f"{100 * s['coverage_50']:.0f}%, 90% band {100 * s['coverage_90']:.0f}%; CRPS "
               f"{format_number(s['crps'])} against {format_number(s['crps_naive'])} for the "
               f"last value carried forward (skill {s['skill']:+.2f}).")
    _print(f"{result.simulations:,} simulations in {result.seconds:.1f} s "
           f"({result.simulations_per_second:.1f}/s). Results: {folder} (posterior.parquet, "
           "summary.csv, predictive.png, pairs.png, calibrated.toml, report.json)")


def _summary(result: Any) -> Any:
    from rich.table import Table

    table = Table(title=Text(f"{result.calibration.name}: posterior (median and 90% interval); "
                             "sd ratio = posterior sd / prior sd"))
    for name, justify in (("parameter", "left"), ("prior", "left"), ("median", "right"),
                          ("90% interval", "right"), ("sd ratio", "right"),
                          ("identified", "left")):
        table.add_column(name, justify=justify)
    for name, row in result.summary.iterrows():
        style = "red" if row["status"] == "unidentified" else None
        table.add_row(Text(str(name)), Text(str(row["prior"])), format_number(row["median"]),
                      f"{format_number(row['low_90'])} - {format_number(row['high_90'])}",
                      f"{row['sd_ratio']:.2f}", Text(str(row["status"]), style=style or ""))
    return table


def _print(text: str) -> None:
    console().print(text, markup=False, highlight=False, soft_wrap=True)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
