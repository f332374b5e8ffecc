"""Plain NumPy references of the Numba step kernels (model v2), the oracles of test_kernels.

Each reference takes the kernels' own inputs (:class:`minders.kernels.Layout`,
:class:`~minders.kernels.Agents`, :class:`~minders.kernels.StepParams`, the
step's values) and *returns* what the kernel writes, leaving its inputs alone.
They are written from the rules (the kernels' docstrings and docs/model.md),
vectorised over agents where the rule is a formula; the rules that are
sequential in the kernel are written as loops over levels of the hierarchy
or over work units, and the one order dependence (jail room used up in the
order the kernel meets the caught) is made explicit.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from minders.codes import (
    ACTIVE,
    AGGRIEVED,
    ARREST,
    ARREST_FAILED,
    ARREST_PURGED,
    ARREST_REPATRIATED,
    ARRESTS,
    ARRESTS_FAILED,
    ATTEMPTS,
    CAUGHT_PURGED,
    DEFECTED,
    DEFECTION,
    DEFECTIONS,
    FALSIFYING,
    FOLLOW,
    FOLLOWERS,
    GROUP_DEFECTION,
    GROUP_MEMBERS,
    IN_POST,
    INTERCEPTION,
    INTERCEPTION_FAILED,
    INTERCEPTION_REPATRIATED,
    INTERCEPTIONS,
    JAILED,
    LOYAL,
    MINDERS_WATCHING,
    N_STATUSES,
    NONE,
    PURGED,
    PURGES,
    REPATRIATED,
    REPATRIATIONS,
    TALLY_FIELDS,
    WARD_PURGED,
)
from minders.streams import uniform_reference

# --------------------------------------------------------------------------- helpers


def adjacency(layout):
    """The social graph as a sparse matrix: A[i, j] = number of ties i -> j."""
    n = layout.tier.size
    data = np.ones(layout.indices.size)
    return sp.csr_matrix((data, layout.indices, layout.indptr), shape=(n, n))


def depth_of(layout):
    """Depth of each position in the hierarchy (0: unsupervised), following the minders up."""
    depth = np.zeros(layout.tier.size, dtype=np.int64)
    up = layout.minder.astype(np.int64)
    while np.any(up >= 0):
        above = up >= 0
        depth += above
        up = np.where(above, layout.minder[np.maximum(up, 0)], -1)
    return depth


def draws(key, step, n):
    """The counter-based uniforms of all positions for one stream and step."""
    return uniform_reference(key, step, np.arange(n))


def perceived_reference(chance, fear):
    """Perceived chance of being caught: 1 - (1 - chance)(1 - fear)."""
    return 1.0 - (1.0 - chance) * (1.0 - fear)


def failure_belief_reference(perceived, seen_success, seen_failure, prior, strength):
    """Perceived chance that an attempt fails: perceived (1 - b) / (1 - prior), at most 1.

    ``b`` is the mean of the Beta belief that leaving works: prior mean ``prior``
    with weight ``strength``, updated by the successes and failures seen.
    """
    b = (prior * strength + seen_success) / (strength + seen_success + seen_failure)
    return np.minimum(1.0, perceived * (1.0 - b) / (1.0 - prior))


def purge_stake_reference(is_minder, exposure, purge_stake, purge_rate):
    """A minder's expected purge: purge_stake (1 - (1 - purge_rate)^exposure); 0 for others."""
    stake = purge_stake * (1.0 - (1.0 - purge_rate) ** exposure)
    return np.where(is_minder & (exposure > 0.0), stake, 0.0)


def leave_margin_reference(layout, agents, params, grievance, detection, signal):
    """net - T of the decision to leave, for every position (wants to leave when > 0).

    net = G + beta s + pull + stake - R q (1 + phi family), q the failure belief.
    The terms are added in the kernel's order so that the signs agree to the bit.
    """
    k = layout.tier
    perceived = perceived_reference(detection, agents.fear)
    q = failure_belief_reference(perceived, agents.seen_success, agents.seen_failure,
                                 params.success_prior, params.success_strength)
    family = np.where(agents.family, params.family_weight, 0.0)
    stake = purge_stake_reference(layout.is_minder, agents.exposure, params.purge_stake,
                                  params.purge_rate)
    net = (grievance + params.beta[k] * signal + params.pull[k] + stake
           - agents.risk_aversion * q * (1.0 + family))
    return net - agents.threshold


# --------------------------------------------------------------------------- 4.0-4.1


def grievance_reference(layout, agents, legitimacy):
    """G = H (1 - L_tier): grievance without fear (model v2)."""
    return agents.hardship * (1.0 - legitimacy[layout.tier])


def quiet_status_reference(grievance, threshold):
    """Falsifying if privately aggrieved, else loyal."""
    return np.where(grievance > threshold, FALSIFYING, LOYAL).astype(np.int8)


def settle_reference(layout, agents, slots, legitimacy):
    """Statuses after settling ``slots``: their quiet status at this legitimacy."""
    status = agents.status.copy()
    g = grievance_reference(layout, agents, legitimacy)
    status[slots] = quiet_status_reference(g[slots], agents.threshold[slots])
    return status


# --------------------------------------------------------------------------- 4.2


def surveil_reference(layout, agents, params, grievance):
    """Attention, detection and signal, computed level by level down the hierarchy.

    a_m = min(1, c / present) min(1, kappa / active) diligence_m (0 without wards in post),
    d_i = 1 - (1 - a_minder p_k)(1 - rho)^loyal, s_i = share of neighbours seen acting.
    """
    n = layout.tier.size
    status, k = agents.status, layout.tier
    adj = adjacency(layout)
    in_post = status < JAILED
    loyal = adj @ (status == LOYAL).astype(float)
    acted = agents.last_act >= params.step - params.memory
    private = in_post & (grievance > agents.threshold) & ~acted
    seen = adj @ acted.astype(float) + np.where(
        params.see_private[k], adj @ private.astype(float), 0.0)
    degree = np.diff(layout.indptr)
    signal = np.where(degree > 0, seen / np.maximum(degree, 1), 0.0)

    wards = layout.minder >= 0
    present = np.bincount(layout.minder[wards], weights=in_post[wards], minlength=n)
    active = np.bincount(layout.minder[wards], weights=status[wards] == ACTIVE, minlength=n)
    pursuit = np.where(active > 0, np.minimum(1.0, params.catch_capacity / np.maximum(active, 1)),
                       1.0)
    watch = np.minimum(1.0, params.watch_capacity / np.maximum(present, 1))

    attention = np.zeros(n)
    detection = np.zeros(n)
    depth = depth_of(layout)
    for level in range(depth.max() + 1):
        idx = np.flatnonzero(depth == level)
        m = layout.minder[idx]
        watched = np.where(m >= 0, attention[np.maximum(m, 0)] * params.p_detect[k[idx]], 0.0)
        d = 1.0 - (1.0 - np.minimum(watched, 1.0)) * (1.0 - params.informer_rate) ** loyal[idx]
        diligence = np.where(grievance[idx] > agents.threshold[idx],
                             1.0 - params.shirk * (1.0 - d), 1.0)
        a = np.where(present[idx] > 0, watch[idx] * pursuit[idx] * diligence, 0.0)
        attention[idx] = np.where(layout.is_minder[idx] & in_post[idx], a, 0.0)
        detection[idx] = np.where(in_post[idx], d, 0.0)
    signal = np.where(in_post, signal, 0.0)
    return attention, detection, signal


# --------------------------------------------------------------------------- 4.3


def decide_reference(layout, agents, params, grievance, detection, signal, jail_room):
    """Everything the decision step writes, from the rules.

    Per-agent quantities are vectorised; decisions are taken level by level
    down the hierarchy (a unit's way out is decided at its minder, before its
    wards; a ward follows only a minder who defected alone this step); the
    caught are then sent to jail in the order the kernel meets them (a unit's
    members at their minder, everyone else at its own index) while there is
    room.

    Returns
    -------
    dict
        ``status``, ``jail_until``, ``vacated_at``, ``last_act``, ``event``,
        ``expected``, ``groups`` and ``jail_room`` (the room left).
    """
    n = layout.tier.size
    n_tiers = params.legitimacy.size
    k, d, g = layout.tier, detection, grievance
    step = params.step
    threshold = agents.threshold
    in_post = agents.status < JAILED
    margin = leave_margin_reference(layout, agents, params, grievance, detection, signal)
    wants = margin > 0.0
    chance = np.where(agents.abroad, params.abroad_chance[k], params.border_chance[k]) \
        * params.opportunity[k]
    family = np.where(agents.family, params.family_weight, 0.0)
    seen = 1.0 - (1.0 - d) ** params.act_visibility  # an open act is public
    acts = g + params.beta[k] * signal - agents.risk_aversion * perceived_reference(
        seen, agents.fear) * (1.0 + family) > threshold
    u_opp = draws(params.key_opportunity, step, n)
    u_int = draws(params.key_intercept, step, n)
    u_arr = draws(params.key_arrest, step, n)
    u_jail = draws(params.key_jail, step, n)
    u_group = draws(params.key_group, step, n)
    u_follow = draws(params.key_follow, step, n)

    event = np.full(n, NONE, np.int8)
    caught = np.zeros(n, bool)  # caught trying to leave or acting
    attempt = np.zeros(n, bool)  # ... trying to leave
    met_at = np.arange(n)  # where the kernel meets the caught (a unit's members: at the minder)
    swept = np.zeros(n, bool)  # went (or was stopped) with its unit: no decision of its own
    decided = np.zeros(n, bool)  # took its own decision
    acting = np.zeros(n, bool)
    groups = np.zeros(n_tiers, np.int64)

    depth = depth_of(layout)
    for level in range(depth.max() + 1):
        here = np.flatnonzero((depth == level) & in_post & ~swept)
        decided[here] = True
        # Work units abroad: the way out is decided at the unit's minder.
        gone_with_unit = np.zeros(n, bool)
        for m in here[layout.is_minder[here]]:
            start, end = layout.ward_start[m], layout.ward_end[m]
            if end <= start or not agents.abroad[start]:
                continue
            kw = layout.tier[start]
            way_out = params.group_chance[kw] * params.opportunity[kw]
            if params.group_chance[kw] <= 0.0 or u_group[m] >= way_out:
                continue
            unit = np.arange(start, end)
            members = unit[in_post[unit]]
            willing = members[wants[members]]
            if willing.size == 0 or willing.size < params.group_quorum * members.size:
                continue
            stopped = u_int[m] < np.cumsum(d[willing])[-1] / willing.size
            goers = np.append(members, m) if wants[m] else members
            swept[members] = True
            if stopped:
                caught[goers] = attempt[goers] = True
                met_at[goers] = m
            else:
                event[goers] = GROUP_DEFECTION
                groups[kw] += 1
            gone_with_unit[m] = wants[m]
        rest = here[~gone_with_unit[here]]
        m = layout.minder[rest]
        follow = wants[rest] & (m >= 0) & (params.take_wards > 0.0) \
            & (DEFECTION <= event[np.maximum(m, 0)]) & (event[np.maximum(m, 0)] <= FOLLOW) \
            & (u_follow[rest] < params.take_wards)
        tries = ~follow & wants[rest] & (u_opp[rest] < chance[rest])
        stopped = tries & (u_int[rest] < d[rest])
        act = ~follow & ~tries & ~(wants[rest] & agents.abroad[rest]) & acts[rest]
        arrested = act & (u_arr[rest] < seen[rest])
        event[rest[follow]] = FOLLOW
        event[rest[tries & ~stopped]] = DEFECTION
        caught[rest[stopped | arrested]] = True
        attempt[rest[stopped]] = True
        acting[rest[act]] = True

    expected = np.bincount(k[decided & wants],
                           weights=(np.minimum(chance, 1.0) * (1.0 - d))[decided & wants],
                           minlength=n_tiers)

    status = agents.status.copy()
    jail_until = agents.jail_until.copy()
    vacated_at = agents.vacated_at.copy()
    last_act = agents.last_act.copy()
    quiet = decided & (event == NONE) & ~caught & ~acting
    status[quiet] = quiet_status_reference(g[quiet], threshold[quiet])
    status[acting] = ACTIVE
    last_act[acting] = step
    left = np.isin(event, (DEFECTION, GROUP_DEFECTION, FOLLOW))
    status[left] = DEFECTED
    vacated_at[left] = step
    last_act[left] = step
    # The caught: minders purged, workers abroad sent home, the rest jailed while there is room.
    purged = caught & layout.is_minder
    sent_home = caught & ~layout.is_minder & agents.abroad
    to_jail = caught & ~purged & ~sent_home
    queue = np.flatnonzero(to_jail)
    queue = queue[np.lexsort((queue, met_at[queue]))]
    jailed, free = queue[:jail_room], queue[jail_room:]
    status[purged] = PURGED
    vacated_at[purged] = step
    event[purged] = np.where(attempt[purged], CAUGHT_PURGED, ARREST_PURGED)
    status[sent_home] = REPATRIATED
    vacated_at[sent_home] = step
    event[sent_home] = np.where(attempt[sent_home], INTERCEPTION_REPATRIATED, ARREST_REPATRIATED)
    status[jailed] = JAILED
    jail_until[jailed] = step + 1 + (u_jail[jailed] * params.max_jail).astype(np.int64)
    event[jailed] = np.where(attempt[jailed], INTERCEPTION, ARREST)
    # No room: an attempt is turned back (and seen), an arrest fails; both stay free and active.
    status[free] = ACTIVE
    event[free] = np.where(attempt[free], INTERCEPTION_FAILED, ARREST_FAILED)
    last_act[free[attempt[free]]] = step
    return {
        "status": status, "jail_until": jail_until, "vacated_at": vacated_at,
        "last_act": last_act, "event": event, "expected": expected, "groups": groups,
        "jail_room": max(0, jail_room - jailed.size),
    }


# --------------------------------------------------------------------------- 4.4


def respond_reference(layout, agents, params, event):
    """Everything the response step writes, from the rules.

    ``agents`` and ``event`` are those after the decision step. Returns a dict
    of ``status``, ``event``, ``vacated_at``, ``fear``, ``seen_success``,
    ``seen_failure``, ``exposure`` and ``leaks``.
    """
    n = layout.tier.size
    n_tiers = params.legitimacy.size
    status, event = agents.status.copy(), event.copy()
    vacated_at = agents.vacated_at.copy()
    minder = layout.minder
    keep = params.memory_keep
    fear = agents.fear * params.fear_keep
    success = agents.seen_success * keep
    failure = agents.seen_failure * keep
    exposure = agents.exposure * keep

    # Purges for wards' escapes: each leaving ward draws for its minder (if still in post);
    # the minder is purged at its first leaving ward whose draw falls under the rate, and
    # remembers (exposure) the escapes of the wards before that one.
    left = (DEFECTION <= event) & (event <= FOLLOW)
    leavers = np.flatnonzero(left & (minder >= 0))
    boss = minder[leavers]
    watched = status[boss] < JAILED
    leavers, boss = leavers[watched], boss[watched]
    hit = uniform_reference(params.key_purge, params.step, leavers) < params.purge_rate
    first_hit = np.full(n, n)
    np.minimum.at(first_hit, boss[hit], leavers[hit])
    if keep > 0.0:
        np.add.at(exposure, boss, (leavers < first_hit[boss]).astype(float))
    purged = np.unique(boss[hit])
    status[purged] = PURGED
    vacated_at[purged] = params.step
    event[purged] = WARD_PURGED

    # What is seen: A.T @ x counts, for each position, the neighbours with x.
    seen_by = adjacency(layout).T.tocsr()
    left = (DEFECTION <= event) & (event <= FOLLOW)
    if keep > 0.0:
        success += seen_by @ left.astype(float)
        ward_left = left & (minder >= 0)
        success += np.bincount(minder[ward_left], minlength=n)
        stopped = ((INTERCEPTION <= event) & (event <= INTERCEPTION_FAILED)) \
            | (event == CAUGHT_PURGED)
        failure += seen_by @ stopped.astype(float)
    calm = 1.0 - params.fear_per_event
    if calm < 1.0:
        frightening = (event != NONE) & ~left & (event != INTERCEPTION_FAILED) \
            & (event != ARREST_FAILED)
        count = seen_by @ frightening.astype(float)
        purge = (event >= CAUGHT_PURGED) & (minder >= 0)
        per_unit = np.bincount(minder[purge], minlength=n)  # purges among each minder's wards
        count += np.where(minder >= 0, per_unit[np.maximum(minder, 0)] - purge, 0)
        fear = 1.0 - (1.0 - fear) * calm**count
    leaking = left & layout.is_minder
    leaks = np.bincount(layout.watched_tier[leaking], minlength=n_tiers)
    return {
        "status": status, "event": event, "vacated_at": vacated_at, "fear": fear,
        "seen_success": success, "seen_failure": failure, "exposure": exposure, "leaks": leaks,
    }


# --------------------------------------------------------------------------- 4.5


def tally_reference(layout, status, threshold, event, grievance, n_tiers):
    """Counts per tier: stocks, flows of the step, in post, aggrieved, minders watching."""
    out = np.zeros((n_tiers, TALLY_FIELDS), dtype=np.int64)
    tier = layout.tier

    def per_tier(mask, by=tier):
        return np.bincount(by[mask], minlength=n_tiers)

    for code in range(N_STATUSES):
        out[:, code] = per_tier(status == code)
    left = np.isin(event, (DEFECTION, GROUP_DEFECTION, FOLLOW))
    stopped = np.isin(event, (INTERCEPTION, INTERCEPTION_REPATRIATED, INTERCEPTION_FAILED,
                              CAUGHT_PURGED))
    out[:, ATTEMPTS] = per_tier(left | stopped)
    out[:, DEFECTIONS] = per_tier(left)
    out[:, INTERCEPTIONS] = per_tier(stopped)
    out[:, ARRESTS] = per_tier(np.isin(event, (ARREST, ARREST_REPATRIATED, ARREST_PURGED)))
    out[:, PURGES] = per_tier(np.isin(event, (CAUGHT_PURGED, ARREST_PURGED, WARD_PURGED)))
    out[:, REPATRIATIONS] = per_tier(np.isin(event, (INTERCEPTION_REPATRIATED,
                                                     ARREST_REPATRIATED)))
    out[:, ARRESTS_FAILED] = per_tier(np.isin(event, (INTERCEPTION_FAILED, ARREST_FAILED)))
    out[:, GROUP_MEMBERS] = per_tier(event == GROUP_DEFECTION)
    out[:, FOLLOWERS] = per_tier(event == FOLLOW)
    in_post = status < JAILED
    out[:, IN_POST] = per_tier(in_post)
    out[:, AGGRIEVED] = per_tier(in_post & (grievance > threshold))
    out[:, MINDERS_WATCHING] = per_tier(in_post & layout.is_minder, by=layout.watched_tier)
    return out  # GROUPS stays 0: the engine fills it from the decision step
