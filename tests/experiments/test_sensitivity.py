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


def test_sobol_warns_when_indices_need_more_samples_and_says_how_many(tmp_path, monkeypatch):
    from minders.experiments import sensitivity as module

    path = write_experiment(tmp_path, experiment("sobol", 8))
    args = ["sensitivity", str(path), "--out", str(tmp_path / "out"), "--executor", "serial",
            "--resamples", "50"]
    clean = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert clean.exit_code == 0, clean.output

    def noisy(*args, **kwargs):  # what a too small design can give
        return {"S1": [-0.5, 0.1], "S1_conf": [0.1, 0.2], "ST": [1.4, 0.2], "ST_conf": [0.1, 0.1]}

    monkeypatch.setattr(module, "_sobol", noisy)
    flagged = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert flagged.exit_code == 0, flagged.output
    words = " ".join(flagged.output.split())
    # Parameter a: ST 1.4 > 1, S1 < 0; b: S1 = 0.1 with half-width 0.2 (wider than it).
    assert "2 of 2 indices are not trustworthy" in words
    assert "design.samples = 8 is too small" in words
    assert "about design.samples = 128 would make every interval" in words
    narrow = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert narrow.exit_code == 0 and "…" not in narrow.output


def test_out_of_range_keeps_only_sobol_rows_outside_beyond_the_interval():
    from minders.experiments.sensitivity import Sensitivity

    table = pd.DataFrame({
        "metric": ["m"] * 4, "parameter": ["a", "b", "c", "d"],
        "S1": [-0.05, -0.3, 0.5, 0.2], "S1_conf": [0.1, 0.1, 0.1, float("nan")],
        "ST": [1.05, 0.4, 1.2, 0.3], "ST_conf": [0.1, 0.1, 0.3, 0.1]})
    assert Sensitivity("sobol", table, None, 0.95).out_of_range()["parameter"].tolist() == ["b"]
    morris = pd.DataFrame({"metric": ["m"], "parameter": ["a"], "mu": [-3.0],
                           "mu_star": [3.0], "mu_star_conf": [0.1], "sigma": [2.0]})
    assert Sensitivity("morris", morris, None, 0.95).out_of_range().empty


def test_saved_files_have_the_mode_of_ordinary_new_files(tmp_path):
    """Temporary files are made 0600; what is renamed into place gets 0666 less the umask."""
    import stat

    out = tmp_path / "out"
    run_sweep(write_experiment(tmp_path, experiment("sobol", 8)), out, "serial")
    analyze(out, resamples=50).save(out)
    probe = tmp_path / "probe"
    probe.write_text("x")  # the mode open() gives under this process's umask
    ordinary = stat.S_IMODE(probe.stat().st_mode)
    modes = {path.relative_to(out).as_posix(): stat.S_IMODE(path.stat().st_mode)
             for path in out.rglob("*") if path.is_file()}
    for name in ("sensitivity/indices.csv", "sensitivity/sensitivity.png",
                 "sensitivity/indices.parquet", "manifest.json", "points.parquet"):
        assert modes[name] == ordinary, (name, oct(modes[name]))
    assert all(mode == ordinary for mode in modes.values()), modes
