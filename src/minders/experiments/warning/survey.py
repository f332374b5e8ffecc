"""A simulated survey of defectors: what those who left say about discontent at home.

Surveys of refugees reach only those who left, a selected sample: people
leave because they are discontented. The survey here interviews, at step
``t``, a random sample of those who left in the last ``recall`` steps and
asks whether they were discontented at home (``G > T`` when they left:
their grievance above their threshold, the records' ``aggrieved``). It is
compared with the true discontent of those who stayed in post at ``t``
(the records' ``true_discontent``, pooled over the surveyed tiers): the
difference is the survey's selection bias.

The records keep no per-leaver grievance, so :func:`survey_tallies` re-runs
a run step by step (:class:`minders.engine.Simulation`, same scenario and
seed, hence the same run) and reads the agents' columns between steps.

Examples
--------
A hand-worked case: 100 stayed, 20 of them discontented; 10 left in the
recall window, 9 of them discontented. Interviewing all 10 gives 0.9
against a truth of 0.2: a bias of +0.7.

>>> tallies = pd.DataFrame({"run_id": 0, "step": [0], "left": [10], "left_aggrieved": [9],
...                         "stayed": [100], "stayed_aggrieved": [20]})
>>> out = survey(tallies, recall=1, sample=10, seed=0)
>>> out[["survey", "truth", "bias"]].round(3).values.tolist()
[[0.9, 0.2, 0.7]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from minders.codes import DEFECTION, FOLLOW, JAILED
from minders.errors import ScenarioError

#: Per-step columns of :func:`survey_tallies`.
TALLY_COLUMNS = ("left", "left_aggrieved", "stayed", "stayed_aggrieved")


def survey_tallies(scenario: Any, seed: int, tiers: list[str] | None = None,
                   steps: int | None = None) -> pd.DataFrame:
    """Per step: who left (and how many were discontented), who stayed (and how many are).

    Parameters
    ----------
    scenario : minders.scenario.Scenario
        A validated scenario of the minders kind.
    seed : int
        The run's seed.
    tiers : list of str, optional
        Tiers surveyed (default: all).
    steps : int, optional
        Horizon (default: the scenario's).

    Returns
    -------
    pandas.DataFrame
        ``step`` and :data:`TALLY_COLUMNS`.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"run": {"steps": 3}, "tiers": {
    ...     "w": {"size": 60, "minded_by": "m", "span": 10}, "m": {"size": "auto"}}})
    >>> list(survey_tallies(s, seed=1, tiers=["w"]).columns)
    ['step', 'left', 'left_aggrieved', 'stayed', 'stayed_aggrieved']
    """
    from minders.engine import Simulation

    sim = Simulation(scenario, seed=seed, steps=steps)
    pop = sim.population
    names = list(pop.tier_names)
    chosen = names if not tiers else list(tiers)
    for name in chosen:
        if name not in names:
            raise ScenarioError("warning.survey.tiers", name, f"one of {', '.join(names)}")
    surveyed = np.isin(pop.tier, [names.index(n) for n in chosen])
    rows = np.zeros((sim.steps, len(TALLY_COLUMNS)), dtype=np.int64)
    for t in range(sim.steps):
        sim.step()
        event = sim.event
        # A leaver's position keeps its grievance and threshold until it is refilled
        # (stage 0 of a later step), so G > T here is the leaver's own at leaving.
        aggrieved = sim.grievance > pop.threshold
        left = surveyed & (event >= DEFECTION) & (event <= FOLLOW)
        stayed = surveyed & (pop.status < JAILED)
        rows[t] = (left.sum(), (left & aggrieved).sum(),
                   stayed.sum(), (stayed & aggrieved).sum())
    frame = pd.DataFrame(rows, columns=list(TALLY_COLUMNS))
    frame.insert(0, "step", np.arange(sim.steps, dtype=np.int64))
    return frame


def survey(tallies: pd.DataFrame, recall: int, sample: int, seed: int) -> pd.DataFrame:
    """Survey estimate, truth and bias at every step of every run.

    Parameters
    ----------
    tallies : pandas.DataFrame
        ``run_id``, ``step`` and :data:`TALLY_COLUMNS` (from :func:`survey_tallies`).
    recall : int
        A survey at ``t`` reaches those who left in steps ``t - recall + 1 .. t``.
    sample : int
        Interviews (drawn without replacement; all leavers if fewer).
    seed : int
        Seed of the interview draws (one stream per run).

    Returns
    -------
    pandas.DataFrame
        ``run_id``, ``step``, ``leavers`` (in the recall window), ``interviewed``,
        ``leavers_discontent`` (all of them: the selection bias without sampling
        noise), ``survey`` (the sample's share), ``truth`` (the stayers' true
        discontent) and ``bias = survey - truth``; NaN where nobody left.

    Examples
    --------
    >>> tallies = pd.DataFrame({"run_id": 0, "step": [0, 1], "left": [2, 0],
    ...     "left_aggrieved": [1, 0], "stayed": [10, 10], "stayed_aggrieved": [1, 1]})
    >>> survey(tallies, recall=2, sample=5, seed=1)["leavers_discontent"].tolist()
    [0.5, 0.5]
    """
    out = []
    for run_id, run in tallies.sort_values(["run_id", "step"]).groupby("run_id", sort=True):
        left = _window_sum(run["left"].to_numpy(np.int64), recall)
        aggrieved = _window_sum(run["left_aggrieved"].to_numpy(np.int64), recall)
        rng = np.random.default_rng(np.random.SeedSequence(int(seed),
                                                           spawn_key=(int(run_id), 7)))
        interviewed = np.minimum(left, sample)
        said_yes = np.zeros_like(left)
        some = interviewed > 0
        said_yes[some] = rng.hypergeometric(aggrieved[some], (left - aggrieved)[some],
                                            interviewed[some])
        stayed = run["stayed"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            estimate = np.where(some, said_yes / np.where(some, interviewed, 1), np.nan)
            full = np.where(left > 0, aggrieved / np.where(left > 0, left, 1), np.nan)
            truth = np.where(stayed > 0, run["stayed_aggrieved"].to_numpy(float)
                             / np.where(stayed > 0, stayed, 1), np.nan)
        out.append(pd.DataFrame({
            "run_id": np.int64(run_id), "step": run["step"].to_numpy(np.int64),
            "leavers": left, "interviewed": interviewed, "leavers_discontent": full,
            "survey": estimate, "truth": truth, "bias": estimate - truth,
        }))
    columns = ["run_id", "step", "leavers", "interviewed", "leavers_discontent", "survey",
               "truth", "bias"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)


def _window_sum(values: np.ndarray, recall: int) -> np.ndarray:
    """Sum of the last ``recall`` values at every step (fewer at the start)."""
    total = np.cumsum(values)
    shifted = np.concatenate([np.zeros(recall, dtype=total.dtype), total])[: total.size]
    return total - shifted
