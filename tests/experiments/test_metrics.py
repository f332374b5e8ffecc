"""Outcome metrics against numbers worked out by hand on a made-up record."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import minders
from minders.errors import ScenarioError
from minders.experiments.metrics import METRICS, RunView, compute_metrics, parse_metric
from minders.scenario import Scenario

SCENARIO = Scenario.model_validate({
    "run": {"steps": 8, "steps_per_year": 4},
    "tiers": {"w": {"size": 100, "minded_by": "m", "span": 10}, "m": {"size": "auto"}},
})
DEFECTIONS = {"w": [0, 1, 0, 5, 6, 0, 0, 0], "m": [0, 0, 0, 0, 1, 0, 0, 0]}
ACTIVE = {"w": [0, 10, 20, 40, 30, 10, 0, 0], "m": [0, 0, 0, 0, 0, 0, 0, 0]}
AGGRIEVED = {"w": [50] * 8, "m": [2] * 8}
IN_POST = {"w": [100] * 8, "m": [10] * 8}


def view() -> RunView:
    rows = []
    for step in range(8):
        for tier in ("w", "m"):
            rows.append({
                "step": step, "tier": tier, "defections": DEFECTIONS[tier][step],
                "active": ACTIVE[tier][step], "aggrieved": AGGRIEVED[tier][step],
                "in_post": IN_POST[tier][step], "arrests": step if tier == "w" else 0,
                "measured_discontent": ACTIVE[tier][step] / IN_POST[tier][step],
                "defected": sum(DEFECTIONS[tier][: step + 1]),  # no post refilled
            })
    records = pd.DataFrame(rows)
    records["tier"] = pd.Categorical(records["tier"], categories=["w", "m"])
    return RunView(records, SCENARIO, steps=8)


@pytest.mark.parametrize(("spec", "expected"), [
    ({"kind": "defections"}, 13),
    ({"kind": "defections", "tier": "w"}, 12),
    ({"kind": "defections_per_year"}, 13 / 2),
    ({"kind": "defection_rate", "tier": "w"}, 12 / 2 / 100),
    ({"kind": "defection_rate"}, 13 / 2 / 110),
    ({"kind": "cascade_size", "window": 2}, 12),
    ({"kind": "cascade_size", "window": 1, "tier": "w"}, 6),
    ({"kind": "cascade", "window": 2, "threshold": 0.1, "tier": "w"}, 1),
    ({"kind": "time_to_cascade", "window": 2, "threshold": 0.1, "tier": "w"}, 4),
    ({"kind": "cascade", "window": 2, "threshold": 0.2, "tier": "w"}, 0),
    ({"kind": "time_to_cascade", "window": 2, "threshold": 0.2, "tier": "w"}, 8),
    ({"kind": "peak_surprise_gap", "tier": "w"}, 0.5),            # step 0: 50 aggrieved, 0 active
    ({"kind": "peak_surprise_gap"}, 52 / 110),                   # pooled over both tiers
    ({"kind": "surveillance_headcount"}, 10),
    ({"kind": "surveillance_share"}, 10 / 110),
    ({"kind": "total", "column": "arrests"}, sum(range(8))),
    ({"kind": "peak", "column": "active", "tier": "w"}, 40),
    ({"kind": "final", "column": "arrests"}, 7),
    ({"kind": "mean", "column": "measured_discontent", "tier": "w"}, 110 / 8 / 100),
    # a window of recorded steps: start .. end - 1
    ({"kind": "mean", "column": "measured_discontent", "tier": "w", "start": 1, "end": 4},
     (10 + 20 + 40) / 3 / 100),
    ({"kind": "total", "column": "arrests", "start": 2, "end": 5}, 2 + 3 + 4),
    ({"kind": "total", "column": "arrests", "start": 6}, 6 + 7),
    # active + defected in w: 0, 11, 21, 46, 42, 22, 12, 12 of 100 positions
    ({"kind": "peak_share", "tier": "w"}, 0.46),
    ({"kind": "peak_share", "tier": "w", "statuses": ["active"]}, 0.40),
    ({"kind": "peak_share"}, 46 / 110),                           # pooled over both tiers
    ({"kind": "uprising", "tier": "w", "threshold": 0.45}, 1),
    ({"kind": "uprising", "tier": "w", "threshold": 0.46}, 0),    # strictly more than
    ({"kind": "uprising", "tier": "w", "statuses": ["defected"], "threshold": 0.1}, 1),
    ({"kind": "uprising", "tier": "w", "statuses": ["defected"], "threshold": 0.12}, 0),
])
def test_metric_values(spec, expected):
    assert parse_metric(spec).compute(view()) == pytest.approx(expected)


@pytest.mark.parametrize("spec", [
    {"kind": "mean", "column": "arrests", "start": 4, "end": 4},
    {"kind": "mean", "column": "arrests", "start": -1},
    {"kind": "uprising", "threshold": 1.0},
    {"kind": "uprising", "statuses": []},
    {"kind": "peak_share", "statuses": ["gone"]},
])
def test_bad_windows_and_shares_are_refused(spec):
    with pytest.raises(ValueError):
        parse_metric(spec)


def test_every_registered_metric_runs_on_a_real_result():
    s = Scenario.model_validate({"run": {"steps": 10}, "tiers": {
        "w": {"size": 60, "minded_by": "m", "span": 10, "abroad": 1.0, "abroad_chance": 0.2},
        "m": {"size": "auto"}}})
    specs = [parse_metric({"kind": kind, **({"column": "arrests"} if kind in
                          ("total", "peak", "final", "mean") else {})}) for kind in METRICS]
    values = compute_metrics(minders.simulate(s, seed=2), specs)
    assert len(values) == len(METRICS) and np.isfinite(values).all()


def test_default_column_names_and_errors():
    assert parse_metric({"kind": "defections", "tier": ["a", "b"]}).label == "defections_a+b"
    assert parse_metric({"kind": "peak", "column": "active", "name": "x"}).label == "x"
    with pytest.raises(ScenarioError, match="single tier for the ratio column"):
        parse_metric({"kind": "mean", "column": "surprise_gap"}).compute(view())
    with pytest.raises(ScenarioError, match="a column of the records"):
        parse_metric({"kind": "total", "column": "bribes"}).compute(view())
    with pytest.raises(ScenarioError, match="metrics.kind"):
        parse_metric({"kind": "nope"})
