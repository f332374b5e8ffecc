"""Small results folders, made once per session: a run (through the command line) and a sweep."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from minders.cli.commands import app

#: A quick Pyongyang: 2,000 residents, 40 steps, seed 5.
RUN_SETS = ["tiers.residents.size=2000"]
RUN_ARGS = ["--steps", "40", "--seed", "5"]


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "pyongyang"
    sets = [arg for value in RUN_SETS for arg in ("--set", value)]
    result = CliRunner().invoke(app, ["run", "pyongyang", *sets, *RUN_ARGS, "--quiet",
                                      "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="session")
def sweep_dir(tmp_path_factory):
    from minders.experiments import run_sweep, validate_experiment

    folder = tmp_path_factory.mktemp("sweep") / "spans"
    experiment = validate_experiment({
        "name": "spans", "scenario": "overseas_workers", "replicates": 3, "seed": 3,
        "set": {"run.steps": 10}, "output": {"records": True},
        "parameters": {"tiers.minders.span": {"values": [5, 10, 20]}},
    })
    run_sweep(experiment, folder, "serial")
    return folder


@pytest.fixture(scope="session")
def calibration_dir(tmp_path_factory):
    """A tiny calibration (as in tests/experiments/test_calibration.py): one generation."""
    pytest.importorskip("pyabc")
    from minders.experiments.calibration import calibrate
    from tests.experiments.test_calibration import write_case

    root = tmp_path_factory.mktemp("calibration")
    path = write_case(root / "case", {"tiers.residents.border_chance": 0.01,
                                      "shocks.0.value": 0.3, "shocks.1.value": 1.0})
    calibrate(path, root / "out", "serial", fit_until=2007, generations=1, population=12)
    return root / "out"


@pytest.fixture(scope="session")
def warning_dir(tmp_path_factory):
    """A tiny early-warning sweep (that of tests/experiments/test_warning.py), with a survey."""
    import copy

    from tests.experiments.test_warning import WARNING, write_experiment

    root = tmp_path_factory.mktemp("warning")
    path = write_experiment(root, copy.deepcopy(WARNING))
    result = CliRunner().invoke(app, ["warning", path, "--out", str(root / "out"),
                                      "--executor", "serial"])
    assert result.exit_code == 0, result.output
    return root / "out"
