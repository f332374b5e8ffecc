"""Commands of the experiment layer: ``sweep``, ``results``, ``sensitivity`` and ``plan``.

:func:`register` adds them to the ``minders`` Typer app. Heavy libraries
(Dask, SALib, matplotlib) are imported inside the commands, so ``minders
--help`` stays fast. Every user error prints one line and exits with status 2.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from minders.cli._console import console, print_table, say, user_errors
from minders.cli._console import progress as progress_display
from minders.errors import ScenarioError
from minders.formatting import format_number

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

ExperimentPath = Annotated[Path, typer.Argument(help="Experiment file (.toml, .yaml).")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Results folder (default: results/NAME).")
]
ExecutorOption = Annotated[
    str, typer.Option("--executor", help="Where runs go: local (processes), dask or serial.")
]
WorkersOption = Annotated[
    int | None, typer.Option("--workers", help="Local processes or LocalCluster workers "
                             "(default: all cores).", min=1)
]
SchedulerOption = Annotated[
    str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786); "
                             "without it --executor dask starts a LocalCluster.")
]
ChunkOption = Annotated[
    int | None, typer.Option("--chunk-size", help="Runs per chunk (default: automatic).", min=1)
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")]
ConfidenceOption = Annotated[
    float, typer.Option("--confidence", help="Level of the confidence intervals.")
]


def register(app: typer.Typer) -> None:
    """Add the experiment commands to ``app``.

    Examples
    --------
    >>> app = typer.Typer()
    >>> register(app)
    >>> sorted(c.name for c in app.registered_commands)
    ['plan', 'results', 'sensitivity', 'sweep']
    """
    app.command("sweep")(sweep)
    app.command("results")(results)
    app.command("sensitivity")(sensitivity)
    app.command("plan")(plan)


# --------------------------------------------------------------------------- sweep
def sweep(
    experiment: ExperimentPath,
    out: OutOption = None,
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    chunk_size: ChunkOption = None,
    quiet: QuietOption = False,
) -> None:
    """Run an experiment (ensemble or sweep); rerun the same command to resume it."""
    with user_errors():
        report, directory = _run(experiment, out, executor, workers, scheduler, chunk_size,
                                 quiet)
    if quiet:
        return
    from minders.experiments.store import read_manifest
    from minders.experiments.summary import summarize

    hint = f"'minders results {directory} --limit 0' shows all"  # sweep has no --limit
    print_table(_summary_table(summarize(directory), read_manifest(directory), limit=20, hint=hint))
    _report(report)


def _run(experiment: Path, out: Path | None, executor: str, workers: int | None,
         scheduler: str | None, chunk_size: int | None, quiet: bool):
    """Load, build and run (or resume) a sweep with a progress bar."""
    from minders.experiments.design import build_sweep, load_experiment
    from minders.experiments.sweep import run_sweep

    spec = load_experiment(experiment)
    built = build_sweep(spec)
    directory = out if out is not None else Path("results") / spec.name
    try:
        # The bar is closed before anything is said: a transient bar erases its lines.
        with progress_display(spec.name, "runs", quiet, rate=True) as progress:
            report = run_sweep(built, directory, executor, workers=workers,
                               scheduler=scheduler, chunk=chunk_size, progress=progress)
    except KeyboardInterrupt:
        _interrupted(f"{_saved(directory):,} of {built.n_runs:,} runs are saved in "
                     f"{directory}; run the same command again to resume")
    return report, directory


def _saved(directory: Path) -> int:
    """Runs saved in a results folder (0 where there is none yet)."""
    from minders.experiments.store import ResultsStore

    return ResultsStore.count_saved(directory)


def _interrupted(message: str) -> None:
    """Say once that the command was interrupted, and exit with status 130."""
    import signal

    # A second Ctrl-C while we clean up must not end in a traceback after our line.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    say("interrupted", message)
    raise typer.Exit(130)


def _print(text: str) -> None:
    """Print a line holding user text (paths, names) literally: never read as Rich markup."""
    console().print(text, markup=False, highlight=False, soft_wrap=True)


def _report(report: Any) -> None:
    if not report.ran:
        _print(f"nothing to run: all {report.total:,} runs were saved in "
               f"{report.directory} already.")
        return
    resumed = f" (resumed: {report.done_before:,} were done)" if report.done_before else ""
    rate = f", {report.runs_per_second:,.1f} runs/s" if report.ran else ""
    _print(
        f"{report.ran:,} runs in {report.seconds:.1f} s{rate} on {report.executor} x "
        f"{report.workers}{resumed}. Results: {report.directory} "
        f"(runs/*.parquet, manifest.json); 'minders results {report.directory}' summarises them."
    )


# --------------------------------------------------------------------------- results
def results(
    directory: Annotated[Path, typer.Argument(help="Results folder of a sweep.")],
    confidence: ConfidenceOption = 0.95,
    limit: Annotated[int, typer.Option(help="Points shown (0: all).", min=0)] = 30,
    csv: Annotated[
        Path | None, typer.Option(help="Also write the per-point summary to this CSV file.")
    ] = None,
    plot: Annotated[
        bool, typer.Option("--plot", help="Draw each metric against each swept parameter with "
                           "intervals (a heatmap for a grid of two) into DIR/figures/.")
    ] = False,
    figure_format: Annotated[
        str, typer.Option("--format", help="Figure format: png, svg or pdf.")
    ] = "png",
) -> None:
    """Summarise a results folder: per point, each metric's estimate and interval."""
    from minders.experiments.store import read_manifest
    from minders.experiments.summary import summarize

    with user_errors():
        if figure_format not in ("png", "svg", "pdf"):
            raise ScenarioError("--format", figure_format, "one of png, svg, pdf")
        manifest = read_manifest(directory)
        table = summarize(directory, confidence)
    done = int(table["n"].sum()) if len(table) else 0
    print_table(_summary_table(table, manifest, limit=limit, confidence=confidence))
    state = "complete" if done >= manifest["runs"] else "incomplete: rerun the sweep to finish"
    _print(
        f"{manifest['name']}: {done:,} of {manifest['runs']:,} runs ({state}); "
        f"{manifest['points']:,} points x {manifest['replicates']} replicates, "
        f"design {manifest['method']}. Load with minders.experiments.load_results('{directory}')"
        f" or duckdb.sql(\"select * from '{directory}/runs/*.parquet'\")."
    )
    if csv is not None:
        from minders.result import atomic_path

        with atomic_path(csv) as tmp:
            table.to_csv(tmp)
        _print(f"summary written to {csv}")
    if plot:
        import matplotlib.pyplot as plt

        from minders.experiments.result_figures import results_figure
        from minders.result import atomic_path

        figure = directory / "figures" / f"results.{figure_format}"
        fig = results_figure(table, manifest, confidence)
        with atomic_path(figure) as tmp:
            fig.savefig(tmp, dpi=120, format=figure_format)
        plt.close(fig)
        _print(f"figure written to {figure}")


def _summary_table(
    table: pd.DataFrame, manifest: dict[str, Any], limit: int = 30, confidence: float = 0.95,
    hint: str = "--limit 0 shows all",
) -> Table:
    """The per-point summary, wide (a column per metric) or long (a row per value) if narrow."""
    from rich.table import Table

    from minders.cli._console import fitting

    parameters, metrics = list(manifest["parameters"]), manifest["metrics"]
    methods = table.attrs.get("intervals", {})
    title = (f"{manifest['name']}: estimate [{round(100 * confidence)}% interval] per point; "
             + "; ".join(f"{m}: {methods[m]}" for m in metrics if m in methods))
    shown = table if not limit else table.head(limit)
    caption = (Text(f"first {limit} of {len(table):,} points ({hint})")
               if limit and len(table) > limit else None)
    wide = Table(title=Text(title), caption=caption)
    wide.add_column("point", justify="right")
    for name in [*parameters, "n", *metrics]:
        wide.add_column(Text(name), justify="right")
    long = Table(title=Text(title), caption=caption)
    for name, justify in (("point", "right"), ("setting", "left"), ("n", "right"),
                          ("metric", "left"), ("estimate [interval]", "left")):
        long.add_column(name, justify=justify, overflow="fold")
    for point, row in shown.iterrows():
        cells = [format_number(row[n]) for n in parameters]
        values = [_estimate_cell(row, metric) for metric in metrics]
        wide.add_row(*(Text(c) for c in [str(point), *cells, f"{int(row['n'])}", *values]))
        setting = "\n".join(f"{n}={c}" for n, c in zip(parameters, cells, strict=True))
        for k, (metric, value) in enumerate(zip(metrics, values, strict=True)):
            first = k == 0
            long.add_row(*(Text(c) for c in (str(point) if first else "",
                                             setting if first else "",
                                             f"{int(row['n'])}" if first else "", metric, value)),
                         end_section=k == len(metrics) - 1)
    return fitting(wide, long)


def _estimate_cell(row: pd.Series, metric: str) -> str:
    """``estimate [low, high]``; for a time to an event also the share that never got there."""
    value, low, high = row[metric], row[f"{metric}_low"], row[f"{metric}_high"]
    text = _number_or_never(value)
    if not (math.isnan(low) and math.isnan(high)) and not low == high == value:
        text += f" [{_number_or_never(low, 3)}, {_number_or_never(high, 3)}]"
    if f"{metric}_never" in row.index:
        text += f"; never {100 * row[f'{metric}_never']:.0f}%"
    if f"{metric}_q50" in row.index:
        spread = "/".join(format_number(row[f"{metric}_q{q}"], 3) for q in (10, 50, 90))
        text += f"; runs 10/50/90%: {spread}"
    return text


def _number_or_never(value: float, digits: int = 4) -> str:
    """A number, ``-`` where there is none, ``never`` for an infinite time."""
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "not reached"
    return format_number(value, digits)


# --------------------------------------------------------------------------- sensitivity
def sensitivity(
    experiment: ExperimentPath,
    out: OutOption = None,
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    chunk_size: ChunkOption = None,
    confidence: ConfidenceOption = 0.95,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.", min=10)] = 1000,
    quiet: QuietOption = False,
) -> None:
    """Sobol or Morris indices of an experiment's metrics (runs or resumes its sweep first)."""
    from minders.experiments.design import load_experiment
    from minders.experiments.sensitivity import analyze

    with user_errors():
        spec = load_experiment(experiment)
        if spec.design.method not in ("sobol", "morris"):
            raise ScenarioError("design.method", spec.design.method,
                                "'sobol' or 'morris' for a sensitivity analysis")
        report, directory = _run(experiment, out, executor, workers, scheduler, chunk_size,
                                 quiet)
        result = analyze(directory, confidence=confidence, resamples=resamples, seed=spec.seed)
        paths = result.save(directory)
    if quiet:
        return
    from rich.table import Table

    if result.method == "sobol":
        columns = [("S1", "S1_conf"), ("ST", "ST_conf")]
    else:
        columns = [("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None)]
    table = Table(title=Text(f"{spec.name}: {result.method} indices "
                             f"(± half-width of the {round(100 * confidence)}% interval)"))
    # Long parameter names fold onto more lines rather than end in '…' (80 columns, pipes).
    table.add_column("metric", overflow="fold")
    table.add_column("parameter", overflow="fold")
    for value, _ in columns:
        table.add_column(value, justify="right", overflow="fold")
    for _, row in result.indices.iterrows():
        cells = [str(row["metric"]), str(row["parameter"])]
        for value, conf in columns:
            cells.append(format_number(row[value]) + ("" if conf is None else
                                                 f" ± {format_number(row[conf], 2)}"))
        table.add_row(*(Text(cell) for cell in cells))
    print_table(table)
    weak = result.too_few_samples()
    if len(weak):
        needed = weak["needed_samples"].dropna()
        more = (f"; about design.samples = {int(needed.max()):,} would make every interval "
                "narrower than its index" if len(needed) else "")
        say("warning", f"{len(weak)} of {len(result.indices)} indices are not trustworthy "
            f"(ST > 1, S1 < 0, or an interval wider than the index): design.samples = "
            f"{result.samples} is too small{more}")
    _report(report)
    _print(f"indices: {paths['csv']}, {paths['parquet']}; figure: {paths['figure']}")


# --------------------------------------------------------------------------- plan
def plan(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (.toml, .yaml).")],
    target: Annotated[
        list[float], typer.Option("--target", help="Yearly defection rate not to exceed "
                                  "(share of the counted positions per year; repeatable).")
    ],
    confidence: Annotated[
        float, typer.Option(help="One-sided confidence that the rate stays below the target.")
    ] = 0.95,
    tier: Annotated[
        list[str] | None, typer.Option("--tier", help="Tier whose defections count "
                                       "(repeatable; default: tiers that watch nobody).")
    ] = None,
    replicates: Annotated[int, typer.Option(help="Runs per design.", min=1)] = 20,
    seed: Annotated[int | None, typer.Option(help="Seed (default: run.seed).", min=0)] = None,
    max_span: Annotated[
        int | None, typer.Option(help="Widest span tried for the bottom minders.", min=1)
    ] = None,
    upper_spans: Annotated[
        str | None, typer.Option(help="Spans tried for upper minder tiers, e.g. 5,10,20 "
                                 "(default: half, one and two times their span).")
    ] = None,
    extra_tiers: Annotated[
        list[int] | None, typer.Option("--extra-tiers", help="Tiers of minders of minders to "
                                       "add on top (repeatable; default: 0 and 1).")
    ] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a value: dotted.path=value "
                                       "(repeatable).", metavar="PATH=VALUE")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: results/plan-NAME).")
    ] = None,
    executor: ExecutorOption = "local",
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    show: Annotated[int, typer.Option(help="Cheapest designs shown per target.", min=1)] = 5,
    quiet: QuietOption = False,
) -> None:
    """Find the cheapest spans (and tiers) keeping yearly defections below a target."""
    from minders.experiments.planning import plan as search
    from minders.kinds import load_scenario

    with user_errors():
        spec = load_scenario(scenario, set_ or [])
        ladder = _int_list(upper_spans) if upper_spans else None
        folder = out if out is not None else Path("results") / f"plan-{spec.name}"
        try:
            with progress_display(f"plan {spec.name}", "runs", quiet, rate=True) as progress:
                result = search(
                    spec, target, confidence=confidence, tiers=tier, replicates=replicates,
                    seed=seed, max_span=max_span, upper_spans=ladder,
                    extra_tiers=tuple(extra_tiers) if extra_tiers else (0, 1),
                    executor=executor, workers=workers, scheduler=scheduler, show=show,
                    cache=folder / "plan_runs.parquet",
                    progress=progress,
                )
        except KeyboardInterrupt:
            cache = folder / "plan_runs.parquet"
            _interrupted("the plan was not finished" + (
                f"; its finished rounds are kept in {cache}: run the same command again to go on"
                if cache.is_file() else "; nothing was saved"))
        paths = result.save(folder)
    if quiet:
        return
    print_table(_plan_table(result))
    settings = result.settings
    _print(
        f"{len(result.designs):,} designs x {settings['replicates']} replicates "
        f"({settings['runs']:,} runs) in {settings['seconds']:.1f} s. Designs: "
        f"{paths['designs']}; cost curve: {paths['figure']}"
    )


def _plan_table(result: Any) -> Table:
    from rich.table import Table

    settings = result.settings
    level = round(100 * settings["confidence"])
    table = Table(title=Text(f"cheapest designs: yearly defection rate of "
                             f"{', '.join(settings['tiers'])} below target with {level}% "
                             "confidence"))
    for name, justify in (("target", "right"), ("rank", "right"), ("tiers added", "right"),
                          ("spans (wards per minder)", "left"), ("headcount", "right"),
                          ("share", "right"), ("mean rate", "right"), (f"{level}% bound", "right")):
        table.add_column(name, justify=justify, overflow="fold",
                         min_width=24 if name.startswith("spans") else None)
    for target in settings["targets"]:
        rows = result.choices[result.choices["target"] == target]
        if rows.empty:
            table.add_row(format_number(target), "-", "-", "no design meets it (narrower spans, "
                          "more replicates or another tier?)", "", "", "", "")
            continue
        for _, row in rows.iterrows():
            cells = [format_number(target), str(row["rank"]), f"+{row['extra']}", row["spans"],
                     f"{row['headcount']:,}", f"{100 * row['share']:.2f}%",
                     format_number(row["rate_mean"]), format_number(row["ucb_line"])]
            table.add_row(*(Text(str(cell)) for cell in cells))
    return table


# --------------------------------------------------------------------------- helpers
def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise ScenarioError("--upper-spans", text, "integers separated by commas") from None
