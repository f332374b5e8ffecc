"""The engine: builds the world of a scenario and advances it step by step.

The loop order of one step (MODEL.md, 'One step'), listed in
``Simulation.LOOP``:

0. release prisoners whose term is over; refill vacancies whose delay is over;
1. grievance G = H (1 - L(t)) + fear;
2. surveillance and signal (attention, diligence, informers, detection d_i, s_i);
3. decisions and their outcomes (defect / act / quiet; interception, arrest);
4. regime response (collective purges, fear, leaks of methods);
5. measurement (stocks, flows, measured and true discontent) into the records.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from minders import kernels
from minders.network import Graph, build_graph
from minders.population import (
    FALSIFYING,
    JAILED,
    LOYAL,
    PURGED,
    Population,
    build_population,
    recruit,
)
from minders.records import Records
from minders.scenario import Scenario
from minders.shocks import Schedule, build_schedule
from minders.streams import DECISIONS, generator, stream_key


class Simulation:
    """One run of a scenario: population, graph, schedule, state and records.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    seed : int, optional
        Base seed; defaults to ``scenario.run.seed``.
    steps : int, optional
        Horizon; defaults to ``scenario.run.steps``.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"run": {"steps": 5}, "tiers": {
    ...     "residents": {"size": 200, "minded_by": "minders", "span": 20},
    ...     "minders": {"size": "auto"}}})
    >>> sim = Simulation(s, seed=3)
    >>> sim.run().records.shape
    (10, 20)
    """

    #: The order of one step; see the module docstring for what each does.
    LOOP = ("release/refill", "grievance", "surveil", "decide", "respond", "measure")

    def __init__(self, scenario: Scenario, seed: int | None = None, steps: int | None = None):
        self.scenario = scenario
        self.seed = scenario.run.seed if seed is None else int(seed)
        self.steps = scenario.run.steps if steps is None else int(steps)
        self.burn_in = scenario.run.burn_in
        self.population: Population = build_population(scenario, self.seed)
        self.graph: Graph = build_graph(self.population, scenario.network, self.seed)
        # One row per internal step: the burn-in first, then the recorded steps.
        self.schedule: Schedule = build_schedule(scenario, self.steps, self.burn_in)
        tiers = [scenario.tiers[name] for name in self.population.tier_names]
        self.p_detect = np.array([t.p_detect for t in tiers])
        self.abroad_chance = np.array([t.abroad_chance for t in tiers])
        self.border_chance = np.array([t.border_chance for t in tiers])
        self.replace_delay = np.array(
            [-1 if t.replace_delay is None else t.replace_delay for t in tiers], dtype=np.int64
        )
        self.keys = {name: stream_key(self.seed, name) for name in DECISIONS}
        self.recruit_rngs = {
            name: generator(self.seed, f"recruit/{name}") for name in self.population.tier_names
        }
        n = self.population.size
        self.grievance = np.zeros(n)
        self.detection = np.zeros(n)
        self.attention = np.zeros(n)
        self.signal = np.zeros(n)
        self.event = np.zeros(n, dtype=np.int8)
        self._tally = np.zeros((len(tiers), kernels.TALLY_FIELDS), dtype=np.int64)
        self.records = Records(self.steps, self.population.tier_names)
        # Everyone starts quiet: falsifying if privately aggrieved at the first step's L.
        start = self.population
        kernels.grievance(start.hardship, start.fear, start.tier, self.schedule.legitimacy[0],
                          self.grievance)
        start.status[:] = np.where(self.grievance > start.threshold, FALSIFYING, LOYAL)
        self.t = 0  # recorded steps done
        self.clock = 0  # internal steps done, burn-in included (keys the random streams)
        self.wall_time = 0.0

    # ------------------------------------------------------------------ one step
    def _release_and_refill(self, t: int, legitimacy: np.ndarray) -> None:
        pop = self.population
        status = pop.status
        released = np.flatnonzero((status == JAILED) & (pop.jail_until <= t))
        delay = self.replace_delay[pop.tier]
        vacant = status >= PURGED
        refill = np.flatnonzero(vacant & (delay >= 0) & (t >= pop.vacated_at + delay + 1))
        if refill.size:
            recruit(pop, self.scenario, refill, self.recruit_rngs)
        back = np.concatenate([released, refill])
        if back.size:  # back in post, quiet until this step's decision
            g = pop.hardship[back] * (1.0 - legitimacy[pop.tier[back]]) + pop.fear[back]
            status[back] = np.where(g > pop.threshold[back], FALSIFYING, LOYAL)

    def step(self) -> None:
        """Advance the world by one recorded step (after the burn-in, on the first call)."""
        if self.t >= self.steps:
            raise RuntimeError(f"the run is over: all {self.steps} steps are done")
        while self.clock < self.burn_in:
            self._advance()
        self._advance()
        self.records.store(self.t, self._tally, self._p_detect_now)
        if self.scenario.run.check:
            self.check_invariants()
        self.t += 1

    def _advance(self) -> None:
        """One step of the model at internal time ``clock`` (MODEL.md, 'One step')."""
        t = self.clock
        pop, graph, schedule, params = self.population, self.graph, self.schedule, self.scenario
        model = params.model
        legitimacy = schedule.legitimacy[t]
        self._release_and_refill(t, legitimacy)
        kernels.grievance(pop.hardship, pop.fear, pop.tier, legitimacy, self.grievance)
        p_detect = np.clip(self.p_detect * schedule.detection[t], 0.0, 1.0)
        surveil = (
            kernels.surveil_parallel if pop.size >= kernels.PARALLEL_MIN_AGENTS
            else kernels.surveil
        )
        surveil(
            pop.levels, graph.indptr, graph.indices, pop.status, pop.tier, pop.minder,
            pop.is_minder,
            pop.ward_start, pop.ward_end, self.grievance, pop.threshold, pop.last_act,
            t, model.memory, schedule.info[t], p_detect,
            model.watch_capacity, model.shirk, model.informer_rate,
            self.detection, self.attention, self.signal,
        )
        kernels.decide(
            pop.status, pop.tier, self.grievance, pop.threshold, pop.risk_aversion, pop.family,
            pop.abroad, pop.is_minder, self.detection, self.signal,
            schedule.beta[t], schedule.pull[t], schedule.opportunity[t],
            self.abroad_chance, self.border_chance, model.family_weight, model.max_jail, t,
            self.keys["opportunity"], self.keys["intercept"], self.keys["arrest"],
            self.keys["jail_term"],
            self.event, pop.jail_until, pop.vacated_at, pop.last_act,
        )
        leaks = np.zeros(len(pop.tier_names), dtype=np.int64)
        kernels.respond(
            pop.status, self.event, pop.tier, pop.minder, pop.is_minder, pop.ward_start,
            pop.ward_end, pop.watched_tier, pop.tier_start, pop.tier_end,
            graph.indptr, graph.indices, model.purge_rate, model.fear, t, self.keys["purge"],
            pop.fear, pop.vacated_at, leaks,
        )
        kernels.tally(
            pop.status, self.event, pop.tier, self.grievance, pop.threshold, pop.is_minder,
            pop.watched_tier, self._tally,
        )
        self._p_detect_now = p_detect
        # Leaks lower the detection of the tier a defecting minder watched, from the next step.
        self.p_detect = np.maximum(0.0, self.p_detect - model.leak * leaks)
        self.clock += 1

    def check_invariants(self) -> None:
        """Assert that per tier the stocks add up to the positions (debug/check mode)."""
        counts = self.records.counts[self.t, :, :6].sum(axis=1)
        sizes = self.population.tier_end - self.population.tier_start
        assert np.array_equal(counts, sizes), f"stocks {counts} != positions {sizes}"
        assert self.population.status.min() >= 0 and self.population.status.max() <= 5

    def run(self, progress: Callable[[int, int], None] | None = None):
        """Run the remaining steps and return a :class:`~minders.result.Result`.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(done, total)`` after each step.
        """
        from minders.result import Result

        start = time.perf_counter()
        while self.t < self.steps:
            self.step()
            if progress is not None:
                progress(self.t, self.steps)
        self.wall_time += time.perf_counter() - start
        return Result(
            scenario=self.scenario, seed=self.seed, records=self.records.to_frame(),
            wall_time=self.wall_time, steps=self.steps,
        )


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
):
    """Run ``scenario`` once and return its :class:`~minders.result.Result`.

    Parameters
    ----------
    scenario : Scenario
        From :func:`minders.load_scenario` or :meth:`Scenario.model_validate`.
    seed : int, optional
        Base seed (default: the scenario's ``run.seed``).
    steps : int, optional
        Horizon (default: the scenario's ``run.steps``).
    progress : callable, optional
        Called as ``progress(done, total)`` after each step.

    Examples
    --------
    >>> import minders
    >>> s = minders.load_scenario("scenarios/pyongyang.toml")  # doctest: +SKIP
    >>> result = minders.simulate(s, seed=1, steps=52)  # doctest: +SKIP
    >>> result.records.head()  # doctest: +SKIP
    """
    start = time.perf_counter()
    sim = Simulation(scenario, seed=seed, steps=steps)
    setup = time.perf_counter() - start
    result = sim.run(progress=progress)
    result.wall_time += setup
    return result
