"""Plain NumPy references of the Numba kernels: the oracles of tests/test_kernels.py."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from minders.population import ACTIVE, DEFECTED, FALSIFYING, JAILED, LOYAL, PURGED
from minders.streams import uniform_reference


def surveil_reference(graph, pop, grievance, step, memory, see_private, p_detect,
                      watch_capacity, shirk, informer_rate):
    """Attention, detection and signal, level by level down the hierarchy."""
    n = pop.size
    adjacency = sp.csr_matrix(
        (np.ones(graph.indices.size), graph.indices, graph.indptr), shape=(n, n)
    )
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
