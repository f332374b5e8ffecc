"""Per-unit series add up to the records of the same run."""

from __future__ import annotations

import numpy as np
import pytest

import minders
from minders.errors import ScenarioError
from minders.experiments.units import unit_series

WARDS = ["workers_china", "workers_russia"]


def test_unit_series_add_up_to_the_records():
    scenario = minders.load_scenario("overseas_workers", [
        "run.steps=60", "run.burn_in=0", "tiers.workers_china.size=1200",
        "tiers.workers_russia.size=600", "tiers.workers_china.abroad_chance=0.01",
        "tiers.workers_russia.abroad_chance=0.01", "tiers.minders.abroad_chance=0.2",
        "model.purge_stake=2.0"])
    series = unit_series(scenario, seed=3, ward_tiers=WARDS)
    records = minders.simulate(scenario, seed=3).records
    wards = records[records["tier"].isin(WARDS)].groupby("step")["defections"].sum()
    minders_left = records[records["tier"] == "minders"].groupby("step")["defections"].sum()
    assert series.escapes.sum(axis=1).tolist() == wards.tolist()
    assert series.minder_defections.sum(axis=1).tolist() == minders_left.tolist()
    assert series.escapes.sum() > 0 and series.minder_defections.sum() > 0
    assert np.isin(series.minder_defections, (0, 1)).all()


def test_unknown_tiers_are_refused():
    scenario = minders.load_scenario("overseas_workers", ["run.steps=2", "run.burn_in=0"])
    with pytest.raises(ScenarioError, match="ward_tiers"):
        unit_series(scenario, seed=1, ward_tiers=["workers_mars"])
