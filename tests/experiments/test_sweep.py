"""Sweeps: same table on every executor and chunking, resumable after SIGKILL, queryable."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time

import duckdb
import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

import minders
from minders.cli import app
from minders.errors import ScenarioError
from minders.experiments import build_sweep, load_experiment, load_records, load_results, run_sweep
from minders.experiments.executors import DaskExecutor, LocalExecutor
from minders.experiments.metrics import compute_metrics
from minders.experiments.store import ResultsStore
from minders.experiments.summary import summarize
from minders.formatting import format_number

from ..conftest import ROOT
from .conftest import GRID, write_experiment

runner = CliRunner()


@pytest.fixture
def with_records(tmp_path):
    data = copy.deepcopy(GRID)
    data["output"] = {"records": True}
    return write_experiment(tmp_path, data)


def test_same_table_on_every_executor_worker_count_and_chunking(tmp_path, with_records):
    sweep = build_sweep(load_experiment(with_records))
    reference = run_sweep(sweep, tmp_path / "serial", "serial", chunk=18)
    assert reference.complete and reference.ran == 18
    run_sweep(sweep, tmp_path / "serial1", "serial", chunk=1)
    run_sweep(sweep, tmp_path / "local", LocalExecutor(workers=2), chunk=4)
    run_sweep(sweep, tmp_path / "dask", DaskExecutor(workers=2, processes=False), chunk=5)
    runs = load_results(tmp_path / "serial")
    records = load_records(tmp_path / "serial")
    assert len(runs) == 18 and runs["run_id"].tolist() == list(range(18))
    assert len(records) == 18 * 20 * 3  # runs x steps x tiers
    for other in ("serial1", "local", "dask"):
        pd.testing.assert_frame_equal(load_results(tmp_path / other), runs)
        pd.testing.assert_frame_equal(load_records(tmp_path / other), records)
    # a run is the scenario of its point run with its seed, nothing else
    row = runs.iloc[10]
    scenario = minders.load_scenario(tmp_path / "base.toml", sweep.overrides_of(row["point"]))
    result = minders.simulate(scenario, seed=int(row["seed"]))
    assert compute_metrics(result, list(sweep.experiment.metrics)) == pytest.approx(
        row[sweep.metric_columns].tolist())
    assert scenario.scenario_hash() == row["scenario_hash"]


def test_killed_sweep_resumes_to_the_same_table(tmp_path):
    data = copy.deepcopy(GRID)
    data["parameters"] = {"model.fear_per_event": {"low": 0.0, "high": 0.1, "num": 100}}
    data["replicates"] = 6
    path = write_experiment(tmp_path, data)
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "minders.cli", "sweep", str(path), "--out", str(out),
               "--workers", "2", "--chunk-size", "2", "--quiet"]
    proc = subprocess.Popen(command, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("part-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent, the forkserver and its workers, at once
    proc.wait()
    saved = len(load_results(out))
    assert 0 < saved < 600, f"the sweep was not caught mid-way ({saved} runs saved)"
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    reference = run_sweep(path, tmp_path / "whole", "serial")
    assert reference.ran == 600
    resumed = load_results(out)
    assert resumed["run_id"].is_unique and len(resumed) == 600
    pd.testing.assert_frame_equal(resumed, load_results(tmp_path / "whole"))


def test_resume_runs_only_what_is_missing_and_cleans_leftovers(tmp_path, with_records):
    out = tmp_path / "out"
    run_sweep(with_records, out, "serial", chunk=5)
    whole_runs, whole_records = load_results(out), load_records(out)
    # As if killed between the two renames of a chunk: its records part is there, its runs
    # part is not; and a temporary file is left behind.
    lost = sorted((out / "runs").glob("part-*.parquet"))[1]
    lost.unlink()
    (out / "runs" / ".part-x.parquet.123.tmp").write_bytes(b"half a file")
    report = run_sweep(with_records, out, "serial", chunk=2)
    assert report.done_before == 13 and report.ran == 5
    assert not list(out.rglob("*.tmp"))
    pd.testing.assert_frame_equal(load_results(out), whole_runs)
    pd.testing.assert_frame_equal(load_records(out), whole_records)
    assert run_sweep(with_records, out, "serial").ran == 0


def test_refuses_another_experiment_a_foreign_folder_and_a_second_writer(tmp_path, grid_file):
    out = tmp_path / "out"
    run_sweep(grid_file, out, "serial")
    changed = copy.deepcopy(GRID)
    changed["replicates"] = 4
    other = write_experiment(tmp_path, changed, name="other.yaml")
    with pytest.raises(ScenarioError, match="results of this same experiment.*hash"):
        run_sweep(other, out, "serial")
    result = runner.invoke(app, ["sweep", str(other), "--out", str(out), "--executor", "serial"])
    assert result.exit_code == 2 and "--out" in result.output
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="no manifest.json"):
        run_sweep(grid_file, foreign, "serial")
    sweep = build_sweep(load_experiment(grid_file))
    with ResultsStore(out, sweep), pytest.raises(ScenarioError, match="locked"):
        ResultsStore(out, sweep).open()


def test_results_load_in_pandas_polars_and_duckdb(tmp_path, grid_file):
    out = tmp_path / "out"
    run_sweep(grid_file, out, "serial")
    runs = load_results(out)
    assert list(runs.columns[:5]) == ["run_id", "point", "replicate", "seed", "scenario_hash"]
    frame = load_results(out, library="polars")
    assert isinstance(frame, pl.DataFrame) and frame.height == 18
    query = duckdb.sql(
        f"select point, avg(defections_workers) as mean, count(*) as n "
        f"from '{out}/runs/*.parquet' group by point order by point"
    ).df()
    expected = runs.groupby("point")["defections_workers"].mean()
    assert query["mean"].tolist() == pytest.approx(expected.tolist())
    assert query["n"].tolist() == [3] * 6


def test_results_command_prints_means_and_intervals(tmp_path, grid_file):
    out = tmp_path / "out"
    run_sweep(grid_file, out, "serial")
    result = runner.invoke(app, ["results", str(out), "--csv", str(tmp_path / "s.csv")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "defections_workers" in result.output and "quasi-poisson" in result.output
    assert "18 of 18 runs (complete)" in result.output
    table = summarize(out)
    low, high = table["defections_workers_low"], table["defections_workers_high"]
    assert (low >= 0).all() and (high > 0).all()  # counts: never below zero, never '0 ± 0'
    shown = f"[{format_number(low.iloc[0], 3)}, {format_number(high.iloc[0], 3)}]"
    assert shown in result.output
    narrow = runner.invoke(app, ["results", str(out), "--plot", "--format", "svg"],
                           env={"COLUMNS": "80"})
    assert narrow.exit_code == 0 and "…" not in narrow.output
    assert (out / "figures" / "results.svg").is_file()
    assert shown in narrow.output  # one row per value: the interval stays whole
    summary = pd.read_csv(tmp_path / "s.csv")
    assert len(summary) == 6 and {"defection_rate_low", "defection_rate_high"} <= set(summary)
    missing = runner.invoke(app, ["results", str(tmp_path)])
    assert missing.exit_code == 2 and "manifest.json" in missing.output


def test_sweep_command_end_to_end(tmp_path, grid_file):
    out = tmp_path / "out"
    args = ["sweep", str(grid_file), "--out", str(out), "--executor", "serial"]
    first = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    assert "18 runs in" in first.output and (out / "manifest.json").is_file()
    again = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "nothing to run" in again.output


@pytest.mark.parametrize(("content", "words"), [
    ("scenario = 'base.toml'\nreplicates = 0\n[[metrics]]\nkind = 'defections'\n",
     "replicates: expected a value greater than or equal to 1, got 0"),
    ("scenario = 'base.toml'\n[[metrics]]\nkind = 'defections'\ntier = 'police'\n",
     "metrics.0.tier: expected a tier of the scenario (workers, minders, security)"),
    ("scenario = 'base.toml'\nreplicate = 2\n[[metrics]]\nkind = 'defections'\n",
     "replicate: expected a known field"),
])
def test_bad_experiment_file_exits_2_with_one_clear_line(tmp_path, content, words):
    write_experiment(tmp_path, GRID)
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    proc = subprocess.run([sys.executable, "-m", "minders.cli", "sweep", str(bad)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    assert proc.returncode == 2
    assert words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "results").exists()


def test_sweep_caption_points_to_the_command_that_shows_all(tmp_path):
    data = copy.deepcopy(GRID)
    data.update({"replicates": 1, "parameters": {
        "tiers.workers.span": {"values": list(range(5, 26))}}})  # 21 points
    path = write_experiment(tmp_path, data)
    out = tmp_path / "out"
    swept = runner.invoke(app, ["sweep", str(path), "--out", str(out), "--executor", "serial"],
                          env={"COLUMNS": "250"})
    assert swept.exit_code == 0, swept.output
    words = " ".join(swept.output.split())
    assert "first 20 of 21 points" in words
    assert f"'minders results {out} --limit 0' shows all" in words
    shown = runner.invoke(app, ["results", str(out), "--limit", "0"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert "first 20" not in shown.output and "21 of 21 runs (complete)" in shown.output
    limited = runner.invoke(app, ["results", str(out), "--limit", "5"], env={"COLUMNS": "250"})
    assert "first 5 of 21 points (--limit 0 shows all)" in " ".join(limited.output.split())
