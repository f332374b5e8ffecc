"""Granovetter (1978) threshold model: the riot of 100, Fig. 2's jump, and the oracle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minders.classic._common import iterate_shares, sample_thresholds
from minders.classic.granovetter import GranovetterScenario, simulate, summary, thresholds
from minders.errors import ScenarioError
from minders.kinds import load_scenario, validate_scenario

ROOT = Path(__file__).resolve().parents[2]


def crowd(values, unit="count", **run) -> GranovetterScenario:
    return GranovetterScenario.model_validate({
        "run": {"steps": 1000, **run}, "population": {"unit": unit, "threshold": list(values)},
    })


def reference(values: np.ndarray, steps: int, unit: str) -> list[int]:
    """Plain loop: r(t+1) = number of people whose threshold is at most r(t)."""
    n = len(values)
    level, counts = 0.0, [0]
    for _ in range(steps):
        count = sum(1 for v in values if v <= (level if unit == "count" else level + 1e-9))
        counts.append(count)
        new = float(count) if unit == "count" else count / n
        if new == level:
            break
        level = new
    return counts


def test_riot_of_100_with_thresholds_0_to_99_all_riot():
    """Granovetter (1978), pp. 1424-1425: thresholds 0, 1, ..., 99: everyone riots, one more
    person each step (exact)."""
    result = simulate(load_scenario(ROOT / "scenarios" / "granovetter_riot.toml"))
    active = result.records["active"].tolist()
    assert active[:101] == list(range(101))
    assert active[-1] == 100 and result.steps == 101  # the 101st update confirms the fixed point


def test_moving_the_threshold_1_person_to_2_stops_the_riot_at_the_instigator():
    """Granovetter (1978), p. 1425: the same crowd with the threshold-1 person moved to 2:
    only the instigator riots (exact)."""
    values = [0, 2] + list(range(2, 100))
    result = simulate(crowd(values))
    assert result.records["active"].tolist() == [0, 1, 1]
    assert summary(result)["final_active"].item() == 1
    # nearly the same crowd: the mean threshold differs by 0.01
    assert np.mean(values) - np.mean(range(100)) == pytest.approx(0.01)


@pytest.mark.parametrize(("sd", "low"), [(0.115, True), (0.121, True), (0.123, False),
                                         (0.13, False)])
def test_normal_thresholds_jump_from_few_to_all_near_sd_12_2(sd, low):
    """Granovetter (1978), Fig. 2: thresholds normal with mean 25% of the crowd; the
    equilibrium jumps from a few percent to everyone as the sd crosses ~12.2%."""
    s = GranovetterScenario.model_validate({"population": {
        "size": 100_000, "unit": "share",
        "threshold": {"kind": "normal", "mean": 0.25, "sd": sd, "sampling": "quantiles"}}})
    final = simulate(s).records["active_share"].iloc[-1]
    assert (final < 0.06) if low else (final == 1.0)


@pytest.mark.parametrize("unit", ["count", "share"])
def test_iteration_matches_the_plain_loop(unit):
    rng = np.random.default_rng(4)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        values = rng.integers(0, n, n).astype(float) if unit == "count" else rng.random(n) * 0.5
        values[rng.integers(0, n)] = 0.0  # an instigator
        counts, steps = iterate_shares(values, 500, unit=unit)
        expected = reference(values, 500, unit)
        assert counts.tolist() == expected
        assert steps == len(expected) - 1


def test_no_early_stop_when_asked_and_steps_cap_the_run():
    s = crowd(range(100), stop_at_fixed_point=False)
    assert len(simulate(s, steps=150).records) == 151
    assert simulate(s, steps=10).records["active"].iloc[-1] == 10


def test_drawn_thresholds_are_reproducible_and_follow_the_distribution():
    s = GranovetterScenario.model_validate({"population": {
        "size": 20_000, "unit": "share", "threshold": {"kind": "uniform", "low": 0, "high": 1}}})
    a, b = thresholds(s, seed=3), thresholds(s, seed=3)
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean() - 0.5) < 0.01
    assert not np.array_equal(a, thresholds(s, seed=4))
    rng = np.random.default_rng(0)
    from minders.classic._common import ThresholdEmpirical

    drawn = sample_thresholds(ThresholdEmpirical(values=[1, 2, 3], weights=[0, 1, 3]), 8000, rng)
    assert set(np.unique(drawn)) == {2.0, 3.0}
    assert abs((drawn == 3).mean() - 0.75) < 0.03
    quant = sample_thresholds(ThresholdEmpirical(values=[1, 2], sampling="quantiles"), 4, rng)
    assert quant.tolist() == [1.0, 1.0, 2.0, 2.0]


def test_same_seed_same_records():
    s = GranovetterScenario.model_validate({"population": {
        "size": 500, "threshold": {"kind": "normal", "mean": 20, "sd": 10}}})
    assert simulate(s, seed=2).records.equals(simulate(s, seed=2).records)


@pytest.mark.parametrize(("data", "field"), [
    ({"population": {"size": 5, "threshold": [0, 1]}}, "population.size"),
    ({"population": {"threshold": {"kind": "normal", "mean": 0, "sd": 1}}}, "population.size"),
    ({"population": {"size": 5, "threshold": {"kind": "normal", "mean": 0, "sd": -1}}},
     "population.threshold.sd"),
    ({"population": {"threshold": [0], "unit": "people"}}, "population.unit"),
    ({"population": {"threshold": [0]}, "run": {"steps": 0}}, "run.steps"),
    ({"population": {"threshold": [0], "typo": 1}}, "population.typo"),
])
def test_bad_scenarios_name_the_field(data, field):
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"kind": "granovetter", **data})
    assert info.value.field == field, str(info.value)
