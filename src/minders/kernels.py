"""The step kernels: pure Numba functions over the population's columns.

One step (docs/model.md, '4. One step') runs six stages, numbered as in
that document and in :attr:`minders.engine.Simulation.LOOP`; these kernels do
the work of stages 4.0-4.5:

0. :func:`settle`     - returnees and recruits take a quiet status (with
   stage 4.0, '4.0 Release and refill'; the engine picks the slots).
1. :func:`grievance`  - G = H (1 - L), L with the scar of past drops ('4.1 Grievance').
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
draws do not depend on loop order; what does, by design, is spelled out
where it happens (jail places go in position order, top tiers first; a
unit's escape and a minder's followers are settled at the minder, before its
wards). ``tests/test_kernels.py`` checks each
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
    N_EVENTS,
    N_STATUSES,
    NONE,
    PURGED,
    PURGES,
    REPATRIATED,
    REPATRIATIONS,
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
    tier : int8 or int16 array, shape (n,)
        Tier of each position (index into the per-tier arrays).
    minder : int32 array, shape (n,)
        Position of the minder watching this one; -1 in an unsupervised tier.
    is_minder : bool array, shape (n,)
        The position supervises wards.
    ward_start, ward_end : int32 arrays, shape (n,)
        The block ``ward_start:ward_end`` of this minder's wards (empty otherwise).
    watched_tier : int8 or int16 array, shape (n,)
        Tier of this minder's wards; -1 for non-minders.
    tier_start, tier_end : int64 arrays, shape (tiers,)
        The slice of positions of each tier.
    levels : int64 array
        Boundaries of the hierarchy's levels, top first: level ``k`` is
        ``levels[k]:levels[k + 1]``, and every minder is on a level above its wards.
    indptr : int32 or int64 array, shape (n + 1,)
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
        Perceived extra chance of being caught, from repression the holder saw, in [0, 1].
    seen_success, seen_failure : float64 arrays, shape (n,)
        Escapes and stopped attempts the holder saw (neighbours; a minder also
        its wards), fading with ``memory_keep``: the pseudo-counts of its belief
        that leaving works.
    exposure : float64 array, shape (n,)
        A minder's wards' escapes, fading with ``memory_keep``: how exposed it
        is to a purge.
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
    seen_success: np.ndarray
    seen_failure: np.ndarray
    exposure: np.ndarray
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
        L of each tier this step, in [0, 1] (with the scar of past drops).
    p_detect : float64 array
        Effective detection of each tier by its minders this step (after leaks
        and the detection multiplier), in [0, 1].
    see_private : bool array
        ``info_ops`` is on: agents of the tier also see neighbours' private discontent.
    beta : float64 array
        Weight of the social signal in the decisions to act and to leave.
    pull : float64 array
        Added to the decision to leave (grievance units).
    opportunity : float64 array
        Multiplier of the chance to try to leave (alone or as a unit).
    abroad_chance, border_chance : float64 arrays
        Chance per step to get the opportunity to leave, abroad and at home.
    group_chance : float64 array
        Chance per step that a way out opens for a whole work unit abroad, by
        the tier of the unit's members.
    memory : int
        Steps an act stays visible to neighbours.
    watch_capacity : float
        Wards one minder can watch fully (``c``).
    catch_capacity : float
        Acts one minder can pursue in a step (``kappa``).
    shirk : float
        How much an aggrieved, unwatched minder looks away, in [0, 1].
    informer_rate : float
        Chance that one loyal neighbour reports an act (``rho``).
    family_weight : float
        Extra weight of risk for holders with family at home (``phi``).
    act_visibility : float
        How much more visible an open act is than a secret escape attempt
        (``v``: detected with chance 1 - (1 - d_i)^v).
    max_jail : int
        Longest jail term, in steps (terms are uniform on 1..max_jail).
    purge_rate : float
        Chance that a ward's escape purges its minder.
    purge_stake : float
        Weight of a minder's expected purge in its decision to leave (grievance units).
    fear_per_event : float
        Perceived chance of being caught that each act of repression seen adds.
    fear_keep, memory_keep : float
        Share of fear, and of the memory of escapes, left after one step.
    success_prior, success_strength : float
        Prior belief that an attempt to leave succeeds, and its weight in attempts.
    take_wards : float
        Chance that a willing ward goes along with its defecting minder.
    group_quorum : float
        Share of a unit's members in post who must want to leave for it to go together.
    key_opportunity, key_intercept, key_arrest, key_jail, key_purge, key_group, key_follow : uint64
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
    group_chance: np.ndarray
    memory: int
    watch_capacity: float
    catch_capacity: float
    shirk: float
    informer_rate: float
    family_weight: float
    act_visibility: float
    max_jail: int
    purge_rate: float
    purge_stake: float
    fear_per_event: float
    fear_keep: float
    memory_keep: float
    success_prior: float
    success_strength: float
    take_wards: float
    group_quorum: float
    key_opportunity: np.uint64
    key_intercept: np.uint64
    key_arrest: np.uint64
    key_jail: np.uint64
    key_purge: np.uint64
    key_group: np.uint64
    key_follow: np.uint64


class StepValues(NamedTuple):
    """What one step computes for every position, overwritten each step.

    Attributes
    ----------
    grievance : float64 array, shape (n,)
        G of the holder this step (stage 4.1).
    detection : float64 array, shape (n,)
        Probability d_i that an act of the holder is detected (stage 4.2).
    attention : float64 array, shape (n,)
        Chance a minder catches any one act of a ward it watches, before
        p_detect (stage 4.2), in [0, 1].
    signal : float64 array, shape (n,)
        Share s_i of neighbours seen acting (stage 4.2), in [0, 1].
    event : int8 array, shape (n,)
        Event code of the step (:data:`minders.codes.NONE` .. ``WARD_PURGED``).
    intent : uint8 array, shape (n,)
        What the holder would do this step and how its own draws fall (stage
        4.3), as bits: :data:`WANTS_TO_LEAVE` (net - T > 0 of the decision to
        leave), :data:`WOULD_ACT` (would dissent openly, unless it waits
        abroad for a way out), and, where they apply, :data:`FINDS_WAY_OUT`
        (wanting to leave) and :data:`WOULD_BE_SEEN` (acting); 0 for
        positions not in post.
    """

    grievance: np.ndarray
    detection: np.ndarray
    attention: np.ndarray
    signal: np.ndarray
    event: np.ndarray
    intent: np.ndarray


class StepFlows(NamedTuple):
    """Per-tier quantities the decision step computes beyond the events.

    Attributes
    ----------
    expected : float64 array, shape (tiers,)
        Expected escapes of the step: the sum over agents in post who want to
        leave of (chance of a way out) x (1 - d_i).
    groups : int64 array, shape (tiers,)
        Work units that left together (by their members' tier).
    jail_room : int64 array, shape (1,)
        Places left in jail; the decision step uses them up.
    """

    expected: np.ndarray
    groups: np.ndarray
    jail_room: np.ndarray


# --------------------------------------------------------------------------- the rules
@nb.njit(inline="always", cache=True)
def _grievance_of(i, layout, agents, legitimacy):
    """G_i = H_i (1 - L_tier): the one definition of the grievance rule (Epstein 2002)."""
    return agents.hardship[i] * (1.0 - legitimacy[layout.tier[i]])


@nb.njit(inline="always", cache=True)
def _quiet_status(grievance, threshold):
    """Status of a holder who stays quiet: falsifying if privately aggrieved, else loyal."""
    return FALSIFYING if grievance > threshold else LOYAL


@nb.njit(inline="always", cache=True)
def _perceived(detection, fear):
    """Perceived chance of being caught: the objective d_i, or the fear of what was seen."""
    return 1.0 - (1.0 - detection) * (1.0 - fear)


@nb.njit(inline="always", cache=True)
def _failure_belief(perceived, seen_success, seen_failure, prior, strength):
    """Perceived chance that an attempt to leave fails, after the escapes the holder saw.

    The belief that leaving works is Beta(prior mean, prior weight) updated
    with the (fading) successes and failures seen; the perceived detection is
    scaled by how much worse than the prior the holder now thinks leaving
    fails, so with nothing seen it is the perceived detection itself.
    (Helpers take scalars: see :func:`_leave_margin`.)
    """
    if seen_success == 0.0 and seen_failure == 0.0:  # nothing seen: the prior, q = perceived
        return perceived
    success = (prior * strength + seen_success) / (strength + seen_success + seen_failure)
    return min(1.0, perceived * (1.0 - success) / (1.0 - prior))


@nb.njit(inline="always", cache=True)
def _leave_margin(g, perceived, family, signal, beta, pull, seen_success, seen_failure,
                  prior, strength, is_minder, exposure, purge_stake, purge_rate,
                  risk_aversion, threshold):
    """net_i - T_i of the decision to leave; it wants to leave when positive.

    net_i = G + beta s + pull + stake - R q (1 + phi family), with q the
    perceived chance of failing (:func:`_failure_belief`) and, for a minder,
    stake = purge_stake (1 - (1 - purge_rate)^exposure), its expected purge.
    Every argument is a scalar (the holder's, its tier's or the run's): arrays
    or tuples of arrays handed to an inlined helper are reference-counted on
    every call, which made the decision step several times slower.
    """
    q = _failure_belief(perceived, seen_success, seen_failure, prior, strength)
    stake = 0.0
    if is_minder and exposure > 0.0:
        stake = purge_stake * (1.0 - (1.0 - purge_rate) ** exposure)
    net = g + beta * signal + pull + stake - risk_aversion * q * (1.0 + family)
    return net - threshold


@nb.njit(cache=True)
def due(layout: Layout, agents: Agents, replace_delay: np.ndarray, step: int
        ) -> tuple[np.ndarray, np.ndarray]:
    """Who comes back into post at ``step`` (docs/model.md, '4.0 Release and refill').

    One pass over the positions, where the same tests as whole-array operations
    took ten passes and their temporaries (a third of a small world's step).

    Parameters
    ----------
    layout : Layout
        Reads ``tier``.
    agents : Agents
        Reads ``status``, ``jail_until``, ``vacated_at``.
    replace_delay : int64 array, shape (tiers,)
        Steps a vacant post of each tier waits before it is refilled; -1: never.
    step : int
        Internal step.

    Returns
    -------
    released, refill : int64 arrays
        The jailed whose term is over (``jail_until <= step``), and the vacant
        posts whose delay is over (``step >= vacated_at + delay + 1``), each in
        position order.
    """
    status, jail_until, vacated_at, tier = (
        agents.status, agents.jail_until, agents.vacated_at, layout.tier,
    )
    released = np.empty(64, dtype=np.int64)
    refill = np.empty(64, dtype=np.int64)
    n_released = n_refill = 0
    for i in range(status.size):
        s = status[i]
        if s < JAILED:
            continue
        if s == JAILED:
            if jail_until[i] <= step:
                if n_released == released.size:
                    released = _grown(released)
                released[n_released] = i
                n_released += 1
        elif s >= PURGED:
            delay = replace_delay[tier[i]]
            if delay >= 0 and step >= vacated_at[i] + delay + 1:
                if n_refill == refill.size:
                    refill = _grown(refill)
                refill[n_refill] = i
                n_refill += 1
    return released[:n_released].copy(), refill[:n_refill].copy()


@nb.njit(cache=True)
def _grown(a: np.ndarray) -> np.ndarray:
    """``a`` in an array twice its size (the rest left unset)."""
    b = np.empty(2 * a.size, dtype=a.dtype)
    b[: a.size] = a
    return b


@nb.njit(cache=True)
def settle(slots: np.ndarray, layout: Layout, agents: Agents, legitimacy: np.ndarray) -> None:
    """Give the holders of ``slots`` their quiet status (docs/model.md, '4.0 Release and refill').

    Everyone at the start of a run, and returnees and recruits at the start of
    a step, are quiet until they decide: ``falsifying`` if ``H (1 - L) > T``,
    else ``loyal`` (the rule :func:`decide` applies to those who neither leave
    nor act).

    Parameters
    ----------
    slots : int64 array
        Positions to settle.
    layout : Layout
        Reads ``tier``.
    agents : Agents
        Reads ``hardship``, ``threshold``; writes ``status[slots]``.
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

    G_i = H_i (1 - L_tier) (Epstein 2002), with L including the scar of past drops.

    Parameters
    ----------
    layout : Layout
        Reads ``tier``.
    agents : Agents
        Reads ``hardship``.
    legitimacy : float64 array, shape (tiers,)
        L of each tier at this step.
    out : float64 array, shape (n,)
        Receives G (usually :attr:`StepValues.grievance`).
    """
    for i in range(out.size):
        out[i] = _grievance_of(i, layout, agents, legitimacy)


#: Bits of what a neighbour shows in :func:`surveil` (``loyal`` must be bit 0: it is summed).
_SHOWS_LOYAL, _SHOWS_ACTING, _SHOWS_AGGRIEVED = 1, 2, 4
#: Powers of (1 - informer_rate) :func:`surveil` tabulates (loyal neighbours 0..63).
_POWERS = 64


def _surveil(  # compiled twice below: serial and parallel
    layout: Layout, agents: Agents, params: StepParams, values: StepValues,
) -> None:
    """Attention, detection probability and social signal of every position.

    Docs/model.md, '4.2 Surveillance and signal'. Positions are ordered
    top-down and ``layout.levels`` holds the boundaries of the hierarchy's
    levels, so each level is computed (in parallel, in
    :func:`surveil_parallel`) after the one above it, and a minder's attention
    is final before any of its wards reads it:

    - a_m = min(1, c / present wards) * min(1, kappa / active wards) * diligence_m,
      diligence_m = 1 - shirk [G_m > T_m] (1 - d_m): a minder watches only so
      many wards closely and pursues only so many acts (safety in numbers);
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
        ``watch_capacity``, ``catch_capacity``, ``shirk``, ``informer_rate``.
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
    watch_capacity, catch_capacity, shirk = (
        params.watch_capacity, params.catch_capacity, params.shirk,
    )
    no_report = 1.0 - params.informer_rate
    # (1 - rho)^loyal for the usual degrees, each by the very expression it replaces
    # (same bits): the power was a sixth of the stage.
    unreported = np.empty(_POWERS, dtype=np.float64)
    for k in range(_POWERS):
        unreported[k] = no_report**k
    since = params.step - params.memory
    # What a neighbour shows (loyal, seen acting, privately aggrieved in post), packed:
    # the neighbour loop below reads scattered positions, and a few bits from a small
    # array cost far fewer cache misses than four columns. Four positions share a byte
    # (two bits each) when no tier sees private discontent this step, else two (four
    # bits each): a whole country's 26 million positions take 6.5 or 13 MB, which the
    # last-level cache holds.
    n = status.size
    private = False
    for k in range(see_private.size):
        if see_private[k]:
            private = True
    per_log = 1 if private else 2  # log2 of positions per byte
    per = 1 << per_log
    width = 8 // per
    shown = np.empty((n + per - 1) // per, dtype=np.uint8)
    for b in nb.prange(shown.size):
        packed = 0
        for j in range(b * per, min((b + 1) * per, n)):
            sj = status[j]
            bits = (sj == LOYAL) * _SHOWS_LOYAL + (last_act[j] >= since) * _SHOWS_ACTING
            if private and sj < JAILED and grievance[j] > threshold[j]:
                bits += _SHOWS_AGGRIEVED
            packed |= bits << (width * (j & (per - 1)))
        shown[b] = packed
    lanes = np.uint32(per - 1)
    for level in range(levels.size - 1):
        for slot in nb.prange(levels[level], levels[level + 1]):  # reads others, writes slot i
            # unsigned positions and tiers: Numba tests a signed index for a negative value
            # (to wrap it) at every read, which cost 15% of this loop
            i = np.uint64(slot)
            if status[i] >= JAILED:
                detection[i] = 0.0
                attention[i] = 0.0
                signal[i] = 0.0
                continue
            k = np.uint64(tier[i])
            # Seen: acting, or (when private discontent shows) aggrieved. Without branches,
            # the scattered reads of one row are all in flight at once; unsigned counters
            # and indices spare a negative-index test on every read.
            mask = _SHOWS_ACTING | (_SHOWS_AGGRIEVED if see_private[k] else 0)
            loyal = 0
            seen = 0
            e = np.uint64(indptr[i])
            stop = np.uint64(indptr[i + np.uint64(1)])
            while e < stop:
                j = np.uint32(indices[e])
                shows = shown[j >> per_log] >> (width * (j & lanes))
                loyal += shows & _SHOWS_LOYAL
                seen += (shows & mask) != 0
                e += np.uint64(1)
            degree = indptr[i + np.uint64(1)] - indptr[i]
            signal[i] = seen / degree if degree > 0 else 0.0
            m = minder[i]
            watched = attention[np.uint64(m)] * p_detect[k] if m >= 0 else 0.0
            d = 1.0 - (1.0 - min(watched, 1.0)) * (
                unreported[loyal] if loyal < _POWERS else no_report**loyal)
            detection[i] = d
            if is_minder[i]:
                present = 0
                active = 0
                for w in range(np.uint64(ward_start[i]), np.uint64(ward_end[i])):
                    sw = status[w]
                    if sw < JAILED:
                        present += 1
                        if sw == ACTIVE:
                            active += 1
                if present == 0:
                    attention[i] = 0.0
                else:
                    diligence = 1.0 - shirk * (1.0 - d) if grievance[i] > threshold[i] else 1.0
                    pursuit = min(1.0, catch_capacity / active) if active > 0 else 1.0
                    attention[i] = min(1.0, watch_capacity / present) * pursuit * diligence
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
#: Populations from this size on use :data:`surveil_parallel` and :data:`decide_parallel`.
PARALLEL_MIN_AGENTS = 200_000


#: Bits of :attr:`StepValues.intent`: what the holder would do, and how its draws fall.
WANTS_TO_LEAVE, WOULD_ACT, FINDS_WAY_OUT, WOULD_BE_SEEN = 1, 2, 4, 8


def _intend(  # compiled twice below: serial and parallel
    layout: Layout, agents: Agents, params: StepParams, values: StepValues,
) -> None:
    """What each holder in post would do this step: the first pass of :func:`decide`.

    Writes :attr:`StepValues.intent` (wants to leave; would act openly; how
    its own draws fall: a way out, seen acting) from the holder's own
    columns and counter-based draws only, so
    the positions are independent, and resets ``event``. See :func:`decide`
    for the rules.
    """
    status, tier, is_minder = agents.status, layout.tier, layout.is_minder
    fear, family, threshold, risk_aversion = (
        agents.fear, agents.family, agents.threshold, agents.risk_aversion,
    )
    seen_success, seen_failure, exposure = agents.seen_success, agents.seen_failure, agents.exposure
    # One name per line: unpacking all of StepValues' fields in order as one tuple made
    # Numba's parallel build write into copies (numba 0.68).
    grievance, detection, signal = values.grievance, values.detection, values.signal
    event = values.event
    intent = values.intent
    beta, pull = params.beta, params.pull
    prior, strength = params.success_prior, params.success_strength
    purge_stake, purge_rate = params.purge_stake, params.purge_rate
    family_weight, visibility = params.family_weight, params.act_visibility
    abroad, step, opportunity = agents.abroad, params.step, params.opportunity
    abroad_chance, border_chance = params.abroad_chance, params.border_chance
    whole = visibility == np.floor(visibility) and visibility <= 64.0
    for slot in nb.prange(status.size):
        i = np.uint64(slot)  # unsigned position and tier: no test for a negative index
        event[i] = NONE
        wish = 0
        if status[i] < JAILED:
            k = np.uint64(tier[i])
            g = grievance[i]
            d = detection[i]
            fam = family_weight if family[i] else 0.0
            margin = _leave_margin(g, _perceived(d, fear[i]), fam, signal[i], beta[k], pull[k],
                                   seen_success[i], seen_failure[i], prior, strength,
                                   is_minder[i], exposure[i], purge_stake, purge_rate,
                                   risk_aversion[i], threshold[i])
            if margin > 0.0:
                wish |= WANTS_TO_LEAVE
                chance = (abroad_chance[k] if abroad[i] else border_chance[k]) * opportunity[k]
                if uniform(params.key_opportunity, step, i) < chance:
                    wish |= FINDS_WAY_OUT
            # Acting openly: push = G + beta s - T > R a~ (1 + phi family), a~ the perceived
            # chance 1 - (1 - a)(1 - fear) that the act is seen (cheap test first).
            push = g + beta[k] * signal[i] - threshold[i]
            if push > 0.0:
                # The chance a_i the act is seen, bracketed without the power where v is
                # whole; the power only for a decision that falls inside the bracket.
                low, high = _act_detection_bounds(d, visibility, whole)
                r, f = risk_aversion[i], fear[i]
                acts = push > r * _perceived(low, f) * (1.0 + fam)
                if acts and not push > r * _perceived(high, f) * (1.0 + fam):
                    seen = _act_detection(d, visibility)
                    low = high = seen
                    acts = push > r * _perceived(seen, f) * (1.0 + fam)
                if acts:
                    wish |= WOULD_ACT
                    u = uniform(params.key_arrest, step, i)
                    if low != high and low <= u < high:
                        low = high = _act_detection(d, visibility)
                    if u < low:
                        wish |= WOULD_BE_SEEN
        intent[i] = wish


intend = nb.njit(cache=True)(_named(_intend, "intend"))
intend_parallel = nb.njit(cache=True, parallel=True)(_named(_intend, "intend_parallel"))


@nb.njit(cache=True)
def _outcomes(
    layout: Layout, agents: Agents, params: StepParams, values: StepValues, flows: StepFlows,
) -> None:
    """What happens to each holder, given its intent: the second pass of :func:`decide`.

    In position order: jail places are used up in that order, and a unit's
    way out and a minder's followers are settled at the minder, before its wards.
    """
    status, tier, minder, is_minder = agents.status, layout.tier, layout.minder, layout.is_minder
    abroad, last_act, threshold = agents.abroad, agents.last_act, agents.threshold
    grievance, detection, event, intent = (
        values.grievance, values.detection, values.event, values.intent,
    )
    step, opportunity = params.step, params.opportunity
    abroad_chance, border_chance = params.abroad_chance, params.border_chance
    group_chance, ward_start, ward_end = params.group_chance, layout.ward_start, layout.ward_end
    take_wards = params.take_wards
    jail = (params.key_jail, params.max_jail)
    state = (status, agents.vacated_at, agents.jail_until, last_act, abroad)
    jail_room = flows.jail_room
    expected = flows.expected
    expected[:] = 0.0
    flows.groups[:] = 0
    for i in range(status.size):
        if status[i] >= JAILED or event[i] != NONE:  # away, or already gone with its unit
            continue
        k = np.uint64(tier[i])  # unsigned: no test for a negative index
        d = detection[i]
        wish = intent[i]
        wants = wish & WANTS_TO_LEAVE != 0
        if wants:
            chance = (abroad_chance[k] if abroad[i] else border_chance[k]) * opportunity[k]
            expected[k] += min(1.0, chance) * (1.0 - d)
        if is_minder[i] and ward_end[i] > ward_start[i] and abroad[ward_start[i]] \
                and group_chance[tier[ward_start[i]]] > 0.0 \
                and _unit_leaves(i, wants, layout, agents, params, values, flows):
            continue
        m = minder[i]
        if wants and m >= 0 and DEFECTION <= event[m] <= FOLLOW and take_wards > 0.0 \
                and uniform(params.key_follow, step, i) < take_wards:
            _leave(i, FOLLOW, agents, event, step)
        elif wish & FINDS_WAY_OUT:
            if uniform(params.key_intercept, step, i) < d:
                _caught(i, True, step, jail, state, is_minder, event, jail_room)
            else:
                _leave(i, DEFECTION, agents, event, step)
        elif not (wants and abroad[i]) and wish & WOULD_ACT:
            last_act[i] = step
            if wish & WOULD_BE_SEEN:
                _caught(i, False, step, jail, state, is_minder, event, jail_room)
            if status[i] < JAILED:  # not caught, or no room in jail
                status[i] = ACTIVE
        else:
            status[i] = _quiet_status(grievance[i], threshold[i])




@nb.njit(cache=True)
def decide(
    layout: Layout, agents: Agents, params: StepParams, values: StepValues, flows: StepFlows,
) -> None:
    """Decision and outcome of every position in post (docs/model.md, '4.3 Decision and outcomes').

    With d~_i = 1 - (1 - d_i)(1 - fear_i) the perceived chance of being caught:

    - **Work units abroad** (at the unit's minder, before its wards): with
      chance ``group_chance x opportunity`` a way out opens for the unit; if at
      least ``group_quorum`` of its members in post want to leave, all of them
      go together (the minder too, if it wants), stopped as one with the mean
      detection of the willing.
    - **Leaving alone**: net_i - T_i > 0 (:func:`_leave_margin`) and the
      opportunity (abroad: ``abroad_chance``, at home: ``border_chance``, times
      the opportunity multiplier): it tries, and is stopped with chance d_i. A
      ward whose minder left this step (in any way) goes along with chance
      ``take_wards`` if it wants to leave, without a way out or a detection
      draw of its own: it goes with one who knows the way.
    - **Acting openly**: an open act is public, detected with chance
      a_i = 1 - (1 - d_i)^v (``act_visibility`` v), where an escape is planned
      in secret. G + beta s - R a~ (1 + phi family) > T, with a~ the perceived
      a_i: active, and caught with chance a_i (families are punished for
      political offences as for escapes). Abroad, one who wants to leave keeps quiet instead and
      waits for a way out (exit before voice, Hirschman 1970).
    - Otherwise quiet: ``falsifying`` if G > T, else ``loyal`` (:func:`settle`'s rule).

    The caught: a minder is purged; a worker abroad is sent home (its post
    falls vacant); anyone else is jailed for 1..max_jail steps if there is
    room in jail (``flows.jail_room``), else left free (a failed arrest, or
    an attempt turned back). Every position also adds its expected escapes
    to ``flows.expected``.

    Parameters
    ----------
    layout : Layout
        Reads ``tier``, ``minder``, ``is_minder``, ``ward_start``, ``ward_end``.
    agents : Agents
        Reads the attributes, ``fear``, ``seen_success``, ``seen_failure``,
        ``exposure``; updates ``status``, ``jail_until``, ``vacated_at`` and ``last_act``.
    params : StepParams
        Reads the decision parameters and the keys ``key_opportunity``,
        ``key_intercept``, ``key_arrest``, ``key_jail``, ``key_group``, ``key_follow``.
    values : StepValues
        Reads ``grievance``, ``detection``, ``signal``; writes ``intent`` and ``event``.
    flows : StepFlows
        Writes ``expected`` and ``groups``; uses up ``jail_room``.
    """
    intend(layout, agents, params, values)
    _outcomes(layout, agents, params, values, flows)


@nb.njit(cache=True)
def decide_parallel(
    layout: Layout, agents: Agents, params: StepParams, values: StepValues, flows: StepFlows,
) -> None:
    """:func:`decide` with the intentions (its first pass) split across threads.

    The outcomes (its second pass) stay in position order, so the results are the same.
    """
    intend_parallel(layout, agents, params, values)
    _outcomes(layout, agents, params, values, flows)


@nb.njit(inline="always", cache=True)
def _act_detection(d, visibility):
    """Chance that an open act is seen: 1 - (1 - d)^v, an act being public."""
    return 1.0 - (1.0 - d) ** visibility if d > 0.0 else 0.0


#: Relative error allowed for (1 - d)^v by repeated squaring, at least 400 times its
#: worst case (at most 14 roundings of 2^-53 for v <= 64, and one ulp of the power).
_POWER_SLACK = 1e-13


@nb.njit(inline="always", cache=True)
def _act_detection_bounds(d, visibility, whole):
    """Bounds ``low <= a <= high`` on :func:`_act_detection`'s a = 1 - (1 - d)^v.

    Where v is a whole number (``whole``, v <= 64) the power is taken by
    repeated squaring, a few multiplications where the power function cost a
    third of the decision step, and widened by :data:`_POWER_SLACK`: every
    operation after it is monotone, so a decision taken on both bounds alike
    is the decision taken on a itself (callers compute a exactly only when the
    bounds disagree). Otherwise, or where the power is too small for a
    relative bound (subnormal range), both bounds are a, exactly.
    """
    if not whole or d <= 0.0:
        a = _act_detection(d, visibility)
        return a, a
    x = 1.0 - d
    n = int(visibility)
    y = 1.0
    while n:
        if n & 1:
            y *= x
        x *= x
        n >>= 1
    if y < 1e-290:
        a = _act_detection(d, visibility)
        return a, a
    return 1.0 - y * (1.0 + _POWER_SLACK), 1.0 - y * (1.0 - _POWER_SLACK)


@nb.njit(inline="always", cache=True)
def _leave(i, how, agents, event, step):
    """The holder of ``i`` leaves (``how``: alone, with its unit, with its minder)."""
    agents.status[i] = DEFECTED
    agents.vacated_at[i] = step
    agents.last_act[i] = step
    event[i] = how


@nb.njit(inline="always", cache=True)
def _unit_leaves(m, minder_wants, layout, agents, params, values, flows):
    """Whether minder ``m``'s work unit abroad takes a way out together this step.

    The way out opens with chance ``group_chance x opportunity`` of the
    wards' tier; the unit goes if at least ``group_quorum`` of its wards in
    post want to leave. All its wards in post go, and the minder if it wants
    to; they are stopped together with the mean detection of the willing.
    Returns True when the minder has gone (or been caught) with its unit.
    :func:`decide` calls it only for a minder with wards abroad whose tier
    has a ``group_chance`` above 0.
    """
    start, end = layout.ward_start[m], layout.ward_end[m]
    kw = layout.tier[start]
    step = params.step
    if uniform(params.key_group, step, m) >= params.group_chance[kw] * params.opportunity[kw]:
        return False
    present = 0
    willing = 0
    detection_sum = 0.0
    for w in range(start, end):
        if agents.status[w] >= JAILED:
            continue
        present += 1
        if values.intent[w] & WANTS_TO_LEAVE:
            willing += 1
            detection_sum += values.detection[w]
    if willing == 0 or willing < params.group_quorum * present:
        return False  # (a quorum of 0 still needs one member who wants to go)
    minder_goes = minder_wants
    stopped = uniform(params.key_intercept, step, m) < detection_sum / willing
    jail = (params.key_jail, params.max_jail)
    state = (agents.status, agents.vacated_at, agents.jail_until, agents.last_act, agents.abroad)
    flows.groups[kw] += 0 if stopped else 1
    for w in range(start, end):
        if agents.status[w] < JAILED:
            if stopped:
                _caught(w, True, step, jail, state, layout.is_minder, values.event,
                        flows.jail_room)
            else:
                _leave(w, GROUP_DEFECTION, agents, values.event, step)
    if minder_goes:
        if stopped:
            _caught(m, True, step, jail, state, layout.is_minder, values.event,
                    flows.jail_room)
        else:
            _leave(m, GROUP_DEFECTION, agents, values.event, step)
    return minder_goes


@nb.njit(inline="always", cache=True)
def _caught(i, attempt, step, jail, state, is_minder, event, jail_room):
    """The outcome for a holder caught leaving (``attempt``) or acting.

    A minder is purged (its post falls vacant); a worker abroad is sent home
    (the post abroad falls vacant); anyone else is jailed for 1..max_jail
    steps while there is room in jail, else stays free. ``jail`` is
    (key_jail, max_jail); ``state`` is (status, vacated_at, jail_until,
    last_act, abroad), unpacked by the caller (see :func:`_failure_belief`).
    """
    key_jail, max_jail = jail
    status, vacated_at, jail_until, last_act, abroad = state
    if is_minder[i]:
        status[i] = PURGED
        vacated_at[i] = step
        event[i] = CAUGHT_PURGED if attempt else ARREST_PURGED
    elif abroad[i]:
        status[i] = REPATRIATED
        vacated_at[i] = step
        event[i] = INTERCEPTION_REPATRIATED if attempt else ARREST_REPATRIATED
    elif jail_room[0] > 0:
        jail_room[0] -= 1
        status[i] = JAILED
        jail_until[i] = step + 1 + int(uniform(key_jail, step, i) * max_jail)
        event[i] = INTERCEPTION if attempt else ARREST
    else:  # no room: turned back, or left free
        event[i] = INTERCEPTION_FAILED if attempt else ARREST_FAILED
        if attempt:
            status[i] = ACTIVE
            last_act[i] = step


def _fade(agents: Agents, params: StepParams) -> None:
    """Memory fades (the first part of :func:`respond`, compiled serial and parallel).

    Fear by ``fear_keep``; seen escapes, failures and a minder's exposure by
    ``memory_keep``. Zeros stay as they are without being written: most
    holders have seen nothing, and most are not minders.
    """
    # One name per line: Numba's parallel build wrote into copies of fields unpacked
    # together as one tuple (numba 0.68; see _intend).
    fear = agents.fear
    success = agents.seen_success
    failure = agents.seen_failure
    exposure = agents.exposure
    fear_keep, memory_keep = params.fear_keep, params.memory_keep
    for i in nb.prange(fear.size):
        if fear[i] != 0.0:
            fear[i] *= fear_keep
        if success[i] != 0.0:
            success[i] *= memory_keep
        if failure[i] != 0.0:
            failure[i] *= memory_keep
        if exposure[i] != 0.0:
            exposure[i] *= memory_keep


fade = nb.njit(cache=True)(_named(_fade, "fade"))
fade_parallel = nb.njit(cache=True, parallel=True)(_named(_fade, "fade_parallel"))


@nb.njit(cache=True)
def respond(
    layout: Layout, agents: Agents, params: StepParams, values: StepValues, leaks: np.ndarray,
    parallel: bool = False,
) -> None:
    """The regime's response, and what agents see of it (docs/model.md, '4.4 Regime response').

    1. Memory fades: fear by ``fear_keep``, seen escapes, failures and a
       minder's exposure by ``memory_keep`` (:func:`fade`).
    2. Each escape (alone, with the unit, following the minder) purges the
       leaver's minder (if still in post) with chance ``purge_rate``; the
       draw belongs to the leaving ward, so the outcome does not depend on
       which ward is looked at first. A minder not purged remembers the escape
       (``exposure``).
    3. What is seen: every escape adds one success to the beliefs of the
       leaver's neighbours and minder, every stopped attempt one failure to
       its neighbours'; every arrest, interception or purge adds
       ``fear_per_event`` to the fear of the caught one's neighbours and, for a
       purge, of the purged minder's fellow minders (its own minder's wards):
       fear <- 1 - (1 - fear)(1 - fear_per_event).
    4. Each defecting minder adds one to ``leaks`` of the tier it watched.

    Parameters
    ----------
    layout : Layout
        Reads ``tier``, ``minder``, ``is_minder``, ``ward_start``, ``ward_end``,
        ``watched_tier``, ``indptr``, ``indices``.
    agents : Agents
        Updates ``status``, ``vacated_at`` (purged minders), ``fear``,
        ``seen_success``, ``seen_failure`` and ``exposure``.
    params : StepParams
        Reads ``step``, ``purge_rate``, ``fear_per_event``, ``fear_keep``,
        ``memory_keep``, ``key_purge``.
    values : StepValues
        Reads and updates ``event`` (adds ``WARD_PURGED``).
    leaks : int64 array, shape (tiers,)
        Incremented by the defecting minders watching each tier.
    parallel : bool
        Fade memory on all cores (:data:`fade_parallel`): the same numbers, worth it
        for large populations only.
    """
    if parallel:
        fade_parallel(agents, params)
    else:
        fade(agents, params)
    _respond_events(layout, agents, params, values, leaks)


@nb.njit(cache=True)
def _respond_events(
    layout: Layout, agents: Agents, params: StepParams, values: StepValues, leaks: np.ndarray,
) -> None:
    """Steps 2-4 of :func:`respond`: purges, what is seen, leaks (in position order)."""
    status, fear, event = agents.status, agents.fear, values.event
    success, failure, exposure = agents.seen_success, agents.seen_failure, agents.exposure
    minder, is_minder = layout.minder, layout.is_minder
    ward_start, ward_end = layout.ward_start, layout.ward_end
    indptr, indices = layout.indptr, layout.indices
    step, purge_rate = params.step, params.purge_rate
    memory_keep = params.memory_keep
    calm = 1.0 - params.fear_per_event
    for i in range(status.size):
        ev = event[i]
        if DEFECTION <= ev <= FOLLOW:
            m = minder[i]
            if m >= 0 and status[m] < JAILED:
                if uniform(params.key_purge, step, i) < purge_rate:
                    status[m] = PURGED
                    agents.vacated_at[m] = step
                    event[m] = WARD_PURGED
                elif memory_keep > 0.0:
                    exposure[m] += 1.0
    for i in range(status.size):
        ev = event[i]
        if ev == NONE:
            continue
        if DEFECTION <= ev <= FOLLOW:
            if memory_keep > 0.0:
                for e in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    success[np.uint32(indices[e])] += 1.0
                m = minder[i]
                if m >= 0:
                    success[m] += 1.0
            if is_minder[i]:
                leaks[layout.watched_tier[i]] += 1
            continue
        if memory_keep > 0.0 and (INTERCEPTION <= ev <= INTERCEPTION_FAILED
                                  or ev == CAUGHT_PURGED):
            for e in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                failure[np.uint32(indices[e])] += 1.0
        if ev == INTERCEPTION_FAILED or ev == ARREST_FAILED or calm >= 1.0:
            continue  # nobody was taken away: nothing frightening to see
        # unsigned neighbours: no test of each index for a negative value
        for e in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            p = np.uint32(indices[e])
            fear[p] = 1.0 - (1.0 - fear[p]) * calm
        if ev >= CAUGHT_PURGED:
            m = minder[i]
            if m >= 0:
                for p in range(ward_start[m], ward_end[m]):
                    if p != i:
                        fear[p] = 1.0 - (1.0 - fear[p]) * calm


@nb.njit(cache=True)
def tally(layout: Layout, agents: Agents, values: StepValues, out: np.ndarray) -> None:
    """Counts per tier for the records (docs/model.md, '4.5 Measurement').

    Status stocks, flows of the step, the aggrieved in post and the in-post
    minders watching each tier; the columns are the tally fields of
    :mod:`minders.codes` (``GROUPS`` is left to the engine, which has the
    decision step's count).

    One thread at every size: Numba's parallel build of this count ran each
    thread four times slower than the serial one (2-core machine, 1M
    positions: 5.0 ms against 2.4 ms a step).

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
    tiers = out.shape[0]
    # Positions counted by (tier, status) and (tier, event), branch-free (in a crisis
    # most positions have an event, and per-event branches mispredicted); the tally's
    # flow fields are read off the event counts afterwards. Unsigned codes: with
    # signed ones Numba tests every index for a negative value (to wrap it), which
    # made this count 2.5 times slower.
    statuses = np.zeros((tiers, N_STATUSES), dtype=np.int64)
    events = np.zeros((tiers, N_EVENTS), dtype=np.int64)
    more = np.zeros((tiers, 2), dtype=np.int64)  # aggrieved in post, minders watching
    for i in range(status.size):
        k = np.uint64(tier[i])
        st = status[i]
        statuses[k, np.uint64(st)] += 1
        events[k, np.uint64(event[i])] += 1
        in_post = st < JAILED
        more[k, 0] += in_post and grievance[i] > threshold[i]
        if in_post and is_minder[i]:
            more[watched_tier[i], 1] += 1
    out[:, :] = 0
    for k in range(tiers):
        for st in range(N_STATUSES):
            out[k, st] = statuses[k, st]
            if st < JAILED:
                out[k, IN_POST] += statuses[k, st]
        out[k, AGGRIEVED] = more[k, 0]
        out[k, MINDERS_WATCHING] = more[k, 1]
        for ev in range(1, N_EVENTS):
            count = events[k, ev]
            if DEFECTION <= ev <= FOLLOW:
                out[k, ATTEMPTS] += count
                out[k, DEFECTIONS] += count
                if ev == GROUP_DEFECTION:
                    out[k, GROUP_MEMBERS] += count
                elif ev == FOLLOW:
                    out[k, FOLLOWERS] += count
            elif INTERCEPTION <= ev <= INTERCEPTION_FAILED or ev == CAUGHT_PURGED:
                out[k, ATTEMPTS] += count
                out[k, INTERCEPTIONS] += count
            elif ev == ARREST or ev == ARREST_REPATRIATED or ev == ARREST_PURGED:
                out[k, ARRESTS] += count
            if ev == INTERCEPTION_REPATRIATED or ev == ARREST_REPATRIATED:
                out[k, REPATRIATIONS] += count
            elif ev == INTERCEPTION_FAILED or ev == ARREST_FAILED:
                out[k, ARRESTS_FAILED] += count
            elif ev >= CAUGHT_PURGED:
                out[k, PURGES] += count


__all__ = [
    "Layout", "Agents", "StepParams", "StepValues", "StepFlows", "PARALLEL_MIN_AGENTS",
    "WANTS_TO_LEAVE", "WOULD_ACT", "FINDS_WAY_OUT", "WOULD_BE_SEEN",
    "settle", "grievance", "surveil", "surveil_parallel", "decide", "decide_parallel", "fade",
    "fade_parallel", "respond", "tally",
]
