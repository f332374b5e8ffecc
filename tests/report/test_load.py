"""minders.load and Result.load give back the Result a run returned."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import minders
from minders.result import Result

from .conftest import RUN_SETS


def test_load_round_trips_minders_run_exactly(run_dir):
    fresh = minders.simulate(minders.load_scenario("pyongyang", RUN_SETS), seed=5, steps=40)
    loaded = minders.load(run_dir)
    assert isinstance(loaded, Result)
    pd.testing.assert_frame_equal(loaded.records, fresh.records, check_exact=True)
    assert loaded.scenario == fresh.scenario
    assert (loaded.seed, loaded.steps) == (5, 40)
    pd.testing.assert_frame_equal(loaded.summary(), fresh.summary(), check_exact=True)
    # The scenario's own horizon (520 steps) comes back, not the 40 steps run.
    assert loaded.scenario.run.steps == 520


def test_result_load_of_a_classic_kind(tmp_path):
    riot = minders.load_scenario("granovetter_riot")
    result = minders.simulate(riot, seed=3)
    result.save(tmp_path)
    loaded = Result.load(tmp_path)
    assert loaded.scenario == riot and loaded.seed == 3 and loaded.steps == result.steps
    pd.testing.assert_frame_equal(loaded.records, result.records, check_exact=True)


def test_load_of_a_folder_without_a_run_names_it(tmp_path):
    with pytest.raises(minders.ScenarioError, match="results folder of 'minders run'"):
        minders.load(tmp_path)
    (tmp_path / "run.json").write_text("{}")
    (tmp_path / "records.parquet").write_bytes(b"")
    with pytest.raises(minders.ScenarioError, match="run.json that 'minders run' writes"):
        minders.load(tmp_path)


def test_run_json_records_the_command_and_machine(run_dir):
    saved = json.loads((run_dir / "run.json").read_text())
    from minders.result import command_line

    assert saved["command"] == command_line()  # this process's (pytest's) command line
    assert "CPUs" in saved["machine"]
    assert saved["scenario_run"] == {"seed": minders.load_scenario("pyongyang").run.seed,
                                     "steps": 520}
