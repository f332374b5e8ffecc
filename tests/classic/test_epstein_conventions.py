"""Epstein Model I: the conventions presets, NetLogo's jail terms, endless terms, the cop schedule.

Behaviour checked against what the implementations are known to do: NetLogo
Rebellion's terms (``random max-jail-term``, counted down at the end of each
tick) turn the intermittent outbursts of J_max = 10 into one endless outburst;
at its defaults (J_max = 30) NetLogo shows the paper's punctuated equilibrium.
Cutting the cops sets off lasting rebellion, and putting them back ends it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minders.classic import epstein as E
from minders.errors import ScenarioError
from minders.kinds import load_scenario, validate_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
MODEL1 = SCENARIOS / "epstein_model1.toml"


def active(overrides: list[str], seed: int, steps: int) -> np.ndarray:
    return E.simulate(load_scenario(MODEL1, overrides), seed=seed, steps=steps).records[
        "active"].to_numpy()


# --------------------------------------------------------------------------- presets
def test_presets_set_every_convention_and_fields_beside_them_override():
    fields = set(E.EpsteinConventions.model_fields) - {"preset"}
    for name, preset in E.PRESETS.items():
        assert set(preset) == fields, name
        short = E.EpsteinScenario.model_validate({"conventions": name}).conventions
        assert short.model_dump() == {"preset": name, **preset}
    # the defaults are the paper's preset, and the bundled Model I scenario NetLogo's
    assert E.EpsteinConventions().model_dump(exclude={"preset"}) == E.PRESETS["epstein"]
    bundled = load_scenario(MODEL1).conventions
    assert bundled.jail_term == "inclusive"  # the paper's terms, kept since before presets
    assert bundled.model_dump(exclude={"preset", "jail_term"}) == {
        k: v for k, v in E.PRESETS["netlogo"].items() if k != "jail_term"}
    mixed = E.EpsteinScenario.model_validate(
        {"conventions": {"preset": "mesa", "order": "move_then_act"}}).conventions
    assert (mixed.arrest_ratio, mixed.order, mixed.jail_holds_cell) == (
        "mesa", "move_then_act", True)
    # a preset under a table keeps the fields the file gives; conventions = "..." replaces them
    kept = load_scenario(MODEL1, ["conventions.preset=mesa"]).conventions
    assert (kept.arrest_ratio, kept.jail_term) == ("netlogo", "inclusive")
    assert load_scenario(MODEL1, ["conventions=mesa"]).conventions.arrest_ratio == "mesa"
    again = E.EpsteinScenario.model_validate(
        E.EpsteinScenario.model_validate({"conventions": "netlogo"}).model_dump())
    assert again.conventions.jail_term == "netlogo"


@pytest.mark.parametrize(("overrides", "field", "words"), [
    (["conventions=netlog"], "conventions.preset", "'netlogo'"),
    (["conventions.preset=paper"], "conventions.preset", "'epstein'"),
    (["conventions.jail_term=served"], "conventions.jail_term", "'inclusive'"),
    (["cops.max_jail=-1"], "cops.max_jail", "or 'inf'"),
    (["cops.max_jail=10000001"], "cops.max_jail", "[0, 10000000]"),
    (["cops.max_jail=2.5"], "cops.max_jail", "or 'inf'"),
    (["cops.max_jail=forever"], "cops.max_jail", "or 'inf'"),
    (["cops.schedule=[{step=0, change=-5}]"], "cops.schedule.0.step", "1"),
    (["cops.schedule=[{step=600, change=-5}]"], "cops.schedule.0.step", "[1, 500]"),
    (["cops.schedule=[{step=10, change=0}]"], "cops.schedule.0.change", "non-zero"),
    (["cops.schedule=[{step=10, change=-65}]"], "cops.schedule.0.change", "at most 64"),
    (["cops.schedule=[{step=10, change=-4}, {step=20, change=500}]"],
     "cops.schedule.1.change", "at most 420 cops added"),
    (["cops.schedule=[{step=20, change=-4}, {step=10, change=4}]"],
     "cops.schedule.1.step", ">= the previous"),
])
def test_bad_values_get_one_line_errors_naming_the_field(overrides, field, words):
    with pytest.raises(ScenarioError) as info:
        load_scenario(MODEL1, overrides)
    assert info.value.field == field, str(info.value)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_max_jail_inf_from_toml_or_a_string_jails_for_good():
    for spelling in ("cops.max_jail=inf", 'cops.max_jail="inf"'):
        assert load_scenario(MODEL1, [spelling]).cops.max_jail == "inf"
    scenario = load_scenario(MODEL1, ["cops.max_jail=inf"])
    jailed = E.simulate(scenario, seed=3, steps=150).records["jailed"].to_numpy()
    assert jailed[-1] > 100 and (np.diff(jailed) >= 0).all()  # nobody ever comes back


# --------------------------------------------------------------------------- NetLogo's terms
def test_netlogo_terms_turn_intermittent_outbursts_into_an_endless_one_at_jmax_10():
    for seed in (0, 1):
        # the bundled scenario has NetLogo's conventions but for its jail terms
        netlogo = active(["conventions.jail_term=netlogo", "cops.max_jail=10"], seed, 400)
        served = active(["cops.max_jail=10"], seed, 400)
        assert netlogo[100:].min() >= 100, seed  # one outburst that never ends
        assert len(E.outbursts(netlogo[100:], 100)) == 1
        assert len(E.outbursts(served[100:], 100)) >= 10, seed  # outbursts come and go


def test_netlogo_preset_at_its_defaults_shows_punctuated_equilibrium():
    for seed in (0, 1):
        series = active(["conventions=netlogo"], seed, 500)
        assert len(E.outbursts(series, 100)) >= 8, seed
        assert np.median(series) <= 5, seed


def test_netlogo_terms_are_drawn_below_jmax_and_zero_or_one_never_count_as_jailed():
    scenario = load_scenario(MODEL1, ["conventions=netlogo", "cops.max_jail=3"])
    world = E.build_world(scenario, seed=5)
    layout, rules, state = E.kernel_inputs(scenario, world, seed=5)
    legitimacy = np.full(61, 0.5)
    counts = np.zeros((61, 3), dtype=np.int64)
    for t in range(1, 61):
        E.run_steps(t, t, legitimacy, layout, rules, state, counts)
        jailed = world.status[: world.n_citizens] == E.JAILED
        assert (world.jail_left[: world.n_citizens][jailed] >= 1).all()
        assert (world.jail_left[: world.n_citizens][jailed] <= 1).all()  # 0..2, less one
    assert counts[1:, E.JAILED].max() > 0


# --------------------------------------------------------------------------- the cop schedule
def test_cutting_the_cops_sets_off_lasting_rebellion_and_restoring_them_ends_it():
    schedule = "cops.schedule=[{step=150, change=-40}, {step=300, change=40}]"
    for seed in (0, 1):
        base = E.simulate(load_scenario(MODEL1), seed=seed, steps=450).records
        cut = E.simulate(load_scenario(MODEL1, [schedule]), seed=seed, steps=450).records
        # the same run until the cut (common random numbers)
        np.testing.assert_array_equal(cut.iloc[:150, :5].to_numpy(), base.iloc[:150].to_numpy())
        assert cut["cops"].tolist() == [64] * 150 + [24] * 150 + [64] * 151
        assert np.median(cut["active"][150:300]) > 80 > np.median(base["active"][150:300])
        assert np.median(cut["active"][320:]) < 10


def test_the_grid_stays_consistent_through_removals_and_additions():
    scenario = load_scenario(MODEL1, [
        "conventions.preset=mesa", "grid.width=20", "grid.height=20", "citizens.vision=3",
        "cops.vision=3", "cops.schedule=[{step=5, change=-10}, {step=9, change=30}, "
        "{step=12, change=-25}]"])
    result = E.simulate(scenario, seed=2, steps=15)
    cops = result.records["cops"].to_numpy()
    start = cops[0]
    assert cops.tolist() == [start] * 5 + [start - 10] * 4 + [start + 20] * 3 + [start - 5] * 4
    world = E.build_world(scenario, seed=2)
    assert world.n_agents - world.n_citizens == start + 20  # slots for the peak
    rng = np.random.default_rng(0)
    for change in scenario.cops.schedule:
        on_duty = E.change_cops(world, change, rng)
        placed = np.flatnonzero(world.on_grid)
        np.testing.assert_array_equal(world.occupant[world.cell[placed]], placed)
        assert on_duty == np.count_nonzero(world.status == E.COP)
    assert scenario.shocks_after(8) == ["30 cops added at step 9", "25 cops removed at step 12"]


def test_a_schedule_of_removals_only_keeps_the_world_of_before():
    scenario = validate_scenario({"kind": "epstein", "cops": {"schedule": [
        {"step": 3, "change": -5}]}})
    plain = E.build_world(E.EpsteinScenario(), seed=4)
    world = E.build_world(scenario, seed=4)
    np.testing.assert_array_equal(world.cell, plain.cell)
    np.testing.assert_array_equal(world.weight, plain.weight)
