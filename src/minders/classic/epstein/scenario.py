"""The Epstein (2002) scenario: the grid, citizens, cops, legitimacy and the conventions.

Each detail the paper leaves open is an option of ``[conventions]``; see
:mod:`minders.classic.epstein` and ``docs/classic.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from minders.classic._common import STRICT, ClassicRun, ClassicScenario
from minders.errors import ScenarioError
from minders.scenario import Distribution, Uniform

# Statuses: citizens are quiet, active or jailed; cops are cops.
QUIET, ACTIVE, JAILED, COP = 0, 1, 2, 3
#: Largest vision radius (a Moore neighbourhood of radius 15 has 960 cells < 2**10).
MAX_VISION = 15
STATUS_NAMES = ("quiet", "active", "jailed")
ARREST_RATIOS = ("paper", "netlogo", "mesa")
NEIGHBOURHOODS = ("von_neumann", "moore", "disc", "cross")


# --------------------------------------------------------------------------- the scenario
class EpsteinGrid(BaseModel):
    """The torus."""

    model_config = STRICT
    width: int = Field(40, ge=3, description="Cells across (the paper: 40).")
    height: int = Field(40, ge=3, description="Cells down (the paper: 40).")


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


class EpsteinCops(BaseModel):
    """The forces of the central authority."""

    model_config = STRICT
    density: float = Field(0.04, ge=0.0, le=1.0, description="Share of cells holding a cop.")
    vision: int = Field(7, ge=1, le=MAX_VISION, description="v*: how far a cop sees (cells).")
    max_jail: int = Field(30, ge=0, description="J_max: jail terms are uniform on 0..J_max steps.")


class LegitimacyChange(BaseModel):
    """A change of legitimacy: at once (``ramp = 0``) or linear over ``ramp`` steps."""

    model_config = STRICT
    start: int = Field(ge=1, description="First step at which the change acts.")
    value: float = Field(ge=0.0, le=1.0, description="Legitimacy reached.")
    ramp: int = Field(
        0, ge=0, description="Steps over which L moves linearly to value (0: a sudden drop)."
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


class EpsteinConventions(BaseModel):
    """Details the paper leaves open, as its implementations settle them."""

    model_config = STRICT
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
        return self

