"""Shocks: the scenario's timed events turned into (step x tier) parameter tables.

Precomputing the tables keeps the engine free of branching on events: at
step ``t`` it reads row ``t``. Outside a shock's window and tiers the tables
hold the baseline values, so a shock cannot change anything there.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    ...     "shocks": [{"kind": "legitimacy", "start": 4, "end": 6, "value": 0.2}]})
    >>> build_schedule(s, 10).legitimacy[:, 0].tolist()
    [0.8, 0.8, 0.8, 0.8, 0.2, 0.2, 0.8, 0.8, 0.8, 0.8]
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
    return Schedule(legitimacy, detection, opportunity, pull, beta, info)
