"""Sobol and Morris indices: a parameter that cannot matter comes out at zero."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from typer.testing import CliRunner

from minders.cli import app
from minders.errors import ScenarioError
from minders.experiments import run_sweep
from minders.experiments.sensitivity import analyze

from .conftest import GRID, write_experiment

runner = CliRunner()


def experiment(method: str, samples: int) -> dict:
    data = copy.deepcopy(GRID)
    data.update({
        "name": f"tiny_{method}", "replicates": 1, "common_random_numbers": True,
        "design": {"method": method, "samples": samples},
        # Every worker is abroad: the chance to cross the border *at home* cannot matter.
        "parameters": {
            "tiers.workers.abroad_chance": {"low": 0.01, "high": 0.2},
            "tiers.workers.border_chance": {"low": 0.0, "high": 0.5},
        },
        "metrics": [{"kind": "defections", "tier": "workers"}],
    })
    return data


def test_sobol_gives_zero_to_a_parameter_without_effect(tmp_path):
    path = write_experiment(tmp_path, experiment("sobol", 32))
    result = runner.invoke(app, ["sensitivity", str(path), "--out", str(tmp_path / "out"),
                                 "--executor", "serial", "--resamples", "200"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "S1" in result.output and "tiers.workers.border_chance" in result.output
    indices = pd.read_csv(tmp_path / "out" / "sensitivity" / "indices.csv").set_index("parameter")
    idle, busy = indices.loc["tiers.workers.border_chance"], indices.loc[
        "tiers.workers.abroad_chance"]
    # With common random numbers the output does not move at all with the idle parameter.
    assert idle["ST"] == pytest.approx(0.0, abs=1e-12)
    assert idle["S1"] == pytest.approx(0.0, abs=1e-12)
    assert busy["ST"] > 0.5 and busy["S1"] > 0.3
    assert busy["ST_conf"] > 0 and idle["ST_conf"] == pytest.approx(0.0, abs=1e-12)
    assert (tmp_path / "out" / "sensitivity" / "sensitivity.png").stat().st_size > 5_000
    assert (tmp_path / "out" / "sensitivity" / "indices.parquet").is_file()


def test_morris_screens_the_idle_parameter_out(tmp_path):
    out = tmp_path / "out"
    run_sweep(write_experiment(tmp_path, experiment("morris", 10)), out, "serial")
    indices = analyze(out, resamples=100).indices.set_index("parameter")
    assert indices.loc["tiers.workers.border_chance", "mu_star"] == pytest.approx(0.0)
    assert indices.loc["tiers.workers.abroad_chance", "mu_star"] > 10


def test_sensitivity_needs_a_sampled_design_and_a_finished_sweep(tmp_path, grid_file):
    out = tmp_path / "out"
    run_sweep(grid_file, out, "serial")
    with pytest.raises(ScenarioError, match="'sobol' or 'morris'"):
        analyze(out)
    result = runner.invoke(app, ["sensitivity", str(grid_file), "--executor", "serial"])
    assert result.exit_code == 2 and "design.method" in result.output
