"""``minders export`` and ``minders report``: results folders for people who do not run minders.

Both read a ``minders run`` or ``minders sweep`` folder; a folder that holds
neither, an unknown format or an unwritable target prints one line and
exits with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from minders.cli._console import console, fail, user_errors
from minders.errors import ScenarioError

Folder = Annotated[Path, typer.Argument(help="Results folder of 'minders run', 'sweep' (also "
                                        "'sensitivity' and 'warning'), 'plan' or 'calibrate'.",
                                        metavar="DIR")]


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``report`` to ``app``."""
    app.command("export")(export)
    app.command("report")(report)


def export(
    directory: Folder,
    to: Annotated[str, typer.Option("--to", help="Format: csv, xlsx or parquet.")],
    out: Annotated[
        Path | None, typer.Option(help="Folder for the exports (default: DIR/export).")
    ] = None,
) -> None:
    """Convert the records (and a sweep's runs table) to CSV, Excel or Parquet, with metadata."""
    from minders.report.export import export as write

    with user_errors():
        try:
            paths = write(directory, to, out)
        except OSError as exc:
            fail(ScenarioError("--out", str(out or directory / "export"),
                               f"a writable folder ({exc.strerror})"))
    console().print("written: " + ", ".join(map(str, paths)), markup=False, highlight=False,
                    soft_wrap=True)


def report(
    directory: Folder,
    out: Annotated[
        Path | None, typer.Option(help="The HTML file (default: DIR/report.html).")
    ] = None,
) -> None:
    """Write one self-contained HTML report of a results folder (opens offline)."""
    from minders.report.html import write_report

    with user_errors():
        try:
            path = write_report(directory, out)
        except OSError as exc:
            fail(ScenarioError("--out", str(out or directory / "report.html"),
                               f"a writable file ({exc.strerror})"))
    console().print(f"report: {path}", markup=False, highlight=False, soft_wrap=True)
