"""The step kernels: pure Numba functions over the population's columns.

One step (docs/model.md, '4. One step') runs six stages, numbered as in
that document and in :attr:`minders.engine.Simulation.LOOP`; these kernels do
the work of stages 4.0-4.5:

0. :func:`settle`     - returnees and recruits take a quiet status (with
   stage 4.0, '4.0 Release and refill'; the engine picks the slots).
1. :func:`grievance`  - G = H (1 - L) + fear ('4.1 Grievance').
2. :func:`surveil`    - attention of minders, detection d_i, social signal s_i
   ('4.2 Surveillance and signal').
3. :func:`decide`     - defect / act / stay quiet, and the outcomes
   (defection, interception, arrest, jail, purge of caught minders)
   ('4.3 Decision and outcomes').
4. :func:`respond`    - collective-responsibility purges, fear, leaks
   ('4.4 Regime response').
5. :func:`tally`      - counts per tier for the records ('4.5 Measurement').

Kernels take their inputs grouped in four named tuples, which Numba passes
as plain structs of arrays and scalars: :class:`Layout` (the static
hierarchy, tiers and graph), :class:`Agents` (each position's holder and
state), :class:`StepParams` (this step's parameters and random-stream keys)
and :class:`StepValues` (what a step computes for every position). They
write only into the arrays they are given. Random draws are counter-based
(:func:`minders.streams.uniform`), keyed by (stream, step, position), so the
result does not depend on loop order. ``tests/test_kernels.py`` checks each
kernel against a plain NumPy reference (``tests/reference.py``).
"""

from __future__ import annotations

import os
import types
from typing import NamedTuple

# Numba's OpenMP layer keeps idle threads spinning by default; on a busy or small machine
# (2 cores shared with sweep workers, a dashboard, a browser) that spinning steals the
# cores from the work and made steps 10-100x slower in our measurements. Passive waiting
# costs nothing measurable on a quiet machine. Only a default: the user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba as nb  # noqa: E402
import numpy as np

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
    NONE,
    PURGED,
    PURGES,
    WARD_PURGED,
)
from minders.streams import uniform


class Layout(NamedTuple):
    """The static layout of the world: the hierarchy, the tiers and the graph.

    ``n`` is the number of positions, laid out tier by tier from the top
    down, each minder's wards in one contiguous block
    (:mod:`minders.population`).

    Attributes
    ----------
    tier : int16 array, shape (n,)
        Tier of each position (index into the per-tier arrays).
    minder : int32 array, shape (n,)
        Position of the minder watching this one; -1 in an unsupervised tier.
    is_minder : bool array, shape (n,)
        The position supervises wards.
    ward_start, ward_end : int32 arrays, shape (n,)
        The block ``ward_start:ward_end`` of this minder's wards (empty otherwise).
    watched_tier : int16 array, shape (n,)
        Tier of this minder's wards; -1 for non-minders.
    tier_start, tier_end : int64 arrays, shape (tiers,)
        The slice of positions of each tier.
    levels : int64 array
        Boundaries of the hierarchy's levels, top first: level ``k`` is
        ``levels[k]:levels[k + 1]``, and every minder is on a level above its wards.
    indptr : int64 array, shape (n + 1,)
        CSR row pointers of the social graph.
    indices : int32 array
        CSR neighbours of the social graph (both directions of every tie).
    """

    tier: np.ndarray
    minder: np.ndarray
    is_minder: np.ndarray
    ward_start: np.ndarray
    ward_end: np.ndarray
    watched_tier: np.ndarray
    tier_start: np.ndarray
    tier_end: np.ndarray
    levels: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray


class Agents(NamedTuple):
    """Each position's holder (attributes) and state; the kernels update the state in place.

    Attributes
    ----------
    status : int8 array, shape (n,)
        Status code, :data:`minders.codes.LOYAL` .. :data:`minders.codes.DEFECTED`.
    hardship, risk_aversion, threshold : float64 arrays, shape (n,)
        H, R and T of the holder, in [0, 1] (grievance units for H and T).
    abroad : bool array, shape (n,)
        The position is posted abroad (chooses ``abroad_chance`` over ``border_chance``).
    family : bool array, shape (n,)
        The holder has family at home the regime can punish.
    fear : float64 array, shape (n,)
        Grievance added by purges of peers (grievance units).
    jail_until : int32 array, shape (n,)
        Step at which a jailed holder is back in post.
    vacated_at : int32 array, shape (n,)
        Step in which the position was vacated (:data:`minders.codes.NEVER`: never).
    last_act : int32 array, shape (n,)
        Last step the holder was seen acting (defected or active).
    """

    status: np.ndarray
    hardship: np.ndarray
    risk_aversion: np.ndarray
    threshold: np.ndarray
    abroad: np.ndarray
    family: np.ndarray
    fear: np.ndarray
    jail_until: np.ndarray
    vacated_at: np.ndarray
    last_act: np.ndarray


class StepParams(NamedTuple):
    """The parameters of one step: per-tier values after shocks, model scalars, stream keys.

    Per-tier arrays have shape (tiers,) and are indexed by the position's tier.

    Attributes
    ----------
    step : int
        Internal step (burn-in included): keys the random draws, stamps events.
    legitimacy : float64 array
        L of each tier this step, in [0, 1].
    p_detect : float64 array
        Effective detection of each tier by its minders this step (after leaks
        and the detection multiplier), in [0, 1].
    see_private : bool array
        ``info_ops`` is on: agents of the tier also see neighbours' private discontent.
    beta : float64 array
        Weight of the social signal in the decision to leave.
    pull : float64 array
        Added to the decision to leave (grievance units).
    opportunity : float64 array
        Multiplier of the chance to try to leave.
    abroad_chance, border_chance : float64 arrays
        Chance per step to get the opportunity to leave, abroad and at home.
    memory : int
        Steps an act stays visible to neighbours.
    watch_capacity : float
        Wards one minder can watch fully (``c``).
    shirk : float
        How much an aggrieved, unwatched minder looks away, in [0, 1].
    informer_rate : float
        Chance that one loyal neighbour reports an act (``rho``).
    family_weight : float
        Extra weight of risk for holders with family at home (``phi``).
    max_jail : int
        Longest jail term, in steps (terms are uniform on 1..max_jail).
    purge_rate : float
        Chance that a ward's defection purges its minder.
    fear_per_purge : float
        Grievance each purge adds to the purged minder's peers.
    key_opportunity, key_intercept, key_arrest, key_jail, key_purge : uint64
        Keys of the counter-based streams of the step's random decisions.
    """

    step: int
    legitimacy: np.ndarray
    p_detect: np.ndarray
    see_private: np.ndarray
    beta: np.ndarray
    pull: np.ndarray
    opportunity: np.ndarray
    abroad_chance: np.ndarray
    border_chance: np.ndarray
    memory: int
    watch_capacity: float
    shirk: float
    informer_rate: float
    family_weight: float
    max_jail: int
    purge_rate: float
    fear_per_purge: float
    key_opportunity: np.uint64
    key_intercept: np.uint64
    key_arrest: np.uint64
    key_jail: np.uint64
    key_purge: np.uint64


class StepValues(NamedTuple):
    """What one step computes for every position, overwritten each step.

    Attributes
    ----------
    grievance : float64 array, shape (n,)
        G of the holder this step (stage 4.1).
    detection : float64 array, shape (n,)
        Probability d_i that an act of the holder is detected (stage 4.2).
    attention : float64 array, shape (n,)
        Attention a_m a minder pays to each of its wards (stage 4.2), in [0, 1].
    signal : float64 array, shape (n,)
        Share s_i of neighbours seen acting (stage 4.2), in [0, 1].
    event : int8 array, shape (n,)
        Event code of the step (:data:`minders.codes.NONE` .. ``WARD_PURGED``).
    """

    grievance: np.ndarray
    detection: np.ndarray
    attention: np.ndarray
    signal: np.ndarray
    event: np.ndarray


@nb.njit(inline="always", cache=True)
def _grievance_of(i, layout, agents, legitimacy):
    """G_i = H_i (1 - L_tier) + fear_i: the one definition of the grievance rule."""
    return agents.hardship[i] * (1.0 - legitimacy[layout.tier[i]]) + agents.fear[i]


@nb.njit(inline="always", cache=True)
def _quiet_status(grievance, threshold):
    """Status of a holder who stays quiet: falsifying if privately aggrieved, else loyal."""
    return FALSIFYING if grievance > threshold else LOYAL


@nb.njit(cache=True)
def settle(slots: np.ndarray, layout: Layout, agents: Agents, legitimacy: np.ndarray) -> None:
    """Give the holders of ``slots`` their quiet status (docs/model.md, '4.0 Release and refill').

    Everyone at the start of a run, and returnees and recruits at the start of
    a step, are quiet until they decide: ``falsifying`` if
    ``H (1 - L) + fear > T``, else ``loyal`` (the rule :func:`decide` applies
    to those who neither leave nor act).

    Parameters
    ----------
    slots : int64 array
        Positions to settle.
    layout : Layout
        Reads ``tier``.
    agents : Agents
        Reads ``hardship``, ``fear``, ``threshold``; writes ``status[slots]``.
    legitimacy : float64 array, shape (tiers,)
        L of each tier at this step.
    """
    for s in range(slots.size):
        i = slots[s]
        g = _grievance_of(i, layout, agents, legitimacy)
        agents.status[i] = _quiet_status(g, agents.threshold[i])


@nb.njit(cache=True)
def grievance(layout: Layout, agents: Agents, legitimacy: np.ndarray, out: np.ndarray) -> None:
    """Grievance of every position (docs/model.md, '4.1 Grievance').

    G_i = H_i (1 - L_tier) + fear_i (Epstein 2002, plus the fear of purges).

    Parameters
    ----------
    layout : Layout
        Reads ``tier``.
    agents : Agents
        Reads ``hardship`` and ``fear``.
    legitimacy : float64 array, shape (tiers,)
        L of each tier at this step.
    out : float64 array, shape (n,)
        Receives G (usually :attr:`StepValues.grievance`).
    """
    for i in range(out.size):
        out[i] = _grievance_of(i, layout, agents, legitimacy)


def _surveil(  # compiled twice below: serial and parallel
    layout: Layout, agents: Agents, params: StepParams, values: StepValues,
) -> None:
    """Attention, detection probability and social signal of every position.

    Docs/model.md, '4.2 Surveillance and signal'. Positions are ordered
    top-down and ``layout.levels`` holds the boundaries of the hierarchy's
    levels, so each level is computed (in parallel, in
    :func:`surveil_parallel`) after the one above it, and a minder's attention
    is final before any of its wards reads it:

    - a_m = min(1, c / present wards) * diligence_m,
      diligence_m = 1 - shirk [G_m > T_m] (1 - d_m);
    - d_i = 1 - (1 - a_minder(i) p_detect_tier) (1 - informer_rate)^(loyal neighbours);
    - s_i = share of neighbours seen defecting or active in the last ``memory``
      steps (with ``see_private``: or privately aggrieved).

    Positions not in post (jailed, vacant) get zeros.

    Parameters
    ----------
    layout : Layout
        Reads ``levels``, ``indptr``, ``indices``, ``tier``, ``minder``,
        ``is_minder``, ``ward_start``, ``ward_end``.
    agents : Agents
        Reads ``status``, ``threshold``, ``last_act``.
    params : StepParams
        Reads ``step``, ``memory``, ``see_private``, ``p_detect``,
        ``watch_capacity``, ``shirk``, ``informer_rate``.
    values : StepValues
        Reads ``grievance``; writes ``detection``, ``attention``, ``signal``.
    """
    status, threshold, last_act = agents.status, agents.threshold, agents.last_act
    tier, minder, is_minder = layout.tier, layout.minder, layout.is_minder
    ward_start, ward_end = layout.ward_start, layout.ward_end
    levels, indptr, indices = layout.levels, layout.indptr, layout.indices
    grievance, detection = values.grievance, values.detection
    attention, signal = values.attention, values.signal
    see_private, p_detect = params.see_private, params.p_detect
    watch_capacity, shirk = params.watch_capacity, params.shirk
    no_report = 1.0 - params.informer_rate
    since = params.step - params.memory
    for level in range(levels.size - 1):
        for i in nb.prange(levels[level], levels[level + 1]):  # reads others, writes slot i
            if status[i] >= JAILED:
                detection[i] = 0.0
                attention[i] = 0.0
                signal[i] = 0.0
                continue
            k = tier[i]
            private = see_private[k]
            loyal = 0
            seen = 0
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                sj = status[j]
                if sj == LOYAL:
                    loyal += 1
                if last_act[j] >= since:
                    seen += 1
                elif private and sj < JAILED and grievance[j] > threshold[j]:
                    seen += 1
            degree = indptr[i + 1] - indptr[i]
            signal[i] = seen / degree if degree > 0 else 0.0
            m = minder[i]
            watched = attention[m] * p_detect[k] if m >= 0 else 0.0
            d = 1.0 - (1.0 - min(watched, 1.0)) * no_report**loyal
            detection[i] = d
            if is_minder[i]:
                present = 0
                for w in range(ward_start[i], ward_end[i]):
                    if status[w] < JAILED:
                        present += 1
                if present == 0:
                    attention[i] = 0.0
                else:
                    diligence = 1.0 - shirk * (1.0 - d) if grievance[i] > threshold[i] else 1.0
                    attention[i] = min(1.0, watch_capacity / present) * diligence
            else:
                attention[i] = 0.0


def _named(function, name: str):
    """Copy ``function`` under another name.

    Numba's on-disk cache is keyed by the function's name, so the serial and
    parallel builds of one body need distinct names, or one would load the
    other's machine code.
    """
    code = function.__code__.replace(co_name=name, co_qualname=name)
    clone = types.FunctionType(code, function.__globals__, name, function.__defaults__)
    clone.__qualname__ = name
    clone.__doc__ = function.__doc__
    return clone


surveil = nb.njit(cache=True)(_named(_surveil, "surveil"))
#: :func:`surveil` with each level split across threads: the same numbers, worth it for
#: large populations only (starting threads costs more than it saves on small worlds).
surveil_parallel = nb.njit(cache=True, parallel=True)(_named(_surveil, "surveil_parallel"))
#: Populations from this size on use :data:`surveil_parallel`.
PARALLEL_MIN_AGENTS = 200_000


@nb.njit(cache=True)
def decide(layout: Layout, agents: Agents, params: StepParams, values: StepValues) -> None:
    """Decision and outcome of every position in post (docs/model.md, '4.3 Decision and outcomes').

    net_i = G_i + beta s_i + pull - R_i d_i (1 + phi family_i). If net_i > T_i
    and the agent has the opportunity (abroad: ``abroad_chance``, at home:
    ``border_chance``, both times the opportunity multiplier) it tries to
    defect and is stopped with probability d_i: jailed for 1..max_jail steps,
    or purged if it is a minder. Otherwise, if G_i - R_i d_i > T_i it is
    active and arrested with probability d_i; else quiet, ``falsifying`` if
    G_i > T_i and ``loyal`` otherwise (the rule of :func:`settle`). Per-tier
    parameters are indexed by tier.

    Parameters
    ----------
    layout : Layout
        Reads ``tier`` and ``is_minder``.
    agents : Agents
        Reads ``threshold``, ``risk_aversion``, ``family``, ``abroad``; updates
        ``status``, ``jail_until``, ``vacated_at`` and ``last_act``.
    params : StepParams
        Reads ``step``, ``beta``, ``pull``, ``opportunity``, ``abroad_chance``,
        ``border_chance``, ``family_weight``, ``max_jail`` and the keys
        ``key_opportunity``, ``key_intercept``, ``key_arrest``, ``key_jail``.
    values : StepValues
        Reads ``grievance``, ``detection``, ``signal``; writes ``event``.
    """
    status, tier, is_minder = agents.status, layout.tier, layout.is_minder
    threshold, risk_aversion = agents.threshold, agents.risk_aversion
    family, abroad, last_act = agents.family, agents.abroad, agents.last_act
    grievance, detection, signal, event = (
        values.grievance, values.detection, values.signal, values.event,
    )
    beta, pull, opportunity = params.beta, params.pull, params.opportunity
    abroad_chance, border_chance = params.abroad_chance, params.border_chance
    family_weight, step = params.family_weight, params.step
    for i in range(status.size):
        event[i] = NONE
        if status[i] >= JAILED:
            continue
        k = tier[i]
        g = grievance[i]
        t = threshold[i]
        risk = risk_aversion[i] * detection[i]
        fear_for_family = family_weight if family[i] else 0.0
        net = g + beta[k] * signal[i] + pull[k] - risk * (1.0 + fear_for_family)
        attempt = False
        if net > t:
            chance = (abroad_chance[k] if abroad[i] else border_chance[k]) * opportunity[k]
            attempt = uniform(params.key_opportunity, step, i) < chance
        if attempt:
            if uniform(params.key_intercept, step, i) < detection[i]:
                _caught(i, is_minder[i], CAUGHT_PURGED, INTERCEPTION, params, agents, event)
            else:
                status[i] = DEFECTED
                agents.vacated_at[i] = step
                last_act[i] = step
                event[i] = DEFECTION
        elif g - risk > t:
            last_act[i] = step
            if uniform(params.key_arrest, step, i) < detection[i]:
                _caught(i, is_minder[i], ARREST_PURGED, ARREST, params, agents, event)
            else:
                status[i] = ACTIVE
        else:
            status[i] = _quiet_status(g, t)


@nb.njit(inline="always", cache=True)
def _caught(i, minder_post, purged_event, jailed_event, params, agents, event):
    """A caught minder is purged (its post falls vacant); anyone else is jailed 1..max_jail."""
    step = params.step
    if minder_post:
        agents.status[i] = PURGED
        agents.vacated_at[i] = step
        event[i] = purged_event
    else:
        agents.status[i] = JAILED
        agents.jail_until[i] = step + 1 + int(uniform(params.key_jail, step, i) * params.max_jail)
        event[i] = jailed_event


@nb.njit(cache=True)
def respond(
    layout: Layout, agents: Agents, params: StepParams, values: StepValues, leaks: np.ndarray,
) -> None:
    """The regime's response (docs/model.md, '4.4 Regime response').

    Each defection purges the defector's minder (if still in post) with
    probability ``purge_rate``; the draw belongs to the defecting ward, so
    the outcome does not depend on which ward is looked at first. Every
    purge adds ``fear_per_purge`` to the grievance of the purged minder's
    peers: its work unit, or, in an unsupervised tier, its neighbours in the
    graph who belong to the same tier (so fear does not grow with the size
    of the tier). Each defecting minder adds one to ``leaks`` of the tier it
    watched.

    Parameters
    ----------
    layout : Layout
        Reads ``tier``, ``minder``, ``is_minder``, ``ward_start``, ``ward_end``,
        ``watched_tier``, ``indptr``, ``indices``.
    agents : Agents
        Updates ``status``, ``vacated_at`` (purged minders) and ``fear``.
    params : StepParams
        Reads ``step``, ``purge_rate``, ``fear_per_purge``, ``key_purge``.
    values : StepValues
        Reads and updates ``event`` (adds ``WARD_PURGED``).
    leaks : int64 array, shape (tiers,)
        Incremented by the defecting minders watching each tier.
    """
    status, fear, event = agents.status, agents.fear, values.event
    tier, minder, is_minder = layout.tier, layout.minder, layout.is_minder
    ward_start, ward_end = layout.ward_start, layout.ward_end
    indptr, indices = layout.indptr, layout.indices
    step, purge_rate, fear_per_purge = params.step, params.purge_rate, params.fear_per_purge
    for i in range(status.size):
        if event[i] == DEFECTION:
            m = minder[i]
            if m >= 0 and status[m] < JAILED and uniform(params.key_purge, step, i) < purge_rate:
                status[m] = PURGED
                agents.vacated_at[m] = step
                event[m] = WARD_PURGED
    for i in range(status.size):
        ev = event[i]
        if ev >= CAUGHT_PURGED and fear_per_purge > 0.0:
            m = minder[i]
            if m >= 0:
                for p in range(ward_start[m], ward_end[m]):
                    if p != i:
                        fear[p] += fear_per_purge
            else:
                for e in range(indptr[i], indptr[i + 1]):
                    p = indices[e]
                    if tier[p] == tier[i]:
                        fear[p] += fear_per_purge
        elif ev == DEFECTION and is_minder[i]:
            leaks[layout.watched_tier[i]] += 1


@nb.njit(cache=True)
def tally(layout: Layout, agents: Agents, values: StepValues, out: np.ndarray) -> None:
    """Counts per tier for the records (docs/model.md, '4.5 Measurement').

    Status stocks, flows of the step, the aggrieved in post and the in-post
    minders watching each tier; the columns are the tally fields of
    :mod:`minders.codes`.

    Parameters
    ----------
    layout : Layout
        Reads ``tier``, ``is_minder``, ``watched_tier``.
    agents : Agents
        Reads ``status`` and ``threshold``.
    values : StepValues
        Reads ``event`` and ``grievance``.
    out : int64 array, shape (tiers, TALLY_FIELDS)
        Overwritten with the counts.
    """
    status, threshold = agents.status, agents.threshold
    tier, is_minder, watched_tier = layout.tier, layout.is_minder, layout.watched_tier
    event, grievance = values.event, values.grievance
    out[:, :] = 0
    for i in range(status.size):
        k = tier[i]
        st = status[i]
        out[k, st] += 1
        ev = event[i]
        if ev == DEFECTION:
            out[k, ATTEMPTS] += 1
            out[k, DEFECTIONS] += 1
        elif ev == INTERCEPTION or ev == CAUGHT_PURGED:
            out[k, ATTEMPTS] += 1
            out[k, INTERCEPTIONS] += 1
        elif ev == ARREST or ev == ARREST_PURGED:
            out[k, ARRESTS] += 1
        if ev >= CAUGHT_PURGED:
            out[k, PURGES] += 1
        if st < JAILED:
            out[k, IN_POST] += 1
            if grievance[i] > threshold[i]:
                out[k, AGGRIEVED] += 1
            if is_minder[i]:
                out[watched_tier[i], MINDERS_WATCHING] += 1


__all__ = [
    "Layout", "Agents", "StepParams", "StepValues", "PARALLEL_MIN_AGENTS",
    "settle", "grievance", "surveil", "surveil_parallel", "decide", "respond", "tally",
]
