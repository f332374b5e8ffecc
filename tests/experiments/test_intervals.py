"""Intervals that fit the quantity: coverage on synthetic data with known truth."""

import numpy as np
import pandas as pd
import pytest

from minders.experiments import intervals
from minders.experiments.summary import summarize_frame

TRIALS = 2000


def coverage(draw, truth, make_interval, trials=TRIALS, seed=11):
    """Share of ``trials`` samples whose interval covers ``truth``."""
    rng = np.random.default_rng(seed)
    hits, seen = 0, {}
    for _ in range(trials):
        sample = draw(rng)
        key = tuple(np.sort(sample))  # the interval depends on the values only, not their order
        if key not in seen:
            seen[key] = make_interval(sample)
        found = seen[key]
        hits += found.low <= truth <= found.high
    return hits / trials


def test_wilson_covers_a_rare_probability_where_t_fails():
    # The check: p = 0.05, n = 20, 90% interval covers p at least 88% of the time.
    def draw(rng):
        return (rng.random(20) < 0.05).astype(float)

    wilson = coverage(draw, 0.05, lambda x: intervals.interval(x, "probability", 0.90))
    t = coverage(draw, 0.05, lambda x: intervals.mean_t(x, 0.90))
    assert wilson >= 0.88
    assert t < 0.70  # what the old Student-t summary gave


def test_probability_at_the_edges_is_never_zero_width():
    none = intervals.proportion(0, 12)
    every = intervals.proportion(12, 12)
    assert none.low == 0.0 and 0.2 < none.high < 0.3
    assert every.high == 1.0 and 0.7 < every.low < 0.8


@pytest.mark.parametrize("mean", [0.05, 0.3, 5.0])
def test_poisson_counts_are_covered_and_never_negative(mean):
    found = []

    def make(x):
        found.append(intervals.count_mean(x, 0.90))
        return found[-1]

    covered = coverage(lambda rng: rng.poisson(mean, 20).astype(float), mean, make, trials=1000)
    assert covered >= 0.88
    assert min(i.low for i in found) >= 0.0


def test_overdispersed_counts_are_covered_better_than_by_t():
    # Negative binomial, mean 2, shape 0.5: bursts, as cascades give.
    mean, shape = 2.0, 0.5

    def draw(rng):
        return rng.negative_binomial(shape, shape / (shape + mean), 50).astype(float)

    quasi = coverage(draw, mean, lambda x: intervals.count_mean(x, 0.90), trials=1000)
    t = coverage(draw, mean, lambda x: intervals.mean_t(x, 0.90), trials=1000)
    assert quasi >= 0.87 and quasi > t


def test_zero_events_still_have_an_upper_bound_in_the_rate_unit():
    found = intervals.count_mean(np.zeros(10), 0.95, unit=0.5)
    assert found.low == 0.0
    assert found.high == pytest.approx(0.5 * 3.689 / 10, rel=1e-3)


def test_median_time_to_event_is_covered_under_censoring():
    # Exponential times with median 30 steps, censored at a horizon of 60 (a quarter never).
    horizon, median = 60.0, 30.0
    rate = np.log(2) / median

    def draw(rng):
        return np.minimum(np.ceil(rng.exponential(1 / rate, 40)), horizon)

    def make(x):
        found = intervals.time_to_event(x, horizon, 0.90)
        return intervals.Interval(found.median, found.low, found.high, "km")

    assert coverage(draw, median, make, trials=300) >= 0.85


def test_runs_that_never_cascade_are_censored_not_averaged():
    # Half the runs cascade early (step 10), half never (recorded at the horizon 104).
    times = np.array([10.0] * 6 + [104.0] * 6)
    found = intervals.time_to_event(times, 104, 0.95)
    assert found.median == 10.0  # the mean, 57, would describe no run at all
    assert found.never == 0.5
    later = intervals.time_to_event(np.array([10.0] * 5 + [104.0] * 7), 104, 0.95)
    assert later.median == np.inf and later.never == pytest.approx(7 / 12)


def test_summary_picks_each_metrics_interval():
    runs = pd.DataFrame({
        "point": [0] * 12,
        "cascade": [0.0] * 12,
        "defections": [0.0] * 12,
        "time_to_cascade": [104.0] * 12,
        "cascade_size": [0.0] * 10 + [30.0, 50.0],
    })
    quantities = {"cascade": "probability", "defections": "count",
                  "time_to_cascade": "time", "cascade_size": "size"}
    table = summarize_frame(runs, [], list(quantities), 0.95, quantities=quantities,
                            horizons=104, units=lambda point, metric: 1.0)
    row = table.iloc[0]
    assert row["cascade"] == 0 and row["cascade_high"] > 0.2  # not '0 ± 0'
    assert row["defections_low"] == 0 and row["defections_high"] > 0.3
    assert row["time_to_cascade"] == np.inf and row["time_to_cascade_never"] == 1.0
    assert row["cascade_size_q50"] == 0 and row["cascade_size_q90"] > 0
    assert table.attrs["intervals"]["cascade"] == "wilson"
