"""Shocks: the scenario's timed events turned into (step x tier) parameter tables.

Precomputing the tables keeps the engine free of branching on events: at
step ``t`` it reads row ``t``. Outside a shock's window and tiers the tables
hold the baseline values, so a shock cannot change anything there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from minders.scenario import Scenario


@dataclass(frozen=True)
class Schedule:
    """Per-step, per-tier values of the parameters that shocks can move.

    Attributes
    ----------
    legitimacy : float64 array, shape (steps, tiers)
        L of each tier at each step.
    detection : float64 array
        Multiplier of minders' detection probability.
    opportunity : float64 array
        Multiplier of the chance to try to defect.
    pull : float64 array
        Added to the decision to defect (a call to defect, an amnesty).
    beta : float64 array
        Weight of the social signal (baseline plus ``info_ops``).
    info : bool array
        ``info_ops`` is on: agents also see neighbours' private discontent.
    """

    legitimacy: np.ndarray
    detection: np.ndarray
    opportunity: np.ndarray
    pull: np.ndarray
    beta: np.ndarray
    info: np.ndarray


def build_schedule(scenario: Scenario, steps: int, burn_in: int = 0) -> Schedule:
    """Tabulate the shocks of ``scenario`` over ``burn_in + steps`` steps.

    The first ``burn_in`` rows hold the baseline (no shock acts during the
    burn-in); shock steps count from the end of the burn-in.

    Overlapping ``legitimacy`` shocks: the later one in the file wins;
    multipliers multiply; ``pull`` and ``info_ops`` add up. With ``ramp``,
    the change phases in linearly over the first ``ramp`` steps of the window.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"run": {"steps": 10}, "tiers": {"a": {"size": 5}},
    ...     "model": {"scar_half_life": 0},
    ...     "shocks": [{"kind": "legitimacy", "start": 4, "end": 6, "value": 0.2}]})
    >>> build_schedule(s, 10).legitimacy[:, 0].tolist()
    [0.8, 0.8, 0.8, 0.8, 0.2, 0.2, 0.8, 0.8, 0.8, 0.8]
    >>> scarred = s.with_overrides({"model.scar_half_life": 1})
    >>> np.round(build_schedule(scarred, 10).legitimacy[:, 0], 2).tolist()
    [0.8, 0.8, 0.8, 0.8, 0.2, 0.2, 0.5, 0.65, 0.73, 0.76]
    """
    names = list(scenario.tiers)
    shape = (burn_in + steps, len(names))
    base_legitimacy = np.array([scenario.tiers[n].legitimacy for n in names])
    legitimacy = np.broadcast_to(base_legitimacy, shape).copy()
    detection = np.ones(shape)
    opportunity = np.ones(shape)
    pull = np.zeros(shape)
    beta = np.full(shape, scenario.model.beta)
    info = np.zeros(shape, dtype=bool)
    for shock in scenario.shocks:
        start = min(shock.start, steps)
        end = min(steps if shock.end is None else shock.end, steps)
        if end <= start:
            continue
        cols = [names.index(t) for t in shock.tiers] if shock.tiers else list(range(len(names)))
        t = np.arange(start, end)
        phase = np.minimum(1.0, (t - start + 1) / shock.ramp) if shock.ramp else np.ones(t.size)
        phase = phase[:, None]
        rows = slice(burn_in + start, burn_in + end)
        if shock.kind == "legitimacy":
            old = legitimacy[rows][:, cols]
            legitimacy[rows, cols] = old + phase * (shock.value - old)
        elif shock.kind == "detection":
            detection[rows, cols] *= 1.0 + phase * (shock.value - 1.0)
        elif shock.kind == "opportunity":
            opportunity[rows, cols] *= 1.0 + phase * (shock.value - 1.0)
        elif shock.kind == "pull":
            pull[rows, cols] += phase * shock.value
        elif shock.kind == "info_ops":
            beta[rows, cols] += phase * shock.value
            info[rows, cols] = True
    half_life = scenario.model.scar_half_life
    if half_life > 0:
        remember_crises(legitimacy, base_legitimacy, 0.5 ** (1.0 / half_life))
    return Schedule(legitimacy, detection, opportunity, pull, beta, info)


@nb.njit(cache=True)
def remember_crises(legitimacy: np.ndarray, base: np.ndarray, keep: float) -> None:
    """Let legitimacy remember its drops: a scar that fades by ``keep`` per step.

    Docs/model.md, '5. Shocks'. The depth of a drop is ``base - L(t)`` (zero
    when L is at or above its baseline); the scar is the deepest drop, fading
    geometrically: ``scar(t) = max(depth(t), keep * scar(t - 1))``. Legitimacy
    is then lowered by the part of the scar that the current shock does not
    already explain, ``L(t) - (scar(t) - depth(t))``: during a drop nothing
    changes, after it legitimacy climbs back as the scar fades.

    Parameters
    ----------
    legitimacy : float64 array, shape (steps, tiers)
        Scheduled L, overwritten with the remembered L (clipped to [0, 1]).
    base : float64 array, shape (tiers,)
        Each tier's baseline legitimacy.
    keep : float
        Share of the scar left after one step, ``0.5 ** (1 / half_life)``.

    Examples
    --------
    >>> L = np.array([[0.8], [0.2], [0.8], [0.8]])
    >>> remember_crises(L, np.array([0.8]), 0.5)
    >>> np.round(L[:, 0], 3).tolist()
    [0.8, 0.2, 0.5, 0.65]
    """
    steps, tiers = legitimacy.shape
    for k in range(tiers):
        scar = 0.0
        for t in range(steps):
            depth = max(0.0, base[k] - legitimacy[t, k])
            scar = max(depth, keep * scar)
            legitimacy[t, k] = min(1.0, max(0.0, legitimacy[t, k] - (scar - depth)))
