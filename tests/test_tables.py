"""Summary tables keep every value whatever the width of the terminal or pipe."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from minders.cli import app

runner = CliRunner()


@pytest.mark.parametrize("columns", ["200", "80", "40"])
def test_run_summary_never_cuts_a_cell(tmp_path, columns):
    result = runner.invoke(app, ["run", "overseas_workers", "--steps", "3", "--out",
                                 str(tmp_path / "out")], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    if int(columns) >= 80:  # narrower, long names fold onto two lines (kept, not cut)
        for value in ("positions", "workers_china", "minders/ward", "10,000"):
            assert value in result.output
    width = max(len(line) for line in result.output.splitlines() if "┃" in line or "│" in line)
    assert width <= int(columns)
