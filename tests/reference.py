"""Plain NumPy references of the Numba kernels: the oracles of tests/test_kernels.py.

Each takes the population (``pop``: a :class:`minders.population.Population`,
whose columns are the kernels' :class:`~minders.kernels.Layout` and
:class:`~minders.kernels.Agents`) and returns what the kernel writes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from minders.codes import (
    ACTIVE,
    AGGRIEVED,
    ARREST,
    ARREST_PURGED,
    ARRESTS,
    ATTEMPTS,
    CAUGHT_PURGED,
    DEFECTED,
    DEFECTION,
    DEFECTIONS,
    FALSIFYING,
    IN_POST,
    INTERCEPTION,
    INTERCEPTIONS,
    JAILED,
    LOYAL,
    MINDERS_WATCHING,
    N_STATUSES,
    PURGED,
    PURGES,
    TALLY_FIELDS,
    WARD_PURGED,
)
from minders.streams import uniform_reference


def _adjacency(graph, n):
    return sp.csr_matrix((np.ones(graph.indices.size), graph.indices, graph.indptr), shape=(n, n))


def grievance_reference(pop, legitimacy):
    """G = H (1 - L_tier) + fear."""
    return pop.hardship * (1.0 - legitimacy[pop.tier]) + pop.fear


def quiet_status_reference(grievance, threshold):
    """Falsifying if privately aggrieved, else loyal."""
    return np.where(grievance > threshold, FALSIFYING, LOYAL).astype(np.int8)


def surveil_reference(graph, pop, grievance, step, memory, see_private, p_detect,
                      watch_capacity, shirk, informer_rate):
    """Attention, detection and signal, level by level down the hierarchy."""
    n = pop.size
    adjacency = _adjacency(graph, n)
    status = pop.status
    in_post = status < JAILED
    loyal = adjacency @ (status == LOYAL).astype(float)
    private = see_private[pop.tier] & in_post & (grievance > pop.threshold)
    seen_act = pop.last_act >= step - memory
    seen = adjacency @ (seen_act | (private & ~seen_act)).astype(float)
    # seen_act counts for every observer; private discontent only for observers with info
    seen_acts_only = adjacency @ seen_act.astype(float)
    seen = np.where(see_private[pop.tier], seen, seen_acts_only)
    degree = np.diff(graph.indptr)
    signal = np.where(degree > 0, seen / np.maximum(degree, 1), 0.0)

    present = np.zeros(n)
    wards = np.flatnonzero(pop.minder >= 0)
    np.add.at(present, pop.minder[wards], in_post[wards])

    attention = np.zeros(n)
    detection = np.zeros(n)
    depth = np.zeros(n, dtype=int)
    for i in range(n):  # depth of each position in the hierarchy
        m, d = pop.minder[i], 0
        while m >= 0:
            m, d = pop.minder[m], d + 1
        depth[i] = d
    for level in range(depth.max() + 1):
        idx = np.flatnonzero(depth == level)
        m = pop.minder[idx]
        watched = np.where(m >= 0, attention[np.maximum(m, 0)] * p_detect[pop.tier[idx]], 0.0)
        d = 1.0 - (1.0 - np.minimum(watched, 1.0)) * (1.0 - informer_rate) ** loyal[idx]
        diligence = np.where(grievance[idx] > pop.threshold[idx], 1.0 - shirk * (1.0 - d), 1.0)
        a = np.where(
            present[idx] > 0,
            np.minimum(1.0, watch_capacity / np.maximum(present[idx], 1)) * diligence, 0.0,
        )
        attention[idx] = np.where(pop.is_minder[idx] & in_post[idx], a, 0.0)
        detection[idx] = d
    off = ~in_post
    attention[off] = detection[off] = signal[off] = 0.0
    return attention, detection, signal


def decide_reference(pop, grievance, detection, signal, beta, pull, opportunity,
                     abroad_chance, border_chance, family_weight, max_jail, step, keys):
    """Statuses after the decision step, and the new jail terms, without any loop."""
    slots = np.arange(pop.size)
    k = pop.tier
    risk = pop.risk_aversion * detection
    net = grievance + beta[k] * signal + pull[k] - risk * (1 + family_weight * pop.family)
    chance = np.where(pop.abroad, abroad_chance[k], border_chance[k]) * opportunity[k]
    u_opp = uniform_reference(keys["opportunity"], step, slots)
    u_int = uniform_reference(keys["intercept"], step, slots)
    u_arr = uniform_reference(keys["arrest"], step, slots)
    u_jail = uniform_reference(keys["jail_term"], step, slots)
    in_post = pop.status < JAILED
    attempt = in_post & (net > pop.threshold) & (u_opp < chance)
    caught = attempt & (u_int < detection)
    active = in_post & ~attempt & (grievance - risk > pop.threshold)
    arrested = active & (u_arr < detection)
    status = pop.status.copy()
    status[in_post] = np.where(grievance[in_post] > pop.threshold[in_post], FALSIFYING, LOYAL)
    status[active] = ACTIVE
    status[attempt & ~caught] = DEFECTED
    jailed = (caught | arrested) & ~pop.is_minder
    status[jailed] = JAILED
    status[(caught | arrested) & pop.is_minder] = PURGED
    jail_until = np.where(jailed, step + 1 + (u_jail * max_jail).astype(int), pop.jail_until)
    return status, jail_until


def respond_reference(graph, pop, status, event, vacated_at, purge_rate, fear_per_purge, step,
                      key):
    """Statuses, events, fear, vacancy steps and leaks after the regime's response, no loop.

    ``status``, ``event`` and ``vacated_at`` are those after the decision step
    (consistent with each other); ``pop.fear`` is the fear before the step.
    """
    status, event, fear = status.copy(), event.copy(), pop.fear.copy()
    vacated_at = vacated_at.copy()
    minder = pop.minder
    defected = np.flatnonzero(event == DEFECTION)
    m = minder[defected]
    watched = m >= 0
    defected, m = defected[watched], m[watched]
    # a minder is purged if in post and any of its defecting wards' draws falls under the rate
    hit = (status[m] < JAILED) & (uniform_reference(key, step, defected) < purge_rate)
    bosses = np.unique(m[hit])
    status[bosses] = PURGED
    vacated_at[bosses] = step
    event[bosses] = WARD_PURGED
    if fear_per_purge > 0:
        purged = event >= CAUGHT_PURGED
        supervised = minder >= 0
        # peers in the work unit: every purged position under the same minder but oneself
        per_unit = np.bincount(minder[purged & supervised], minlength=pop.size)
        others = per_unit[np.maximum(minder, 0)] - purged
        fear += np.where(supervised, fear_per_purge * others, 0.0)
        # unsupervised tiers: neighbours of the same tier
        adjacency = _adjacency(graph, pop.size)
        for k in range(len(pop.tier_names)):
            same = pop.tier == k
            count = adjacency @ (purged & ~supervised & same).astype(float)
            fear += np.where(same, fear_per_purge * count, 0.0)
    leaking = (event == DEFECTION) & pop.is_minder
    leaks = np.bincount(pop.watched_tier[leaking], minlength=len(pop.tier_names))
    return status, event, fear, vacated_at, leaks


def tally_reference(pop, status, event, grievance):
    """Counts per tier: status stocks, flows, in post, aggrieved, minders watching."""
    n_tiers = len(pop.tier_names)
    out = np.zeros((n_tiers, TALLY_FIELDS), dtype=np.int64)
    tier = pop.tier

    def per_tier(mask, by=tier):
        return np.bincount(by[mask], minlength=n_tiers)

    for code in range(N_STATUSES):
        out[:, code] = per_tier(status == code)
    defection = event == DEFECTION
    interception = (event == INTERCEPTION) | (event == CAUGHT_PURGED)
    out[:, ATTEMPTS] = per_tier(defection | interception)
    out[:, DEFECTIONS] = per_tier(defection)
    out[:, INTERCEPTIONS] = per_tier(interception)
    out[:, ARRESTS] = per_tier((event == ARREST) | (event == ARREST_PURGED))
    out[:, PURGES] = per_tier(event >= CAUGHT_PURGED)
    in_post = status < JAILED
    out[:, IN_POST] = per_tier(in_post)
    out[:, AGGRIEVED] = per_tier(in_post & (grievance > pop.threshold))
    out[:, MINDERS_WATCHING] = per_tier(in_post & pop.is_minder, by=pop.watched_tier)
    return out
