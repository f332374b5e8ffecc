"""Running Model I: the legitimacy path, then the step kernels in chunks, then the records."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from minders.classic.epstein.grid import build_world, change_cops
from minders.classic.epstein.kernels import kernel_inputs, run_steps
from minders.classic.epstein.scenario import ACTIVE, JAILED, QUIET, EpsteinScenario
from minders.result import Result
from minders.streams import generator


def legitimacy_path(scenario: EpsteinScenario, steps: int) -> np.ndarray:
    """L at steps ``0..steps``: the initial level, then each change in turn.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"legitimacy": {"initial": 0.8, "changes": [
    ...     {"start": 2, "value": 0.6, "ramp": 2}]}})
    >>> legitimacy_path(s, 4).round(3).tolist()
    [0.8, 0.8, 0.7, 0.6, 0.6]
    """
    level = np.full(steps + 1, scenario.legitimacy.initial, dtype=np.float64)
    for change in scenario.legitimacy.changes:
        if change.start > steps:
            continue
        before = level[change.start - 1]
        t = np.arange(change.start, steps + 1)
        if change.ramp == 0:
            level[t] = change.value
        else:
            done = np.minimum(1.0, (t - change.start + 1) / change.ramp)
            level[t] = before + (change.value - before) * done
    return level


def simulate(
    scenario: EpsteinScenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run Model I and return its :class:`~minders.result.Result`.

    Parameters
    ----------
    scenario : EpsteinScenario
        A validated scenario.
    seed : int, optional
        Base seed (default ``run.seed``).
    steps : int, optional
        Horizon (default ``run.steps``).
    progress : callable, optional
        ``progress(done, total)``, every few steps.

    Returns
    -------
    Result
        Records ``step``, ``quiet``, ``active``, ``jailed``, ``legitimacy``; and
        ``cops`` (on duty) when the scenario has a cop schedule.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> rec = simulate(s, seed=1, steps=20).records
    >>> rec.columns.tolist()
    ['step', 'quiet', 'active', 'jailed', 'legitimacy']
    >>> bool((rec[["quiet", "active", "jailed"]].sum(axis=1) == 280).all())
    True
    """
    start = time.perf_counter()
    seed = scenario.run.seed if seed is None else int(seed)
    horizon = scenario.run.steps if steps is None else int(steps)
    if steps is not None:  # a horizon other than the validated one
        scenario.check_fits(horizon)
    world = build_world(scenario, seed)
    legitimacy = legitimacy_path(scenario, horizon)
    layout, rules, state = kernel_inputs(scenario, world, seed)
    counts = np.zeros((horizon + 1, 3), dtype=np.int64)
    counts[0, QUIET] = world.n_citizens
    schedule = [c for c in scenario.cops.schedule if c.step <= horizon]
    on_duty = np.full(horizon + 1, world.n_agents - world.n_citizens - scenario.cop_slots(),
                      dtype=np.int64)
    shocks = generator(seed, "epstein/cop_schedule")
    # steps in chunks only to report progress: each kernel call costs ~10-30 us of dispatch
    chunk = horizon if progress is None else max(1, min(50, horizon // 100 or 1))
    done = 0
    while done < horizon:
        while schedule and schedule[0].step == done + 1:  # cops change before the step runs
            on_duty[done + 1:] = change_cops(world, schedule.pop(0), shocks)
        last = min(horizon, done + chunk)
        if schedule:
            last = min(last, schedule[0].step - 1)
        run_steps(done + 1, last, legitimacy, layout, rules, state, counts)
        done = last
        if progress is not None:
            progress(done, horizon)
    columns = {
        "step": np.arange(horizon + 1, dtype=np.int64),
        "quiet": counts[:, QUIET],
        "active": counts[:, ACTIVE],
        "jailed": counts[:, JAILED],
        "legitimacy": legitimacy,
    }
    if scenario.cops.schedule:  # cops on duty during each step (row 0: at the start)
        columns["cops"] = on_duty
    records = pd.DataFrame(columns)
    return Result(scenario=scenario, seed=seed, records=records,
                  wall_time=time.perf_counter() - start, steps=horizon)


