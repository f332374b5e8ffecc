"""The command line, as a user runs it: outputs, summaries, clear errors, exit status 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from minders.cli import app

from .conftest import ROOT

PYONGYANG = ROOT / "scenarios" / "pyongyang.toml"
runner = CliRunner()


def minders(*args: str, **kwargs) -> subprocess.CompletedProcess:
    """Run the real ``minders`` entry point in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "minders.cli", *args], capture_output=True, text=True,
        cwd=kwargs.pop("cwd", ROOT), timeout=300, **kwargs,
    )


def test_run_writes_records_metadata_and_figure(tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, env={"COLUMNS": "160"}, args=[
        "run", str(PYONGYANG), "--steps", "12", "--seed", "4", "--out", str(out),
        "--set", "tiers.residents.size=3000", "--set", "tiers.residents.span=40",
    ])
    assert result.exit_code == 0, result.output
    assert "residents" in result.output and "defections" in result.output
    records = pd.read_parquet(out / "records.parquet")
    assert records["step"].max() == 11
    required = {"step", "tier", "loyal", "falsifying", "active", "jailed", "purged", "defected",
                "attempts", "defections", "interceptions", "arrests", "purges",
                "measured_discontent", "true_discontent", "minders_per_ward"}
    assert required <= set(records.columns)
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 4 and meta["scenario"]["tiers"]["residents"]["span"] == 40
    assert len(meta["scenario_hash"]) == 64 and meta["minders_version"]
    assert meta["wall_time_s"] > 0
    assert (out / "summary.png").stat().st_size > 10_000
    assert sorted(p.name for p in out.iterdir()) == ["records.parquet", "run.json", "summary.png"]


def test_same_seed_same_records_from_the_cli(tmp_path):
    for name in ("a", "b"):
        runner.invoke(app, ["run", str(PYONGYANG), "--steps", "8", "--quiet", "--out",
                            str(tmp_path / name), "--set", "tiers.residents.size=2000"])
    a = pd.read_parquet(tmp_path / "a" / "records.parquet")
    b = pd.read_parquet(tmp_path / "b" / "records.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_validate_and_schema():
    result = runner.invoke(app, ["validate", str(PYONGYANG)])
    assert result.exit_code == 0 and "ok" in result.output
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.output)
    assert "tiers" in schema["properties"]


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "tiers.residents.span=-3"], "tiers.residents.span"),
    (["--set", "tiers.residents.spam=3"], "known field"),
    (["--set", "model.purge_rate=1.5"], "model.purge_rate"),
    (["--set", "tiers.residents.minded_by=police"], "name of a tier"),
    (["--set", "shocks.0.start=9999", "--set", "shocks.0.end=10000"], "horizon"),
])
def test_bad_input_exits_2_with_one_clear_line(args, message):
    proc = minders("validate", str(PYONGYANG), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize(("args", "line"), [
    (["run", "pyongyang", "--replicates", "0"],
     "error: --replicates: expected a value greater than or equal to 1, got 0"),
    (["run", "pyongyang", "--replicates", "abc"],
     "error: --replicates: expected an integer, got 'abc'"),
    (["dashboard", "--port", "99999"], "error: --port: expected a value in [0, 65,535], got 99999"),
])
def test_a_refused_option_value_names_the_option_the_value_and_what_was_expected(args, line):
    proc = minders(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith(line), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_bad_file_and_missing_file_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[tiers.a]\nsize = "many"\n')
    proc = minders("run", str(bad), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "tiers.a.size" in proc.stderr and "'many'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = minders("run", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2 and "existing scenario file" in proc.stderr


def _default_sigint() -> None:
    """In the child: take SIGINT's default action even if this shell ignores it (``make &``)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_leaves_no_half_written_results(tmp_path):
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "minders.cli", "run", str(PYONGYANG), "--steps", "520",
         "--set", "tiers.residents.size=300000", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "100"}, preexec_fn=_default_sigint,
    )
    # stderr is a pipe, so progress comes as plain lines, the first after the first step:
    # the run (about a minute) is then surely under way and far from done.
    first = proc.stderr.readline()
    assert "steps" in first, first
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted: no results were written" in stderr
    assert stderr.count("interrupted") == 1
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("delay", [0.15, 0.4, 0.8])
def test_ctrl_c_while_starting_exits_130_with_one_line(delay):
    """SIGINT while Python imports the command (NumPy, Numba, Rich): one line, no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "minders.cli", "validate", "pyongyang"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr
    if proc.returncode == 130:
        assert stderr.count("interrupted") == 1, stderr
    elif proc.returncode == -signal.SIGINT:
        # Ended by the signal itself: before the interpreter installed its handler (the
        # first tens of milliseconds; nothing printed), or after our one line, when an
        # import the signal cut short makes the interpreter re-raise it at exit.
        assert stderr.count("interrupted") == (1 if stderr else 0) and out == "", stderr
    else:  # it was done before the signal came (then it ignores Ctrl-C while it shuts down)
        assert proc.returncode == 0 and out.startswith("ok"), stderr


def test_ctrl_c_after_the_command_is_done_keeps_its_status():
    """A Ctrl-C that lands while the interpreter shuts down must not end it by the signal."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "minders.cli", "validate", "pyongyang"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint,
    )
    first = proc.stdout.readline()
    assert first.startswith("ok"), first
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr
    assert proc.returncode != -signal.SIGINT and stderr.count("interrupted") <= 1, stderr
    # Anything but 0 only if the signal beat the last few statements of the command.
    assert proc.returncode in (0, 1, 130), stderr


def test_atomic_save_leaves_nothing_on_failure(tmp_path):
    from minders.result import atomic_path

    target = tmp_path / "records.parquet"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(Path(tmp_path).iterdir()) == []


def test_version_and_help():
    assert runner.invoke(app, ["--version"]).output.startswith("minders ")
    assert "run" in runner.invoke(app, ["--help"]).output


def test_out_that_is_a_file_and_unwritable_out_exit_2(tmp_path):
    afile = tmp_path / "taken"
    afile.write_text("x")
    result = runner.invoke(app, ["run", str(PYONGYANG), "--steps", "2", "--quiet",
                                 "--set", "tiers.residents.size=500", "--out", str(afile)])
    assert result.exit_code == 2 and "not a file" in result.output
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    result = runner.invoke(app, ["run", str(PYONGYANG), "--steps", "2", "--quiet",
                                 "--set", "tiers.residents.size=500",
                                 "--out", str(locked / "sub")])
    if os.geteuid() != 0:  # root may write anywhere
        assert result.exit_code == 2 and "writable folder" in result.output


def test_short_run_notes_the_shocks_it_leaves_out_and_records_what_ran(tmp_path):
    result = runner.invoke(app, ["run", str(PYONGYANG), "--steps", "3", "--seed", "9",
                                 "--set", "tiers.residents.size=500", "--out", str(tmp_path)])
    assert result.exit_code == 0
    assert "coup" in result.output  # the note goes to stderr, which CliRunner mixes in
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["scenario"]["run"]["seed"] == 9 and meta["scenario"]["run"]["steps"] == 3


def test_validate_checks_the_graph_file_exists():
    result = runner.invoke(app, ["validate", str(PYONGYANG), "--set", "network.file=nope.csv"])
    assert result.exit_code == 2 and "existing graph file" in result.output


def test_a_table_wider_than_a_pipe_is_printed_whole(capsys, monkeypatch):
    """Rich crops a table whose narrowest layout exceeds 80 columns; print_table must not."""
    from rich.table import Table
    from rich.text import Text

    from minders.cli._console import print_table

    monkeypatch.delenv("COLUMNS", raising=False)
    table = Table(title=Text("cheapest designs"))
    values = ["0.0005", "1", "+1", "minders 17, security 8, residents 20", "1,009", "6.30%",
              "0.000412345", "0.000498765", "last-column"]
    for k, value in enumerate(values):
        table.add_column(f"column {k}", overflow="fold", min_width=len(value))
    table.add_row(*(Text(v) for v in values))
    print_table(table)
    out = capsys.readouterr().out
    for value in values:
        assert value in out
    narrow = Table()
    narrow.add_column("a")
    narrow.add_row("b")
    print_table(narrow)  # a table that fits keeps the console's width
    assert max(map(len, capsys.readouterr().out.splitlines())) <= 80


def test_python_dash_m_minders_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "minders", "--version"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("minders ")
