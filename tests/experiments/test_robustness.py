"""Hostile experiment files, user text that looks like markup, missing Dask, duplicated parts."""

from __future__ import annotations

import copy
import importlib.util
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

import minders
from minders import kinds
from minders.cli import app
from minders.errors import ScenarioError
from minders.experiments import build_sweep, load_experiment, load_results, run_sweep
from minders.experiments.planning import plan
from minders.experiments.schema import MAX_RUNS, validate_experiment

from .conftest import GRID, TINY_SCENARIO, write_experiment

runner = CliRunner()


def _with(**changes):
    data = copy.deepcopy(GRID)
    data.update(changes)
    return data


@pytest.mark.parametrize(("changes", "words"), [
    ({"replicates": 10**12}, f"replicates: expected a value less than or equal to {MAX_RUNS}"),
    ({"replicates": 5_000_000}, "runs in all (points x replicates)"),
    ({"parameters": {"model.fear_per_event": {"low": 0, "high": 1, "num": 10**12}}},
     f"num: expected a value less than or equal to {MAX_RUNS}"),
    ({"parameters": {"model.fear_per_event": {"low": 0, "high": 1, "step": 1e-12}}},
     f"a design of at most {MAX_RUNS:,} points"),
    ({"parameters": {"tiers.workers.span": {"values": [6, 10**20]}}}, "finite numbers in"),
    ({"parameters": {"model.fear_per_event": {"low": float("nan"), "high": 1, "num": 2}}},
     "low: expected a finite number"),
    ({"parameters": {"model.fear_per_event": {"values": [0.1, float("inf")]}}},
     "finite numbers in"),
    ({"seed": 2**70}, "seed: expected a value less than or equal to"),
    ({"design": {"method": "lhs", "samples": 10**9},
      "parameters": {"model.fear_per_event": {"low": 0, "high": 1}}}, "design.samples"),
    ({"metrics": [{"kind": "cascade", "threshold": float("nan")}]}, "finite number"),
    ({"metrics": [{"kind": "cascade_size", "window": 10**12}]}, "window"),
    ({"scenario": "[/bold]"}, "scenario: expected an existing scenario file, got"),
])
def test_hostile_experiment_files_exit_2_with_one_line(tmp_path, changes, words):
    path = write_experiment(tmp_path, _with(**changes))
    result = runner.invoke(app, ["sweep", str(path), "--out", str(tmp_path / "out"),
                                 "--executor", "serial"], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert words in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "out").exists()


def test_the_run_limit_is_checked_before_anything_is_allocated():
    grid = {"a": {"low": 0, "high": 1, "num": 5000}, "b": {"low": 0, "high": 1, "num": 5000}}
    with pytest.raises(ScenarioError, match="at most 10,000,000 points"):
        validate_experiment({"scenario": "-", "parameters": grid})


def test_metrics_default_to_the_kinds_defaults(tmp_path):
    data = _with()
    del data["metrics"]
    sweep = build_sweep(load_experiment(write_experiment(tmp_path, data)))
    scenario = minders.load_scenario(tmp_path / "base.toml")
    expected = kinds.of(scenario).default_metrics(scenario)
    assert sweep.metric_columns == [m["kind"] for m in expected]
    assert run_sweep(sweep, tmp_path / "out", "serial").complete


def test_classic_kinds_need_metrics_and_refuse_per_year_ones(tmp_path):
    classic = {"name": "riot", "scenario": "granovetter_riot", "replicates": 2}
    with pytest.raises(ScenarioError, match="no default metrics"):
        build_sweep(load_experiment(write_experiment(tmp_path, classic)))
    per_year = {**classic, "metrics": [{"kind": "defection_rate"}]}
    with pytest.raises(ScenarioError, match=r"metrics\.0\.kind: .*no length in time"):
        build_sweep(load_experiment(write_experiment(tmp_path, per_year)))
    final = {**classic, "metrics": [{"kind": "final", "column": "active"}]}
    sweep = build_sweep(load_experiment(write_experiment(tmp_path, final)))
    run_sweep(sweep, tmp_path / "out", "serial")
    assert load_results(tmp_path / "out")["final_active"].tolist() == [100.0, 100.0]


def test_user_text_is_printed_literally_never_as_markup(tmp_path):
    data = _with(name="[bold]odd[/]", replicates=1)
    data["parameters"] = {"tiers.workers.span": {"values": [5, 20]}}
    path = write_experiment(tmp_path, data)
    out = tmp_path / "a[/]b[red]"
    args = ["sweep", str(path), "--out", str(out), "--executor", "serial"]
    first = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert first.exit_code == 0, first.output
    assert str(out) in first.output and "[bold]odd[/]" in first.output
    again = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert again.exit_code == 0 and f"saved in {out} already" in again.output, again.output
    shown = runner.invoke(app, ["results", str(out)], env={"COLUMNS": "400"})
    assert shown.exit_code == 0 and str(out) in shown.output, shown.output


def test_a_missing_dask_names_the_extra_and_creates_no_folder(tmp_path, grid_file, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    out = tmp_path / "out"
    result = runner.invoke(app, ["sweep", str(grid_file), "--out", str(out), "--executor",
                                 "dask"], env={"COLUMNS": "300"})
    assert result.exit_code == 2, result.output
    assert "pip install 'minders[distributed]'" in result.output
    assert not out.exists()


def test_duplicated_run_ids_are_reported_or_dropped_on_request(tmp_path, grid_file):
    out = tmp_path / "out"
    run_sweep(grid_file, out, "serial", chunk=4)
    clean = load_results(out)
    part = sorted((out / "runs").glob("part-*.parquet"))[1]
    shutil.copy(part, out / "runs" / "part-9999999999-copy.parquet")
    with pytest.raises(ScenarioError, match=r"run 4 is in part-\S+ and part-9999999999-copy"):
        load_results(out)
    pd.testing.assert_frame_equal(load_results(out, duplicates="drop"), clean)


def test_resumed_runs_are_reported_first_so_they_are_not_counted_as_speed(tmp_path, grid_file):
    out = tmp_path / "out"
    run_sweep(grid_file, out, "serial", chunk=4)
    for part in sorted((out / "runs").glob("part-*.parquet"))[2:]:
        part.unlink()
    calls: list[tuple[int, int]] = []
    report = run_sweep(grid_file, out, "serial", progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (report.done_before, 18) and report.done_before == 8
    assert calls[-1] == (18, 18)


def test_plan_reports_progress_from_the_start(tmp_path):
    (tmp_path / "base.toml").write_text(TINY_SCENARIO)
    scenario = minders.load_scenario(tmp_path / "base.toml")
    calls: list[tuple[int, int]] = []
    plan(scenario, [0.5], replicates=2, max_span=8, extra_tiers=(0,), upper_spans=[5],
         executor="serial", progress=lambda d, t: calls.append((d, t)))
    assert calls[0][0] == 0 and calls[0][1] > 0
    assert len(calls) > 2 and calls[-1][0] > 0


def test_plan_is_refused_for_kinds_without_it():
    with pytest.raises(ScenarioError, match="kind: expected 'minders'"):
        plan(minders.load_scenario("granovetter_riot"), [0.1], executor="serial")
