"""Granovetter (1978), "Threshold models of collective behavior", AJS 83(6): 1420-1443.

A complete population: everyone sees how many act. Person ``i`` acts once
the number (or share) of people acting reaches its threshold; everyone
updates at once, so the number acting follows ``r(t+1) = F(r(t))``, with
``F`` the cumulative distribution of thresholds, from ``r(0) = 0`` to the
first fixed point. Granovetter's riot (pp. 1424-1425): 100 people with
thresholds 0, 1, ..., 99 all riot; move the person with threshold 1 to 2
and only the instigator does.

Scenario::

    kind = "granovetter"
    [run]
    steps = 1000
    [population]
    unit = "count"          # thresholds are numbers of others ("share": shares)
    threshold = [0, 1, 2]   # or {kind = "normal", mean = 25, sd = 10}, with size = 100

Records: ``step``, ``active``, ``active_share`` (``step`` 0 is the start).
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
    STRICT,
    ClassicScenario,
    ThresholdRun,
    ThresholdSpec,
    iterate_shares,
    mib,
    population_size,
    sample_thresholds,
    steps_bytes,
)
from minders.kinds import Kind
from minders.result import Result
from minders.streams import generator

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class GranovetterPopulation(BaseModel):
    """Who is in the crowd: thresholds, listed or drawn."""

    model_config = STRICT
    size: int | None = Field(
        None, ge=1, le=MAX_PEOPLE, description="Number of people (required when thresholds are "
        "drawn; a list sets it).",
    )
    unit: Literal["count", "share"] = Field(
        "count", description="Thresholds are numbers of people acting ('count', as in "
        "Granovetter's riot of 100) or shares of the population ('share').",
    )
    threshold: ThresholdSpec = Field(
        description="A list (one per person), or a distribution: constant, uniform, normal "
        "(mean, sd), empirical."
    )

    @model_validator(mode="after")
    def _size(self) -> GranovetterPopulation:
        population_size(self.threshold, self.size, "size")
        return self

    @property
    def n(self) -> int:
        """Number of people."""
        return population_size(self.threshold, self.size, "size")


class GranovetterScenario(ClassicScenario):
    """A Granovetter threshold scenario.

    Examples
    --------
    >>> s = GranovetterScenario.model_validate(
    ...     {"population": {"threshold": list(range(100))}})
    >>> s.population.n
    100
    """

    kind: Literal["granovetter"] = Field("granovetter", description="Scenario kind.")
    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: ThresholdRun = Field(default_factory=lambda: ThresholdRun(steps=1000))
    population: GranovetterPopulation = Field(description="The crowd.")

    @model_validator(mode="after")
    def _fits(self) -> GranovetterScenario:
        self.check_fits()
        return self

    def estimate_bytes(self, steps: int | None = None) -> int:
        """Rough peak memory of a run (bytes): ~40 a person (draws, thresholds, sorted copy).

        Examples
        --------
        >>> s = GranovetterScenario.model_validate(
        ...     {"population": {"size": 10**6, "threshold": {"kind": "uniform"}}})
        >>> s.estimate_bytes() // 2**20
        38
        """
        steps = self.run.steps if steps is None else steps
        return 40 * self.population.n + steps_bytes(steps, 32)

    def size_field(self) -> tuple[str, str]:
        """The number of people sets the size of a run."""
        return "population.size", f"{self.population.n:,} people"

    def describe(self) -> str:
        """One line for ``minders validate``.

        Examples
        --------
        >>> GranovetterScenario.model_validate(
        ...     {"name": "riot", "population": {"threshold": list(range(100))}}).describe()
        "granovetter scenario 'riot', 100 people, thresholds as counts, 1,000 steps at most, ~1 MiB"
        """
        unit = "counts" if self.population.unit == "count" else "shares"
        return (
            f"granovetter scenario '{self.name}', {self.population.n:,} people, thresholds as "
            f"{unit}, {self.run.steps:,} steps at most, {mib(self.estimate_bytes())}"
        )

    def shocks_after(self, steps: int) -> list[str]:
        """None: a Granovetter crowd has no shocks.

        Examples
        --------
        >>> GranovetterScenario.model_validate(
        ...     {"population": {"threshold": [0, 1]}}).shocks_after(1)
        []
        """
        return []


def thresholds(scenario: GranovetterScenario, seed: int | None = None) -> np.ndarray:
    """Every person's threshold (stream ``granovetter/threshold``).

    Examples
    --------
    >>> s = GranovetterScenario.model_validate({"population": {"threshold": [0, 2, 2]}})
    >>> thresholds(s).tolist()
    [0.0, 2.0, 2.0]
    """
    seed = scenario.run.seed if seed is None else int(seed)
    population = scenario.population
    return sample_thresholds(
        population.threshold, population.n, generator(seed, "granovetter/threshold")
    )


def simulate(
    scenario: GranovetterScenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Iterate the crowd to its fixed point (or ``steps`` updates).

    Parameters
    ----------
    scenario : GranovetterScenario
        A validated scenario.
    seed : int, optional
        Base seed (default ``run.seed``); only drawn thresholds use it.
    steps : int, optional
        Most updates (default ``run.steps``).
    progress : callable, optional
        ``progress(done, total)`` after each update.

    Returns
    -------
    Result
        Records ``step``, ``active``, ``active_share``; ``steps`` is the number
        of updates run (fewer than asked when a fixed point stops the run).

    Examples
    --------
    >>> s = GranovetterScenario.model_validate(
    ...     {"population": {"threshold": [0, 2] + list(range(2, 100))}})
    >>> int(simulate(s).records["active"].iloc[-1])   # the instigator riots alone
    1
    """
    start = time.perf_counter()
    seed = scenario.run.seed if seed is None else int(seed)
    horizon = scenario.run.steps if steps is None else int(steps)
    if steps is not None:  # a horizon other than the validated one
        scenario.check_fits(horizon)
    values = thresholds(scenario, seed)
    active, ran = iterate_shares(
        values, horizon, unit=scenario.population.unit,
        stop_at_fixed_point=scenario.run.stop_at_fixed_point, progress=progress,
    )
    records = pd.DataFrame({
        "step": np.arange(active.size, dtype=np.int64),
        "active": active,
        "active_share": active / values.size,
    })
    return Result(scenario=scenario, seed=seed, records=records,
                  wall_time=time.perf_counter() - start, steps=ran)


def fixed_point_reached(records: pd.DataFrame) -> bool:
    """Whether the last update changed nothing (the run ended at a fixed point)."""
    active = records["active"].to_numpy()
    return bool(active.size >= 2 and active[-1] == active[-2])


def summary(result: Result) -> pd.DataFrame:
    """One row: crowd size, final number acting, its share, and when it settled.

    Examples
    --------
    >>> s = GranovetterScenario.model_validate({"population": {"threshold": [0, 1, 2]}})
    >>> summary(simulate(s))["final_active"].item()
    3
    """
    rec = result.records
    active = rec["active"].to_numpy()
    settled = fixed_point_reached(rec)
    table = pd.DataFrame({
        "people": [int(result.scenario.population.n)],
        "final_active": [int(active[-1])],
        "final_share": [float(rec["active_share"].iloc[-1])],
        "fixed_point": ["yes" if settled else "no"],
        "settled_at_step": [int(active.size - 2) if settled else int(active.size - 1)],
    }, index=pd.Index([result.scenario.name], name="scenario"))
    return table


def figure(result: Result) -> Figure:
    """Left: people acting per step. Right: the threshold CDF ``F`` and the diagonal."""
    import matplotlib.pyplot as plt

    from minders import plotting  # noqa: F401  (selects the headless backend)

    scenario = result.scenario
    values = np.sort(thresholds(scenario, result.seed))
    n = values.size
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
    rec = result.records
    left.step(rec["step"], rec["active"], where="post")
    left.set_xlabel("step")
    left.set_ylabel("people acting")
    left.set_title(f"{scenario.name} (seed {result.seed})")
    scale = 1.0 if scenario.population.unit == "count" else 1.0 / n
    grid = np.linspace(0.0, n, 401)  # r(t) runs from nobody to everyone
    cdf = np.searchsorted(values, grid * scale, side="right")
    right.plot(grid, cdf, label="F(r): people with threshold <= r")
    right.plot([0, n], [0, n], color="grey", linestyle="--", label="r(t+1) = r(t)")
    right.axhline(rec["active"].iloc[-1], color="tab:red", linewidth=0.8,
                  label=f"fixed point: {rec['active'].iloc[-1]}")
    right.set_xlabel("people acting, r(t)")
    right.set_ylabel("people acting next, r(t+1)")
    right.set_title("Granovetter (1978): thresholds' CDF")
    right.legend(fontsize=8)
    return fig


KIND = Kind(
    name="granovetter", scenario_class=GranovetterScenario, simulate=simulate, summary=summary,
    figure=figure, description="Granovetter (1978) threshold model of a complete population.",
)
