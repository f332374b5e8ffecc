"""Classic scenarios: every bundled file runs through ``minders run``; bad input names its field."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from minders import kinds
from minders.cli import app
from minders.errors import ScenarioError
from minders.kinds import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[2]
CLASSIC = sorted(
    path for path in (ROOT / "scenarios").glob("*.toml")
    if tomllib.loads(path.read_text()).get("kind", "minders") != "minders"
)
runner = CliRunner()


def test_every_classic_kind_has_a_bundled_scenario():
    assert {tomllib.loads(p.read_text())["kind"] for p in CLASSIC} == {
        "epstein", "epstein2", "granovetter", "watts", "kuran"}


@pytest.mark.parametrize("path", CLASSIC, ids=lambda p: p.stem)
def test_minders_run_on_each_bundled_classic_scenario(path, tmp_path):
    out = tmp_path / "out"
    args = ["run", str(path), "--out", str(out), "--seed", "3"]
    if tomllib.loads(path.read_text())["kind"] in ("epstein", "epstein2"):
        args += ["--steps", "60"]
    result = runner.invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.name in result.output and "steps in" in result.output
    records = pd.read_parquet(out / "records.parquet")
    assert {"step", "active"} <= set(records.columns)
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 3 and meta["scenario"]["kind"] == scenario.kind
    assert len(meta["scenario_hash"]) == 64
    assert (out / "summary.png").stat().st_size > 1000


@pytest.mark.parametrize("path", CLASSIC, ids=lambda p: p.stem)
def test_validate_and_schema_commands(path):
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0 and "ok" in result.output
    kind = tomllib.loads(path.read_text())["kind"]
    schema = runner.invoke(app, ["schema", "--kind", kind])
    assert schema.exit_code == 0
    assert json.loads(schema.output)["properties"]["kind"]["const"] == kind


@pytest.mark.parametrize("kind", ["epstein", "epstein2", "granovetter", "watts", "kuran"])
def test_same_seed_gives_identical_records_for_every_kind(kind):
    path = next(p for p in CLASSIC if tomllib.loads(p.read_text())["kind"] == kind)
    scenario = load_scenario(path)
    simulate = kinds.get(kind).simulate
    steps = 40 if kind.startswith("epstein") else None
    first = simulate(scenario, seed=21, steps=steps)
    again = simulate(scenario, seed=21, steps=steps)
    pd.testing.assert_frame_equal(first.records, again.records)
    assert first.steps == again.steps and first.seed == 21


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"citizens.density": 0.7, "cops.density": 0.4}, "cops.density", "1 - citizens.density"),
    ({"citizens.vision": 0}, "citizens.vision", "greater than or equal to 1"),
    ({"cops.vision": 16}, "cops.vision", "less than or equal to 15"),
    ({"conventions.arrest_ratio": "median"}, "conventions.arrest_ratio", "paper"),
    ({"conventions.activation": "parallel"}, "conventions.activation", "random"),
    ({"conventions.neighbourhood": "hex"}, "conventions.neighbourhood", "von_neumann"),
    ({"grid.width": 10}, "grid.width", "2 * vision + 1"),
    ({"citizens.densty": 0.5}, "citizens.densty", "density"),
    ({"legitimacy.initial": 1.2}, "legitimacy.initial", "1"),
    ({"citizens.hardship": {"kind": "beta", "a": -1, "b": 1}}, "citizens.hardship.a", "0"),
    ({"cops.max_jail": -1}, "cops.max_jail", "0"),
])
def test_bad_epstein_scenarios_name_the_field(overrides, field, words):
    base = load_scenario(ROOT / "scenarios" / "epstein_model1.toml").model_dump(mode="json")
    from minders.spec import apply_overrides

    with pytest.raises(ScenarioError) as info:
        validate_scenario(apply_overrides(base, overrides))
    assert info.value.field == field, str(info.value)
    assert words in str(info.value)


def test_legitimacy_changes_must_be_in_order():
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"kind": "epstein", "legitimacy": {"changes": [
            {"start": 10, "value": 0.5}, {"start": 5, "value": 0.4}]}})
    assert info.value.field == "legitimacy.changes.1.start"


def test_cli_reports_a_bad_classic_scenario_with_status_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('kind = "epstein"\n[citizens]\ndensity = 0.99\n[cops]\ndensity = 0.05\n')
    result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "cops.density" in result.output


@pytest.mark.parametrize(("data", "field", "value"), [
    ({"kind": "epstein", "run": {"steps": 350},
      "legitimacy": {"changes": [{"start": 400, "value": 0.5}]}},
     "legitimacy.changes.0.start", 400),
    ({"kind": "epstein", "run": {"steps": 350}, "legitimacy": {"changes": [
        {"start": 50, "value": 0.5}, {"start": 351, "value": 0.4}]}},
     "legitimacy.changes.1.start", 351),
    ({"kind": "kuran", "run": {"steps": 200}, "population": {"threshold": [0, 0.5, 1]},
      "shocks": [{"step": 500, "shift": -0.1}]}, "shocks.0.step", 500),
])
def test_events_outside_the_horizon_are_refused(data, field, value):
    with pytest.raises(ScenarioError) as info:
        validate_scenario(data)
    assert info.value.field == field, str(info.value)
    assert info.value.value == value
    steps = data["run"]["steps"]
    assert f"a step inside the horizon [1, {steps}]" in str(info.value)


def test_events_on_the_last_step_are_accepted():
    epstein = validate_scenario({"kind": "epstein", "run": {"steps": 350},
                                 "legitimacy": {"changes": [{"start": 350, "value": 0.5}]}})
    assert epstein.legitimacy.changes[0].start == 350
    kuran = validate_scenario({"kind": "kuran", "run": {"steps": 200},
                               "population": {"threshold": [0, 0.5, 1]},
                               "shocks": [{"step": 200, "shift": -0.1}]})
    assert kuran.shocks[0].step == 200


@pytest.mark.parametrize(("threshold", "field", "value"), [
    (1.5, "cascade.threshold", 1.5),
    (-0.5, "cascade.threshold", -0.5),
    ({"kind": "uniform", "low": -0.1, "high": 0.5}, "cascade.threshold.low", -0.1),
    ({"kind": "uniform", "low": 0.1, "high": 1.2}, "cascade.threshold.high", 1.2),
    ({"kind": "normal", "mean": 0.2, "sd": 0.05}, "cascade.threshold.low", None),
    ({"kind": "normal", "mean": 0.2, "sd": 0.05, "low": 0, "high": 2},
     "cascade.threshold.high", 2),
    ({"kind": "empirical", "values": [0.1, 1.1]}, "cascade.threshold.values.1", 1.1),
    ([0.1, 0.2, -0.3, 0.4], "cascade.threshold.values.2", -0.3),
])
def test_watts_threshold_is_a_share_in_0_1(threshold, field, value):
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"kind": "watts", "network": {"nodes": 4, "mean_degree": 2},
                           "cascade": {"threshold": threshold}})
    assert info.value.field == field, str(info.value)
    assert info.value.value == value
    assert "a value in [0, 1]" in str(info.value)


@pytest.mark.parametrize("threshold", [
    0.0, 1.0, 0.18, {"kind": "uniform", "low": 0, "high": 1}, [0, 0.5, 1, 0.2],
    {"kind": "normal", "mean": 0.2, "sd": 0.05, "low": 0, "high": 1},
])
def test_watts_thresholds_inside_0_1_are_accepted(threshold):
    scenario = validate_scenario({"kind": "watts", "network": {"nodes": 4, "mean_degree": 2},
                                  "cascade": {"threshold": threshold}})
    assert scenario.kind == "watts"
