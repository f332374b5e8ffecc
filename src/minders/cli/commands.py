"""The ``minders`` Typer app: the options every command shares, and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from minders.cli import calibrate, dashboard, experiments, report, run, warning
from minders.cli._console import console

app = typer.Typer(
    name="minders",
    help="Simulate surveillance hierarchies, preference falsification and defection cascades.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from minders import __version__

        console().print(f"minders {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print version.")
    ] = False,
) -> None:
    """Simulate surveillance hierarchies, preference falsification and defection cascades."""


run.register(app)
experiments.register(app)
dashboard.register(app)
warning.register(app)
calibrate.register(app)
report.register(app)
