"""Epstein (2002), "Modeling civil violence", Model II: inter-group violence and peacekeepers.

Two ethnic groups, blue and green, share a torus with peacekeepers (the
central authority's cops of Model I). An agent's grievance is
``G = H (1 - L)``, with L now the legitimacy its group accords the other
group; its estimate of the chance of arrest is ``P = 1 - exp(-k (C/A)_v)``,
with C the peacekeepers and A the active members of its own group within its
vision v (itself counted, as in Model I). When ``G - R P > T`` the agent is
active and kills one random member of the other group within its vision; the
victim is dead for good. A peacekeeper jails one random active agent of
either group within its vision, for a term uniform on ``0..J_max`` (served as
in Model I: one step at each activation). Everyone moves to a random empty
cell within vision.

The paper's findings reproduced here (``tests/classic/test_epstein_model2.py``):
without peacekeepers, the killing runs until one group is all but gone
(ethnic cleansing); peacekeepers stop it only above a critical density: below
it the killing goes on nearly as without them, above it there is almost none.

Left out: the paper's demography (ageing, births). Activation is random
sequential, each agent deciding (or arresting) and then moving, Mesa's order.

Records: ``step``, ``blue``, ``green`` (living members, the jailed included),
``active`` (agents active after the step), ``jailed``, ``killed`` (killings
during the step); step 0 is the start.

Examples
--------
>>> s = EpsteinModel2Scenario.model_validate({"grid": {"width": 20, "height": 20}})
>>> simulate(s, seed=1, steps=5).records.columns.tolist()
['step', 'blue', 'green', 'active', 'jailed', 'killed']
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numba as nb
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, field_validator, model_validator

from minders.classic._common import STRICT, ClassicRun, ClassicScenario, mib, steps_bytes
from minders.classic.epstein.grid import vision_offsets
from minders.classic.epstein.scenario import (
    ARREST_RATIOS,
    MAX_VISION,
    EpsteinCitizens,
    EpsteinGrid,
)
from minders.distributions import Distribution, Uniform
from minders.errors import ScenarioError
from minders.result import Result
from minders.spec import MAX_STEPS
from minders.streams import generator, stream_key, uniform

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Statuses.
QUIET, ACTIVE, JAILED, DEAD, PEACEKEEPER = 0, 1, 2, 3, 4
#: The named counter-based streams of a run, in the order of the kernel's keys.
STREAMS = ("activation", "move", "kill", "arrest", "jail_term", "release")
GROUPS = ("blue", "green")


# --------------------------------------------------------------------------- the scenario
class Model2Agents(BaseModel):
    """The two groups: densities and the decision rule's parameters (shared by both)."""

    model_config = STRICT
    blue_density: float = Field(0.35, ge=0.0, le=1.0, description="Share of cells holding a blue.")
    green_density: float = Field(
        0.35, ge=0.0, le=1.0, description="Share of cells holding a green."
    )
    vision: int = Field(7, ge=1, le=MAX_VISION, description="v: how far an agent sees (cells).")
    hardship: Distribution = Field(
        default_factory=lambda: Uniform(), description="H: perceived hardship, U(0, 1)."
    )
    risk_aversion: Distribution = Field(
        default_factory=lambda: Uniform(), description="R: risk aversion, U(0, 1)."
    )
    threshold: float = Field(0.1, ge=0.0, description="T: net grievance needed to turn active.")
    arrest_constant: float = Field(
        2.3, gt=0.0, description="k: makes P = 0.9 when C = A = 1 (the paper: 2.3 = ln 10).",
    )

    @field_validator("hardship", "risk_aversion")
    @classmethod
    def _finite(cls, value: Distribution) -> Distribution:
        return EpsteinCitizens._finite(value)  # H and R must be numbers, as in Model I


class Peacekeepers(BaseModel):
    """The central authority's forces, who jail the active of either group."""

    model_config = STRICT
    density: float = Field(
        0.0, ge=0.0, le=1.0, description="Share of cells holding a peacekeeper."
    )
    vision: int = Field(7, ge=1, le=MAX_VISION, description="v*: how far one sees (cells).")
    max_jail: int | Literal["inf"] = Field(
        "inf", description="J_max: jail terms are uniform on 0..J_max steps; 'inf' (the "
        "default): for good, so that killers whom no risk deters do not come back.",
        examples=[30, "inf"],
    )

    @field_validator("max_jail", mode="before")
    @classmethod
    def _max_jail(cls, value: Any) -> Any:
        if value == "inf" or (isinstance(value, float) and value == math.inf):
            return "inf"
        if isinstance(value, bool) or not isinstance(value, int) \
                or not 0 <= value <= MAX_STEPS:
            raise ValueError(f"an integer in [0, {MAX_STEPS}] or 'inf'")
        return value


class Model2Legitimacy(BaseModel):
    """The legitimacy each group accords the other."""

    model_config = STRICT
    blue: float = Field(0.8, ge=0.0, le=1.0, description="L that blues accord the greens.")
    green: float = Field(0.8, ge=0.0, le=1.0, description="L that greens accord the blues.")


class Model2Conventions(BaseModel):
    """Details the paper leaves open (as in Model I)."""

    model_config = STRICT
    arrest_ratio: Literal["paper", "netlogo", "mesa"] = Field(
        "netlogo", description="(C/A)_v as in Model I: 'paper' C/A, 'netlogo' floor, 'mesa' "
        "round (A: the agent's own group's actives, the agent counted).",
    )
    neighbourhood: Literal["von_neumann", "moore", "disc", "cross"] = Field(
        "von_neumann", description="Shape of vision, as in Model I.",
    )


class EpsteinModel2Scenario(ClassicScenario):
    """An Epstein (2002) Model II scenario: two groups and peacekeepers.

    Examples
    --------
    >>> s = EpsteinModel2Scenario()
    >>> s.agent_counts()     # blues, greens, peacekeepers on the paper's 40 x 40 torus
    (560, 560, 0)
    """

    kind: Literal["epstein2"] = Field("epstein2", description="Scenario kind.")
    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: ClassicRun = Field(default_factory=ClassicRun)
    grid: EpsteinGrid = Field(default_factory=EpsteinGrid)
    agents: Model2Agents = Field(default_factory=Model2Agents)
    peacekeepers: Peacekeepers = Field(default_factory=Peacekeepers)
    legitimacy: Model2Legitimacy = Field(default_factory=Model2Legitimacy)
    conventions: Model2Conventions = Field(default_factory=Model2Conventions)

    @model_validator(mode="after")
    def _fits(self) -> EpsteinModel2Scenario:
        cells = self.grid.width * self.grid.height
        blue, green, keepers = self.agent_counts()
        if blue + green > cells:
            raise ScenarioError("agents.green_density", self.agents.green_density,
                                f"a density <= 1 - agents.blue_density "
                                f"({1 - self.agents.blue_density:g}): one agent per cell")
        if keepers > cells - blue - green:
            free = 1 - self.agents.blue_density - self.agents.green_density
            raise ScenarioError("peacekeepers.density", self.peacekeepers.density,
                                f"a density <= the cells the groups leave free ({free:g})")
        reach = max(self.agents.vision, self.peacekeepers.vision)
        for side in ("width", "height"):
            size = getattr(self.grid, side)
            if size < 2 * reach + 1:
                raise ScenarioError(f"grid.{side}", size,
                                    f"at least 2 * vision + 1 = {2 * reach + 1} cells (vision "
                                    "must not wrap around the torus onto itself)")
        self.check_fits()
        return self

    def agent_counts(self) -> tuple[int, int, int]:
        """Blues, greens and peacekeepers placed: ``round(density * cells)`` each."""
        cells = self.grid.width * self.grid.height
        return (round(self.agents.blue_density * cells),
                round(self.agents.green_density * cells),
                round(self.peacekeepers.density * cells))

    def estimate_bytes(self, steps: int | None = None) -> int:
        """Rough peak memory of a run (bytes): the grid, the agents, the records.

        Examples
        --------
        >>> EpsteinModel2Scenario().estimate_bytes() // 2**10
        145
        """
        steps = self.run.steps if steps is None else steps
        cells = self.grid.width * self.grid.height
        return 40 * cells + 64 * sum(self.agent_counts()) + steps_bytes(steps, 64)

    def size_field(self) -> tuple[str, str]:
        """The grid sets the size of a run."""
        return "grid", f"{self.grid.width:,} x {self.grid.height:,} cells"

    def describe(self) -> str:
        """One line for ``minders validate``.

        Examples
        --------
        >>> EpsteinModel2Scenario(name="two").describe()[:60]
        "epstein2 scenario 'two', 40x40 grid, 560 blues, 560 greens, "
        """
        blue, green, keepers = self.agent_counts()
        return (f"epstein2 scenario '{self.name}', {self.grid.width}x{self.grid.height} grid, "
                f"{blue:,} blues, {green:,} greens, {keepers:,} peacekeepers, "
                f"{self.run.steps:,} steps, {mib(self.estimate_bytes())}")


# --------------------------------------------------------------------------- the kernel
@nb.njit(cache=True, error_model="numpy")
def _step(t, keys, dx_a, dy_a, dx_p, dy_p, width, height, threshold, k, rule, max_jail,
          grievance, risk, group, status, jail_left, cell, occupant, order, seen, killed):
    """One step of random sequential activation; returns the killings.

    ``seen`` is scratch: the agents and empty cells in the current vision.
    """
    n = cell.size
    for i in range(n):
        order[i] = i
    for i in range(n - 1, 0, -1):
        j = int(uniform(keys[0], t, i) * (i + 1))
        order[i], order[j] = order[j], order[i]
    kills = 0
    n_cells = occupant.size
    for i in range(n):
        a = order[i]
        s = status[a]
        if s == DEAD:
            continue
        if s == JAILED:
            if jail_left[a] > 0:
                jail_left[a] -= 1
                continue
            status[a] = QUIET  # released: back to its cell, or a random empty one
            target = cell[a]
            if occupant[target] >= 0:
                target = -1
                for j in range(32):
                    trial = int(uniform(keys[5], t, a * 64 + j) * n_cells)
                    if occupant[trial] < 0:
                        target = trial
                        break
                if target < 0:
                    for c in range(n_cells):
                        if occupant[c] < 0:
                            target = c
                            break
            occupant[target] = a
            cell[a] = target
        keeper = group[a] < 0
        dx, dy = (dx_p, dy_p) if keeper else (dx_a, dy_a)
        x, y = cell[a] % width, cell[a] // width
        cops = 0
        friends = 0  # active members of its own group
        n_empty = 0
        n_targets = 0  # others (agents) or actives (peacekeepers), from the end of seen
        last = seen.size - 1
        for o in range(dx.size):
            xx = x + dx[o]  # the torus wraps at most once: vision < side / 2
            xx = xx + width if xx < 0 else (xx - width if xx >= width else xx)
            yy = y + dy[o]
            yy = yy + height if yy < 0 else (yy - height if yy >= height else yy)
            c = yy * width + xx
            b = occupant[c]
            if b < 0:
                seen[n_empty] = c
                n_empty += 1
            elif group[b] < 0:
                cops += 1
            elif keeper:
                if status[b] == ACTIVE:
                    seen[last - n_targets] = b
                    n_targets += 1
            elif group[b] == group[a]:
                friends += status[b] == ACTIVE
            else:
                seen[last - n_targets] = b
                n_targets += 1
        if keeper:
            if n_targets > 0:
                suspect = seen[last - int(uniform(keys[3], t, a) * n_targets)]
                status[suspect] = JAILED
                if max_jail < 0:
                    jail_left[suspect] = 1 << 62
                else:
                    jail_left[suspect] = int(uniform(keys[4], t, suspect) * (max_jail + 1))
                occupant[cell[suspect]] = -1  # off the grid; its cell is remembered
        else:
            self_active = 1 if s == ACTIVE else 0
            if rule == 0:
                ratio = cops / (1.0 + friends)
            elif rule == 1:
                ratio = float(math.floor(cops / (1.0 + friends + self_active)))
            else:
                ratio = float(round(cops / (1.0 + friends)))
            p = 1.0 - math.exp(-k * ratio)
            if grievance[a] - risk[a] * p > threshold:
                status[a] = ACTIVE
                if n_targets > 0:
                    victim = seen[last - int(uniform(keys[2], t, a) * n_targets)]
                    status[victim] = DEAD
                    occupant[cell[victim]] = -1
                    killed[group[victim]] += 1
                    kills += 1
            else:
                status[a] = QUIET
        if n_empty > 0:
            target = seen[int(uniform(keys[1], t, a) * n_empty)]
            if occupant[target] < 0:  # still empty (a kill or arrest frees cells only)
                occupant[cell[a]] = -1
                occupant[target] = a
                cell[a] = target
    return kills


# --------------------------------------------------------------------------- running
def simulate(
    scenario: EpsteinModel2Scenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run Model II and return its :class:`~minders.result.Result`.

    Examples
    --------
    >>> s = EpsteinModel2Scenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> rec = simulate(s, seed=1, steps=30).records
    >>> lost = (140 - rec["blue"].iloc[-1]) + (140 - rec["green"].iloc[-1])
    >>> bool(rec["killed"].sum() == lost)
    True
    """
    start = time.perf_counter()
    seed = scenario.run.seed if seed is None else int(seed)
    horizon = scenario.run.steps if steps is None else int(steps)
    if steps is not None:
        scenario.check_fits(horizon)
    width, height = scenario.grid.width, scenario.grid.height
    cells = width * height
    n_blue, n_green, n_keep = scenario.agent_counts()
    n_people = n_blue + n_green
    n = n_people + n_keep
    chosen = generator(seed, "epstein2/placement").permutation(cells)[:n]
    cell = chosen.astype(np.int64)
    occupant = np.full(cells, -1, dtype=np.int64)
    occupant[cell] = np.arange(n)
    group = np.concatenate([np.zeros(n_blue), np.ones(n_green), -np.ones(n_keep)]).astype(np.int8)
    status = np.full(n, PEACEKEEPER, dtype=np.int8)
    status[:n_people] = QUIET
    agents = scenario.agents
    hardship = np.zeros(n)
    hardship[:n_people] = agents.hardship.sample(generator(seed, "epstein2/hardship"), n_people)
    risk = np.zeros(n)
    risk[:n_people] = agents.risk_aversion.sample(
        generator(seed, "epstein2/risk_aversion"), n_people)
    legit = np.array([scenario.legitimacy.blue, scenario.legitimacy.green])
    grievance = hardship * (1.0 - legit[np.maximum(group, 0)])
    keys = np.array([stream_key(seed, f"epstein2/{s}") for s in STREAMS], dtype=np.uint64)
    shape = scenario.conventions.neighbourhood
    dx_a, dy_a = vision_offsets(agents.vision, shape)
    dx_p, dy_p = vision_offsets(scenario.peacekeepers.vision, shape)
    seen = np.empty(max(dx_a.size, dx_p.size), dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    jail_left = np.zeros(n, dtype=np.int64)
    max_jail = scenario.peacekeepers.max_jail
    max_jail = -1 if max_jail == "inf" else int(max_jail)
    rule = ARREST_RATIOS.index(scenario.conventions.arrest_ratio)
    table = np.zeros((horizon + 1, 5), dtype=np.int64)
    killed = np.zeros(2, dtype=np.int64)
    people = slice(0, n_people)
    table[0, :2] = n_blue, n_green
    for t in range(1, horizon + 1):
        table[t, 4] = _step(t, keys, dx_a, dy_a, dx_p, dy_p, width, height,
                            agents.threshold, agents.arrest_constant, rule, max_jail, grievance,
                            risk, group, status, jail_left, cell, occupant, order, seen, killed)
        table[t, 0], table[t, 1] = n_blue - killed[0], n_green - killed[1]
        table[t, 2] = np.count_nonzero(status[people] == ACTIVE)
        table[t, 3] = np.count_nonzero(status[people] == JAILED)
        if progress is not None and (t % 50 == 0 or t == horizon):
            progress(t, horizon)
    records = pd.DataFrame({"step": np.arange(horizon + 1, dtype=np.int64), "blue": table[:, 0],
                            "green": table[:, 1], "active": table[:, 2], "jailed": table[:, 3],
                            "killed": table[:, 4]})
    return Result(scenario=scenario, seed=seed, records=records,
                  wall_time=time.perf_counter() - start, steps=horizon)


# --------------------------------------------------------------------------- reading a run
def summary(result: Result) -> pd.DataFrame:
    """Each group at the start and the end, its share surviving, and the killings.

    Examples
    --------
    >>> s = EpsteinModel2Scenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> summary(simulate(s, seed=1, steps=5)).index.tolist()
    ['blue', 'green']
    """
    rec = result.records
    rows = {}
    for name in GROUPS:
        first, final = int(rec[name].iloc[0]), int(rec[name].iloc[-1])
        rows[name] = {"start": first, "final": final,
                      "surviving_share": final / first if first else float("nan"),
                      "killed": first - final}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "group"
    return table


def figure(result: Result) -> Figure:
    """Living blues and greens, actives and jailed over time."""
    import matplotlib.pyplot as plt

    from minders import plotting  # noqa: F401  (selects the headless backend)

    rec = result.records
    fig, ax = plt.subplots(figsize=(10, 4.8), constrained_layout=True)
    for name, colour in (("blue", "tab:blue"), ("green", "tab:green"), ("active", "tab:red"),
                         ("jailed", "dimgrey")):
        ax.plot(rec["step"], rec[name], color=colour, linewidth=1.0, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("agents")
    keepers = result.scenario.agent_counts()[2]
    ax.set_title(f"{result.scenario.name} (seed {result.seed}): Epstein (2002) Model II, "
                 f"{keepers} peacekeepers", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return fig


# --------------------------------------------------------------------------- the kind
from minders.kinds import Kind  # noqa: E402

KIND = Kind(
    name="epstein2", scenario_class=EpsteinModel2Scenario, simulate=simulate, summary=summary,
    figure=figure, description="Epstein (2002) civil violence, Model II (two groups, "
    "peacekeepers).",
)
