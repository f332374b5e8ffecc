"""The ensemble analyses against brute force, simulated truth and known structure."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from minders.errors import ScenarioError
from minders.experiments.analysis import detrend, lagged_correlation, roc_auc, tipping_curve


def test_tipping_curve_counts_and_wilson_coverage():
    # 2,000 binomial samples with p = 0.05, n = 20: the 90% Wilson interval covers p
    # at least 88% of the time (its nominal coverage, up to the discreteness of k).
    rng = np.random.default_rng(1)
    k = rng.binomial(20, 0.05, 2000)
    runs = pd.DataFrame({"sample": np.repeat(np.arange(2000), 20),
                         "cascade": np.concatenate([np.r_[np.ones(c), np.zeros(20 - c)]
                                                    for c in k])})
    curve = tipping_curve(runs, "sample", "cascade", confidence=0.9)
    assert curve["cascades"].tolist() == k.tolist() and (curve["runs"] == 20).all()
    covered = ((curve["low"] <= 0.05) & (0.05 <= curve["high"])).mean()
    assert covered >= 0.88
    assert (curve["low"] >= 0).all() and (curve["high"] <= 1).all()  # never below zero
    assert curve["both"].tolist() == ((k > 0) & (k < 20)).tolist()


def test_tipping_curve_refuses_what_is_not_an_outcome():
    runs = pd.DataFrame({"depth": [0.1, 0.2], "cascade": [0.5, 1.0]})
    with pytest.raises(ScenarioError, match="0/1"):
        tipping_curve(runs, "depth", "cascade")
    with pytest.raises(ScenarioError, match="column"):
        tipping_curve(runs, "span", "cascade")


def test_roc_auc_is_the_share_of_ordered_pairs():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 60)
    scores = np.round(rng.normal(labels * 0.7, 1.0), 1)  # ties count half
    pairs = [(p, q) for p, q in itertools.product(scores[labels == 1], scores[labels == 0])]
    brute = np.mean([1.0 if p > q else 0.5 if p == q else 0.0 for p, q in pairs])
    auc = roc_auc(labels, scores)
    assert auc.auc == pytest.approx(brute)
    assert auc.low < auc.auc < auc.high
    assert (auc.positives, auc.negatives) == ((labels == 1).sum(), (labels == 0).sum())


def test_roc_auc_of_noise_is_a_half_within_its_interval():
    rng = np.random.default_rng(3)
    inside = 0
    for _ in range(200):
        labels = rng.integers(0, 2, 80)
        auc = roc_auc(labels, rng.normal(size=80))
        inside += auc.low <= 0.5 <= auc.high
    assert inside >= 180  # a 95% interval: about 190 of 200


def test_roc_auc_needs_both_outcomes():
    with pytest.raises(ScenarioError, match="positives"):
        roc_auc(np.ones(5), np.arange(5.0))


def test_lagged_correlation_finds_the_lag_and_its_sign():
    rng = np.random.default_rng(4)
    lead = rng.poisson(2.0, (30, 300)).astype(float)
    follow = 0.5 * np.roll(lead, 5, axis=1) + rng.poisson(2.0, (30, 300))
    table = lagged_correlation(lead, follow, range(-8, 9))
    assert table["mean"].idxmax() == 5
    assert table.loc[5, "low"] > 0.2
    others = table.drop(index=5)
    assert others["mean"].abs().max() < 0.03  # nothing elsewhere (the truth there is 0)
    assert (table["runs"] == 30).all()


def test_detrending_removes_a_shared_trend():
    rng = np.random.default_rng(5)
    trend = np.linspace(0, 20, 300)
    a = trend + rng.normal(size=(20, 300))
    b = trend + rng.normal(size=(20, 300))
    raw = lagged_correlation(a, b, [-10, 10])
    flat = lagged_correlation(a, b, [-10, 10], trend_window=26)
    assert (raw["mean"] > 0.8).all()
    assert flat["mean"].abs().max() < 0.05
    assert detrend(np.full(10, 3.0), 4).tolist() == [0.0] * 10


def test_lagged_correlation_skips_constant_runs():
    lead = np.vstack([np.zeros(50), np.arange(50.0) % 7])
    follow = np.vstack([np.arange(50.0), np.arange(50.0) % 7])
    table = lagged_correlation(lead, follow, [0])
    assert table.loc[0, "runs"] == 1 and table.loc[0, "mean"] == pytest.approx(1.0)
