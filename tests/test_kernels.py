"""Each Numba kernel against its plain NumPy reference (tests/reference.py), on random states."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from minders import kernels
from minders.codes import (
    ACTIVE,
    ARREST_FAILED,
    DEFECTED,
    FALSIFYING,
    GROUPS,
    INTERCEPTION_FAILED,
    JAILED,
    LOYAL,
    N_STATUSES,
    NEVER,
    NONE,
    PURGED,
    REPATRIATED,
    TALLY_FIELDS,
    WARD_PURGED,
)
from minders.engine import Simulation
from minders.streams import DECISIONS, stream_key, uniform_reference

from .conftest import make_scenario
from .reference import (
    decide_reference,
    grievance_reference,
    respond_reference,
    settle_reference,
    surveil_reference,
    tally_reference,
)

#: A small world of three levels, with work units abroad in the two supervised tiers.
WORLD = {
    "name": "kernels",
    "run": {"steps": 5, "seed": 1},
    "model": {"informer_rate": 0.02},
    "tiers": {
        "residents": {
            "size": 400, "minded_by": "minders", "span": 10, "abroad": 0.5,
            "group_chance": 0.3, "replace_delay": 3,
        },
        "minders": {
            "size": "auto", "minded_by": "security", "span": 5, "abroad": 0.6,
            "group_chance": 0.3, "replace_delay": 2,
        },
        "security": {"size": "auto"},
    },
}
STEP = 17
#: Statuses of a random state and their chances (every status present).
STATUS_CHANCES = np.array([0.3, 0.22, 0.18, 0.1, 0.07, 0.05, 0.08])


@pytest.fixture(scope="module")
def sim():
    return Simulation(make_scenario(base=WORLD), seed=2)


def random_agents(sim, rng):
    """The world's agents with every state column drawn at random (fresh arrays)."""
    n = sim.population.size
    is_minder = sim.layout.is_minder
    abroad = sim.agents.abroad.copy()
    abroad[rng.random(n) < 0.05] ^= True  # a few mixed work units
    fear = rng.uniform(0.0, 0.6, n) * (rng.random(n) < 0.7)
    last_act = STEP - rng.integers(1, 10, n).astype(np.int32)
    last_act[rng.random(n) < 0.5] = NEVER
    return kernels.Agents(
        status=rng.choice(7, n, p=STATUS_CHANCES).astype(np.int8),
        hardship=rng.random(n), risk_aversion=rng.random(n),
        threshold=rng.uniform(0.0, 0.3, n), abroad=abroad, family=rng.random(n) < 0.7,
        fear=fear, seen_success=rng.exponential(2.0, n) * (rng.random(n) < 0.6),
        seen_failure=rng.exponential(5.0, n) * (rng.random(n) < 0.6),
        exposure=rng.exponential(1.5, n) * is_minder * (rng.random(n) < 0.7),
        jail_until=rng.integers(STEP, STEP + 10, n).astype(np.int32),
        vacated_at=np.where(rng.random(n) < 0.5, NEVER, STEP - 3).astype(np.int32),
        last_act=last_act,
    )


def random_params(sim, rng, **changes):
    """Step parameters with every rule switched on, for the world's three tiers."""
    keys = {name: stream_key(int(rng.integers(1000)), name) for name in DECISIONS}
    params = sim.step_params(0)._replace(
        step=STEP,
        legitimacy=rng.uniform(0.2, 0.6, 3), p_detect=rng.uniform(0.3, 0.9, 3),
        see_private=np.array([True, False, True]), beta=rng.uniform(0.1, 0.5, 3),
        pull=rng.uniform(0.0, 0.1, 3), opportunity=rng.uniform(0.5, 1.0, 3),
        abroad_chance=np.array([0.5, 0.4, 0.3]), border_chance=np.array([0.1, 0.2, 0.05]),
        group_chance=np.array([0.4, 0.5, 0.0]), memory=4, watch_capacity=6.0,
        catch_capacity=2.0, shirk=0.6, informer_rate=0.05, family_weight=0.8,
        act_visibility=3.0, max_jail=10, purge_rate=0.4, purge_stake=0.3,
        fear_per_event=0.1, fear_keep=0.9, memory_keep=0.8, success_prior=0.6,
        success_strength=5.0, take_wards=0.6, group_quorum=0.5,
        key_opportunity=keys["opportunity"], key_intercept=keys["intercept"],
        key_arrest=keys["arrest"], key_jail=keys["jail_term"], key_purge=keys["purge"],
        key_group=keys["group"], key_follow=keys["follow"],
    )
    return params._replace(**changes)


def random_values(sim, agents, params, rng):
    """Step values as the decision step reads them: G, and random d and s in post."""
    n = sim.population.size
    g = np.zeros(n)
    kernels.grievance(sim.layout, agents, params.legitimacy, g)
    in_post = agents.status < JAILED
    return kernels.StepValues(
        grievance=g, detection=rng.uniform(0.0, 0.7, n) * in_post, attention=np.zeros(n),
        signal=rng.uniform(0.0, 1.0, n) * in_post, event=np.full(n, -1, np.int8),
        intent=np.zeros(n, np.uint8),
    )


def copy_agents(agents):
    return kernels.Agents(*(column.copy() for column in agents))


def flows(jail_room):
    return kernels.StepFlows(expected=np.full(3, -1.0), groups=np.full(3, -1, np.int64),
                             jail_room=np.array([jail_room], np.int64))


def decided(sim, seed, jail_room=4, **changes):
    """A random state before and after the decision kernel."""
    rng = np.random.default_rng(seed)
    before = random_agents(sim, rng)
    params = random_params(sim, rng, **changes)
    values = random_values(sim, before, params, rng)
    after = copy_agents(before)
    out = flows(jail_room)
    kernels.decide(sim.layout, after, params, values, out)
    return before, after, params, values, out


# --------------------------------------------------------------------------- 4.0-4.2
def test_grievance_and_settle_match_reference(sim):
    rng = np.random.default_rng(0)
    agents = random_agents(sim, rng)
    legitimacy = np.array([0.2, 0.5, 0.9])
    out = np.full(sim.population.size, np.nan)
    kernels.grievance(sim.layout, agents, legitimacy, out)
    np.testing.assert_array_equal(out, grievance_reference(sim.layout, agents, legitimacy))
    slots = np.arange(0, sim.population.size, 3)
    expected = settle_reference(sim.layout, agents, slots, legitimacy)
    kernels.settle(slots, sim.layout, agents, legitimacy)
    np.testing.assert_array_equal(agents.status, expected)
    assert {LOYAL, FALSIFYING} <= set(agents.status[slots].tolist())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("catch_capacity", [1.0, 1e6])
def test_surveil_matches_reference(sim, seed, catch_capacity):
    rng = np.random.default_rng(seed)
    agents = random_agents(sim, rng)
    params = random_params(sim, rng, catch_capacity=catch_capacity)
    values = random_values(sim, agents, params, rng)
    kernels.surveil(sim.layout, agents, params, values)
    attention, detection, signal = surveil_reference(sim.layout, agents, params,
                                                     values.grievance)
    np.testing.assert_allclose(values.attention, attention, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values.detection, detection, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values.signal, signal, rtol=1e-12, atol=1e-12)
    assert values.attention.max() > 0 and values.detection.max() > 0 and values.signal.max() > 0
    off = agents.status >= JAILED
    assert not np.any(values.attention[off] + values.detection[off] + values.signal[off])


def test_parallel_surveil_gives_the_same_numbers(sim):
    rng = np.random.default_rng(5)
    agents = random_agents(sim, rng)
    params = random_params(sim, rng)
    outputs = []
    for kernel in (kernels.surveil, kernels.surveil_parallel):
        values = random_values(sim, agents, params, np.random.default_rng(6))
        kernel(sim.layout, agents, params, values)
        outputs.append((values.detection, values.attention, values.signal))
    for serial, parallel in zip(*outputs, strict=True):
        np.testing.assert_array_equal(serial, parallel)


def test_parallel_decide_gives_the_same_outcomes(sim):
    rng = np.random.default_rng(7)
    before = random_agents(sim, rng)
    params = random_params(sim, rng)
    outputs = []
    for kernel in (kernels.decide, kernels.decide_parallel):
        values = random_values(sim, before, params, np.random.default_rng(8))
        after, out = copy_agents(before), flows(4)
        kernel(sim.layout, after, params, values, out)
        outputs.append((*after, values.event, values.intent, *out))
    assert np.any(outputs[0][-4] != 0)  # some intentions to compare
    for serial, parallel in zip(*outputs, strict=True):
        np.testing.assert_array_equal(serial, parallel)


def test_act_detection_bounds_bracket_the_power():
    rng = np.random.default_rng(3)
    d = np.concatenate([rng.random(2000), [0.0, 1e-300, 1e-17, 0.5, 1.0 - 1e-16, 1.0]])
    for v in [1.0, 2.0, 3.0, 4.0, 7.0, 64.0, 2.5, 65.0]:
        whole = v == np.floor(v) and v <= 64.0
        for x in d:
            low, high = kernels._act_detection_bounds(x, v, whole)
            exact = kernels._act_detection(x, v)
            assert low <= exact <= high
            assert high - low <= 1e-12
            if not whole:
                assert low == high == exact


def _intend_with_slack(slack):
    """The serial intentions kernel with the power bracketed ``slack`` wide."""
    import types

    import numba as nb

    names = dict(vars(kernels), _POWER_SLACK=slack)
    bounds = kernels._act_detection_bounds.py_func
    names["_act_detection_bounds"] = nb.njit(inline="always")(
        types.FunctionType(bounds.__code__, names, "bounds"))
    return nb.njit(types.FunctionType(kernels._intend.__code__, names, "intend_slack"))


def test_bracketed_power_takes_the_decisions_of_the_exact_power(sim):
    """A bracket 20% wide sends many decisions to the exact power: none may change."""
    wide = _intend_with_slack(0.2)
    for seed, visibility in [(11, 3.0), (12, 4.0), (13, 1.0)]:
        rng = np.random.default_rng(seed)
        agents = random_agents(sim, rng)
        params = random_params(sim, rng, act_visibility=visibility)
        intents = []
        for kernel in (kernels.intend, wide):
            values = random_values(sim, agents, params, np.random.default_rng(seed))
            kernel(sim.layout, agents, params, values)
            intents.append(values.intent)
        assert np.count_nonzero(intents[0] & kernels.WOULD_ACT) > 10
        np.testing.assert_array_equal(intents[0], intents[1])


# --------------------------------------------------------------------------- 4.3
DECIDE_FIELDS = ("status", "jail_until", "vacated_at", "last_act")


def check_decide(sim, seed, jail_room=4, **changes):
    before, after, params, values, out = decided(sim, seed, jail_room, **changes)
    expected = decide_reference(sim.layout, before, params, values.grievance, values.detection,
                                values.signal, jail_room)
    for name in DECIDE_FIELDS:
        np.testing.assert_array_equal(getattr(after, name), expected[name], err_msg=name)
    np.testing.assert_array_equal(values.event, expected["event"])
    np.testing.assert_allclose(out.expected, expected["expected"], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out.groups, expected["groups"])
    assert out.jail_room[0] == expected["jail_room"]
    for name in ("hardship", "risk_aversion", "threshold", "fear", "seen_success",
                 "seen_failure", "exposure"):  # read only
        np.testing.assert_array_equal(getattr(after, name), getattr(before, name))
    return before, after, values, out


def test_decide_matches_reference_in_every_branch(sim):
    events, groups = set(), 0
    for seed in range(12):
        before, after, values, out = check_decide(sim, seed)
        events |= set(values.event.tolist())
        groups += out.groups.sum()
        assert out.jail_room[0] == 0  # the room binds
        # positions away stay as they were
        away = before.status >= JAILED
        np.testing.assert_array_equal(after.status[away], before.status[away])
        assert np.all(values.event[away] == NONE)
    assert events == set(range(WARD_PURGED)), sorted(set(range(WARD_PURGED)) - events)
    assert groups > 0


@pytest.mark.parametrize("change", [
    {"group_chance": np.zeros(3)},
    {"take_wards": 0.0},
    {"group_quorum": 0.05, "group_chance": np.ones(3)},
    {"group_quorum": 1.0, "group_chance": np.ones(3)},
    {"act_visibility": 1.0, "fear_per_event": 0.0},
    {"memory_keep": 0.0, "purge_stake": 0.0},
    {"success_strength": 1e6},
    {"opportunity": np.full(3, 2.0)},
])
@pytest.mark.parametrize("jail_room", [0, 2, 10_000])
def test_decide_matches_reference_with_rules_switched(sim, change, jail_room):
    for seed in range(3):
        check_decide(sim, 100 + seed, jail_room, **change)


# --------------------------------------------------------------------------- 4.4
RESPOND_FIELDS = ("status", "vacated_at", "fear", "seen_success", "seen_failure", "exposure")


@pytest.mark.parametrize("change", [
    {},
    {"fear_per_event": 0.0},
    {"memory_keep": 0.0},
    {"purge_rate": 1.0, "fear_keep": 0.0},
    {"purge_rate": 0.0},
])
def test_respond_matches_reference(sim, change):
    seen_purges = 0
    for seed in range(6):
        _, agents, params, values, _ = decided(sim, seed, **change)
        before = copy_agents(agents)
        event_before = values.event.copy()
        expected = respond_reference(sim.layout, before, params, event_before)
        leaks = np.zeros(3, np.int64)
        kernels.respond(sim.layout, agents, params, values, leaks)
        for name in RESPOND_FIELDS:
            np.testing.assert_allclose(getattr(agents, name), expected[name], rtol=1e-12,
                                       atol=1e-12, err_msg=name)
        np.testing.assert_array_equal(values.event, expected["event"])
        np.testing.assert_array_equal(leaks, expected["leaks"])
        seen_purges += np.sum(values.event == WARD_PURGED)
        if params.fear_per_event > 0:
            assert np.any(agents.fear > before.fear * params.fear_keep)
        if params.memory_keep > 0 and params.purge_rate < 1:
            assert np.any(agents.exposure > before.exposure * params.memory_keep)
    assert (seen_purges > 0) == (params.purge_rate > 0)


def test_respond_purges_once_per_minder_with_the_leavers_draws(sim):
    """Purges depend only on the leaving wards' own draws, not on the order they are met."""
    _, agents, params, values, _ = decided(sim, 3, purge_rate=0.5, memory_keep=0.0)
    leavers = np.flatnonzero((values.event >= 1) & (values.event <= 3)
                             & (sim.layout.minder >= 0))
    boss = sim.layout.minder[leavers]
    in_post = agents.status[boss] < JAILED
    draws = uniform_reference(params.key_purge, params.step, leavers)
    kernels.respond(sim.layout, agents, params, values, np.zeros(3, np.int64))
    expected = np.unique(boss[in_post & (draws < 0.5)])
    np.testing.assert_array_equal(np.flatnonzero(values.event == WARD_PURGED), expected)
    assert expected.size > 0 and np.all(agents.status[expected] == PURGED)


# --------------------------------------------------------------------------- 4.5
def test_tally_matches_reference(sim):
    totals = np.zeros(TALLY_FIELDS, np.int64)
    for seed in range(6):
        _, agents, params, values, _ = decided(sim, seed)
        kernels.respond(sim.layout, agents, params, values, np.zeros(3, np.int64))
        out = np.full((3, TALLY_FIELDS), -1, np.int64)
        kernels.tally(sim.layout, agents, values, out)
        expected = tally_reference(sim.layout, agents.status, agents.threshold, values.event,
                                   values.grievance, 3)
        np.testing.assert_array_equal(out, expected)
        sizes = sim.layout.tier_end - sim.layout.tier_start
        np.testing.assert_array_equal(out[:, :N_STATUSES].sum(axis=1), sizes)
        totals += out.sum(axis=0)
    assert np.all(np.delete(totals, GROUPS) > 0)  # every field exercised


def test_parallel_respond_gives_the_same_numbers_and_the_tally_counts_them():
    """On a world of 168,000 positions (fading over threads), serial = parallel respond."""
    big = Simulation(make_scenario({"tiers.residents.size": 150_000}, base=WORLD), seed=3)
    outputs = []
    for parallel in (False, True):
        _, agents, params, values, _ = decided(big, 9)
        leaks = np.zeros(3, np.int64)
        kernels.respond(big.layout, agents, params, values, leaks, parallel)
        out = np.full((3, TALLY_FIELDS), -1, np.int64)
        kernels.tally(big.layout, agents, values, out)
        outputs.append((*agents, values.event, leaks, out))
    for serial, parallel in zip(*outputs, strict=True):
        np.testing.assert_array_equal(serial, parallel)
    _, agents, params, values, _ = decided(big, 9)
    kernels.respond(big.layout, agents, params, values, np.zeros(3, np.int64))
    expected = tally_reference(big.layout, agents.status, agents.threshold, values.event,
                               values.grievance, 3)
    np.testing.assert_array_equal(outputs[1][-1], expected)


def test_statuses_of_the_failed_and_the_sent_home(sim):
    """Turned back and failed arrests stay active; the caught abroad are sent home."""
    for seed in range(4):
        _, after, _, values, _ = decided(sim, seed, jail_room=0)
        failed = np.isin(values.event, (INTERCEPTION_FAILED, ARREST_FAILED))
        assert np.all(after.status[failed] == ACTIVE)
        sent_home = after.status == REPATRIATED
        assert np.all(after.abroad[sent_home & (values.event != NONE)])
        assert np.all(after.status[np.isin(values.event, (1, 2, 3))] == DEFECTED)


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
