"""The scenario format: every parameter of the model, typed, bounded and documented.

A scenario of the minders model is a TOML (or YAML) file with the sections
``[run]``, ``[model]``, ``[network]``, ``[tiers.NAME]`` (bottom-up) and
``[[shocks]]``. This module holds the pydantic models that validate it and
the facts derived from it (``auto`` tier sizes, the hierarchy's depths).
Reading files, overrides and error messages are shared by every kind
(:mod:`minders.spec`). See ``docs/model.md`` for what each parameter means
in the model.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from minders.distributions import Constant, Distribution, Uniform
from minders.errors import ScenarioError
from minders.spec import MAX_SEED, MAX_STEPS, STRICT, ScenarioBase

#: Most positions of one tier (and of a whole scenario): indices are int32.
MAX_POSITIONS = 2**31 - 2
#: Most tiers and shocks in one scenario (real hierarchies have a handful of each).
MAX_TIERS = 1_000
MAX_SHOCKS = 10_000

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]

_STRICT = STRICT


# --------------------------------------------------------------------------- sections
class RunParams(BaseModel):
    """How long to run and with which seed."""

    model_config = _STRICT
    steps: int = Field(
        520, ge=1, le=MAX_STEPS, description="Number of steps to simulate.", examples=[520]
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Base seed of every random stream.")
    steps_per_year: int = Field(
        52, ge=1, le=10_000,
        description="Steps in a year (52: one step is a week). Used for yearly rates."
    )
    burn_in: int = Field(
        0, ge=0, le=MAX_STEPS,
        description="Steps run before step 0, without shocks and without records, so that the "
        "population settles from its all-quiet start (the pent-up would-be leavers go first).",
        json_schema_extra={"unit": "steps"},
    )
    check: bool = Field(
        False, description="Assert the model's invariants every step (slower; for debugging)."
    )
    max_memory_gb: float | None = Field(
        None,
        gt=0.0, le=1e6,
        description="Refuse runs whose estimated memory exceeds this (GiB). "
        "Default: 80% of this machine's physical memory.",
    )


class ModelParams(BaseModel):
    """Parameters shared by all tiers (docs/model.md, 'One step')."""

    model_config = _STRICT
    watch_capacity: float = Field(
        10.0,
        gt=0.0, le=1e6,
        description="c: how many wards one minder can watch closely; attention is min(1, c/wards).",
        json_schema_extra={"unit": "wards"},
    )
    informer_rate: Probability = Field(
        0.005, description="Chance that one loyal neighbour reports an act.",
        json_schema_extra={"unit": "probability per neighbour per act"},
    )
    beta: NonNegative = Field(
        0.5, le=100.0, description="Weight of the social signal (share of neighbours seen to act).",
        json_schema_extra={"unit": "grievance units"},
    )
    memory: int = Field(
        4, ge=1, le=MAX_STEPS, description="How many steps an act of a neighbour stays in mind.",
        json_schema_extra={"unit": "steps"},
    )
    shirk: Probability = Field(
        0.5, description="How much an aggrieved, unwatched minder looks away (0: never, 1: fully).",
    )
    family_weight: NonNegative = Field(
        1.0, le=100.0,
        description="phi: extra weight of risk for agents with family the regime can punish.",
    )
    act_visibility: float = Field(
        4.0, ge=1.0, le=1000.0,
        description="How much more visible an open act of dissent is than a secret attempt to "
        "leave: it is detected with chance 1 - (1 - d)^act_visibility (1: equally).",
        json_schema_extra={"unit": "multiple of detection exposure"},
    )
    purge_rate: Probability = Field(
        0.1, description="Chance that a minder is purged when one of its wards defects.",
        json_schema_extra={"unit": "probability per defection"},
    )
    fear_per_event: Probability = Field(
        0.05,
        description="Perceived extra chance of being caught that each arrest, interception or "
        "purge an agent sees (a neighbour's, or a fellow minder's purge) adds; it deters both "
        "acting and leaving, and fades with fear_half_life.",
        json_schema_extra={"unit": "probability per event seen"},
    )
    fear_half_life: float = Field(
        26.0, ge=0.0, le=MAX_STEPS,
        description="Steps for the fear of seen repression to halve (0: forgotten at once).",
        json_schema_extra={"unit": "steps"},
    )
    catch_capacity: float = Field(
        3.0, gt=0.0, le=1e6,
        description="Acts one minder can pursue in a step: with more of its wards openly "
        "active, each act is caught less often (safety in numbers).",
        json_schema_extra={"unit": "acts per minder per step"},
    )
    jail_capacity: Probability = Field(
        0.005,
        description="Places in jail, as a share of all positions; an arrest or interception "
        "beyond them fails and the agent stays free.",
        json_schema_extra={"unit": "share of positions"},
    )
    scar_half_life: float = Field(
        52.0, ge=0.0, le=MAX_STEPS,
        description="After a legitimacy shock ends, legitimacy recovers only as the scar of its "
        "deepest drop halves every this many steps (0: at once).",
        json_schema_extra={"unit": "steps"},
    )
    memory_half_life: float = Field(
        26.0, ge=0.0, le=MAX_STEPS,
        description="Steps for what agents saw of others' escapes (successes, failures, their "
        "wards' escapes) to halve in memory (0: no learning and no expected purge).",
        json_schema_extra={"unit": "steps"},
    )
    success_prior: float = Field(
        0.5, gt=0.0, lt=1.0,
        description="An agent's belief, before seeing anyone try, that an attempt to leave "
        "succeeds.",
        json_schema_extra={"unit": "probability"},
    )
    success_prior_strength: float = Field(
        10.0, gt=0.0, le=1e6,
        description="Weight of that belief, in attempts seen: seen successes and failures "
        "move it as Beta pseudo-counts.",
        json_schema_extra={"unit": "attempts"},
    )
    purge_stake: NonNegative = Field(
        0.5, le=100.0,
        description="Weight of a minder's expected purge (after its wards' escapes) in its "
        "own decision to leave.",
        json_schema_extra={"unit": "grievance units"},
    )
    take_wards: Probability = Field(
        0.5,
        description="Chance that a ward who wants to leave goes along when its minder defects.",
        json_schema_extra={"unit": "probability per willing ward"},
    )
    group_quorum: Probability = Field(
        0.5,
        description="Share of a work unit's members in post who must want to leave for the "
        "unit to take a way out together.",
        json_schema_extra={"unit": "share of the unit"},
    )
    leak: Probability = Field(
        0.02, description="Fall in p_detect of the tier a defecting minder watched.",
        json_schema_extra={"unit": "probability per defecting minder"},
    )
    max_jail: int = Field(
        52, ge=1, le=MAX_STEPS, description="Longest jail term; terms are uniform on 1..max_jail.",
        json_schema_extra={"unit": "steps"},
    )


    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "fear" in data:
            raise ScenarioError(
                "fear", data["fear"],
                "model.fear_per_event instead (model v2: fear no longer adds to grievance; it "
                "is a perceived chance of being caught, in [0, 1], that deters and fades with "
                "model.fear_half_life; see docs/model.md, '4.4 Regime response')",
            )
        return data


class NetworkParams(BaseModel):
    """How the social graph is built (or which file it is read from)."""

    model_config = _STRICT
    unit_ties: int = Field(
        4, ge=0, le=1_000,
        description="Ties of each ward inside its work unit: a clique when the unit is small, "
        "else a ring lattice with this many neighbours (an odd number is rounded up).",
    )
    family_size: int = Field(
        4, ge=1, le=1_000,
        description="Size of the family groups (cliques drawn across the population).",
    )
    random_ties: int = Field(
        1, ge=0, le=1_000,
        description="Random long-range ties started by each agent (so ~2x in degree).",
    )
    file: str | None = Field(
        None,
        description="Read the graph from an edge list (.csv, .tsv, .txt, .edgelist, .edges: two "
        "integer "
        "columns) or a GraphML file instead; nodes are the positions 0..N-1 in tier order.",
    )


class Tier(BaseModel):
    """One layer of the population (docs/model.md, 'Population')."""

    model_config = _STRICT
    size: int | Literal["auto"] = Field(
        description="Number of positions, or 'auto' for a minder tier: enough minders for the "
        "wards that name it, given their span.",
        examples=[100000, "auto"],
    )
    minded_by: str | None = Field(
        None, description="Name of the tier whose members watch this one (none: unsupervised)."
    )
    span: int | None = Field(
        None, ge=1, le=MAX_POSITIONS, description="Wards per minder (required with minded_by).",
        json_schema_extra={"unit": "wards per minder"},
    )
    abroad: Probability = Field(0.0, description="Share of the tier's positions posted abroad.")
    abroad_chance: Probability = Field(
        1.0, description="Chance per step that an agent abroad has the opportunity to defect.",
        json_schema_extra={"unit": "probability per step"},
    )
    border_chance: Probability = Field(
        0.0005, description="Chance per step that an agent at home has the opportunity to defect.",
        json_schema_extra={"unit": "probability per step"},
    )
    renewal: Probability = Field(
        0.01,
        description="Chance per step that a holder's circumstances change: its hardship is "
        "drawn again from the tier's distribution (so new grievances keep arising after the "
        "regime has removed the old ones).",
        json_schema_extra={"unit": "probability per holder per step"},
    )
    group_chance: Probability = Field(
        0.0,
        description="Chance per step that a way out opens for a whole work unit posted abroad "
        "(a restaurant, a construction crew); the unit takes it if model.group_quorum of its "
        "members want to leave.",
        json_schema_extra={"unit": "probability per unit per step"},
    )
    hardship: Distribution = Field(
        default_factory=lambda: Uniform(), description="H: perceived hardship, in [0, 1]."
    )
    risk_aversion: Distribution = Field(
        default_factory=lambda: Uniform(), description="R: risk aversion."
    )
    threshold: Distribution = Field(
        default_factory=lambda: Constant(value=0.1), description="T: threshold to act."
    )
    legitimacy: Probability = Field(0.8, description="L: legitimacy of the regime to this tier.")
    family_at_home: Probability = Field(
        1.0, description="Share with family the regime can punish."
    )
    p_detect: Probability = Field(
        0.5, description="Chance that a minder paying full attention detects an act of a ward of "
        "this tier.",
    )
    replace_delay: int | None = Field(
        None, ge=0, le=MAX_STEPS,
        description="Steps before a vacated position (defected, purged, repatriated) is refilled; "
        "none: never.",
        json_schema_extra={"unit": "steps"},
    )

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if value == "auto":
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"an integer in [1, {MAX_POSITIONS}] or 'auto'")
        if not 1 <= value <= MAX_POSITIONS:
            raise ValueError(f"an integer in [1, {MAX_POSITIONS}] or 'auto'")
        return value


ShockKind = Literal["legitimacy", "detection", "opportunity", "pull", "info_ops"]


class Shock(BaseModel):
    """A timed change of one parameter for chosen tiers (docs/model.md, 'Shocks').

    ``legitimacy`` sets L to ``value``; ``detection`` and ``opportunity``
    multiply detection and opportunity by ``value``; ``pull`` adds ``value``
    to the decision; ``info_ops`` adds ``value`` to beta and lets agents see
    their neighbours' private discontent.
    """

    model_config = _STRICT
    kind: ShockKind = Field(description="What the shock changes.")
    start: int = Field(ge=0, le=MAX_STEPS, description="First step of the window.")
    end: int | None = Field(
        None, ge=1, le=MAX_STEPS,
        description="Step after the last one of the window (none: to the end of the run).",
    )
    value: float = Field(
        ge=-1e6, le=1e6, description="New level, multiplier or addition (see kind)."
    )
    tiers: list[str] | None = Field(None, description="Tiers affected (none: all).")
    ramp: int = Field(
        0, ge=0, le=MAX_STEPS,
        description="Steps over which the change phases in linearly (0: at once).",
    )
    label: str = Field("", description="A name for plots and reports.")

    @model_validator(mode="after")
    def _window(self) -> Shock:
        if self.end is not None and self.end <= self.start:
            raise ScenarioError("end", self.end, f"a step after start ({self.start})")
        if self.kind == "legitimacy" and not 0.0 <= self.value <= 1.0:
            raise ScenarioError("value", self.value, "a legitimacy in [0, 1]")
        if self.kind in ("detection", "opportunity", "info_ops") and self.value < 0:
            raise ScenarioError("value", self.value, f"a {self.kind} value >= 0")
        return self


class Scenario(ScenarioBase):
    """A complete, validated scenario.

    Examples
    --------
    >>> s = Scenario.model_validate({
    ...     "tiers": {
    ...         "residents": {"size": 1000, "minded_by": "minders", "span": 20},
    ...         "minders": {"size": "auto"},
    ...     }
    ... })
    >>> s.tier_sizes()
    {'residents': 1000, 'minders': 50}
    """

    model_config = _STRICT
    kind: Literal["minders"] = Field(
        "minders", description="Scenario kind: 'minders' (this model) or a classic model."
    )
    name: str = Field("unnamed", max_length=200, description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: RunParams = Field(default_factory=RunParams)
    model: ModelParams = Field(default_factory=ModelParams)
    network: NetworkParams = Field(default_factory=NetworkParams)
    tiers: dict[str, Tier] = Field(
        description="The tiers, bottom-up.", min_length=1, max_length=MAX_TIERS
    )
    shocks: list[Shock] = Field(
        default_factory=list, max_length=MAX_SHOCKS, description="Timed shocks."
    )

    @model_validator(mode="after")
    def _structure(self) -> Scenario:
        names = list(self.tiers)
        for name, tier in self.tiers.items():
            if tier.minded_by is not None:
                if tier.minded_by not in self.tiers:
                    raise ScenarioError(
                        f"tiers.{name}.minded_by", tier.minded_by,
                        f"the name of a tier ({', '.join(names)})",
                    )
                if tier.span is None:
                    raise ScenarioError(
                        f"tiers.{name}.span", None, "an integer >= 1 (required with minded_by)"
                    )
        self._depths()  # raises on a cycle
        wards = self.wards_of()
        for name, tier in self.tiers.items():
            if tier.size == "auto" and not wards[name]:
                raise ScenarioError(
                    f"tiers.{name}.size", "auto",
                    "an integer: 'auto' needs a tier whose minded_by names this one",
                )
        steps = self.run.steps
        if steps + self.run.burn_in > MAX_STEPS:
            raise ScenarioError(
                "run.burn_in", self.run.burn_in,
                f"a burn-in of at most {MAX_STEPS - steps:,} steps (run.steps + run.burn_in "
                f"<= {MAX_STEPS:,})",
            )
        for k, shock in enumerate(self.shocks):
            if shock.start >= steps:
                raise ScenarioError(
                    f"shocks.{k}.start", shock.start, f"a step inside the horizon [0, {steps})"
                )
            if shock.end is not None and shock.end > steps:
                raise ScenarioError(
                    f"shocks.{k}.end", shock.end, f"a step inside the horizon (<= {steps})"
                )
            for tier in shock.tiers or []:
                if tier not in self.tiers:
                    raise ScenarioError(
                        f"shocks.{k}.tiers", tier, f"the name of a tier ({', '.join(names)})"
                    )
        return self

    # ------------------------------------------------------------------ derived facts
    def wards_of(self) -> dict[str, list[str]]:
        """Map each tier to the tiers it supervises, in scenario order."""
        wards: dict[str, list[str]] = {name: [] for name in self.tiers}
        for name, tier in self.tiers.items():
            if tier.minded_by is not None:
                wards[tier.minded_by].append(name)
        return wards

    def minders_needed(self) -> dict[str, int]:
        """Minders each supervised tier needs at its span: ceil(size / span)."""
        sizes = self.tier_sizes()
        return {
            name: math.ceil(sizes[name] / tier.span)
            for name, tier in self.tiers.items()
            if tier.minded_by is not None and tier.span is not None
        }

    def tier_sizes(self) -> dict[str, int]:
        """Resolve ``auto`` sizes bottom-up: a minder tier gets enough minders for its wards."""
        sizes: dict[str, int] = {}
        wards = self.wards_of()
        # Deepest tiers first, so every ward's size is known before its minders'.
        for name in reversed(self.tier_order()):
            tier = self.tiers[name]
            if tier.size == "auto":
                sizes[name] = sum(math.ceil(sizes[w] / self.tiers[w].span) for w in wards[name])
            else:
                sizes[name] = tier.size
        return {name: sizes[name] for name in self.tiers}

    def tier_depths(self) -> dict[str, int]:
        """Levels below the top of the hierarchy (0: unsupervised), in scenario order.

        Examples
        --------
        >>> s = Scenario.model_validate({"tiers": {"w": {"size": 4, "minded_by": "m", "span": 2},
        ...                                        "m": {"size": "auto"}}})
        >>> s.tier_depths()
        {'w': 1, 'm': 0}
        """
        depth = self._depths()
        return {name: depth[name] for name in self.tiers}

    def tier_order(self) -> list[str]:
        """Tiers from the top of the hierarchy down (stable in scenario order)."""
        depth = self._depths()
        return sorted(self.tiers, key=depth.__getitem__)

    def _depths(self) -> dict[str, int]:
        """Depth of every tier, in time linear in the number of tiers; refuses cycles."""
        depth: dict[str, int] = {}
        for name in self.tiers:
            path: list[str] = []  # tiers on the way up whose depth is not known yet
            on_path: set[str] = set()
            current: str | None = name
            while current is not None and current not in depth:
                if current in on_path:
                    cycle = " -> ".join([*path[path.index(current):], current])
                    raise ScenarioError(
                        f"tiers.{name}.minded_by", self.tiers[name].minded_by,
                        f"a hierarchy without cycles (found {cycle})",
                    )
                path.append(current)
                on_path.add(current)
                current = self.tiers[current].minded_by
            above = -1 if current is None else depth[current]
            for tier in reversed(path):
                above += 1
                depth[tier] = above
        return depth

    def minder_tiers(self) -> list[str]:
        """Tiers whose members supervise another tier."""
        wards = self.wards_of()
        return [name for name in self.tiers if wards[name]]

    def groups(self) -> list[str]:
        """The tiers, in scenario order (the ``tier`` column of the records)."""
        return list(self.tiers)

    def steps_per_year(self) -> int:
        """``run.steps_per_year``."""
        return self.run.steps_per_year

    def shocks_after(self, steps: int) -> list[str]:
        """Labels (or kinds) of the shocks that start at or after ``steps``."""
        return [s.label or s.kind for s in self.shocks if s.start >= steps]

    def describe(self) -> str:
        """Positions per tier, horizon and shocks, in one line."""
        sizes = self.tier_sizes()
        tiers = ", ".join(f"{name} {size:,}" for name, size in sizes.items())
        return (f"'{self.name}', {sum(sizes.values()):,} positions ({tiers}), "
                f"{self.run.steps:,} steps, {len(self.shocks)} shocks")
