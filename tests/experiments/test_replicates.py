"""Replicates of one scenario: reproducible, executor-independent, summarised with intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

import minders
from minders.cli import app
from minders.experiments.design import run_seed
from minders.experiments.replicates import run_replicates

from .conftest import TINY_SCENARIO

runner = CliRunner()


def tiny(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_SCENARIO)
    return minders.load_scenario(str(path)), path


def test_replicates_are_reproducible_and_independent_of_the_executor(tmp_path):
    scenario, _ = tiny(tmp_path)
    serial = run_replicates(scenario, 4, seed=3, out=tmp_path / "a", executor="serial")
    again = run_replicates(scenario, 4, seed=3, out=tmp_path / "b", executor="serial")
    local = run_replicates(scenario, 4, seed=3, out=tmp_path / "c", executor="local", workers=2)
    pd.testing.assert_frame_equal(serial.records, again.records)
    pd.testing.assert_frame_equal(serial.records, local.records)
    pd.testing.assert_frame_equal(serial.runs, local.runs)
    # Replicate r has the documented seed, and differs from the others.
    assert serial.runs["seed"].tolist() == [run_seed(3, 0, r) for r in range(4)]
    assert sorted(serial.records["replicate"].unique()) == [0, 1, 2, 3]
    # Replicate 0 is the single run with its seed.
    alone = minders.simulate(scenario, seed=run_seed(3, 0, 0)).records
    first = serial.records[serial.records["replicate"] == 0]
    assert np.array_equal(first["defections"].to_numpy(), alone["defections"].to_numpy())


def test_summary_gives_each_metric_its_interval_and_the_fan_chart_its_bands(tmp_path):
    scenario, _ = tiny(tmp_path)
    reps = minders.simulate(scenario, replicates=5, executor="serial", out=tmp_path / "r")
    summary = reps.summary()
    assert summary.loc["cascade", "method"] == "wilson"
    assert summary.loc["time_to_cascade", "method"] == "kaplan-meier median"
    assert (summary.loc[summary["method"] == "quasi-poisson", "low"] >= 0).all()
    assert (summary["high"] >= summary["low"]).all()
    fig = reps.figure()
    assert fig.axes[0].get_xlabel() == "" and fig.axes[-1].get_xlabel() == "years"
    assert len(fig.axes[0].collections) == 2 * 3  # 50% and 90% bands for each of three tiers


def test_run_command_with_replicates_writes_records_fan_and_fits_80_columns(tmp_path):
    _, path = tiny(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--replicates", "3", "--executor", "serial",
                                 "--out", str(out), "--format", "svg"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert (out / "fan.svg").is_file() and (out / "manifest.json").is_file()
    assert "…" not in result.output and "wilson" in result.output
    words = " ".join(result.output.replace("│", " ").split())
    assert "never in 0% of runs" in words  # time to cascade: the share never reached
    records = minders.experiments.load_records(out)
    assert len(records) == 3 * 20 * 3
    bad = runner.invoke(app, ["run", str(path), "--replicates", "2", "--format", "gif"])
    assert bad.exit_code == 2 and "--format" in bad.output


def test_a_kind_without_default_metrics_is_refused_in_one_line():
    result = runner.invoke(app, ["run", "granovetter_riot", "--replicates", "2"])
    assert result.exit_code == 2
    assert "error: --replicates:" in result.output and "minders sweep" in result.output
