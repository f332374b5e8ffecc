"""The dashboard's controller, without a browser: edits, runs, polls, compare mode, exports."""

from __future__ import annotations

import copy
import tomllib

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import minders
from minders.cli import app
from minders.codes import JAILED, PURGED, STATUS_NAMES
from minders.dashboard.state import (
    MAX_UPLOAD_BYTES,
    NETWORK_SAMPLE,
    DashboardState,
    bundled_scenarios,
    diff_overrides,
    flatten,
    parse_upload,
    records_digest,
    sample_nodes,
    totals,
)
from minders.errors import ScenarioError
from minders.kinds import validate_scenario
from minders.scenario import Scenario
from minders.spec import apply_overrides

from ..conftest import ROOT
from .conftest import SMALL

runner = CliRunner()


def expected_records(data, overrides=None) -> pd.DataFrame:
    """What ``minders run`` records for the same scenario, overrides and seed."""
    spec = Scenario.model_validate(apply_overrides(copy.deepcopy(data), overrides or {}))
    return minders.simulate(spec).records


# --------------------------------------------------------------------------- runs
def test_a_run_in_the_dashboard_records_what_minders_run_records(state, small_data):
    assert state.status == "ready" and state.t == 0
    assert state.step(5) == 5 and state.status == "paused"
    assert state.step(100) == 7 and state.status == "done"  # stops at the horizon
    assert state.step() == 0
    expected = expected_records(small_data)
    pd.testing.assert_frame_equal(state.records(), expected)
    snap = state.snapshot()
    assert snap["records_digest"] == records_digest(expected)
    assert snap["step"] == snap["steps"] == 12 and snap["seed"] == 3
    residents = expected[expected["tier"] == "residents"]
    assert snap["tiers"]["residents"]["defections"] == residents["defections"].sum()
    assert snap["tiers"]["residents"]["loyal"] == residents["loyal"].iloc[-1]


def test_polls_hand_out_each_row_once_with_running_totals(state, small_data):
    first = state.poll()
    assert first.reset and first.rows.empty  # the world is not built until it runs
    parts, resets = [], []
    for n in (1, 3, 0, 8):
        state.step(n)  # the first step builds the world: a reset for the charts
        update = state.poll()
        assert update.baseline is None
        parts.append(update.rows)
        resets.append(update.reset)
    assert resets == [True, False, False, False]
    polled = pd.concat(parts, ignore_index=True)
    expected = expected_records(small_data)
    pd.testing.assert_frame_equal(polled[expected.columns], expected)
    for flow in ("defections", "purges", "attempts"):
        cumulative = expected.groupby("tier", observed=True)[flow].cumsum()
        np.testing.assert_array_equal(polled[f"cum_{flow}"], cumulative)
    state.reset()
    again = state.poll()
    assert again.reset and again.rows.empty


def test_seed_and_horizon_are_scenario_fields(state, small_data):
    assert state.set("run.seed", 9) is None and state.set("run.steps", 9) is None
    state.step(100)
    assert state.t == 9
    pd.testing.assert_frame_equal(
        state.records(), expected_records(small_data, {"run.seed": 9, "run.steps": 9}))


def test_a_valid_edit_drops_the_world_and_the_next_run_uses_it(state, small_data):
    state.step(4)
    state.set("tiers.residents.span", 40)
    assert state.sim is None and state.t == 0 and state.poll().reset
    state.step(12)
    pd.testing.assert_frame_equal(
        state.records(), expected_records(small_data, {"tiers.residents.span": 40}))


def test_an_edit_that_changes_nothing_keeps_the_world(state):
    state.step(3)
    assert state.set("tiers.residents.span", 20) is None  # the value it already has
    assert state.t == 3


# --------------------------------------------------------------------------- validation
CASES = [
    ("model.watch_capacity", 0, "model.watch_capacity=0"),
    ("tiers.residents.span", 0, "tiers.residents.span=0"),
    ("tiers.residents.abroad", 1.5, "tiers.residents.abroad=1.5"),
    ("tiers.residents.size", "lots", "tiers.residents.size=lots"),
    ("tiers.minders.minded_by", "nobody", "tiers.minders.minded_by=nobody"),
    ("shocks.0.end", 2, "shocks.0.end=2"),
    ("run.steps", 5, "run.steps=5"),
    ("tiers.residents.hardship.high", -1, "tiers.residents.hardship.high=-1"),
]


@pytest.mark.parametrize(("path", "value", "override"), CASES)
def test_an_invalid_edit_is_refused_with_the_message_of_the_cli(state, tmp_path, path, value,
                                                                 override):
    from minders.dashboard.export import to_toml

    file = tmp_path / "small.toml"
    file.write_text(to_toml(state.data))  # every field written out, as the form shows it
    cli = runner.invoke(app, ["validate", str(file), "--set", override],
                        env={"COLUMNS": "400"})
    assert cli.exit_code == 2
    message = state.set(path, value)
    assert message is not None and state.error == message and state.status == "invalid"
    assert f"error: {message}" in " ".join(cli.output.split())
    # An invalid scenario does not run; the last valid one is kept, the edit is shown.
    assert state.step() == 0 and not state.play()
    assert state.get(path) == value
    assert state.scenario.scenario_hash() == validate_scenario(SMALL).scenario_hash()


def test_fixing_the_value_clears_the_error(state):
    state.set("model.watch_capacity", 0)
    assert state.set("model.watch_capacity", 5) is None
    assert state.valid and state.status == "ready" and state.step(2) == 2


def test_a_world_that_cannot_be_built_is_a_failure_not_a_crash(state):
    assert state.set("run.max_memory_gb", 1e-9) is None  # valid, but nothing fits
    assert not state.reset()
    assert state.status == "failed" and "fits in" in state.failure
    assert state.step() == 0 and not state.play()
    state.set("run.max_memory_gb", None)
    assert state.status == "ready" and state.step() == 1


def test_an_error_while_stepping_is_reported_and_pauses(state, monkeypatch):
    state.play()
    state.step()

    def broken(self):
        raise FloatingPointError("boom")

    monkeypatch.setattr(minders.Simulation, "step", broken)
    assert state.step(3) == 0
    assert state.status == "failed" and state.failure == "FloatingPointError: boom"
    assert not state.playing
    monkeypatch.undo()
    assert state.reset() and state.step() == 1  # Reset recovers


def test_play_pause_and_start_over(state):
    assert state.play() and state.status == "running"
    state.pause()
    assert state.status == "ready"
    state.play()
    state.step(100)
    assert state.status == "done" and not state.playing
    assert state.play() and state.t == 0  # a finished run starts over


# --------------------------------------------------------------------------- compare mode
def test_compare_mode_runs_baseline_and_variant_with_the_same_seed(state, small_data):
    state.pin_baseline()
    state.set("tiers.residents.span", 40)
    state.set("run.seed", 7)  # shared by both: common random numbers
    assert state.overrides() == ["tiers.residents.span=40"]
    state.step(12)
    update = state.poll()
    assert update.baseline is not None and len(update.baseline) == len(update.rows)
    pd.testing.assert_frame_equal(
        state.baseline_records(), expected_records(small_data, {"run.seed": 7}))
    pd.testing.assert_frame_equal(
        state.records(),
        expected_records(small_data, {"run.seed": 7, "tiers.residents.span": 40}))
    table = state.comparison()
    row = table[(table["tier"] == "residents") & (table["outcome"] == "defections")].iloc[0]
    assert row["difference"] == row["variant"] - row["baseline"]
    assert state.snapshot()["baseline"]["overrides"] == ["tiers.residents.span=40"]
    state.unpin_baseline()
    assert not state.comparing and state.twin is None and state.overrides() == []


def test_an_unchanged_variant_is_identical_to_its_baseline(state):
    state.pin_baseline()
    state.step(12)
    assert records_digest(state.records()) == records_digest(state.baseline_records())
    assert set(state.comparison()["difference"]) == {0}


def test_an_invalid_scenario_cannot_be_pinned(state):
    state.set("model.shirk", 3)
    with pytest.raises(ScenarioError, match="valid scenario"):
        state.pin_baseline()


def test_diff_overrides_lists_changes_additions_and_removals():
    base = {"run": {"seed": 1, "steps": 5}, "model": {"fear_per_event": 0.02},
            "tiers": {"a": {"span": 3, "hardship": {"kind": "constant", "value": 0.5}}},
            "shocks": [{"kind": "pull", "value": 0.1}]}
    variant = copy.deepcopy(base)
    variant["run"]["seed"] = 2  # shared with the twin: not a difference
    variant["tiers"]["a"]["hardship"] = {"kind": "uniform", "low": 0.0, "high": 1.0}
    variant["shocks"] = []
    variant["name"] = "x"
    assert diff_overrides(base, variant) == [
        'tiers.a.hardship={ kind = "uniform", low = 0.0, high = 1.0 }',
        "shocks.0: removed", "shocks: added", "name: added",
    ]
    assert flatten({"tiers": {"a": {"hardship": {"kind": "constant", "value": 1}}}}) == {
        "tiers.a.hardship": {"kind": "constant", "value": 1}}


# --------------------------------------------------------------------------- views
def test_hierarchy_counts_add_up_and_show_unwatched_wards(state):
    table = state.hierarchy()
    assert list(table["tier"]) == ["residents", "minders", "security"]
    assert list(table["level"]) == [2, 1, 0]
    assert (table["loyal"] == table["positions"]).all()  # before the world is built
    state.step(3)
    table = state.hierarchy().set_index("tier")
    assert (table[list(STATUS_NAMES)].sum(axis=1) == table["positions"]).all()
    # Take one minder out of post: its wards in post are now watched by informers only.
    pop = state.sim.population
    boss = int(np.flatnonzero(pop.is_minder & (pop.tier == 1))[0])
    pop.status[boss] = PURGED
    wards = slice(int(pop.ward_start[boss]), int(pop.ward_end[boss]))
    in_post = int((pop.status[wards] < JAILED).sum())
    before = int(table.loc["residents", "unwatched"])
    after = state.hierarchy().set_index("tier").loc["residents", "unwatched"]
    assert after >= in_post and after <= before + in_post


def test_network_sample_is_small_fixed_and_consistent():
    big = copy.deepcopy(SMALL)
    big["tiers"]["residents"]["size"] = 20_000
    state = DashboardState(big)
    assert state.network_sample() is None and state.network_status().size == 0
    state.reset()
    sample = state.network_sample()
    assert sample.nodes.size == NETWORK_SAMPLE == len(np.unique(sample.nodes))
    assert sample is state.network_sample()  # laid out once per world
    assert sample.edges.size and sample.edges.max() < NETWORK_SAMPLE
    assert np.isfinite(sample.x).all() and np.isfinite(sample.y).all()
    graph = state.sim.graph
    u, v = sample.nodes[sample.edges[:, 0]], sample.nodes[sample.edges[:, 1]]
    assert all(b in graph.neighbours(int(a)) for a, b in zip(u[:50], v[:50], strict=True))
    state.step(2)
    np.testing.assert_array_equal(state.network_status(),
                                  state.sim.population.status[sample.nodes])
    again = DashboardState(big)
    again.reset()
    np.testing.assert_array_equal(again.network_sample().nodes, sample.nodes)


def test_sample_nodes_takes_everything_from_a_small_graph():
    indptr = np.array([0, 1, 2])
    indices = np.array([1, 0])
    assert sample_nodes(indptr, indices, 300, seed=0).tolist() == [0, 1]


# --------------------------------------------------------------------------- scenarios in
def test_bundled_scenarios_are_the_minders_ones(tmp_path):
    found = bundled_scenarios()
    assert {"pyongyang", "border_closure", "overseas_workers"} <= set(found)
    (tmp_path / "classic.toml").write_text('kind = "epstein"\n')
    (tmp_path / "broken.toml").write_text("this is not toml [")
    (tmp_path / "mine.toml").write_text((ROOT / "scenarios" / "pyongyang.toml").read_text())
    assert list(bundled_scenarios([tmp_path])) == ["mine"]


def test_an_uploaded_file_is_validated_like_the_cli():
    text = (ROOT / "scenarios" / "overseas_workers.toml").read_bytes()
    spec = parse_upload("mine.toml", text)
    assert spec.scenario_hash() == minders.load_scenario(
        ROOT / "scenarios" / "overseas_workers.toml").scenario_hash()
    yaml_text = b"tiers:\n  residents: {size: 50, minded_by: minders, span: 5}\n" \
                b"  minders: {size: auto}\n"
    assert parse_upload("w.yaml", yaml_text).tier_sizes() == {"residents": 50, "minders": 10}


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("big.toml", b"#" * (MAX_UPLOAD_BYTES + 1), "a file of at most 1024 KiB"),
    ("x.json", b"{}", "a .toml, .yaml or .yml file"),
    ("x.toml", b"\xff\xfe", "a UTF-8 text file"),
    ("x.toml", b"name = ", "valid TOML"),
    ("x.yaml", b"- a\n- b\n", "a mapping of sections"),
    ("x.toml", b'kind = "epstein"\n', "kind: expected"),
    ("x.toml", b'[network]\nfile = "/etc/passwd"\n', "no graph file in an uploaded scenario"),
    ("../../x.toml", b"[model]\nshirk = 2\n", "model.shirk: expected a value less than"),
])
def test_an_upload_is_refused_with_a_reason(name, content, expected):
    with pytest.raises(ScenarioError, match=expected.replace(".", r"\.").replace("(", r"\(")):
        parse_upload(name, content)


def test_load_replaces_the_scenario_and_leaves_compare_mode(state):
    state.pin_baseline()
    state.step(2)
    other = minders.load_scenario(ROOT / "scenarios" / "overseas_workers.toml")
    state.load(other, source="overseas_workers")
    assert state.scenario is other and not state.comparing and state.sim is None
    assert state.source == "overseas_workers" and state.data["name"] == "overseas_workers"
    classic = minders.load_scenario(ROOT / "scenarios" / "granovetter_riot.toml")
    with pytest.raises(ScenarioError, match="kind: expected 'minders'"):
        state.load(classic)


# --------------------------------------------------------------------------- scenarios out
def test_the_exported_scenario_reproduces_the_run_with_minders_run(state, tmp_path):
    state.set("tiers.residents.span", 25)
    state.set("run.seed", 11)
    state.set("tiers.residents.hardship", {"kind": "beta", "a": 2.0, "b": 3.0,
                                           "low": 0.0, "high": 1.0})
    state.set_shocks([{"kind": "pull", "start": 2, "end": None, "value": 0.2,
                       "tiers": ["residents"], "ramp": 1, "label": "a \"call\" to defect"}])
    assert state.valid, state.error
    state.step(12)
    file = tmp_path / "exported.toml"
    file.write_text(state.to_toml())
    assert tomllib.loads(file.read_text())["run"]["seed"] == 11
    result = runner.invoke(app, ["run", str(file), "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.output
    written = pd.read_parquet(tmp_path / "out" / "records.parquet")
    pd.testing.assert_frame_equal(written, state.records(), check_categorical=False)
    assert records_digest(state.records()) == state.snapshot()["records_digest"]


@pytest.mark.parametrize("path", sorted(bundled_scenarios([ROOT / "scenarios"]).values()),
                         ids=lambda p: p.stem)
def test_every_bundled_scenario_survives_the_round_trip_through_toml(path):
    state = DashboardState(minders.load_scenario(path))
    again = validate_scenario(tomllib.loads(state.to_toml()))
    assert again.scenario_hash() == state.scenario.scenario_hash()


def test_totals_of_no_records_are_empty():
    assert totals(pd.DataFrame()) == {}
