"""Absurd sizes and non-numbers are refused when a classic scenario is loaded, naming the field.

Before these bounds, ``grid.width=10**12`` raised MemoryError, ``grid.width=10**6``
hung at 2.8 GB, ``network.nodes=10**12`` raised OverflowError and
``population.size=10**12`` MemoryError. Also: the one-line ``describe`` and
``shocks_after`` that ``minders validate`` and ``minders run --steps`` use.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from minders import kinds
from minders.errors import ScenarioError
from minders.kinds import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

REFUSED = [
    ("epstein_model1", ["grid.width=1000000000000"], "grid.width"),
    ("epstein_model1", ["grid.width=1000000"], "grid.width"),
    ("epstein_model1", ["grid.height=1000000"], "grid.height"),
    ("epstein_model1", ["run.steps=1000000000000"], "run.steps"),
    ("epstein_model1", ["cops.max_jail=1000000000000"], "cops.max_jail"),
    ("epstein_legitimacy_decline", ["legitimacy.changes.0.ramp=1000000000000"],
     "legitimacy.changes.0.ramp"),
    ("epstein_model1", ["grid.width=10000", "grid.height=10000", "run.max_memory_gb=1"], "grid"),
    ("epstein_model1", ["citizens.threshold=nan"], "citizens.threshold"),
    ("epstein_model1", ["citizens.arrest_constant=inf"], "citizens.arrest_constant"),
    ("epstein_model1", ["citizens.density=nan"], "citizens.density"),
    ("epstein_model1", ["legitimacy.initial=nan"], "legitimacy.initial"),
    ("epstein_legitimacy_drop", ["legitimacy.changes.0.value=nan"], "legitimacy.changes.0.value"),
    ("epstein_model1", ["citizens.hardship.high=inf"], "citizens.hardship.high"),
    ("epstein_model1", ["citizens.risk_aversion.low=nan"], "citizens.risk_aversion.low"),
    ("watts_er", ["network.nodes=1000000000000"], "network.nodes"),
    ("watts_er", ["network.nodes=90000000", "run.max_memory_gb=1"], "network"),
    ("watts_er", ["network.mean_degree=nan"], "network.mean_degree"),
    ("watts_er", ["cascade.threshold=nan"], "cascade.threshold"),
    ("watts_er", ["cascade.seed_nodes=1000000000000"], "cascade.seed_nodes"),
    ("granovetter_normal", ["population.size=1000000000000"], "population.size"),
    ("granovetter_normal", ["population.size=100000000", "run.max_memory_gb=1"],
     "population.size"),
    ("granovetter_normal", ["population.threshold.mean=nan"], "population.threshold.mean"),
    ("granovetter_riot", ["population.threshold.0=nan"], "population.threshold"),
    ("granovetter_riot", ["run.steps=1000000000000"], "run.steps"),
    ("kuran_revolution", ["population.size=1000000000000"], "population.size"),
    ("kuran_revolution", ["population.threshold.sd=inf"], "population.threshold.sd"),
    ("kuran_revolution", ["initial_public=nan"], "initial_public"),
    ("kuran_revolution", ["shocks.0.shift=nan"], "shocks.0.shift"),
    ("kuran_revolution", ["shocks.0.step=1000000000000"], "shocks.0.step"),
]


@pytest.mark.parametrize(("file", "overrides", "field"), REFUSED,
                         ids=lambda v: v if isinstance(v, str) else "-".join(v))
def test_absurd_or_non_finite_values_are_refused_naming_the_field(file, overrides, field):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(SCENARIOS / f"{file}.toml", overrides)
    assert caught.value.field.startswith(field), str(caught.value)


def test_the_list_threshold_error_names_the_entry():
    with pytest.raises(ScenarioError, match=r"values\.0: expected a finite number, got nan"):
        load_scenario(SCENARIOS / "granovetter_riot.toml", ["population.threshold.0=nan"])


@pytest.mark.parametrize("file", ["epstein_model1", "watts_er", "granovetter_normal",
                                  "kuran_revolution"])
def test_a_horizon_too_long_for_memory_is_refused_before_running(file):
    scenario = load_scenario(SCENARIOS / f"{file}.toml")
    with pytest.raises(ScenarioError) as caught:
        kinds.simulate(scenario, steps=10**12)
    assert caught.value.field == "run.steps"


@pytest.mark.parametrize("file", ["epstein_model1", "watts_er", "granovetter_riot",
                                  "kuran_revolution"])
def test_a_generous_memory_limit_accepts_the_bundled_scenarios(file):
    scenario = load_scenario(SCENARIOS / f"{file}.toml", ["run.max_memory_gb=0.5"])
    assert 0 < scenario.estimate_bytes() < 2**29


DESCRIBED = {
    "epstein_model1": "epstein scenario 'epstein_model1', 40x40 grid, 1,120 citizens, 64 cops, "
                      "500 steps, ~1 MiB",
    "granovetter_riot": "granovetter scenario 'granovetter_riot', 100 people, thresholds as "
                        "counts, 1,000 steps at most, ~1 MiB",
    "watts_er": "watts scenario 'watts_er', Erdos-Renyi graph of 10,000 nodes (mean degree 4), "
                "1 seed node, 1,000 steps at most, ~3 MiB",
    "kuran_revolution": "kuran scenario 'kuran_revolution', 10,000 people, 1 shock, 200 steps "
                        "at most, ~1 MiB",
}


@pytest.mark.parametrize("file", list(DESCRIBED))
def test_describe_is_one_line(file):
    assert load_scenario(SCENARIOS / f"{file}.toml").describe() == DESCRIBED[file]


def test_per_cell_placement_describes_expected_counts():
    scenario = load_scenario(SCENARIOS / "epstein_model1.toml", ["conventions.placement=per_cell"])
    assert "~1,120 citizens, ~64 cops" in scenario.describe()


def test_shocks_after_lists_what_a_shorter_run_misses():
    kuran = load_scenario(SCENARIOS / "kuran_revolution.toml")
    assert kuran.shocks_after(2) == ["thresholds fall by 0.01"]
    assert kuran.shocks_after(30) == []  # the shift at step 30 acts on update 30
    drop = load_scenario(SCENARIOS / "epstein_legitimacy_drop.toml")
    assert drop.shocks_after(49) == ["legitimacy to 0.5 at step 50"]
    assert drop.shocks_after(50) == []
    decline = load_scenario(SCENARIOS / "epstein_legitimacy_decline.toml")
    assert decline.shocks_after(10) == ["legitimacy to 0.5 from step 50 (over 250 steps)"]
    for file in ("epstein_model1", "watts_er", "granovetter_riot", "granovetter_normal"):
        assert load_scenario(SCENARIOS / f"{file}.toml").shocks_after(1) == []


def test_a_shorter_run_still_gives_the_same_records_with_and_without_the_shock():
    # shocks after the horizon do not happen: the records of a 20-step run are a prefix
    kuran = load_scenario(SCENARIOS / "kuran_revolution.toml")
    short = kinds.simulate(kuran, steps=20).records
    full = kinds.simulate(kuran).records
    assert short["active"].tolist() == full["active"].iloc[: len(short)].tolist()


@pytest.mark.parametrize(("file", "override", "field"), [
    ("epstein_model1", "grid.width=1000000000000", "grid.width"),
    ("watts_er", "network.nodes=1000000000000", "network.nodes"),
    ("granovetter_normal", "population.size=1000000000000", "population.size"),
])
def test_minders_validate_prints_one_line_and_exits_2(file, override, field):
    from typer.testing import CliRunner

    from minders.cli import app

    result = CliRunner().invoke(app, ["validate", str(SCENARIOS / f"{file}.toml"),
                                      "--set", override])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and field in result.output
