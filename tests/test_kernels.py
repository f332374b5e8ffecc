"""Each Numba kernel against its plain NumPy reference (tests/reference.py)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from minders import kernels
from minders.codes import (
    ARREST,
    CAUGHT_PURGED,
    DEFECTED,
    DEFECTION,
    INTERCEPTION,
    JAILED,
    PURGED,
    TALLY_FIELDS,
    WARD_PURGED,
)
from minders.engine import Simulation
from minders.streams import DECISIONS, stream_key, uniform_reference

from .conftest import make_scenario
from .reference import (
    decide_reference,
    grievance_reference,
    quiet_status_reference,
    respond_reference,
    surveil_reference,
    tally_reference,
)


@pytest.fixture
def world():
    """A world a few steps in, with every status present."""
    scenario = make_scenario({"tiers.residents.size": 900, "model.informer_rate": 0.05})
    sim = Simulation(scenario, seed=8)
    for _ in range(12):
        sim.step()
    assert len(np.unique(sim.population.status)) >= 4
    return sim


def _agents(sim, **changes):
    """The world's agents, with copies of the state columns a kernel will write."""
    agents = sim.agents
    copies = {name: getattr(agents, name).copy()
              for name in ("status", "fear", "jail_until", "vacated_at", "last_act")}
    return agents._replace(**{**copies, **changes})


def _values(sim, **changes):
    n = sim.population.size
    fresh = kernels.StepValues(
        grievance=sim.grievance.copy(), detection=np.zeros(n), attention=np.zeros(n),
        signal=np.zeros(n), event=np.zeros(n, np.int8),
    )
    return fresh._replace(**changes)


def _decided(sim, step=13):
    """Agents, values and params after a decision step with many attempts and arrests."""
    pop = sim.population
    n_tiers = len(pop.tier_names)
    keys = {name: stream_key(99, name) for name in DECISIONS}
    params = sim.step_params(step)._replace(
        beta=np.full(n_tiers, 0.3), pull=np.full(n_tiers, 0.05),
        opportunity=np.full(n_tiers, 1.0), abroad_chance=np.full(n_tiers, 0.4),
        border_chance=np.full(n_tiers, 0.05), family_weight=1.0, max_jail=10,
        key_opportunity=keys["opportunity"], key_intercept=keys["intercept"],
        key_arrest=keys["arrest"], key_jail=keys["jail_term"], key_purge=keys["purge"],
    )
    values = _values(
        sim, grievance=pop.hardship * 0.6,
        detection=np.random.default_rng(0).uniform(0, 0.6, pop.size),
        signal=np.random.default_rng(1).uniform(0, 1, pop.size),
    )
    agents = _agents(sim)
    kernels.decide(sim.layout, agents, params, values)
    return agents, values, params, keys


def test_grievance_and_settle_match_reference(world):
    sim, pop = world, world.population
    legitimacy = np.array([0.2, 0.5, 0.9])
    out = np.zeros(pop.size)
    kernels.grievance(sim.layout, sim.agents, legitimacy, out)
    expected = grievance_reference(pop, legitimacy)
    np.testing.assert_array_equal(out, expected)  # the same operations: bit for bit
    agents = _agents(sim)
    slots = np.arange(0, pop.size, 3)
    kernels.settle(slots, sim.layout, agents, legitimacy)
    status = pop.status.copy()
    status[slots] = quiet_status_reference(expected[slots], pop.threshold[slots])
    np.testing.assert_array_equal(agents.status, status)


@pytest.mark.parametrize("private", [False, True])
def test_surveil_matches_reference(world, private):
    sim, pop = world, world.population
    see_private = np.full(len(pop.tier_names), private)
    p_detect = np.array([0.5, 0.7, 0.9])
    kernels.grievance(sim.layout, sim.agents, np.full(3, 0.4), sim.grievance)
    params = sim.step_params(12)._replace(
        memory=4, see_private=see_private, p_detect=p_detect, watch_capacity=6.0, shirk=0.7,
        informer_rate=0.05,
    )
    values = _values(sim)
    kernels.surveil(sim.layout, sim.agents, params, values)
    attention, detection, signal = surveil_reference(
        sim.graph, pop, values.grievance, 12, 4, see_private, p_detect, 6.0, 0.7, 0.05,
    )
    np.testing.assert_allclose(values.attention, attention, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values.detection, detection, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values.signal, signal, rtol=1e-12, atol=1e-12)
    assert values.attention.max() > 0 and values.detection.max() > 0 and values.signal.max() > 0


def test_parallel_surveil_gives_the_same_numbers(world):
    sim = world
    params = sim.step_params(12)._replace(
        memory=4, see_private=np.zeros(3, bool), p_detect=np.full(3, 0.6), watch_capacity=6.0,
        shirk=0.7, informer_rate=0.05,
    )
    outputs = []
    for kernel in (kernels.surveil, kernels.surveil_parallel):
        values = _values(sim)
        kernel(sim.layout, sim.agents, params, values)
        outputs.append((values.detection, values.attention, values.signal))
    for serial, parallel in zip(*outputs, strict=True):
        np.testing.assert_array_equal(serial, parallel)


def test_decide_matches_reference(world):
    pop = world.population
    agents, values, _, keys = _decided(world)
    n_tiers = len(pop.tier_names)
    expected_status, expected_jail = decide_reference(
        pop, values.grievance, values.detection, values.signal, np.full(n_tiers, 0.3),
        np.full(n_tiers, 0.05), np.full(n_tiers, 1.0), np.full(n_tiers, 0.4),
        np.full(n_tiers, 0.05), 1.0, 10, 13, keys,
    )
    np.testing.assert_array_equal(agents.status, expected_status)
    np.testing.assert_array_equal(agents.jail_until, expected_jail)
    assert {DEFECTION, INTERCEPTION, ARREST} <= set(np.unique(values.event))


@pytest.mark.parametrize("fear_per_purge", [0.0, 0.1])
def test_respond_matches_reference(world, fear_per_purge):
    sim, pop = world, world.population
    agents, values, params, keys = _decided(sim)
    params = params._replace(purge_rate=0.5, fear_per_purge=fear_per_purge)
    status, event = agents.status.copy(), values.event.copy()
    expected = respond_reference(
        sim.graph, pop, status, event, agents.vacated_at, 0.5, fear_per_purge, params.step,
        keys["purge"],
    )
    leaks = np.zeros(len(pop.tier_names), np.int64)
    kernels.respond(sim.layout, agents, params, values, leaks)
    np.testing.assert_array_equal(agents.status, expected[0])
    np.testing.assert_array_equal(values.event, expected[1])
    np.testing.assert_allclose(agents.fear, expected[2], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(agents.vacated_at, expected[3])
    np.testing.assert_array_equal(leaks, expected[4])
    assert np.sum(values.event == WARD_PURGED) > 0 and leaks.sum() > 0
    assert (np.sum(agents.fear > pop.fear) > 0) == (fear_per_purge > 0)


def test_respond_purges_once_per_minder_and_frightens_exactly_the_peers(world):
    sim, pop = world, world.population
    status = pop.status.copy()
    event = np.zeros(pop.size, np.int8)
    residents = pop.tier == pop.tier_names.index("residents")
    wards = np.flatnonzero(residents & (status < JAILED))[::3]
    status[wards] = DEFECTED
    event[wards] = DEFECTION
    agents = _agents(sim, status=status, fear=np.zeros(pop.size))
    values = _values(sim, event=event)
    key = stream_key(1, "purge")
    params = sim.step_params(3)._replace(purge_rate=0.5, fear_per_purge=0.1, key_purge=key)
    kernels.respond(sim.layout, agents, params, values, np.zeros(3, np.int64))
    draws = uniform_reference(key, 3, wards)
    bosses = np.unique(pop.minder[wards][draws < 0.5])
    bosses = bosses[pop.status[bosses] < JAILED]
    purged = np.flatnonzero(values.event == WARD_PURGED)
    np.testing.assert_array_equal(np.sort(purged), bosses)
    assert np.all(agents.status[purged] == PURGED)
    # each purge frightens the purged minder's peers, never the minder itself: a minder's
    # fear is 0.1 times the number of the other purged minders of its work unit, exactly
    assert purged.size >= 5
    unit = pop.minder[purged]
    purges_in_unit = np.array([np.sum(values.event[pop.minder == m] >= CAUGHT_PURGED)
                               for m in unit])
    np.testing.assert_allclose(agents.fear[purged], 0.1 * (purges_in_unit - 1), rtol=1e-12)
    assert np.any(purges_in_unit > 1)  # so some fear is actually checked


def test_tally_matches_reference(world):
    sim, pop = world, world.population
    agents, values, params, _ = _decided(sim)
    kernels.respond(sim.layout, agents, params._replace(purge_rate=0.5), values,
                    np.zeros(3, np.int64))
    out = np.full((len(pop.tier_names), TALLY_FIELDS), -1, np.int64)
    kernels.tally(sim.layout, agents, values, out)
    pop_after = pop.__class__(**{**pop.__dict__, "status": agents.status})
    np.testing.assert_array_equal(
        out, tally_reference(pop_after, agents.status, values.event, values.grievance)
    )
    assert (out[:, 6:] > 0).sum() >= 8  # flows and counts actually exercised


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
