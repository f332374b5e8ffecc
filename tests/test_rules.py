"""Each rule of model v2 on its own, the others switched off, against a closed form."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from minders import kernels
from minders.codes import (
    ACTIVE,
    ARREST,
    ARREST_FAILED,
    ARRESTS_FAILED,
    CAUGHT_PURGED,
    DEFECTED,
    DEFECTION,
    FOLLOW,
    GROUP_DEFECTION,
    INTERCEPTION_REPATRIATED,
    JAILED,
    LOYAL,
    NEVER,
    NONE,
    PURGED,
    REPATRIATED,
    REPATRIATIONS,
)
from minders.engine import Simulation, keep_per_step
from minders.population import build_population, renew
from minders.shocks import build_schedule, remember_crises
from minders.streams import generator

from .conftest import make_scenario

#: Every v2 rule switched off; a test switches on the one it checks.
OFF = {
    "name": "rules",
    "run": {"steps": 10, "seed": 1},
    "model": {
        "informer_rate": 0.0, "fear_per_event": 0.0, "memory_half_life": 0.0,
        "catch_capacity": 1e6, "jail_capacity": 1.0, "purge_stake": 0.0, "purge_rate": 0.0,
        "take_wards": 0.0, "scar_half_life": 0.0, "leak": 0.0, "shirk": 0.0,
    },
    "tiers": {
        "residents": {
            "size": 400, "minded_by": "minders", "span": 10, "renewal": 0.0,
            "group_chance": 0.0, "replace_delay": 3,
        },
        "minders": {"size": "auto", "renewal": 0.0, "hardship": 0.0, "replace_delay": 2},
    },
}


def world(overrides=None, seed=1):
    return Simulation(make_scenario(overrides, base=OFF), seed=seed)


def by_hand(sim, step=5, **changes):
    """Fresh agents, values, params and flows of ``sim`` for calling a kernel directly.

    Everyone is in post, at home, without family, risk aversion or memories, loyal and
    with zero grievance, detection and signal; ``changes`` replace parameters.
    """
    n = sim.population.size
    agents = kernels.Agents(
        status=np.full(n, LOYAL, np.int8), hardship=np.zeros(n), risk_aversion=np.zeros(n),
        threshold=np.full(n, 0.5), abroad=np.zeros(n, bool), family=np.zeros(n, bool),
        fear=np.zeros(n), seen_success=np.zeros(n), seen_failure=np.zeros(n),
        exposure=np.zeros(n), jail_until=np.zeros(n, np.int32),
        vacated_at=np.full(n, NEVER, np.int32), last_act=np.full(n, NEVER, np.int32),
    )
    values = kernels.StepValues(
        grievance=np.zeros(n), detection=np.zeros(n), attention=np.zeros(n),
        signal=np.zeros(n), event=np.zeros(n, np.int8), intent=np.zeros(n, np.uint8),
    )
    tiers = len(sim.population.tier_names)
    params = sim.step_params(0)._replace(
        step=step, legitimacy=np.zeros(tiers), beta=np.zeros(tiers), pull=np.zeros(tiers),
        opportunity=np.ones(tiers), abroad_chance=np.zeros(tiers),
        border_chance=np.zeros(tiers), group_chance=np.zeros(tiers), family_weight=0.0,
        act_visibility=1.0, memory_keep=0.0, fear_keep=0.0, fear_per_event=0.0,
        purge_rate=0.0, purge_stake=0.0, take_wards=0.0,
    )._replace(**changes)
    flows = kernels.StepFlows(expected=np.zeros(tiers), groups=np.zeros(tiers, np.int64),
                              jail_room=np.array([10**9], np.int64))
    return agents, values, params, flows


def residents(sim):
    """Positions of the residents' tier."""
    where = sim.population.tier_slice("residents")
    return np.arange(where.start, where.stop)


def units(sim):
    """(minder, its wards) of each work unit of residents."""
    layout = sim.layout
    minders = np.flatnonzero(layout.is_minder & (layout.watched_tier == 0))
    return [(m, np.arange(layout.ward_start[m], layout.ward_end[m])) for m in minders]


# --------------------------------------------------------------------------- renewal
def test_renewal_redraws_binomial_many_hardships_per_step():
    rate, steps = 0.02, 400
    scenario = make_scenario({"tiers.residents.size": 2000, "tiers.residents.renewal": rate},
                             base=OFF)
    pop = build_population(scenario, 1)
    rngs = {name: generator(1, f"renewal/{name}") for name in pop.tier_names}
    n = 2000
    counts = np.empty(steps)
    for t in range(steps):
        before = pop.hardship.copy()
        changed = renew(pop, scenario, rngs)
        counts[t] = changed.size
        unchanged = np.setdiff1d(np.arange(pop.size), changed)
        np.testing.assert_array_equal(pop.hardship[unchanged], before[unchanged])
        assert np.all(pop.tier[changed] == 0)  # minders have renewal 0
    # mean over steps of Binomial(n, rate): within 4 standard errors of n * rate
    assert abs(counts.mean() - n * rate) < 4 * np.sqrt(n * rate * (1 - rate) / steps)
    assert stats.kstest(pop.hardship[pop.tier == 0], "uniform").pvalue > 1e-3


def test_renewal_changes_each_holder_with_chance_renewal_also_for_large_rates():
    rate, steps, n = 0.5, 100, 400
    scenario = make_scenario({"tiers.residents.renewal": rate}, base=OFF)
    pop = build_population(scenario, 1)
    rngs = {name: generator(1, f"renewal/{name}") for name in pop.tier_names}
    counts = np.array([renew(pop, scenario, rngs).size for _ in range(steps)])
    assert abs(counts.mean() - n * rate) < 4 * np.sqrt(n * rate * (1 - rate) / steps)


# --------------------------------------------------------------------------- fear
def test_fear_of_one_event_fades_geometrically():
    sim = world()
    agents, values, params, _ = by_hand(sim, fear_per_event=0.25, fear_keep=0.5)
    layout = sim.layout
    i = residents(sim)[17]
    agents.status[i] = JAILED
    values.event[i] = ARREST
    neighbours = np.unique(layout.indices[layout.indptr[i]:layout.indptr[i + 1]])
    others = np.setdiff1d(np.arange(sim.population.size), neighbours)
    leaks = np.zeros(2, np.int64)
    kernels.respond(layout, agents, params, values, leaks)
    values.event[:] = NONE
    for t in range(1, 12):
        kernels.respond(layout, agents, params, values, leaks)
        np.testing.assert_array_equal(agents.fear[neighbours], 0.25 * 0.5**t)
        assert not np.any(agents.fear[others])


def test_a_purge_frightens_its_neighbours_and_fellow_minders_once_each():
    sim = world({"tiers.minders.minded_by": "security", "tiers.minders.span": 5,
                 "tiers.security": {"size": "auto", "renewal": 0.0}})
    agents, values, params, _ = by_hand(sim, fear_per_event=0.25, fear_keep=1.0)
    layout = sim.layout
    m = np.flatnonzero(layout.is_minder & (layout.minder >= 0))[3]
    agents.status[m] = PURGED
    values.event[m] = CAUGHT_PURGED
    kernels.respond(layout, agents, params, values, np.zeros(2, np.int64))
    neighbours = np.zeros(sim.population.size, int)
    np.add.at(neighbours, layout.indices[layout.indptr[m]:layout.indptr[m + 1]], 1)
    fellows = (layout.minder == layout.minder[m]) & (np.arange(sim.population.size) != m)
    seen = neighbours + fellows
    np.testing.assert_allclose(agents.fear, 1.0 - 0.75**seen, rtol=1e-15)
    assert fellows.sum() > 0 and agents.fear[m] == 0.0


# --------------------------------------------------------------------------- scar
@pytest.mark.parametrize("half_life", [1.0, 5.0, 52.0])
def test_scar_of_a_step_drop_fades_geometrically(half_life):
    base, low, start, end, steps = 0.8, 0.3, 5, 9, 60
    keep = 0.5 ** (1.0 / half_life)
    legitimacy = np.full((steps, 1), base)
    legitimacy[start:end] = low
    remember_crises(legitimacy, np.array([base]), keep)
    t = np.arange(steps)
    after = t >= end
    closed = np.where(after, base - (base - low) * keep ** (t - (end - 1)), legitimacy[:, 0])
    np.testing.assert_allclose(legitimacy[:, 0], closed, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(legitimacy[:end, 0], [base] * start + [low] * (end - start))
    # the same through the scenario's schedule
    scenario = make_scenario({"model.scar_half_life": half_life, "shocks": [
        {"kind": "legitimacy", "start": start, "end": end, "value": low,
         "tiers": ["residents"]}]}, base=OFF)
    schedule = build_schedule(scenario, steps)
    np.testing.assert_allclose(schedule.legitimacy[:, 0], closed, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(schedule.legitimacy[:, 1], base)  # other tier unscarred


# --------------------------------------------------------------------------- surveillance
@pytest.mark.parametrize("catch_capacity", [1.0, 2.5, 1e6])
def test_safety_in_numbers(catch_capacity):
    sim = world()
    agents, values, params, _ = by_hand(sim, watch_capacity=4.0, catch_capacity=catch_capacity,
                                        informer_rate=0.0, shirk=0.0,
                                        p_detect=np.array([0.7, 0.9]))
    rng = np.random.default_rng(3)
    res = residents(sim)
    agents.status[res] = rng.choice([LOYAL, ACTIVE, JAILED, DEFECTED], res.size,
                                    p=[0.4, 0.4, 0.1, 0.1])
    kernels.surveil(sim.layout, agents, params, values)
    checked = 0
    for m, wards in units(sim):
        present = np.sum(agents.status[wards] < JAILED)
        active = np.sum(agents.status[wards] == ACTIVE)
        # the minders' own minders: an unsupervised tier, so attention is not scaled
        attention = min(1.0, 4.0 / present) * (min(1.0, catch_capacity / active) if active
                                               else 1.0)
        assert values.attention[m] == pytest.approx(attention, rel=1e-15)
        in_post = wards[agents.status[wards] < JAILED]
        np.testing.assert_allclose(values.detection[in_post], attention * 0.7, rtol=1e-12)
        checked += active > catch_capacity
    assert checked > 0 or catch_capacity > 100


# --------------------------------------------------------------------------- jail
@pytest.mark.parametrize("room", [0, 1, 7])
def test_jail_room_is_used_up_in_index_order(room):
    sim = world()
    agents, values, params, flows = by_hand(sim, act_visibility=1.0, max_jail=5)
    res = residents(sim)
    rng = np.random.default_rng(4)
    acting = res[rng.random(res.size) < 0.3]
    agents.hardship[acting] = 1.0  # G = 1 > T = 0.5; no risk: they act
    values.grievance[:] = agents.hardship
    values.detection[acting] = 1.0  # and are all caught
    flows.jail_room[0] = room
    kernels.decide(sim.layout, agents, params, values, flows)
    jailed, failed = acting[:room], acting[room:]
    assert np.all(values.event[jailed] == ARREST) and np.all(agents.status[jailed] == JAILED)
    assert np.all(values.event[failed] == ARREST_FAILED)
    assert np.all(agents.status[failed] == ACTIVE)
    assert np.all(agents.last_act[acting] == params.step)
    assert flows.jail_room[0] == 0 and np.sum(agents.status == JAILED) == room
    assert np.all((agents.jail_until[jailed] >= 6) & (agents.jail_until[jailed] <= 10))


def test_jail_never_holds_more_than_its_capacity():
    sim = world({"model.jail_capacity": 0.02, "model.max_jail": 20,
                 "tiers.residents.p_detect": 1.0, "tiers.residents.border_chance": 0.0,
                 "tiers.residents.threshold": 0.0, "model.act_visibility": 1.0})
    capacity = int(0.02 * sim.population.size)
    jailed = []
    for _ in range(10):
        sim.step()
        jailed.append(np.sum(sim.population.status == JAILED))
    assert max(jailed) == capacity
    assert sim.records.counts[:, 0, ARRESTS_FAILED].sum() > 0  # arrests failed for want of room


# --------------------------------------------------------------------------- repatriation
def test_caught_abroad_are_sent_home_and_their_post_refilled_after_the_delay():
    delay = 3
    sim = world({"tiers.residents.abroad": 1.0, "tiers.residents.abroad_chance": 1.0,
                 "tiers.residents.p_detect": 1.0, "tiers.residents.replace_delay": delay,
                 "model.watch_capacity": 100.0})
    history, vacated = [], []
    for _ in range(10):
        sim.step()
        history.append(sim.population.status.copy())
        vacated.append(sim.population.vacated_at.copy())
    event_steps = 0
    for t in range(10 - delay - 1):
        sent = np.flatnonzero((history[t] == REPATRIATED) & (vacated[t] == t))
        event_steps += sent.size > 0
        for s in range(t, t + delay + 1):  # vacant through step t + delay
            assert np.all(history[s][sent] == REPATRIATED)
            assert np.all(vacated[s][sent] == t)
        assert np.all(vacated[t + delay + 1][sent] != t)  # refilled at step t + delay + 1
    assert event_steps > 0
    counts = sim.records.counts
    assert counts[:, 0, REPATRIATIONS].sum() > 0  # repatriations recorded
    assert counts[:, 0, JAILED].sum() == 0  # nobody abroad is jailed


# --------------------------------------------------------------------------- followers
def test_willing_wards_follow_a_defecting_minder_with_chance_take_wards():
    sim = world()
    take = 0.35
    follows = willing_total = 0
    for step in range(1, 9):
        agents, values, params, flows = by_hand(sim, step=step, take_wards=take,
                                                abroad_chance=np.array([0.0, 1.0]))
        layout = sim.layout
        minders = np.flatnonzero(layout.is_minder)
        agents.abroad[minders] = True
        res = residents(sim)
        rng = np.random.default_rng(step)
        willing = res[rng.random(res.size) < 0.5]
        agents.hardship[minders] = 1.0
        agents.hardship[willing] = 1.0
        values.grievance[:] = agents.hardship  # L = 0
        kernels.decide(layout, agents, params, values, flows)
        assert np.all(values.event[minders] == DEFECTION)
        unwilling = np.setdiff1d(res, willing)
        assert not np.any(values.event[unwilling] == FOLLOW)
        followed = values.event[willing] == FOLLOW
        assert np.all(agents.status[willing[followed]] == DEFECTED)
        assert np.all(values.event[willing[~followed]] == NONE)  # at home, no way out
        follows += followed.sum()
        willing_total += willing.size
    assert stats.binomtest(int(follows), willing_total, take).pvalue > 1e-3


# --------------------------------------------------------------------------- groups
@pytest.mark.parametrize("quorum", [0.3, 0.5, 1.0])
@pytest.mark.parametrize("stopped", [False, True])
def test_a_unit_goes_together_iff_a_quorum_of_its_members_wants_to(quorum, stopped):
    sim = world()
    agents, values, params, flows = by_hand(sim, group_chance=np.array([1.0, 0.0]),
                                            group_quorum=quorum)
    rng = np.random.default_rng(7)
    res = residents(sim)
    agents.abroad[res] = True
    plan = []
    for j, (m, wards) in enumerate(units(sim)):
        agents.status[wards[: j % 3]] = JAILED  # 0-2 jailed wards, not present
        present = wards[j % 3:]
        n_willing = j % (present.size + 1)
        willing = rng.choice(present, n_willing, replace=False)
        agents.hardship[willing] = 1.0
        agents.hardship[m] = 1.0 if j % 4 == 0 else 0.0  # some minders want to go too
        plan.append((m, wards, present, n_willing >= quorum * present.size))
        values.detection[willing] = 1.0 if stopped else 0.0
    values.grievance[:] = agents.hardship
    before = agents.status.copy()
    kernels.decide(sim.layout, agents, params, values, flows)
    gone = 0
    for m, wards, present, goes in plan:
        jailed = np.setdiff1d(wards, present)
        assert np.all(agents.status[jailed] == JAILED) and np.all(values.event[jailed] == NONE)
        if goes:
            code = INTERCEPTION_REPATRIATED if stopped else GROUP_DEFECTION
            assert np.all(values.event[present] == code)
            assert np.all(agents.status[present] == (REPATRIATED if stopped else DEFECTED))
            minder_goes = agents.hardship[m] == 1.0
            expected_m = (CAUGHT_PURGED if stopped else GROUP_DEFECTION) if minder_goes else NONE
            assert values.event[m] == expected_m
            gone += not stopped
        else:
            assert np.all(values.event[present] == NONE)
            assert np.all(agents.status[present] < JAILED)
            assert values.event[m] == NONE  # no way out of its own (abroad_chance 0)
    assert flows.groups[0] == gone and flows.groups[1] == 0
    assert 0 < sum(goes for *_, goes in plan) < len(plan)
    assert np.all(agents.status[before == JAILED] == JAILED)


def test_a_unit_with_nobody_willing_stays_even_with_quorum_zero():
    sim = world()
    agents, values, params, flows = by_hand(sim, group_chance=np.array([1.0, 0.0]),
                                            group_quorum=0.0)
    agents.abroad[residents(sim)] = True
    kernels.decide(sim.layout, agents, params, values, flows)
    assert flows.groups.sum() == 0 and not np.any(values.event == GROUP_DEFECTION)


# --------------------------------------------------------------------------- beliefs
def test_failure_belief_closed_form():
    sim = world()
    agents, _, params, _ = by_hand(sim, success_prior=0.7, success_strength=6.0)
    rng = np.random.default_rng(8)
    n = sim.population.size
    agents.seen_success[:] = rng.exponential(3.0, n) * (rng.random(n) < 0.7)
    agents.seen_failure[:] = rng.exponential(3.0, n) * (rng.random(n) < 0.7)
    perceived = rng.random(n)
    got = np.array([
        kernels._failure_belief(perceived[i], agents.seen_success[i], agents.seen_failure[i],
                                params.success_prior, params.success_strength)
        for i in range(n)
    ])
    b = (0.7 * 6.0 + agents.seen_success) / (6.0 + agents.seen_success + agents.seen_failure)
    np.testing.assert_allclose(got, np.minimum(1.0, perceived * (1.0 - b) / 0.3), rtol=1e-12)
    nothing = (agents.seen_success == 0) & (agents.seen_failure == 0)
    np.testing.assert_allclose(got[nothing], perceived[nothing], rtol=1e-12)
    assert np.any(got == 1.0) and np.any(got < perceived)  # capped; and successes reassure


def test_seen_successes_and_failures_fade_with_memory_keep():
    sim = world()
    keep = keep_per_step(4.0)
    agents, values, params, _ = by_hand(sim, memory_keep=keep)
    layout = sim.layout
    res = residents(sim)
    left, stopped = res[5], res[200]
    values.event[left] = DEFECTION
    agents.status[left] = DEFECTED
    values.event[stopped] = INTERCEPTION_REPATRIATED
    agents.status[stopped] = REPATRIATED
    kernels.respond(layout, agents, params, values, np.zeros(2, np.int64))
    values.event[:] = NONE
    for _ in range(3):
        kernels.respond(layout, agents, params, values, np.zeros(2, np.int64))

    def seen(i):
        count = np.zeros(sim.population.size)
        np.add.at(count, layout.indices[layout.indptr[i]:layout.indptr[i + 1]], 1.0)
        return count

    success = seen(left)
    success[layout.minder[left]] += 1.0  # its minder saw it too
    np.testing.assert_allclose(agents.seen_success, success * keep**3, rtol=1e-12)
    np.testing.assert_allclose(agents.seen_failure, seen(stopped) * keep**3, rtol=1e-12)


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_expected_purge_stake_closed_form(rate):
    sim = world()
    agents, values, params, _ = by_hand(sim, purge_stake=0.4, purge_rate=rate)
    layout = sim.layout
    rng = np.random.default_rng(9)
    n = sim.population.size
    exposure = rng.exponential(2.0, n) * (rng.random(n) < 0.8)

    def margins():
        return np.array([
            kernels._leave_margin(
                0.0, 0.0, 0.0, values.signal[i], params.beta[layout.tier[i]],
                params.pull[layout.tier[i]], agents.seen_success[i], agents.seen_failure[i],
                params.success_prior, params.success_strength, layout.is_minder[i],
                agents.exposure[i], params.purge_stake, params.purge_rate,
                agents.risk_aversion[i], agents.threshold[i])
            for i in range(n)])

    without = margins()
    agents.exposure[:] = exposure
    stake = margins() - without
    closed = np.where(layout.is_minder, 0.4 * (1.0 - (1.0 - rate) ** exposure), 0.0)
    np.testing.assert_allclose(stake, closed, rtol=1e-12, atol=1e-15)
    assert np.sum(stake > 0) > 10


def test_purges_and_exposure_of_minders_after_their_wards_escape():
    """A minder not purged after k escapes of its wards remembers k (exposure)."""
    sim = world()
    agents, values, params, _ = by_hand(sim, purge_rate=0.0, memory_keep=0.5)
    rng = np.random.default_rng(10)
    res = residents(sim)
    left = res[rng.random(res.size) < 0.2]
    values.event[left] = rng.choice([DEFECTION, GROUP_DEFECTION, FOLLOW], left.size)
    agents.status[left] = DEFECTED
    agents.exposure[:] = 1.0
    kernels.respond(sim.layout, agents, params, values, np.zeros(2, np.int64))
    escapes = np.bincount(sim.layout.minder[left], minlength=sim.population.size)
    minders = sim.layout.is_minder
    np.testing.assert_array_equal(agents.exposure[minders], 0.5 + escapes[minders])


# --------------------------------------------------------------------------- acting
def test_exit_before_voice_abroad():
    """One who wants to leave but has no way out acts at home and keeps quiet abroad."""
    sim = world()
    agents, values, params, flows = by_hand(sim, act_visibility=1.0)
    res = residents(sim)
    agents.hardship[res] = 1.0
    values.grievance[:] = agents.hardship  # wants to leave and would act
    agents.abroad[res[::2]] = True
    kernels.decide(sim.layout, agents, params, values, flows)
    assert np.all(agents.status[res[1::2]] == ACTIVE)
    assert np.all(agents.status[res[::2]] == 1)  # falsifying: G > T, keeps quiet


@pytest.mark.parametrize("visibility", [1.0, 3.0])
def test_open_acts_are_caught_with_chance_one_minus_unseen_to_the_v(visibility):
    sim = world()
    d = 0.2
    caught = acted = 0
    for step in range(1, 6):
        agents, values, params, flows = by_hand(sim, step=step, act_visibility=visibility,
                                                pull=np.array([-10.0, -10.0]))
        res = residents(sim)
        agents.hardship[res] = 1.0
        values.grievance[:] = agents.hardship
        values.detection[res] = d
        kernels.decide(sim.layout, agents, params, values, flows)
        acted += res.size
        caught += np.sum(values.event[res] == ARREST)
        assert np.all(agents.last_act[res] == step)
    assert stats.binomtest(int(caught), acted, 1 - (1 - d) ** visibility).pvalue > 1e-3


# --------------------------------------------------------------------------- expected flow
def test_realised_escapes_match_the_expected_flow():
    overrides = {"tiers.residents.abroad": 0.5, "tiers.residents.abroad_chance": 0.3,
                 "tiers.residents.border_chance": 0.05, "tiers.residents.p_detect": 0.6,
                 "tiers.residents.legitimacy": 0.4,
                 "model.informer_rate": 0.01, "run.steps": 15}
    gap = []
    for seed in range(30):
        records = world(overrides, seed=seed).run().records
        gap.append((records["defections"] - records["expected_defections"]).sum())
        assert records["groups"].sum() == 0 and records["followers"].sum() == 0
    expected_total = world(overrides, seed=0).run().records["expected_defections"].sum()
    assert expected_total > 20  # enough escapes for the test to mean something
    assert stats.ttest_1samp(gap, 0.0).pvalue > 1e-3


def test_expected_flow_is_a_probability_also_when_opportunity_is_multiplied():
    sim = world()
    agents, values, params, flows = by_hand(sim, opportunity=np.array([3.0, 3.0]),
                                            border_chance=np.array([0.5, 0.0]))
    res = residents(sim)
    agents.hardship[res] = 1.0
    values.grievance[:] = agents.hardship
    values.detection[res] = 0.2
    kernels.decide(sim.layout, agents, params, values, flows)
    assert np.sum(values.event == DEFECTION) + np.sum(values.event > 3) == res.size  # all try
    assert flows.expected[0] == pytest.approx(res.size * 0.8)
