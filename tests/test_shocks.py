"""Shocks move their parameter inside their window and tiers, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from minders.shocks import build_schedule

from .conftest import make_scenario

KINDS = {
    "legitimacy": ("legitimacy", 0.2),
    "detection": ("detection", 0.5),
    "opportunity": ("opportunity", 0.0),
    "pull": ("pull", 0.3),
    "info_ops": ("beta", 1.0),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_shock_changes_only_its_window_and_tiers(kind):
    field, value = KINDS[kind]
    # no scar: legitimacy back to its baseline at once when the window ends
    calm = build_schedule(make_scenario({"shocks": [], "model": {"scar_half_life": 0}}), 30)
    s = make_scenario({"model": {"scar_half_life": 0}, "shocks": [
        {"kind": kind, "start": 5, "end": 12, "value": value, "tiers": ["minders"]}
    ]})
    shocked = build_schedule(s, 30)
    a, b = getattr(calm, field), getattr(shocked, field)
    k = list(s.tiers).index("minders")
    inside = np.zeros_like(a, dtype=bool)
    inside[5:12, k] = True
    np.testing.assert_array_equal(a[~inside], b[~inside])
    assert np.all(a[inside] != b[inside])
    for other in ("legitimacy", "detection", "opportunity", "pull", "beta", "info"):
        if other != field and not (kind == "info_ops" and other == "info"):
            np.testing.assert_array_equal(getattr(calm, other), getattr(shocked, other))
    if kind == "info_ops":
        assert shocked.info[inside].all() and not shocked.info[~inside].any()


def test_ramp_is_gradual_and_open_end_lasts_to_the_horizon():
    s = make_scenario({"shocks": [
        {"kind": "legitimacy", "start": 10, "value": 0.4, "ramp": 4, "tiers": ["residents"]}
    ]})
    L = build_schedule(s, 30).legitimacy[:, 0]
    np.testing.assert_allclose(L[9:15], [0.8, 0.7, 0.6, 0.5, 0.4, 0.4])
    assert L[-1] == pytest.approx(0.4)


def test_overlapping_multipliers_multiply_and_pulls_add():
    s = make_scenario({"shocks": [
        {"kind": "detection", "start": 0, "end": 10, "value": 0.5},
        {"kind": "detection", "start": 5, "end": 10, "value": 0.5},
        {"kind": "pull", "start": 0, "end": 10, "value": 0.1},
        {"kind": "pull", "start": 5, "end": 10, "value": 0.1},
    ]})
    schedule = build_schedule(s, 30)
    assert schedule.detection[7, 0] == pytest.approx(0.25)
    assert schedule.pull[7, 0] == pytest.approx(0.2)
