"""The ``warning`` command: early-warning indicators of defection cascades.

:func:`register` adds it to the ``minders`` Typer app. See docs/warning.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from minders.cli._console import console, print_table, say, user_errors
from minders.cli._console import progress as progress_display
from minders.formatting import format_number


def register(app: typer.Typer) -> None:
    """Add the ``warning`` command to ``app``.

    Examples
    --------
    >>> app = typer.Typer()
    >>> register(app)
    >>> [c.name for c in app.registered_commands]
    ['warning']
    """
    app.command("warning")(warning)


def warning(
    experiment: Annotated[Path, typer.Argument(
        help="Experiment file with a warning table (.toml, .yaml), or a bundled name.")],
    out: Annotated[Path | None, typer.Option(
        "--out", help="Results folder of the runs (default: results/NAME); the analysis "
        "goes into its warning/ subfolder.")] = None,
    executor: Annotated[str, typer.Option(
        "--executor", help="Where runs go: local (processes), dask or serial.")] = "local",
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Local processes (default: all cores).", min=1)] = None,
    show: Annotated[int, typer.Option(help="Indicators shown in the table.", min=1)] = 8,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table.")]
    = False,
) -> None:
    """How much warning observable indicators give before a cascade (runs or resumes first)."""
    from minders.experiments.schema import load_experiment
    from minders.experiments.warning.analysis import run_warning

    with user_errors():
        spec = load_experiment(str(experiment))  # a Path would not resolve a bundled name
        try:
            with progress_display(spec.name, "runs", quiet, rate=True) as progress:
                report, folder = run_warning(spec, out, executor, workers=workers,
                                             progress=progress)
        except KeyboardInterrupt:
            say("interrupted", "the runs saved so far are kept; run the same command again "
                "to resume")
            raise typer.Exit(130) from None
        paths = report.save(folder / "warning")
    if quiet:
        return
    labels = report.labels
    lead = report.middle_lead()
    where = "the baseline" if report.spec.calibrate == "baseline" else \
        "half the quiet runs' peaks"
    level = round(100 * report.spec.confidence)
    table = Table(title=Text(
        f"{spec.name}: {int(labels['cascade'].sum())} of {len(labels)} runs cascade; "
        f"ROC AUC {lead} steps before the cascade ({level}% interval); alarms above the "
        f"{round(100 * report.spec.quantile)}th percentile of {where}"))
    for name, justify in (("indicator", "left"), ("statistic", "left"), ("AUC", "right"),
                          ("hits", "right"), ("false alarms", "right"),
                          ("median lead", "right")):
        table.add_column(name, justify=justify, overflow="fold")
    rows = [report.best(lead, count=show), report.best(lead, count=1, hidden=True)]
    alarms = report.alarms.set_index(["indicator", "statistic"])
    for frame in rows:
        for _, row in frame.iterrows():
            alarm = alarms.loc[(row["indicator"], row["statistic"])]
            cells = [row["indicator"], row["statistic"],
                     f"{row['auc']:.2f} ({row['auc_low']:.2f}-{row['auc_high']:.2f})",
                     format_number(alarm["hit_rate"], 2),
                     format_number(alarm["false_alarm_rate"], 2),
                     format_number(alarm["median_lead"], 2)]
            table.add_row(*(Text(str(c)) for c in cells))
    print_table(table)
    console().print(
        f"tables: {paths['scores']}, {paths['alarms']}, {paths['labels']}"
        + (f", {paths['survey_summary']}" if "survey_summary" in paths else "")
        + f"; figures: {paths.get('figure')}, {paths.get('trajectories')}",
        markup=False, highlight=False, soft_wrap=True)
