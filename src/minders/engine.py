"""The engine: builds the world of a scenario and advances it step by step.

One step (docs/model.md, '4. One step') runs six stages, in the order of
``Simulation.LOOP``, numbered as the sections of docs/model.md and the
stages of :mod:`minders.kernels`:

0. ``release_refill`` - release prisoners whose term is over; refill
   vacancies whose delay is over ('4.0 Release and refill');
1. ``grievance`` - G = H (1 - L(t)), L with the scar of past drops ('4.1 Grievance');
2. ``surveil`` - attention, diligence, informers, detection d_i, signal s_i
   ('4.2 Surveillance and signal');
3. ``decide`` - defect / act / quiet; interception, arrest
   ('4.3 Decision and outcomes');
4. ``respond`` - collective purges, fear, leaks of methods ('4.4 Regime response');
5. ``measure`` - stocks, flows, measured and true discontent into the tally
   ('4.5 Measurement').
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from minders import kernels
from minders.codes import GROUPS, JAILED, N_STATUSES, TALLY_FIELDS
from minders.network import Graph, build_graph
from minders.population import Population, build_population, recruit, renew
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
    timings : bool, optional
        Time each stage of the loop (see :meth:`timings`); off by default, and
        then it costs nothing.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"run": {"steps": 5}, "tiers": {
    ...     "residents": {"size": 200, "minded_by": "minders", "span": 20},
    ...     "minders": {"size": "auto"}}})
    >>> sim = Simulation(s, seed=3, timings=True)
    >>> sim.run().records.shape
    (10, 28)
    >>> list(sim.timings()["stage"])
    ['release_refill', 'grievance', 'surveil', 'decide', 'respond', 'measure']
    """

    #: The stages of one step, in order: (label, method). :meth:`_advance` runs them;
    #: they are numbered 0-5 as in the module docstring and docs/model.md, '4. One step'.
    LOOP = (
        ("release_refill", "_release_and_refill"),
        ("grievance", "_grievance"),
        ("surveil", "_surveil"),
        ("decide", "_decide"),
        ("respond", "_respond"),
        ("measure", "_measure"),
    )

    def __init__(
        self, scenario: Scenario, seed: int | None = None, steps: int | None = None,
        timings: bool = False,
    ):
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
        self.replace_delay = np.array(
            [-1 if t.replace_delay is None else t.replace_delay for t in tiers], dtype=np.int64
        )
        self.recruit_rngs = {
            name: generator(self.seed, f"recruit/{name}") for name in self.population.tier_names
        }
        self.renewal_rngs = {
            name: generator(self.seed, f"renewal/{name}") for name in self.population.tier_names
        }
        pop, graph, model = self.population, self.graph, scenario.model
        self.layout = kernels.Layout(
            tier=pop.tier, minder=pop.minder, is_minder=pop.is_minder,
            ward_start=pop.ward_start, ward_end=pop.ward_end, watched_tier=pop.watched_tier,
            tier_start=pop.tier_start, tier_end=pop.tier_end, levels=pop.levels,
            indptr=graph.indptr, indices=graph.indices,
        )
        # The same arrays as the population's columns: recruits are written into them in place.
        self.agents = kernels.Agents(
            status=pop.status, hardship=pop.hardship, risk_aversion=pop.risk_aversion,
            threshold=pop.threshold, abroad=pop.abroad, family=pop.family, fear=pop.fear,
            seen_success=pop.seen_success, seen_failure=pop.seen_failure,
            exposure=pop.exposure, jail_until=pop.jail_until, vacated_at=pop.vacated_at,
            last_act=pop.last_act,
        )
        keys = {name: stream_key(self.seed, name) for name in DECISIONS}
        # The parameters that no shock moves, shared by every step's StepParams.
        self._fixed_params = {
            "abroad_chance": np.array([t.abroad_chance for t in tiers]),
            "border_chance": np.array([t.border_chance for t in tiers]),
            "group_chance": np.array([t.group_chance for t in tiers]),
            "memory": model.memory, "watch_capacity": model.watch_capacity,
            "catch_capacity": model.catch_capacity,
            "shirk": model.shirk, "informer_rate": model.informer_rate,
            "family_weight": model.family_weight, "act_visibility": model.act_visibility,
            "max_jail": model.max_jail,
            "purge_rate": model.purge_rate, "purge_stake": model.purge_stake,
            "fear_per_event": model.fear_per_event,
            "fear_keep": keep_per_step(model.fear_half_life),
            "memory_keep": keep_per_step(model.memory_half_life),
            "success_prior": model.success_prior,
            "success_strength": model.success_prior_strength,
            "take_wards": model.take_wards, "group_quorum": model.group_quorum,
            "key_opportunity": keys["opportunity"], "key_intercept": keys["intercept"],
            "key_arrest": keys["arrest"], "key_jail": keys["jail_term"],
            "key_purge": keys["purge"], "key_group": keys["group"],
            "key_follow": keys["follow"],
        }
        #: Places in jail for the whole regime (docs/model.md, '4.3 Decision and outcomes').
        self.jail_capacity = int(np.floor(model.jail_capacity * pop.size))
        self.flows = kernels.StepFlows(
            expected=np.zeros(len(tiers)), groups=np.zeros(len(tiers), dtype=np.int64),
            jail_room=np.zeros(1, dtype=np.int64),
        )
        n = pop.size
        self.values = kernels.StepValues(
            grievance=np.zeros(n), detection=np.zeros(n), attention=np.zeros(n),
            signal=np.zeros(n), event=np.zeros(n, dtype=np.int8),
            intent=np.zeros(n, dtype=np.uint8),
        )
        self.grievance, self.detection = self.values.grievance, self.values.detection
        self.attention, self.signal = self.values.attention, self.values.signal
        self.event = self.values.event
        parallel = n >= kernels.PARALLEL_MIN_AGENTS
        self._surveil_kernel = kernels.surveil_parallel if parallel else kernels.surveil
        self._decide_kernel = kernels.decide_parallel if parallel else kernels.decide
        self._parallel = parallel
        self._tally = np.zeros((len(tiers), TALLY_FIELDS), dtype=np.int64)
        self._leaks = np.zeros(len(tiers), dtype=np.int64)
        self.records = Records(self.steps, pop.tier_names)
        self._stages = [getattr(self, method) for _, method in self.LOOP]
        self._stage_seconds = np.zeros(len(self.LOOP)) if timings else None
        # Everyone starts quiet: falsifying if privately aggrieved at the first step's L.
        kernels.settle(np.arange(n), self.layout, self.agents, self.schedule.legitimacy[0])
        self.t = 0  # recorded steps done
        self.clock = 0  # internal steps done, burn-in included (keys the random streams)
        self.wall_time = 0.0

    # ------------------------------------------------------------------ one step
    def step_params(self, t: int) -> kernels.StepParams:
        """The parameters of internal step ``t`` (burn-in included) for the kernels.

        This step's row of the schedule, the effective detection of each tier
        (after leaks to date) and the parameters no shock moves.
        """
        schedule = self.schedule
        return kernels.StepParams(
            step=t, legitimacy=schedule.legitimacy[t],
            # docs/model.md, '4.2 Surveillance and signal': p_k(t) = clip(p_detect_k mult_k(t))
            p_detect=np.clip(self.p_detect * schedule.detection[t], 0.0, 1.0),
            see_private=schedule.info[t], beta=schedule.beta[t], pull=schedule.pull[t],
            opportunity=schedule.opportunity[t], **self._fixed_params,
        )

    def _release_and_refill(self, params: kernels.StepParams) -> None:
        """Stage 0: release the jailed whose term is over, refill vacancies whose delay is over.

        Also the holders whose circumstances change get a new hardship (:func:`renew`).
        """
        t, pop = params.step, self.population
        renew(pop, self.scenario, self.renewal_rngs)
        released, refill = kernels.due(self.layout, self.agents, self.replace_delay, t)
        if refill.size:
            recruit(pop, self.scenario, refill, self.recruit_rngs)
        back = np.concatenate([released, refill])
        if back.size:  # back in post, quiet until this step's decision
            kernels.settle(back, self.layout, self.agents, params.legitimacy)
        # In jail now: last step's count (its tally) less those just released.
        self._jailed = int(self._tally[:, JAILED].sum()) - released.size

    def _grievance(self, params: kernels.StepParams) -> None:
        """Stage 1: the grievance of every position."""
        kernels.grievance(self.layout, self.agents, params.legitimacy, self.values.grievance)

    def _surveil(self, params: kernels.StepParams) -> None:
        """Stage 2: attention, detection and signal."""
        self._surveil_kernel(self.layout, self.agents, params, self.values)

    def _decide(self, params: kernels.StepParams) -> None:
        """Stage 3: decisions and their outcomes, with the room left in jail."""
        self.flows.jail_room[0] = max(0, self.jail_capacity - self._jailed)
        self._decide_kernel(self.layout, self.agents, params, self.values, self.flows)

    def _respond(self, params: kernels.StepParams) -> None:
        """Stage 4: purges, fear and leaks; leaks lower p_detect from the next step."""
        leaks = self._leaks
        leaks[:] = 0
        kernels.respond(self.layout, self.agents, params, self.values, leaks, self._parallel)
        self.p_detect = np.maximum(0.0, self.p_detect - self.scenario.model.leak * leaks)

    def _measure(self, params: kernels.StepParams) -> None:
        """Stage 5: the tally of the step, kept by :meth:`step` once past the burn-in."""
        kernels.tally(self.layout, self.agents, self.values, self._tally)
        self._tally[:, GROUPS] = self.flows.groups
        self._p_detect_now = params.p_detect

    def step(self) -> None:
        """Advance the world by one recorded step (after the burn-in, on the first call)."""
        if self.t >= self.steps:
            raise RuntimeError(f"the run is over: all {self.steps} steps are done")
        while self.clock < self.burn_in:
            self._advance()
        self._advance()
        self.records.store(self.t, self._tally, self._p_detect_now, self.flows.expected,
                           self.jail_capacity)
        if self.scenario.run.check:
            self.check_invariants()
        self.t += 1

    def _advance(self) -> None:
        """Run the stages of :attr:`LOOP` at internal time ``clock``.

        Docs/model.md, '4. One step'.
        """
        params = self.step_params(self.clock)
        seconds = self._stage_seconds
        if seconds is None:
            for stage in self._stages:
                stage(params)
        else:
            for k, stage in enumerate(self._stages):
                start = time.perf_counter()
                stage(params)
                seconds[k] += time.perf_counter() - start
        self.clock += 1

    def timings(self) -> pd.DataFrame:
        """Wall time spent in each stage of the loop so far (burn-in included).

        Returns
        -------
        pandas.DataFrame
            One row per stage of :attr:`LOOP`, in order: ``stage``, ``seconds``
            and ``share`` (of the time of all stages).

        Raises
        ------
        RuntimeError
            If the simulation was created without ``timings=True``.
        """
        if self._stage_seconds is None:
            raise RuntimeError(
                "stage timings are off: create the simulation with "
                "Simulation(scenario, timings=True) to measure them"
            )
        seconds = self._stage_seconds.copy()
        total = seconds.sum()
        share = seconds / total if total > 0 else np.zeros_like(seconds)
        return pd.DataFrame(
            {"stage": [label for label, _ in self.LOOP], "seconds": seconds, "share": share}
        )

    def check_invariants(self) -> None:
        """Assert that per tier the stocks add up to the positions (debug/check mode)."""
        counts = self.records.counts[self.t, :, :N_STATUSES].sum(axis=1)
        sizes = self.population.tier_end - self.population.tier_start
        assert np.array_equal(counts, sizes), f"stocks {counts} != positions {sizes}"
        status = self.population.status
        assert status.min() >= 0 and status.max() < N_STATUSES, "unknown status code"

    def run(self, progress: Callable[[int, int], None] | None = None):
        """Run the remaining steps and return a :class:`~minders.result.Result`.

        Parameters
        ----------
        progress : callable, optional
            Called as ``progress(done, total)`` after each step, the burn-in's
            included (``total`` is ``burn_in + steps``): a whole country's
            burn-in takes minutes and must not look like a hang.
        """
        from minders.result import Result

        start = time.perf_counter()
        total = self.burn_in + self.steps
        while self.clock < self.burn_in:
            self._advance()
            if progress is not None:
                progress(self.clock, total)
        while self.t < self.steps:
            self.step()
            if progress is not None:
                progress(self.burn_in + self.t, total)
        self.wall_time += time.perf_counter() - start
        return Result(
            scenario=self.scenario, seed=self.seed, records=self.records.to_frame(),
            wall_time=self.wall_time, steps=self.steps,
        )


def keep_per_step(half_life: float) -> float:
    """Share of a fading quantity left after one step: ``0.5 ** (1 / half_life)``.

    A half-life of 0 forgets at once (0.0).

    Examples
    --------
    >>> keep_per_step(1.0), keep_per_step(0.0), round(keep_per_step(26.0) ** 26, 6)
    (0.5, 0.0, 0.5)
    """
    return 0.5 ** (1.0 / half_life) if half_life > 0 else 0.0


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
        Called as ``progress(done, total)`` after each step, the burn-in's included.

    Examples
    --------
    >>> import minders
    >>> s = minders.load_scenario("pyongyang", ["tiers.residents.size=2000", "run.burn_in=0"])
    >>> result = simulate(s, seed=1, steps=52)
    >>> int(result.records["step"].max()), list(result.records["tier"].unique())
    (51, ['residents', 'elites', 'minders', 'security'])
    """
    start = time.perf_counter()
    sim = Simulation(scenario, seed=seed, steps=steps)
    setup = time.perf_counter() - start
    result = sim.run(progress=progress)
    result.wall_time += setup
    return result
