"""Epstein (2002) Model II: two groups, inter-group killing, peacekeepers.

The paper's findings: without peacekeepers, ethnic cleansing; peacekeepers stop
the killing only above a critical density (too few fail nearly as badly as none).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minders import kinds
from minders.classic.epstein import model2 as M
from minders.errors import ScenarioError
from minders.kinds import load_scenario

MODEL2 = Path(__file__).resolve().parents[2] / "scenarios" / "epstein_model2.toml"


def smaller_group_surviving(density: float, seed: int, steps: int = 200) -> tuple[float, int]:
    """Surviving share of the group that lost most, and the killings after step 100."""
    scenario = load_scenario(MODEL2, [f"peacekeepers.density={density}"])
    rec = M.simulate(scenario, seed=seed, steps=steps).records
    start = rec.loc[0, "blue"]
    return min(rec["blue"].iloc[-1], rec["green"].iloc[-1]) / start, int(rec["killed"][101:].sum())


def test_peacekeepers_stop_the_killing_only_above_a_critical_density():
    densities = (0.0, 0.02, 0.05, 0.08, 0.12)
    surviving = {d: [smaller_group_surviving(d, seed) for seed in range(3)] for d in densities}
    share = {d: [s for s, _ in runs] for d, runs in surviving.items()}
    assert max(share[0.0]) < 0.05  # no peacekeepers: one group is all but wiped out
    assert max(share[0.02]) < 0.35  # too few: the killing goes on
    for d in (0.08, 0.12):  # enough: both groups keep over 90%, and the killing stops
        assert min(share[d]) > 0.9, d
        assert max(k for _, k in surviving[d]) < 25, d
    medians = [np.median(share[d]) for d in densities]
    assert medians == sorted(medians)


def test_records_add_up_and_the_grid_stays_consistent():
    scenario = load_scenario(MODEL2, ["peacekeepers.density=0.05", "peacekeepers.max_jail=5",
                                      "grid.width=20", "grid.height=20"])
    rec = M.simulate(scenario, seed=4, steps=60).records
    blue, green, _ = scenario.agent_counts()
    lost = (blue - rec["blue"]) + (green - rec["green"])
    np.testing.assert_array_equal(lost.to_numpy(), np.cumsum(rec["killed"].to_numpy()))
    assert rec["killed"].sum() > 0 and rec["jailed"].max() > 0
    assert (rec["active"] + rec["jailed"] <= rec["blue"] + rec["green"]).all()
    again = M.simulate(scenario, seed=4, steps=60).records
    assert rec.equals(again)
    assert not rec.equals(M.simulate(scenario, seed=5, steps=60).records)


def test_finite_terms_let_the_undeterred_come_back_and_kill_again():
    # a few agents kill whatever the risk (R < G - T): jailed for good, the killing ends
    endless = smaller_group_surviving(0.12, seed=1, steps=300)
    scenario = load_scenario(MODEL2, ["peacekeepers.density=0.12", "peacekeepers.max_jail=30"])
    rec = M.simulate(scenario, seed=1, steps=300).records
    assert rec["killed"][101:].sum() > 5 * max(endless[1], 1)


def test_the_kind_runs_through_the_common_interfaces():
    scenario = load_scenario(MODEL2)
    assert kinds.get("epstein2").scenario_class is M.EpsteinModel2Scenario
    result = kinds.simulate(scenario, seed=2, steps=30)
    table = kinds.get("epstein2").summary(result)
    assert table.loc["blue", "start"] == 560 and set(table.columns) >= {"final", "killed"}
    assert "560 blues, 560 greens, 0 peacekeepers" in scenario.describe()


@pytest.mark.parametrize(("overrides", "field", "words"), [
    (["agents.green_density=0.7"], "agents.green_density", "1 - agents.blue_density"),
    (["peacekeepers.density=0.4"], "peacekeepers.density", "the groups leave free"),
    (["peacekeepers.max_jail=-3"], "peacekeepers.max_jail", "or 'inf'"),
    (["grid.width=12"], "grid.width", "2 * vision + 1"),
    (["legitimacy.blue=1.5"], "legitimacy.blue", "1"),
    (["conventions.arrest_ratio=median"], "conventions.arrest_ratio", "'netlogo'"),
])
def test_bad_values_name_the_field(overrides, field, words):
    with pytest.raises(ScenarioError) as info:
        load_scenario(MODEL2, overrides)
    assert info.value.field == field, str(info.value)
    assert words in str(info.value)
