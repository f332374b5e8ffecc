"""The step kernels: pure Numba functions over the population's columns.

One step of MODEL.md is five kernels, called in this order by the engine:

1. :func:`grievance`  - G = H (1 - L) + fear.
2. :func:`surveil`    - attention of minders, detection d_i, social signal s_i.
3. :func:`decide`     - defect / act / stay quiet, and the outcomes
   (defection, interception, arrest, jail, purge of caught minders).
4. :func:`respond`    - collective-responsibility purges, fear, leaks.
5. :func:`tally`      - counts per tier for the records.

Kernels take every input as an explicit argument and write only into the
output arrays they are given. Random draws are counter-based
(:func:`minders.streams.uniform`), keyed by (stream, step, position), so the
result does not depend on loop order. ``tests/test_kernels.py`` checks each
kernel against a plain NumPy reference.
"""

from __future__ import annotations

import os
import types

# Numba's OpenMP layer keeps idle threads spinning by default; on a busy or small machine
# (2 cores shared with sweep workers, a dashboard, a browser) that spinning steals the
# cores from the work and made steps 10-100x slower in our measurements. Passive waiting
# costs nothing measurable on a quiet machine. Only a default: the user's setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba as nb  # noqa: E402
import numpy as np

from minders.population import ACTIVE, DEFECTED, FALSIFYING, JAILED, LOYAL, PURGED
from minders.streams import uniform

# Events of one step (one per position).
NONE, DEFECTION, INTERCEPTION, ARREST, CAUGHT_PURGED, ARREST_PURGED, WARD_PURGED = range(7)
EVENT_NAMES = (
    "none", "defection", "interception", "arrest", "caught_purged", "arrest_purged", "ward_purged",
)

# Columns of the tally (after the six status stocks).
ATTEMPTS, DEFECTIONS, INTERCEPTIONS, ARRESTS, PURGES, IN_POST, AGGRIEVED, MINDERS_WATCHING = range(
    6, 14
)
TALLY_FIELDS = 14


@nb.njit(cache=True)
def grievance(
    hardship: np.ndarray, fear: np.ndarray, tier: np.ndarray, legitimacy: np.ndarray,
    out: np.ndarray,
) -> None:
    """G_i = H_i (1 - L_tier) + fear_i (Epstein 2002, plus MODEL.md's fear of purges)."""
    for i in range(hardship.size):
        out[i] = hardship[i] * (1.0 - legitimacy[tier[i]]) + fear[i]


def _surveil(  # compiled twice below: serial and parallel

    levels: np.ndarray,
    indptr: np.ndarray, indices: np.ndarray, status: np.ndarray, tier: np.ndarray,
    minder: np.ndarray, is_minder: np.ndarray, ward_start: np.ndarray, ward_end: np.ndarray,
    grievance: np.ndarray, threshold: np.ndarray, last_act: np.ndarray,
    step: int, memory: int, see_private: np.ndarray, p_detect: np.ndarray,
    watch_capacity: float, shirk: float, informer_rate: float,
    detection: np.ndarray, attention: np.ndarray, signal: np.ndarray,
) -> None:
    """Attention, detection probability and social signal of every position.

    MODEL.md steps 1-2. Positions are ordered top-down and ``levels`` holds
    the boundaries of the hierarchy's levels (``levels[k]:levels[k + 1]``),
    so each level is computed in parallel after the one above it, and a
    minder's attention is final before any of its wards reads it:

    - a_m = min(1, c / present wards) * diligence_m,
      diligence_m = 1 - shirk [G_m > T_m] (1 - d_m);
    - d_i = 1 - (1 - a_minder(i) p_detect_tier) (1 - informer_rate)^(loyal neighbours);
    - s_i = share of neighbours seen defecting or active in the last ``memory``
      steps (with ``see_private``: or privately aggrieved).

    Positions not in post (jailed, vacant) get zeros.
    """
    no_report = 1.0 - informer_rate
    since = step - memory
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
def decide(
    status: np.ndarray, tier: np.ndarray, grievance: np.ndarray, threshold: np.ndarray,
    risk_aversion: np.ndarray, family: np.ndarray, abroad: np.ndarray, is_minder: np.ndarray,
    detection: np.ndarray, signal: np.ndarray,
    beta: np.ndarray, pull: np.ndarray, opportunity: np.ndarray,
    abroad_chance: np.ndarray, border_chance: np.ndarray,
    family_weight: float, max_jail: int, step: int,
    key_opportunity: np.uint64, key_intercept: np.uint64, key_arrest: np.uint64,
    key_jail: np.uint64,
    event: np.ndarray, jail_until: np.ndarray, vacated_at: np.ndarray, last_act: np.ndarray,
) -> None:
    """Decision and outcome of every position in post (MODEL.md steps 3-4).

    net_i = G_i + beta s_i + pull - R_i d_i (1 + phi family_i). If net_i > T_i
    and the agent has the opportunity (abroad: ``abroad_chance``, at home:
    ``border_chance``, both times the opportunity multiplier) it tries to
    defect and is stopped with probability d_i: jailed for 1..max_jail steps,
    or purged if it is a minder. Otherwise, if G_i - R_i d_i > T_i it is
    active and arrested with probability d_i; else quiet, ``falsifying`` if
    G_i > T_i and ``loyal`` otherwise. Per-tier parameters are indexed by tier.
    """
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
            attempt = uniform(key_opportunity, step, i) < chance
        if attempt:
            if uniform(key_intercept, step, i) < detection[i]:
                _caught(i, is_minder[i], CAUGHT_PURGED, INTERCEPTION, step, max_jail, key_jail,
                        status, event, jail_until, vacated_at)
            else:
                status[i] = DEFECTED
                vacated_at[i] = step
                last_act[i] = step
                event[i] = DEFECTION
        elif g - risk > t:
            last_act[i] = step
            if uniform(key_arrest, step, i) < detection[i]:
                _caught(i, is_minder[i], ARREST_PURGED, ARREST, step, max_jail, key_jail,
                        status, event, jail_until, vacated_at)
            else:
                status[i] = ACTIVE
        elif g > t:
            status[i] = FALSIFYING
        else:
            status[i] = LOYAL


@nb.njit(inline="always", cache=True)
def _caught(i, minder_post, purged_event, jailed_event, step, max_jail, key_jail,
            status, event, jail_until, vacated_at):
    """A caught minder is purged (its post falls vacant); anyone else is jailed 1..max_jail."""
    if minder_post:
        status[i] = PURGED
        vacated_at[i] = step
        event[i] = purged_event
    else:
        status[i] = JAILED
        jail_until[i] = step + 1 + int(uniform(key_jail, step, i) * max_jail)
        event[i] = jailed_event


@nb.njit(cache=True)
def respond(
    status: np.ndarray, event: np.ndarray, tier: np.ndarray, minder: np.ndarray,
    is_minder: np.ndarray, ward_start: np.ndarray, ward_end: np.ndarray,
    watched_tier: np.ndarray, tier_start: np.ndarray, tier_end: np.ndarray,
    indptr: np.ndarray, indices: np.ndarray,
    purge_rate: float, fear_per_purge: float, step: int, key_purge: np.uint64,
    fear: np.ndarray, vacated_at: np.ndarray, leaks: np.ndarray,
) -> None:
    """The regime's response (MODEL.md step 5).

    Each defection purges the defector's minder (if still in post) with
    probability ``purge_rate``; the draw belongs to the defecting ward, so
    the outcome does not depend on which ward is looked at first. Every
    purge adds ``fear_per_purge`` to the grievance of the purged minder's
    peers: its work unit, or, in an unsupervised tier, its neighbours in the
    graph who belong to the same tier (so fear does not grow with the size
    of the tier). Each
    defecting minder adds one to ``leaks`` of the tier it watched.
    """
    for i in range(status.size):
        if event[i] == DEFECTION:
            m = minder[i]
            if m >= 0 and status[m] < JAILED and uniform(key_purge, step, i) < purge_rate:
                status[m] = PURGED
                vacated_at[m] = step
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
            leaks[watched_tier[i]] += 1


@nb.njit(cache=True)
def tally(
    status: np.ndarray, event: np.ndarray, tier: np.ndarray, grievance: np.ndarray,
    threshold: np.ndarray, is_minder: np.ndarray, watched_tier: np.ndarray, out: np.ndarray,
) -> None:
    """Counts per tier: status stocks, flows of the step, discontent, minders at work."""
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
    "ACTIVE", "DEFECTED", "FALSIFYING", "JAILED", "LOYAL", "PURGED",
    "grievance", "surveil", "decide", "respond", "tally",
]
