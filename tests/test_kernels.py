"""Each Numba kernel against its plain NumPy reference (tests/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from minders import kernels
from minders.engine import Simulation
from minders.population import JAILED, PURGED
from minders.streams import DECISIONS, stream_key, uniform_reference

from .conftest import make_scenario
from .reference import decide_reference, surveil_reference


@pytest.fixture
def world():
    """A world a few steps in, with every status present."""
    scenario = make_scenario({"tiers.residents.size": 900, "model.informer_rate": 0.05})
    sim = Simulation(scenario, seed=8)
    for _ in range(12):
        sim.step()
    assert len(np.unique(sim.population.status)) >= 4
    return sim


@pytest.mark.parametrize("private", [False, True])
def test_surveil_matches_reference(world, private):
    sim, pop = world, world.population
    see_private = np.full(len(pop.tier_names), private)
    p_detect = np.array([0.5, 0.7, 0.9])
    kernels.grievance(pop.hardship, pop.fear, pop.tier, np.full(3, 0.4), sim.grievance)
    args = (sim.grievance, 12, 4, see_private, p_detect, 6.0, 0.7, 0.05)
    kernels.surveil(
        pop.levels, sim.graph.indptr, sim.graph.indices, pop.status, pop.tier, pop.minder,
        pop.is_minder,
        pop.ward_start, pop.ward_end, sim.grievance, pop.threshold, pop.last_act,
        12, 4, see_private, p_detect, 6.0, 0.7, 0.05, sim.detection, sim.attention, sim.signal,
    )
    attention, detection, signal = surveil_reference(sim.graph, pop, *args)
    np.testing.assert_allclose(sim.attention, attention, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sim.detection, detection, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sim.signal, signal, rtol=1e-12, atol=1e-12)
    assert sim.attention.max() > 0 and sim.detection.max() > 0 and sim.signal.max() > 0


def test_parallel_surveil_gives_the_same_numbers(world):
    sim, pop = world, world.population
    outputs = []
    for kernel in (kernels.surveil, kernels.surveil_parallel):
        out = [np.zeros(pop.size) for _ in range(3)]
        kernel(
            pop.levels, sim.graph.indptr, sim.graph.indices, pop.status, pop.tier, pop.minder,
            pop.is_minder, pop.ward_start, pop.ward_end, sim.grievance, pop.threshold,
            pop.last_act, 12, 4, np.zeros(3, bool), np.full(3, 0.6), 6.0, 0.7, 0.05, *out,
        )
        outputs.append(out)
    for serial, parallel in zip(*outputs, strict=True):
        np.testing.assert_array_equal(serial, parallel)


def test_decide_matches_reference(world):
    pop = world.population
    keys = {name: stream_key(99, name) for name in DECISIONS}
    n_tiers = len(pop.tier_names)
    beta, pull = np.full(n_tiers, 0.3), np.full(n_tiers, 0.05)
    opportunity, abroad_chance = np.full(n_tiers, 1.0), np.full(n_tiers, 0.4)
    border_chance = np.full(n_tiers, 0.05)
    detection = np.random.default_rng(0).uniform(0, 0.6, pop.size)
    signal = np.random.default_rng(1).uniform(0, 1, pop.size)
    grievance = pop.hardship * 0.6
    expected_status, expected_jail = decide_reference(
        pop, grievance, detection, signal, beta, pull, opportunity, abroad_chance,
        border_chance, 1.0, 10, 13, keys,
    )
    status, jail_until = pop.status.copy(), pop.jail_until.copy()
    event = np.zeros(pop.size, np.int8)
    kernels.decide(
        status, pop.tier, grievance, pop.threshold, pop.risk_aversion, pop.family, pop.abroad,
        pop.is_minder, detection, signal, beta, pull, opportunity, abroad_chance, border_chance,
        1.0, 10, 13, keys["opportunity"], keys["intercept"], keys["arrest"], keys["jail_term"],
        event, jail_until, pop.vacated_at.copy(), pop.last_act.copy(),
    )
    np.testing.assert_array_equal(status, expected_status)
    np.testing.assert_array_equal(jail_until, expected_jail)
    assert {kernels.DEFECTION, kernels.INTERCEPTION, kernels.ARREST} <= set(np.unique(event))


def test_respond_purges_once_per_minder_whatever_the_order(world):
    sim, pop = world, world.population
    status = pop.status.copy()
    event = np.zeros(pop.size, np.int8)
    residents = pop.tier == pop.tier_names.index("residents")
    wards = np.flatnonzero(residents & (status < JAILED))[::3]
    status[wards] = 5
    event[wards] = kernels.DEFECTION
    fear = np.zeros(pop.size)
    leaks = np.zeros(len(pop.tier_names), np.int64)
    key = stream_key(1, "purge")
    kernels.respond(status, event, pop.tier, pop.minder, pop.is_minder, pop.ward_start,
                    pop.ward_end, pop.watched_tier, pop.tier_start, pop.tier_end,
                    sim.graph.indptr, sim.graph.indices, 0.5, 0.1, 3,
                    key, fear, pop.vacated_at.copy(), leaks)
    draws = uniform_reference(key, 3, wards)
    bosses = np.unique(pop.minder[wards][draws < 0.5])
    bosses = bosses[pop.status[bosses] < JAILED]
    purged = np.flatnonzero(event == kernels.WARD_PURGED)
    np.testing.assert_array_equal(np.sort(purged), bosses)
    assert np.all(status[purged] == PURGED)
    # each purge frightens the purged minder's peers, never the minder itself
    for boss in purged[:5]:
        assert fear[boss] < 0.1 * np.sum(event[pop.minder[boss] == pop.minder] >= 4) + 1e-12


def test_counter_based_uniform_matches_numpy_and_is_uniform():
    from minders.streams import uniform

    key = stream_key(3, "opportunity")
    slots = np.arange(20000)
    reference = uniform_reference(key, 7, slots)
    numba_draws = np.array([uniform(key, 7, int(i)) for i in slots[:500]])
    np.testing.assert_array_equal(numba_draws, reference[:500])
    assert stats.kstest(reference, "uniform").pvalue > 1e-3
    other_step = uniform_reference(key, 8, slots)
    assert abs(np.corrcoef(reference, other_step)[0, 1]) < 0.03
    other_key = uniform_reference(stream_key(3, "arrest"), 7, slots)
    assert abs(np.corrcoef(reference, other_key)[0, 1]) < 0.03
