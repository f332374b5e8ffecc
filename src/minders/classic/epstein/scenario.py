"""The Epstein (2002) scenario: the grid, citizens, cops, legitimacy and the conventions.

Each detail the paper leaves open is an option of ``[conventions]``; see
:mod:`minders.classic.epstein` and ``docs/classic.md``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from minders.classic._common import MAX_STEPS, STRICT, ClassicRun, ClassicScenario, mib, steps_bytes
from minders.distributions import Distribution, Uniform
from minders.errors import ScenarioError

# Statuses: citizens are quiet, active or jailed; cops are cops, or off duty (not on the
# grid: removed by the cop schedule, or a slot for a cop it adds later).
QUIET, ACTIVE, JAILED, COP, OFF_DUTY = 0, 1, 2, 3, 4
#: Largest vision radius (a Moore neighbourhood of radius 15 has 960 cells < 2**10).
MAX_VISION = 15
STATUS_NAMES = ("quiet", "active", "jailed")
ARREST_RATIOS = ("paper", "netlogo", "mesa")
NEIGHBOURHOODS = ("von_neumann", "moore", "disc", "cross")
#: Longest side of the torus: 10,000 x 10,000 cells is ~7 GiB and hours of steps.
MAX_SIDE = 10_000


# --------------------------------------------------------------------------- the scenario
class EpsteinGrid(BaseModel):
    """The torus."""

    model_config = STRICT
    width: int = Field(40, ge=3, le=MAX_SIDE, description="Cells across (the paper: 40).")
    height: int = Field(40, ge=3, le=MAX_SIDE, description="Cells down (the paper: 40).")


class EpsteinCitizens(BaseModel):
    """The general population ("agents" in the paper)."""

    model_config = STRICT
    density: float = Field(0.7, ge=0.0, le=1.0, description="Share of cells holding a citizen.")
    vision: int = Field(7, ge=1, le=MAX_VISION, description="v: how far a citizen sees (cells).")
    hardship: Distribution = Field(
        default_factory=lambda: Uniform(),
        description="H: perceived hardship, U(0, 1) in the paper.",
    )
    risk_aversion: Distribution = Field(
        default_factory=lambda: Uniform(), description="R: risk aversion, U(0, 1) in the paper."
    )
    threshold: float = Field(0.1, ge=0.0, description="T: net grievance needed to turn active.")
    arrest_constant: float = Field(
        2.3, gt=0.0, description="k: makes P = 0.9 when C = A = 1 (the paper: 2.3 = ln 10).",
    )

    @field_validator("hardship", "risk_aversion")
    @classmethod
    def _finite(cls, value: Distribution) -> Distribution:
        # the distributions are minders' own, which allow NaN; H and R must be numbers
        for name, number in value.model_dump().items():
            if isinstance(number, float) and not math.isfinite(number):
                raise ScenarioError(name, number, "a finite number")
        return value


class CopChange(BaseModel):
    """Cops removed (``change < 0``) or added (``change > 0``) before step ``step`` runs."""

    model_config = STRICT
    step: int = Field(ge=1, le=MAX_STEPS, description="The step before which the change acts.")
    change: int = Field(
        ge=-MAX_SIDE * MAX_SIDE, le=MAX_SIDE * MAX_SIDE,
        description="Cops added (> 0: on random empty cells) or removed (< 0: drawn at random).",
    )

    @field_validator("change")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("a non-zero number of cops (negative: removed, positive: added)")
        return value


class EpsteinCops(BaseModel):
    """The forces of the central authority."""

    model_config = STRICT
    density: float = Field(0.04, ge=0.0, le=1.0, description="Share of cells holding a cop.")
    vision: int = Field(7, ge=1, le=MAX_VISION, description="v*: how far a cop sees (cells).")
    max_jail: int | Literal["inf"] = Field(
        30, description="J_max: the longest jail term, in steps (conventions.jail_term says "
        "how terms are drawn and served); 'inf': the jailed never come back.",
        examples=[30, "inf"],
    )
    schedule: list[CopChange] = Field(
        default_factory=list,
        description="Cops removed or added at given steps (shocks), in order of step.",
    )

    @field_validator("max_jail", mode="before")
    @classmethod
    def _max_jail(cls, value: Any) -> Any:
        if value == "inf" or (isinstance(value, float) and value == math.inf):  # TOML's inf
            return "inf"
        if isinstance(value, bool) or not isinstance(value, int) \
                or not 0 <= value <= MAX_STEPS:
            raise ValueError(f"an integer in [0, {MAX_STEPS}] or 'inf'")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> EpsteinCops:
        for k in range(1, len(self.schedule)):
            if self.schedule[k].step < self.schedule[k - 1].step:
                previous = self.schedule[k - 1].step
                raise ScenarioError(f"schedule.{k}.step", self.schedule[k].step,
                                    f"a step >= the previous change's ({previous})")
        return self


class LegitimacyChange(BaseModel):
    """A change of legitimacy: at once (``ramp = 0``) or linear over ``ramp`` steps."""

    model_config = STRICT
    start: int = Field(ge=1, le=MAX_STEPS, description="First step at which the change acts.")
    value: float = Field(ge=0.0, le=1.0, description="Legitimacy reached.")
    ramp: int = Field(
        0, ge=0, le=MAX_STEPS,
        description="Steps over which L moves linearly to value (0: a sudden drop).",
    )


class EpsteinLegitimacy(BaseModel):
    """Legitimacy L of the regime over time."""

    model_config = STRICT
    initial: float = Field(0.82, ge=0.0, le=1.0, description="L at the start.")
    changes: list[LegitimacyChange] = Field(
        default_factory=list, description="Sudden drops or gradual declines, in order."
    )

    @model_validator(mode="after")
    def _ordered(self) -> EpsteinLegitimacy:
        for k in range(1, len(self.changes)):
            if self.changes[k].start < self.changes[k - 1].start:
                previous = self.changes[k - 1].start
                raise ScenarioError(f"changes.{k}.start", self.changes[k].start,
                                    f"a step >= the previous change's ({previous})")
        return self


#: The conventions of the paper's best-known implementations (and of the paper itself, the
#: defaults): ``[conventions] preset = "netlogo"`` (or ``conventions = "netlogo"``) sets them
#: all; fields given beside ``preset`` override it.
PRESETS: dict[str, dict[str, Any]] = {
    "epstein": {"arrest_ratio": "paper", "activation": "random", "order": "act_then_move",
                "neighbourhood": "von_neumann", "jail_holds_cell": False, "placement": "exact",
                "jail_term": "inclusive", "movement": True},
    "netlogo": {"arrest_ratio": "netlogo", "activation": "random", "order": "move_then_act",
                "neighbourhood": "disc", "jail_holds_cell": False, "placement": "exact",
                "jail_term": "netlogo", "movement": True},
    "mesa": {"arrest_ratio": "mesa", "activation": "random", "order": "act_then_move",
             "neighbourhood": "von_neumann", "jail_holds_cell": True, "placement": "per_cell",
             "jail_term": "inclusive", "movement": True},
}


class EpsteinConventions(BaseModel):
    """Details the paper leaves open, as its implementations settle them."""

    model_config = STRICT
    preset: Literal["epstein", "netlogo", "mesa"] | None = Field(
        None, description="Set every convention as the paper ('epstein', the defaults), "
        "NetLogo Rebellion ('netlogo') or Mesa's example ('mesa') does; fields given beside "
        "it override it.",
    )
    arrest_ratio: Literal["paper", "netlogo", "mesa"] = Field(
        "paper", description="(C/A)_v: 'paper' C/A, A counting the citizen; 'netlogo' "
        "floor(C/A), A counting the citizen once more when active; 'mesa' round(C/A), halves "
        "to even, A counting the citizen.",
    )
    activation: Literal["random", "synchronous"] = Field(
        "random", description="'random': random sequential (the paper, Mesa); 'synchronous': "
        "decisions from one snapshot, then arrests and moves in a random order.",
    )
    order: Literal["act_then_move", "move_then_act"] = Field(
        "act_then_move", description="Within an activation: decide/arrest, then move (Mesa), "
        "or move first (NetLogo).",
    )
    neighbourhood: Literal["von_neumann", "moore", "disc", "cross"] = Field(
        "von_neumann", description="Shape of vision: von_neumann |dx|+|dy|<=v (Mesa), moore, "
        "disc dx^2+dy^2<=v^2 (NetLogo), cross (the four lattice directions).",
    )
    jail_holds_cell: bool = Field(
        False, description="Jailed citizens keep their cell (Mesa) or leave it free (NetLogo).",
    )
    placement: Literal["exact", "per_cell"] = Field(
        "exact", description="'exact': round(density * cells) of each kind (NetLogo); "
        "'per_cell': each cell drawn independently (Mesa).",
    )
    movement: bool = Field(True, description="Agents move to a random empty cell in vision.")
    jail_term: Literal["inclusive", "netlogo"] = Field(
        "inclusive", description="'inclusive': terms uniform on 0..J_max, one step served at "
        "each of the citizen's activations, acting at once when none is left (the paper's "
        "U(0, J_max); Mesa); 'netlogo': terms uniform on 0..J_max-1, every term counted down "
        "at the end of each step, the citizen free once it reaches 0 (NetLogo Rebellion).",
    )

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        if isinstance(data, str):  # conventions = "netlogo"
            data = {"preset": data}
        if isinstance(data, dict) and isinstance(data.get("preset"), str) \
                and data["preset"] in PRESETS:
            return {**PRESETS[data["preset"]], **data}
        return data


class EpsteinScenario(ClassicScenario):
    """An Epstein (2002) Model I scenario.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> s.cops.density, s.conventions.arrest_ratio
    (0.04, 'paper')
    """

    kind: Literal["epstein"] = Field("epstein", description="Scenario kind.")
    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: ClassicRun = Field(default_factory=ClassicRun)
    grid: EpsteinGrid = Field(default_factory=EpsteinGrid)
    citizens: EpsteinCitizens = Field(default_factory=EpsteinCitizens)
    cops: EpsteinCops = Field(default_factory=EpsteinCops)
    legitimacy: EpsteinLegitimacy = Field(default_factory=EpsteinLegitimacy)
    conventions: EpsteinConventions = Field(default_factory=EpsteinConventions)

    @model_validator(mode="after")
    def _fits(self) -> EpsteinScenario:
        steps = self.run.steps
        for k, change in enumerate(self.legitimacy.changes):
            if change.start > steps:  # L at step t drives step t, so steps 1..steps act
                raise ScenarioError(
                    f"legitimacy.changes.{k}.start", change.start,
                    f"a step inside the horizon [1, {steps}] (run.steps = {steps})",
                )
        self._check_schedule()
        free = 1.0 - self.citizens.density
        if self.cops.density > free + 1e-12:
            raise ScenarioError(
                "cops.density", self.cops.density,
                f"a density <= 1 - citizens.density ({free:g}): one agent per cell",
            )
        reach = max(self.citizens.vision, self.cops.vision)
        for side in ("width", "height"):
            size = getattr(self.grid, side)
            if size < 2 * reach + 1:
                raise ScenarioError(
                    f"grid.{side}", size,
                    f"at least 2 * vision + 1 = {2 * reach + 1} cells (vision must not wrap "
                    "around the torus onto itself)",
                )
        self.check_fits()
        return self

    def _check_schedule(self) -> None:
        """Every cop change inside the horizon, never below zero cops, always room for them."""
        steps = self.run.steps
        citizens, cops = self.agent_counts()
        room = self.grid.width * self.grid.height - citizens
        for k, change in enumerate(self.cops.schedule):
            if change.step > steps:
                raise ScenarioError(
                    f"cops.schedule.{k}.step", change.step,
                    f"a step inside the horizon [1, {steps}] (run.steps = {steps})",
                )
            cops += change.change
            if cops < 0:
                raise ScenarioError(f"cops.schedule.{k}.change", change.change,
                                    f"at most {cops - change.change} cops removed (those left)")
            if cops > room:
                raise ScenarioError(f"cops.schedule.{k}.change", change.change,
                                    f"at most {room - cops + change.change} cops added (the "
                                    "cells left free by citizens and cops)")

    def cop_slots(self) -> int:
        """Cop slots beyond the initial cops that the schedule's additions need.

        Examples
        --------
        >>> s = EpsteinScenario.model_validate({"cops": {"schedule": [
        ...     {"step": 5, "change": -10}, {"step": 9, "change": 25}]}})
        >>> s.cop_slots()
        15
        """
        level = peak = 0
        for change in self.cops.schedule:
            level += change.change
            peak = max(peak, level)
        return peak

    def agent_counts(self) -> tuple[int, int]:
        """Citizens and cops placed (``placement = "per_cell"``: their expected numbers).

        Examples
        --------
        >>> EpsteinScenario().agent_counts()    # the paper: 40 x 40, densities 0.7 and 0.04
        (1120, 64)
        """
        cells = self.grid.width * self.grid.height
        citizens = round(self.citizens.density * cells)
        return citizens, min(round(self.cops.density * cells), cells - citizens)

    def estimate_bytes(self, steps: int | None = None) -> int:
        """Rough peak memory of a run (bytes): the padded grid dominates.

        Building the padded grid takes ~40 bytes a padded position at its peak
        (coordinate meshes, the int32 weights, the int64 cell map); each cell
        16 more (occupant, placement draw); each agent ~48 (columns and
        scratch); each step ~96 (counts, legitimacy, records). A 2000 x 1000
        torus peaks at 124 MiB (tracemalloc); this says 176 MiB.

        Examples
        --------
        >>> EpsteinScenario().estimate_bytes() // 2**10   # KiB, the paper's 40 x 40 torus
        213
        """
        steps = self.run.steps if steps is None else steps
        pad = max(self.citizens.vision, self.cops.vision)
        width, height = self.grid.width, self.grid.height
        padded = (width + 2 * pad) * (height + 2 * pad)
        return 40 * padded + 16 * width * height + 48 * sum(self.agent_counts()) + steps_bytes(
            steps, 96
        )

    def size_field(self) -> tuple[str, str]:
        """The grid sets the size of a run."""
        return "grid", f"{self.grid.width:,} x {self.grid.height:,} cells"

    def describe(self) -> str:
        """One line for ``minders validate``.

        Examples
        --------
        >>> EpsteinScenario(name="paper").describe()
        "epstein scenario 'paper', 40x40 grid, 1,120 citizens, 64 cops, 200 steps, ~1 MiB"
        """
        citizens, cops = self.agent_counts()
        about = "~" if self.conventions.placement == "per_cell" else ""
        return (
            f"epstein scenario '{self.name}', {self.grid.width}x{self.grid.height} grid, "
            f"{about}{citizens:,} citizens, {about}{cops:,} cops, {self.run.steps:,} steps, "
            f"{mib(self.estimate_bytes())}"
        )

    def shocks_after(self, steps: int) -> list[str]:
        """The legitimacy changes that a run of ``steps`` steps ends before.

        L at step ``t`` drives step ``t``, so a change starting at ``steps``
        still happens; one starting later does not.

        Examples
        --------
        >>> s = EpsteinScenario.model_validate({"run": {"steps": 100}, "legitimacy": {
        ...     "changes": [{"start": 50, "value": 0.5}, {"start": 80, "value": 0.3, "ramp": 10}]}})
        >>> s.shocks_after(60)
        ['legitimacy to 0.3 from step 80 (over 10 steps)']
        >>> s.shocks_after(50)
        ['legitimacy to 0.3 from step 80 (over 10 steps)']
        >>> s.shocks_after(49)[0]
        'legitimacy to 0.5 at step 50'
        """
        labels = []
        for cop in self.cops.schedule:
            if cop.step > steps:
                verb = "added" if cop.change > 0 else "removed"
                labels.append(f"{abs(cop.change)} cops {verb} at step {cop.step}")
        for change in self.legitimacy.changes:
            if change.start > steps:
                when = (f"at step {change.start}" if change.ramp == 0 else
                        f"from step {change.start} (over {change.ramp} steps)")
                labels.append(f"legitimacy to {change.value:g} {when}")
        return labels

