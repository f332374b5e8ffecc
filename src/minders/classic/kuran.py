"""Kuran (1991), "Now out of never", a model of preference falsification and surprise.

"Now out of never: the element of surprise in the East European revolution
of 1989", World Politics 44(1): 7-48. Each person has a private preference (how much
it opposes the regime, in ``[0, 1]``; privately opposed above
``private_cutoff``) and a revolutionary threshold: the share of the public
that must oppose the regime openly before it does too. Public opposition
follows ``S(t+1) = share whose threshold is at most S(t)``. Everyone who
hides a private opposition behind public support is falsifying a
preference; an observer who sees only ``S`` cannot tell a regime with broad
private support from one that a small shift of thresholds would topple.

Kuran's ten-person society (1991, pp. 18-20): thresholds 0, 20, 20, 30,
40, 50, 60, 70, 80 and 100 percent give public opposition of 10%; lower one
threshold from 20 to 10 and it cascades to 90%.

Scenario::

    kind = "kuran"
    [population]
    size = 10000
    threshold = {kind = "normal", mean = 0.22, sd = 0.1}
    private_preference = {kind = "uniform", low = 0.2, high = 1.0}
    [[shocks]]
    step = 30
    shift = -0.02          # added to thresholds (of ``agents``, default all)

Records: ``step``, ``active`` (publicly opposed), ``active_share`` (S) and
``private_share`` (privately opposed); ``step`` 0 is the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from minders.classic._common import (
    MAX_PEOPLE,
    MAX_STEPS,
    STRICT,
    ClassicScenario,
    ThresholdList,
    ThresholdRun,
    ThresholdSpec,
    iterate_shares,
    mib,
    population_size,
    sample_thresholds,
    steps_bytes,
)
from minders.errors import ScenarioError
from minders.kinds import Kind
from minders.result import Result
from minders.streams import generator

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class KuranPopulation(BaseModel):
    """Private preferences and revolutionary thresholds."""

    model_config = STRICT
    size: int | None = Field(
        None, ge=1, le=MAX_PEOPLE,
        description="Number of people (required when thresholds are drawn).",
    )
    threshold: ThresholdSpec = Field(
        description="Revolutionary thresholds, as shares of the population in [0, 1] "
        "(a list, or constant, uniform, normal, empirical)."
    )
    private_preference: ThresholdSpec | None = Field(
        None, description="Private opposition to the regime in [0, 1] (list or distribution); "
        "none: 1 - threshold (the more opposed in private, the lower the threshold).",
    )
    private_cutoff: float = Field(
        0.5, ge=0.0, le=1.0, description="A person privately opposes the regime when its "
        "private preference exceeds this.",
    )

    @model_validator(mode="after")
    def _size(self) -> KuranPopulation:
        n = population_size(self.threshold, self.size, "size")
        private = self.private_preference
        if isinstance(private, ThresholdList) and len(private.values) != n:
            raise ScenarioError(
                "private_preference", f"{len(private.values)} values",
                f"{n} values (one per person)",
            )
        return self

    @property
    def n(self) -> int:
        """Number of people."""
        return population_size(self.threshold, self.size, "size")


class ThresholdShock(BaseModel):
    """A shift of thresholds from one step on (an event that emboldens or frightens)."""

    model_config = STRICT
    step: int = Field(ge=1, le=MAX_STEPS, description="The update from which the shift holds.")
    shift: float = Field(description="Added to the thresholds (negative: emboldens).")
    agents: list[int] | None = Field(
        None, description="Indices of the people affected (none: everyone)."
    )
    label: str = Field("", description="A name for plots.")


class KuranScenario(ClassicScenario):
    """A Kuran preference-falsification scenario.

    Examples
    --------
    >>> s = KuranScenario.model_validate({"population": {
    ...     "threshold": [0, .2, .2, .3, .4, .5, .6, .7, .8, 1]}})
    >>> s.population.n
    10
    """

    kind: Literal["kuran"] = Field("kuran", description="Scenario kind.")
    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: ThresholdRun = Field(default_factory=lambda: ThresholdRun(steps=200))
    population: KuranPopulation = Field(description="The people.")
    initial_public: float = Field(
        0.0, ge=0.0, le=1.0, description="S(0): the share openly opposed at the start."
    )
    shocks: list[ThresholdShock] = Field(default_factory=list, description="Threshold shifts.")

    @model_validator(mode="after")
    def _shocks_fit(self) -> KuranScenario:
        n = self.population.n
        steps = self.run.steps
        for k, shock in enumerate(self.shocks):
            if shock.step > steps:  # a shift at step t acts on update t, so 1..steps act
                raise ScenarioError(
                    f"shocks.{k}.step", shock.step,
                    f"a step inside the horizon [1, {steps}] (run.steps = {steps})",
                )
            for agent in shock.agents or []:
                if not 0 <= agent < n:
                    raise ScenarioError(f"shocks.{k}.agents", agent, f"an index in [0, {n})")
        self.check_fits()
        return self

    def estimate_bytes(self, steps: int | None = None) -> int:
        """Rough peak memory of a run (bytes): ~64 a person (thresholds, preferences, draws).

        Examples
        --------
        >>> s = KuranScenario.model_validate(
        ...     {"population": {"size": 10**6, "threshold": {"kind": "uniform"}}})
        >>> s.estimate_bytes() // 2**20
        61
        """
        steps = self.run.steps if steps is None else steps
        return 64 * self.population.n + steps_bytes(steps, 40)

    def size_field(self) -> tuple[str, str]:
        """The number of people sets the size of a run."""
        return "population.size", f"{self.population.n:,} people"

    def describe(self) -> str:
        """One line for ``minders validate``.

        Examples
        --------
        >>> KuranScenario.model_validate({"name": "ten", "population": {
        ...     "threshold": [0, .2, .2, .3, .4, .5, .6, .7, .8, 1]},
        ...     "shocks": [{"step": 5, "shift": -0.1, "agents": [1]}]}).describe()
        "kuran scenario 'ten', 10 people, 1 shock, 200 steps at most, ~1 MiB"
        """
        shocks = len(self.shocks)
        return (
            f"kuran scenario '{self.name}', {self.population.n:,} people, {shocks} "
            f"shock{'' if shocks == 1 else 's'}, {self.run.steps:,} steps at most, "
            f"{mib(self.estimate_bytes())}"
        )

    def shocks_after(self, steps: int) -> list[str]:
        """Labels of the shocks that a run of ``steps`` updates ends before.

        A shift at step ``t`` acts on update ``t``, so a shock at ``steps``
        still happens; one later does not.

        Examples
        --------
        >>> s = KuranScenario.model_validate({"population": {"threshold": [0, .5, 1]},
        ...     "shocks": [{"step": 30, "shift": -0.01, "label": "reform abroad"},
        ...                {"step": 60, "shift": 0.02}]})
        >>> s.shocks_after(30)
        ['shift +0.02 at step 60']
        >>> s.shocks_after(2)
        ['reform abroad', 'shift +0.02 at step 60']
        """
        return [shock.label or f"shift {shock.shift:+g} at step {shock.step}"
                for shock in self.shocks if shock.step > steps]


def population(scenario: KuranScenario, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Thresholds and private preferences (streams ``kuran/threshold``, ``kuran/private``).

    Examples
    --------
    >>> s = KuranScenario.model_validate({"population": {"threshold": [0.0, 0.25]}})
    >>> [v.tolist() for v in population(s)]
    [[0.0, 0.25], [1.0, 0.75]]
    """
    seed = scenario.run.seed if seed is None else int(seed)
    people = scenario.population
    n = people.n
    threshold = sample_thresholds(people.threshold, n, generator(seed, "kuran/threshold"))
    if people.private_preference is None:
        private = 1.0 - threshold
    else:
        private = sample_thresholds(people.private_preference, n, generator(seed, "kuran/private"))
    return threshold, private


def simulate(
    scenario: KuranScenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Iterate public opposition, applying the threshold shocks on the way.

    Parameters
    ----------
    scenario : KuranScenario
        A validated scenario.
    seed : int, optional
        Base seed (default ``run.seed``).
    steps : int, optional
        Most updates (default ``run.steps``).
    progress : callable, optional
        ``progress(done, total)`` after each update.

    Returns
    -------
    Result
        Records ``step``, ``active``, ``active_share``, ``private_share``.

    Examples
    --------
    Kuran's ten-person society, then person B's threshold falls from 20% to 10%:

    >>> s = KuranScenario.model_validate({
    ...     "population": {"threshold": [0, .2, .2, .3, .4, .5, .6, .7, .8, 1]},
    ...     "shocks": [{"step": 5, "shift": -0.1, "agents": [1]}]})
    >>> simulate(s).records["active_share"].iloc[[4, -1]].tolist()
    [0.1, 0.9]
    """
    start = time.perf_counter()
    seed = scenario.run.seed if seed is None else int(seed)
    horizon = scenario.run.steps if steps is None else int(steps)
    if steps is not None:  # a horizon other than the validated one
        scenario.check_fits(horizon)
    threshold, private = population(scenario, seed)
    n = threshold.size
    shifts: dict[int, list[ThresholdShock]] = {}
    for shock in scenario.shocks:
        if shock.step <= horizon:
            shifts.setdefault(shock.step, []).append(shock)

    def shifter(shocks: list[ThresholdShock]) -> Callable[[np.ndarray], None]:
        def apply(values: np.ndarray) -> None:
            for shock in shocks:
                who = slice(None) if shock.agents is None else np.asarray(shock.agents)
                values[who] += shock.shift

        return apply

    active, ran = iterate_shares(
        threshold, horizon, unit="share", initial=scenario.initial_public,
        stop_at_fixed_point=scenario.run.stop_at_fixed_point,
        shifts={step: shifter(group) for step, group in shifts.items()}, progress=progress,
    )
    private_share = float(np.count_nonzero(private > scenario.population.private_cutoff)) / n
    records = pd.DataFrame({
        "step": np.arange(active.size, dtype=np.int64),
        "active": active,
        "active_share": active / n,
        "private_share": np.full(active.size, private_share),
    })
    return Result(scenario=scenario, seed=seed, records=records,
                  wall_time=time.perf_counter() - start, steps=ran)


def summary(result: Result) -> pd.DataFrame:
    """One row: private opposition, public opposition before the first shock and at the end.

    ``hidden_before`` is the private share minus the public share just before
    the first shock (or at the end, without shocks): the opposition that an
    observer of ``S`` alone could not see.

    Examples
    --------
    >>> s = KuranScenario.model_validate({"population": {"threshold": [0, .5, .5, 1]}})
    >>> summary(simulate(s))[["private_share", "public_final"]].iloc[0].tolist()
    [0.25, 0.25]
    """
    rec = result.records
    shocks = [s.step for s in result.scenario.shocks if s.step < len(rec)]
    before = rec["active_share"].iloc[min(shocks) - 1] if shocks else rec["active_share"].iloc[-1]
    private = float(rec["private_share"].iloc[0])
    return pd.DataFrame({
        "people": [int(result.scenario.population.n)],
        "private_share": [private],
        "public_before_shock": [float(before)],
        "public_final": [float(rec["active_share"].iloc[-1])],
        "hidden_before": [private - float(before)],
        "steps": [int(result.steps)],
    }, index=pd.Index([result.scenario.name], name="scenario"))


def figure(result: Result) -> Figure:
    """Public opposition S (what an observer sees) against private opposition (hidden)."""
    import matplotlib.pyplot as plt

    from minders import plotting  # noqa: F401  (selects the headless backend)

    rec = result.records
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    ax.step(rec["step"], rec["active_share"], where="post", label="public opposition S (seen)")
    ax.plot(rec["step"], rec["private_share"], linestyle="--",
            label="private opposition (hidden)")
    ax.fill_between(rec["step"], rec["active_share"], rec["private_share"], step="post",
                    alpha=0.15, color="tab:orange", label="preference falsification")
    for shock in result.scenario.shocks:
        if shock.step <= rec["step"].iloc[-1]:
            ax.axvline(shock.step, color="grey", linewidth=0.8)
            ax.annotate(shock.label or f"shift {shock.shift:+g}", (shock.step, 0.5),
                        rotation=90, fontsize=8, color="dimgrey", va="center")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step")
    ax.set_ylabel("share of the population")
    ax.set_title(f"{result.scenario.name} (seed {result.seed}): Kuran (1991)")
    ax.legend(fontsize=8, loc="center right")
    return fig


KIND = Kind(
    name="kuran", scenario_class=KuranScenario, simulate=simulate, summary=summary,
    figure=figure, description="Kuran (1991) preference falsification and surprise revolutions.",
)
