"""Population layout: tiers top-down, minders before wards, balanced contiguous work units."""

from __future__ import annotations

import numpy as np
import pytest

from minders.errors import ScenarioError
from minders.population import build_population, check_fits, estimate_bytes

from .conftest import make_scenario


def test_layout_and_assignment(small):
    pop = build_population(small, seed=1)
    sizes = small.tier_sizes()
    assert pop.size == sum(sizes.values())
    wards = np.flatnonzero(pop.minder >= 0)
    assert np.all(pop.minder[wards] < wards)  # minders come first: one top-down pass suffices
    level_of = np.searchsorted(pop.levels, np.arange(pop.size), side="right")
    assert np.all(level_of[pop.minder[wards]] < level_of[wards])  # levels can run in parallel
    assert pop.levels[0] == 0 and pop.levels[-1] == pop.size
    for m in np.flatnonzero(pop.is_minder):
        block = np.arange(pop.ward_start[m], pop.ward_end[m])
        assert np.all(pop.minder[block] == m)
        assert np.all(pop.tier[block] == pop.watched_tier[m])
    per_minder = np.bincount(pop.minder[wards])[np.flatnonzero(pop.is_minder)]
    spans = {"residents": 20, "minders": 5}
    for name, span in spans.items():
        k = pop.tier_names.index(name)
        load = per_minder[pop.watched_tier[pop.is_minder] == k]
        assert load.max() <= span and load.max() - load.min() <= 1


def test_explicit_minder_size_is_shared_in_proportion():
    s = make_scenario({
        "tiers.workers": {"size": 300, "minded_by": "minders", "span": 10},
        "tiers.minders.size": 45,
    })
    pop = build_population(s, seed=1)
    k_res, k_work = pop.tier_names.index("residents"), pop.tier_names.index("workers")
    watching = pop.watched_tier[pop.is_minder & (pop.tier == pop.tier_names.index("minders"))]
    # needs: residents 600/20 = 30, workers 300/10 = 30 -> 45 minders split 22/23 or 23/22
    assert abs((watching == k_res).sum() - (watching == k_work).sum()) <= 1


def test_abroad_share_and_attributes_drawn_from_distributions():
    s = make_scenario({"tiers.residents.hardship": {"kind": "beta", "a": 2, "b": 5}})
    pop = build_population(s, seed=3)
    res = pop.tier_slice("residents")
    assert pop.abroad[res].mean() == pytest.approx(0.5)
    assert abs(pop.hardship[res].mean() - 2 / 7) < 0.03
    same = build_population(s, seed=3)
    np.testing.assert_array_equal(pop.hardship, same.hardship)


def test_changing_one_tier_keeps_the_draws_of_the_others():
    a = build_population(make_scenario(), seed=4)
    b = build_population(make_scenario({"tiers.security.threshold": 0.5}), seed=4)
    np.testing.assert_array_equal(a.hardship, b.hardship)
    res = a.tier_slice("residents")
    np.testing.assert_array_equal(a.threshold[res], b.threshold[res])


def test_too_large_population_is_refused_before_allocating():
    s = make_scenario({"tiers.residents.size": 2_000_000_000, "run.max_memory_gb": 1.0})
    assert estimate_bytes(s) > 2**30
    with pytest.raises(ScenarioError, match="estimated memory"):
        check_fits(s)
    with pytest.raises(ScenarioError, match="tiers"):
        build_population(s, seed=1)
