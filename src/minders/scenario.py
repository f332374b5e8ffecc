"""The scenario format: every parameter of the model, typed, bounded and documented.

A scenario is a TOML (or YAML) file with the sections ``[run]``, ``[model]``,
``[network]``, ``[tiers.NAME]`` (bottom-up) and ``[[shocks]]``. This module
holds the pydantic models that validate it, the resolution of ``auto`` tier
sizes, ``--set`` overrides, and the translation of every validation problem
into one :class:`~minders.errors.ScenarioError` message that names the field,
the value and what was expected. See ``docs/model.md`` for what each
parameter means in the model.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from minders.errors import ScenarioError, ScenarioErrors

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]

_STRICT = ConfigDict(extra="forbid", validate_assignment=True)


# --------------------------------------------------------------------------- distributions
class Constant(BaseModel):
    """Every agent gets the same value."""

    model_config = _STRICT
    kind: Literal["constant"] = "constant"
    value: float = Field(description="The value every agent gets.")


class Bounded(BaseModel):
    """A distribution on ``[low, high]``: refuses ``high < low``."""

    model_config = _STRICT

    @model_validator(mode="after")
    def _ordered(self) -> Bounded:
        if self.high < self.low:
            raise ScenarioError("high", self.high, f"a number >= low ({self.low})")
        return self


class Uniform(Bounded):
    """Uniform on ``[low, high]``."""

    kind: Literal["uniform"] = "uniform"
    low: float = Field(0.0, description="Lower bound.")
    high: float = Field(1.0, description="Upper bound.")


class Beta(Bounded):
    """Beta(a, b), rescaled to ``[low, high]``."""

    kind: Literal["beta"] = "beta"
    a: float = Field(gt=0.0, description="First shape parameter.")
    b: float = Field(gt=0.0, description="Second shape parameter.")
    low: float = Field(0.0, description="Value of a draw of 0.")
    high: float = Field(1.0, description="Value of a draw of 1.")


class Normal(Bounded):
    """Normal(mean, sd), clipped to ``[low, high]``."""

    kind: Literal["normal"] = "normal"
    mean: float = Field(description="Mean before clipping.")
    sd: float = Field(ge=0.0, description="Standard deviation before clipping.")
    low: float = Field(0.0, description="Draws below are set to low.")
    high: float = Field(1.0, description="Draws above are set to high.")


DISTRIBUTION_KINDS = ("constant", "uniform", "beta", "normal")


def _number_is_constant(value: Any) -> Any:
    """Let a bare number stand for a constant distribution."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "constant", "value": value}
    if isinstance(value, dict) and "kind" not in value:
        raise ValueError(f"a 'kind' key, one of {', '.join(DISTRIBUTION_KINDS)}")
    return value


Distribution = Annotated[
    Constant | Uniform | Beta | Normal,
    Field(discriminator="kind"),
    BeforeValidator(_number_is_constant),
]


# --------------------------------------------------------------------------- sections
class RunParams(BaseModel):
    """How long to run and with which seed."""

    model_config = _STRICT
    steps: int = Field(520, ge=1, description="Number of steps to simulate.", examples=[520])
    seed: int = Field(0, ge=0, description="Base seed of every random stream.")
    steps_per_year: int = Field(
        52, ge=1, description="Steps in a year (52: one step is a week). Used for yearly rates."
    )
    burn_in: int = Field(
        0, ge=0,
        description="Steps run before step 0, without shocks and without records, so that the "
        "population settles from its all-quiet start (the pent-up would-be leavers go first).",
        json_schema_extra={"unit": "steps"},
    )
    check: bool = Field(
        False, description="Assert the model's invariants every step (slower; for debugging)."
    )
    max_memory_gb: float | None = Field(
        None,
        gt=0.0,
        description="Refuse populations whose estimated memory exceeds this (GiB). "
        "Default: 80% of this machine's physical memory.",
    )


class ModelParams(BaseModel):
    """Parameters shared by all tiers (MODEL.md, 'One step')."""

    model_config = _STRICT
    watch_capacity: float = Field(
        10.0,
        gt=0.0,
        description="c: how many wards one minder can watch closely; attention is min(1, c/wards).",
        json_schema_extra={"unit": "wards"},
    )
    informer_rate: Probability = Field(
        0.005, description="Chance that one loyal neighbour reports an act.",
        json_schema_extra={"unit": "probability per neighbour per act"},
    )
    beta: NonNegative = Field(
        0.5, description="Weight of the social signal (share of neighbours seen to act).",
        json_schema_extra={"unit": "grievance units"},
    )
    memory: int = Field(
        4, ge=1, description="How many steps an act of a neighbour stays in mind.",
        json_schema_extra={"unit": "steps"},
    )
    shirk: Probability = Field(
        0.5, description="How much an aggrieved, unwatched minder looks away (0: never, 1: fully).",
    )
    family_weight: NonNegative = Field(
        1.0, description="phi: extra weight of risk for agents with family the regime can punish.",
    )
    purge_rate: Probability = Field(
        0.1, description="Chance that a minder is purged when one of its wards defects.",
        json_schema_extra={"unit": "probability per defection"},
    )
    fear: NonNegative = Field(
        0.02, description="Grievance added to each peer of a purged minder.",
        json_schema_extra={"unit": "grievance units per purge"},
    )
    leak: Probability = Field(
        0.02, description="Fall in p_detect of the tier a defecting minder watched.",
        json_schema_extra={"unit": "probability per defecting minder"},
    )
    max_jail: int = Field(
        52, ge=1, description="Longest jail term; terms are uniform on 1..max_jail.",
        json_schema_extra={"unit": "steps"},
    )


class NetworkParams(BaseModel):
    """How the social graph is built (or which file it is read from)."""

    model_config = _STRICT
    unit_ties: int = Field(
        4, ge=0,
        description="Ties of each ward inside its work unit: a clique when the unit is small, "
        "else a ring lattice with this many neighbours (an odd number is rounded up).",
    )
    family_size: int = Field(
        4, ge=1, description="Size of the family groups (cliques drawn across the population)."
    )
    random_ties: int = Field(
        1, ge=0, description="Random long-range ties started by each agent (so ~2x in degree)."
    )
    file: str | None = Field(
        None,
        description="Read the graph from an edge list (.csv, .tsv, .txt, .edgelist, .edges: two "
        "integer "
        "columns) or a GraphML file instead; nodes are the positions 0..N-1 in tier order.",
    )


class Tier(BaseModel):
    """One layer of the population (MODEL.md, 'Population')."""

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
        None, ge=1, description="Wards per minder (required with minded_by).",
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
        None, ge=0,
        description="Steps before a vacated position (defected, purged) is refilled; none: never.",
        json_schema_extra={"unit": "steps"},
    )

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if value == "auto":
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError("an integer >= 1 or 'auto'")
        return value


ShockKind = Literal["legitimacy", "detection", "opportunity", "pull", "info_ops"]


class Shock(BaseModel):
    """A timed change of one parameter for chosen tiers (MODEL.md, 'Shocks').

    ``legitimacy`` sets L to ``value``; ``detection`` and ``opportunity``
    multiply detection and opportunity by ``value``; ``pull`` adds ``value``
    to the decision; ``info_ops`` adds ``value`` to beta and lets agents see
    their neighbours' private discontent.
    """

    model_config = _STRICT
    kind: ShockKind = Field(description="What the shock changes.")
    start: int = Field(ge=0, description="First step of the window.")
    end: int | None = Field(
        None, description="Step after the last one of the window (none: to the end of the run)."
    )
    value: float = Field(description="New level, multiplier or addition (see kind).")
    tiers: list[str] | None = Field(None, description="Tiers affected (none: all).")
    ramp: int = Field(
        0, ge=0, description="Steps over which the change phases in linearly (0: at once).",
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


class Scenario(BaseModel):
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
    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: RunParams = Field(default_factory=RunParams)
    model: ModelParams = Field(default_factory=ModelParams)
    network: NetworkParams = Field(default_factory=NetworkParams)
    tiers: dict[str, Tier] = Field(description="The tiers, bottom-up.", min_length=1)
    shocks: list[Shock] = Field(default_factory=list, description="Timed shocks.")

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
        for name in names:  # follow minded_by upwards; a repeat is a cycle
            seen = [name]
            current = self.tiers[name].minded_by
            while current is not None:
                if current in seen:
                    cycle = " -> ".join([*seen[seen.index(current):], current])
                    raise ScenarioError(
                        f"tiers.{name}.minded_by", self.tiers[name].minded_by,
                        f"a hierarchy without cycles (found {cycle})",
                    )
                seen.append(current)
                current = self.tiers[current].minded_by
        wards = self.wards_of()
        for name, tier in self.tiers.items():
            if tier.size == "auto" and not wards[name]:
                raise ScenarioError(
                    f"tiers.{name}.size", "auto",
                    "an integer: 'auto' needs a tier whose minded_by names this one",
                )
        steps = self.run.steps
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

        def size_of(name: str) -> int:
            if name not in sizes:
                tier = self.tiers[name]
                if tier.size == "auto":
                    sizes[name] = sum(
                        math.ceil(size_of(w) / self.tiers[w].span) for w in wards[name]
                    )
                else:
                    sizes[name] = tier.size
            return sizes[name]

        return {name: size_of(name) for name in self.tiers}

    def minder_tiers(self) -> list[str]:
        """Tiers whose members supervise another tier."""
        wards = self.wards_of()
        return [name for name in self.tiers if wards[name]]

    def scenario_hash(self) -> str:
        """SHA-256 of the canonical JSON of the resolved scenario."""
        return content_hash(self.model_dump(mode="json"))

    def with_overrides(self, overrides: list[str] | dict[str, Any]) -> Scenario:
        """Return a copy with dotted-path overrides applied (see :func:`apply_overrides`)."""
        data = self.model_dump(mode="json", exclude_unset=False)
        return validate_scenario(apply_overrides(data, overrides))


def content_hash(data: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of ``data``."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------- loading
def parse_mapping(
    content: str | bytes, suffix: str, source: str, what: str = "scenario"
) -> dict[str, Any]:
    """Parse TOML or YAML text (by ``suffix``) whose top level is a mapping (no validation).

    ``source`` (a path or file name) and ``what`` ("scenario", "experiment")
    name the file in error messages.

    Examples
    --------
    >>> parse_mapping("name = 'x'", ".toml", "x.toml")
    {'name': 'x'}
    """
    suffix = suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise ScenarioError(what, source, "a .toml, .yaml or .yml file")
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(what, source, "a UTF-8 text file") from None
    try:
        data = tomllib.loads(content) if suffix == ".toml" else yaml.safe_load(content)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        detail = str(exc).splitlines()[0]
        raise ScenarioError(what, source, f"valid {suffix[1:].upper()} ({detail})") from None
    if not isinstance(data, dict):
        parts = "sections" if what == "scenario" else "fields"
        raise ScenarioError(what, source, f"a mapping of {parts} at the top level")
    return data


def read_mapping(path: str | Path, what: str = "scenario") -> dict[str, Any]:
    """Read a TOML or YAML file whose top level is a mapping (see :func:`parse_mapping`)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(what, str(path), f"an existing {what} file")
    return parse_mapping(path.read_bytes(), path.suffix, str(path), what)


def read_scenario_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML or YAML scenario into a plain dict (no validation)."""
    path = Path(path)
    data = read_mapping(path, "scenario")
    network = data.get("network")
    if isinstance(network, dict) and isinstance(network.get("file"), str):
        graph = Path(network["file"])
        if not graph.is_absolute():  # graph files are relative to the scenario
            network["file"] = str((path.parent / graph).resolve())
    return data


def parse_override(text: str) -> tuple[str, Any]:
    """Split ``dotted.path=value``; the value is read as TOML, else kept as a string.

    Examples
    --------
    >>> parse_override("tiers.workers.span=40")
    ('tiers.workers.span', 40)
    >>> parse_override("name=my run")
    ('name', 'my run')
    """
    if "=" not in text:
        raise ScenarioError("--set", text, "dotted.path=value")
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if not key:
        raise ScenarioError("--set", text, "dotted.path=value")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if raw.startswith(("[", "{", '"', "'")):  # meant as a TOML value: say what is wrong
            raise ScenarioError(
                f"--set {key}", raw,
                'a TOML value (quote strings inside lists and tables: ["residents"])',
            ) from None
        value = raw  # a bare word is taken as a string
    return key, value


def apply_overrides(
    data: dict[str, Any], overrides: str | list[str] | dict[str, Any]
) -> dict[str, Any]:
    """Set values in a raw scenario dict by dotted path (``shocks.0.value`` indexes lists).

    A path through ``tiers`` must name an existing tier (a typo would otherwise
    create a new, incomplete tier); other missing sections are created.
    """
    if isinstance(overrides, str):
        overrides = [overrides]
    pairs = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides)
    for key, value in pairs:
        parts = key.split(".")
        node: Any = data
        for depth, part in enumerate(parts[:-1]):
            where = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ScenarioError(key, value, f"an index < {len(node)} at '{where}'")
                node = node[int(part)]
            elif isinstance(node, dict):
                if depth == 1 and parts[0] == "tiers" and part not in node:
                    raise ScenarioError(
                        where, part, f"the name of a tier ({', '.join(map(str, node))})"
                    )
                node = node.setdefault(part, {})
            else:
                raise ScenarioError(key, value, f"a path into sections, but '{where}' is a value")
        last = parts[-1]
        if isinstance(node, list):
            if not last.isdigit() or int(last) >= len(node):
                raise ScenarioError(key, value, f"an index < {len(node)}")
            node[int(last)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ScenarioError(key, value, "a path into sections")
    return data


def validate_scenario(data: dict[str, Any]) -> Any:
    """Validate a raw dict, turning every problem into one readable :class:`ScenarioError`.

    The ``kind`` key (default ``"minders"``) picks the scenario class from
    :mod:`minders.kinds`.
    """
    name = data.get("kind", "minders") if isinstance(data, dict) else "minders"
    if name == "minders":
        cls: type[BaseModel] = Scenario
    else:
        from minders import kinds

        if not isinstance(name, str):
            raise ScenarioError("kind", name, "the name of a scenario kind")
        cls = kinds.get(name).scenario_class
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        errors = [translate_error(err, cls) for err in exc.errors()]
        raise (errors[0] if len(errors) == 1 else ScenarioErrors(errors)) from None


def load_scenario(
    path: str | Path, overrides: str | list[str] | dict[str, Any] | None = None
) -> Scenario:
    """Read, override and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        A ``.toml`` (or ``.yaml``) scenario.
    overrides : list of str or dict, optional
        ``["tiers.workers.span=40"]`` or ``{"tiers.workers.span": 40}``.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Naming the field, the value and what was expected.

    Examples
    --------
    >>> import minders
    >>> s = minders.load_scenario("scenarios/pyongyang.toml", ["run.steps=10"])  # doctest: +SKIP
    """
    data = read_scenario_file(path)
    if overrides:
        data = apply_overrides(data, overrides)
    return validate_scenario(data)


# --------------------------------------------------------------------------- messages
_DIST_FIELDS = {"hardship", "risk_aversion", "threshold"}
_DIST_MODELS = {"constant": Constant, "uniform": Uniform, "beta": Beta, "normal": Normal}


def _clean_loc(loc: tuple[Any, ...]) -> list[str]:
    """Drop pydantic's union tags (``hardship.beta.a`` -> ``hardship.a``)."""
    parts: list[str] = []
    for item in loc:
        item = str(item)
        if parts and parts[-1] in _DIST_FIELDS and item in _DIST_MODELS:
            continue
        if item.startswith("function-") or item in ("int", "literal['auto']", "str"):
            continue
        parts.append(item)
    return parts


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models inside an annotation (through Optional, list, dict, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is dict and len(args) == 2:
        args = (args[1],)
    for arg in args:
        found += _models_in(arg)
    return found


def allowed_fields(cls: type[BaseModel], raw_loc: tuple[Any, ...]) -> list[str]:
    """Valid field names where an unknown key was found, walking the model along ``loc``."""
    model: type[BaseModel] | None = cls
    items = [str(x) for x in raw_loc[:-1]]
    k = 0
    while k < len(items) and model is not None:
        field = model.model_fields.get(items[k])
        if field is None:
            return []
        annotation = field.annotation
        k += 1
        if get_origin(annotation) in (dict, list) or (
            get_origin(annotation) is not None and any(
                get_origin(a) in (dict, list) for a in get_args(annotation)
            )
        ):
            k += 1  # skip the key or index
        candidates = _models_in(annotation)
        if len(candidates) > 1 and k < len(items):  # a tagged union: the tag comes next
            tagged = [c for c in candidates if c.model_fields.get("kind") is not None
                      and c.model_fields["kind"].default == items[k]]
            candidates = tagged
            k += 1
        model = candidates[0] if len(candidates) == 1 else None
    return list(model.model_fields) if model is not None else []


def translate_error(err: dict[str, Any], cls: type[BaseModel] = Scenario) -> ScenarioError:
    """Turn one pydantic error of a ``cls`` model into a :class:`ScenarioError`."""
    loc = _clean_loc(err["loc"])
    value = err.get("input")
    ctx = err.get("ctx") or {}
    original = ctx.get("error")
    if isinstance(original, ScenarioError):  # raised by our own cross-field checks
        prefix = ".".join(loc)
        field = original.field if not prefix else f"{prefix}.{original.field}"
        if original.field.startswith(("tiers.", "shocks.")):
            field = original.field
        return ScenarioError(field, original.value, original.expected)
    field = ".".join(loc) or "scenario"
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = allowed_fields(cls, err["loc"])
        expected = "a known field" + (f" ({', '.join(allowed)})" if allowed else "")
        return ScenarioError(field, value if value is not None else loc[-1], expected)
    if kind in ("union_tag_invalid", "union_tag_not_found"):  # e.g. kind = "gamma"
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        return ScenarioError(f"{field}.kind", ctx.get("tag", "nothing"), f"one of {tags}")
    if kind == "missing":
        return ScenarioError(field, "nothing", "a value (this field is required)")
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif message.startswith("Input should be "):
        message = message[len("Input should be ") :]
    message = message[0].lower() + message[1:]
    if message.startswith(("greater", "less")):
        message = "a value " + message
    return ScenarioError(field, value, message)
