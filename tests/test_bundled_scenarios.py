"""Every bundled scenario runs, keeps its invariants and behaves as its comments claim."""

from __future__ import annotations

import pytest

from minders import load_scenario, simulate

from .conftest import SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_bundled_scenario_runs_briefly_with_checks(path):
    scenario = load_scenario(path, ["run.check=true"])
    result = simulate(scenario, steps=6)
    assert result.records["step"].max() == 5
    assert set(result.records["tier"].astype(str)) == set(scenario.tiers)


def test_pyongyang_coup_sets_off_a_cascade_the_regime_did_not_measure():
    scenario = load_scenario(
        [p for p in SCENARIOS if p.stem == "pyongyang"][0],
        ["tiers.residents.size=30000", "run.steps=200"],
    )
    rec = simulate(scenario).records.query("tier == 'residents'")
    before = rec.query("100 <= step < 156")
    during = rec.query("156 <= step < 182")
    assert during["defections"].sum() > 5 * max(1, before["defections"].sum())
    assert during["measured_discontent"].max() > 5 * before["measured_discontent"].mean()
    # just before the coup, the regime's measurement sits far below the truth
    assert before["surprise_gap"].mean() > 0.05


def test_border_closure_cuts_defections():
    scenario = load_scenario([p for p in SCENARIOS if p.stem == "border_closure"][0],
                             ["tiers.borderlanders.size=30000"])
    rec = simulate(scenario).records.query("tier == 'borderlanders'")
    open_rate = rec.query("step < 104")["defections"].sum() / 104
    closed_rate = rec.query("130 <= step < 292")["defections"].sum() / 162
    reopened = rec.query("step >= 292")["defections"].sum() / (416 - 292)
    assert closed_rate < 0.3 * open_rate
    assert reopened > closed_rate
