"""Kuran (1991) preference falsification: the ten-person society and a surprise revolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from minders.classic.kuran import KuranScenario, simulate, summary
from minders.errors import ScenarioError
from minders.kinds import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[2]
TEN = [0, 0.2, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0]


def test_ten_person_society_one_threshold_lowered_sets_off_a_revolution():
    """Kuran (1991), pp. 18-20 (the ten-person society): thresholds 0, 20, 20, 30, ..., 80,
    100 percent hold public opposition at 10%; lower the second person's threshold from 20
    to 10 and opposition cascades to 90% (exact)."""
    s = KuranScenario.model_validate({
        "population": {"threshold": TEN},
        "shocks": [{"step": 5, "shift": -0.1, "agents": [1]}],
    })
    share = simulate(s).records["active_share"].tolist()
    assert share[:5] == [0.0, 0.1, 0.1, 0.1, 0.1]
    assert share[5:] == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9])
    no_shock = KuranScenario.model_validate({"population": {"threshold": TEN}})
    assert simulate(no_shock).records["active_share"].iloc[-1] == pytest.approx(0.1)


def test_small_threshold_shift_turns_near_zero_public_opposition_into_near_total():
    """Kuran (1991), 'the element of surprise': thresholds near the tipping point of
    S(t+1) = F(S(t)) (normal, mean 0.22, sd 0.1): public opposition rests below 3% while
    62.5% oppose in private; lowering every threshold by 0.01 brings everyone out."""
    scenario = load_scenario(ROOT / "scenarios" / "kuran_revolution.toml")
    rec = simulate(scenario).records
    before = rec.query("step < 30")
    assert before["active_share"].max() < 0.03
    assert rec["active_share"].iloc[-1] > 0.99
    assert (rec["private_share"] == 0.625).all()  # private opposition never moved
    table = summary(simulate(scenario))
    assert table["hidden_before"].item() > 0.59  # what an observer of S could not see
    calm = scenario.with_overrides(["shocks.0.shift=0.0"])
    assert simulate(calm).records["active_share"].iloc[-1] < 0.03


def test_default_private_preference_is_one_minus_threshold():
    s = KuranScenario.model_validate({"population": {"threshold": [0.1, 0.4, 0.6, 0.9]}})
    assert simulate(s).records["private_share"].iloc[0] == 0.5  # 1 - t > 0.5 for 0.1, 0.4


def test_initial_public_opposition_can_collapse():
    s = KuranScenario.model_validate({"population": {"threshold": [0.5] * 10},
                                      "initial_public": 0.4})
    assert simulate(s).records["active_share"].tolist() == [0.4, 0.0, 0.0]


def test_same_seed_same_records():
    s = KuranScenario.model_validate({"population": {
        "size": 300, "threshold": {"kind": "uniform", "low": 0, "high": 0.6}}})
    assert simulate(s, seed=8).records.equals(simulate(s, seed=8).records)


@pytest.mark.parametrize(("data", "field"), [
    ({"population": {"threshold": TEN}, "shocks": [{"step": 2, "shift": 0.1, "agents": [10]}]},
     "shocks.0.agents"),
    ({"population": {"threshold": TEN, "private_preference": [0.5]}},
     "population.private_preference"),
    ({"population": {"threshold": TEN}, "initial_public": 1.5}, "initial_public"),
    ({"population": {"threshold": TEN}, "shocks": [{"step": 0, "shift": 0.1}]},
     "shocks.0.step"),
])
def test_bad_scenarios_name_the_field(data, field):
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"kind": "kuran", **data})
    assert info.value.field == field, str(info.value)
