"""What every scenario kind shares: the base model, files, overrides, validation, hashes.

A scenario of any kind (the minders model, Epstein, Granovetter, Watts,
Kuran) is a pydantic model extending :class:`ScenarioBase`. This module
reads TOML and YAML files into plain mappings (:func:`parse_mapping`),
applies dotted-path overrides (``--set tiers.workers.span=40``), validates a
mapping into a model and turns every pydantic problem into one
:class:`~minders.errors.ScenarioError` that names the field, the value and
what was expected (:func:`validate_as`). Which class validates a file is the
registry's business (:mod:`minders.kinds`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Self, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from minders.distributions import MODELS as _DIST_MODELS
from minders.errors import ScenarioError, ScenarioErrors

#: Largest seed: NumPy's SeedSequence takes any non-negative integer, but run ids,
#: Parquet columns and Numba's stream keys hold seeds as int64.
MAX_SEED = 2**63 - 1
#: Longest horizon (steps, burn-in included) any kind accepts: records and shock
#: tables are preallocated per step, and Numba holds steps as int32 in places.
MAX_STEPS = 10_000_000

#: Model configuration of every scenario section: unknown keys and NaN/inf are refused.
STRICT = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class ScenarioBase(BaseModel):
    """Fields and methods every scenario kind has.

    A kind's scenario class extends this one with a ``kind`` literal (its
    only value is the kind's name), a ``name`` and a ``run`` section holding
    at least ``steps`` and ``seed`` (the methods here rely on them), and
    overrides the methods below where it has more to say.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"tiers": {"w": {"size": 10}}})
    >>> len(s.scenario_hash()), s.with_overrides(["run.steps=5"]).run.steps
    (64, 5)
    """

    model_config = STRICT

    def scenario_hash(self) -> str:
        """SHA-256 of the canonical JSON of the resolved scenario."""
        return content_hash(self.model_dump(mode="json"))

    def with_overrides(self, overrides: list[str] | dict[str, Any]) -> Self:
        """Return a copy with dotted-path overrides applied (see :func:`apply_overrides`)."""
        data = self.model_dump(mode="json", exclude_unset=False)
        return validate_as(type(self), apply_overrides(data, overrides))

    def shocks_after(self, steps: int) -> list[str]:
        """Labels of the shocks that start at or after ``steps`` (a shorter run misses them)."""
        return []

    def groups(self) -> list[str]:
        """Named groups of the records (the tiers of the minders model; none by default)."""
        return []

    def steps_per_year(self) -> int | None:
        """Steps in a year, where a step has a calendar length (None: it has none)."""
        return None

    def describe(self) -> str:
        """One line for ``minders validate``."""
        return f"{self.kind} scenario '{self.name}', {self.run.steps:,} steps"


def content_hash(data: Any) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no spaces) of ``data``."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------- files and overrides
#: Largest scenario or experiment file read (bytes): real ones are a few KiB.
MAX_FILE_BYTES = 1 << 20
#: Deepest nesting of tables and lists in a file (a scenario needs 4).
MAX_DEPTH = 32
#: Most values a YAML document may expand to through its aliases (``*name``).
MAX_YAML_NODES = 100_000


def parse_mapping(
    content: str | bytes, suffix: str, source: str, what: str = "scenario"
) -> dict[str, Any]:
    r"""Parse TOML or YAML text (by ``suffix``) whose top level is a mapping (no validation).

    ``source`` (a path or file name) and ``what`` ("scenario", "experiment")
    name the file in error messages. Files larger than :data:`MAX_FILE_BYTES`,
    nested deeper than :data:`MAX_DEPTH` or YAML whose aliases expand past
    :data:`MAX_YAML_NODES` values are refused before they can exhaust time or
    memory.

    Examples
    --------
    >>> parse_mapping("name = 'x'", ".toml", "x.toml")
    {'name': 'x'}
    >>> try:
    ...     parse_mapping("a: [1, 2\n", ".yaml", "x.yaml")
    ... except ScenarioError as exc:
    ...     print(exc.expected)
    valid YAML (line 2, column 1: expected ',' or ']', but got '<stream end>')
    """
    suffix = suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise ScenarioError(what, source, "a .toml, .yaml or .yml file")
    if len(content) > MAX_FILE_BYTES:
        raise ScenarioError(what, source, f"a file of at most {MAX_FILE_BYTES // 1024:,} KiB")
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(what, source, "a UTF-8 text file") from None
    kind = suffix[1:].replace("yml", "yaml").upper()
    try:
        data = tomllib.loads(content) if suffix == ".toml" else _load_yaml(content, what, source)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc).splitlines()[0]
        raise ScenarioError(what, source, f"valid {kind} ({detail})") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise ScenarioError(what, source, f"valid {kind} ({where}{exc.problem})") from None
    except yaml.YAMLError as exc:
        detail = str(exc).splitlines()[0]
        raise ScenarioError(what, source, f"valid {kind} ({detail})") from None
    except RecursionError:
        raise ScenarioError(what, source, f"tables and lists nested at most {MAX_DEPTH} "
                            "levels deep") from None
    if not isinstance(data, dict):
        parts = "sections" if what == "scenario" else "fields"
        raise ScenarioError(what, source, f"a mapping of {parts} at the top level")
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError(what, source, f"tables and lists nested at most {MAX_DEPTH} "
                            "levels deep")
    return data


def _load_yaml(text: str, what: str, source: str) -> Any:
    """``yaml.safe_load``, refusing documents whose aliases expand too far (an alias bomb)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_YAML_NODES:
            raise ScenarioError(what, source, f"YAML that expands to at most "
                                f"{MAX_YAML_NODES:,} values (its aliases repeat too much)")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> float:
    """Values in the document with every alias expanded, counted without expanding them.

    Aliases share node objects, so memoising the size of each node counts
    the expansion in time linear in the distinct nodes. A node that contains
    itself expands without end.
    """
    size: dict[int, float] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            continue
        if key in size:
            continue
        if key in open_nodes:  # a node that contains itself (recursive anchor)
            return float("inf")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _depth(data: Any) -> int:
    """Nesting depth of dicts and lists (iterative: deep input cannot recurse)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def read_mapping(path: str | Path, what: str = "scenario") -> dict[str, Any]:
    """Read a TOML or YAML file whose top level is a mapping (see :func:`parse_mapping`)."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(what, str(path), f"an existing {what} file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError(what, str(path), f"a file of at most {MAX_FILE_BYTES // 1024:,} KiB")
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
    deep = f"a value nested at most {MAX_DEPTH} levels deep"
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except RecursionError:  # tomllib recurses once per level: [[[[...]]]] exhausts the stack
        raise ScenarioError(f"--set {key}", raw, deep) from None
    except tomllib.TOMLDecodeError:
        if raw.startswith(("[", "{", '"', "'")):  # meant as a TOML value: say what is wrong
            raise ScenarioError(
                f"--set {key}", raw,
                'a TOML value (quote strings inside lists and tables: ["residents"])',
            ) from None
        value = raw  # a bare word is taken as a string
    if _depth(value) > MAX_DEPTH:
        raise ScenarioError(f"--set {key}", raw, deep)
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


def validate_as(cls: type[BaseModel], data: Any) -> Any:
    """Validate ``data`` as a ``cls``, turning every problem into one :class:`ScenarioError`.

    Several problems are reported together (:class:`~minders.errors.ScenarioErrors`).

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> validate_as(Scenario, {"tiers": {"w": {"size": 1.5}}})
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: tiers.w.size: expected an integer in [1, ...] or 'auto', got 1.5
    """
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        errors = [translate_error(err, cls, data) for err in exc.errors()]
        raise (errors[0] if len(errors) == 1 else ScenarioErrors(errors)) from None


# --------------------------------------------------------------------------- messages
_DIST_FIELDS = {"hardship", "risk_aversion", "threshold"}


def _clean_loc(loc: tuple[Any, ...], data: Any = None) -> list[str]:
    """Drop pydantic's union tags (``hardship.beta.a`` -> ``hardship.a``).

    With the validated ``data``, a location item is a tag when the value at
    that point is a mapping whose ``kind`` is the item (and which has no key
    of that name); without it, the distribution tags are recognised by name.

    Examples
    --------
    >>> _clean_loc(("population", "threshold", "list", "values", 0),
    ...            {"population": {"threshold": {"kind": "list", "values": ["x"]}}})
    ['population', 'threshold', 'values', '0']
    """
    parts: list[str] = []
    node = data
    for raw in loc:
        item = str(raw)
        if isinstance(node, dict) and raw not in node and node.get("kind") == raw:
            continue  # a tagged union's tag, not a key of the file
        if not isinstance(node, dict) and parts and parts[-1] in _DIST_FIELDS \
                and item in _DIST_MODELS:  # a bare number made a constant distribution
            continue
        if item.startswith("function-") or item in ("int", "literal['auto']", "str"):
            continue
        parts.append(item)
        if isinstance(node, dict):
            node = node.get(raw)
        elif isinstance(node, list) and isinstance(raw, int) and 0 <= raw < len(node):
            node = node[raw]
        else:
            node = None
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


def translate_error(err: dict[str, Any], cls: type[BaseModel], data: Any = None) -> ScenarioError:
    """Turn one pydantic error of a ``cls`` model into a :class:`ScenarioError`.

    ``data``, the mapping that was validated, lets the field's path leave out
    the tags pydantic adds for tagged unions.
    """
    loc = _clean_loc(err["loc"], data)
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
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1) if loc else []
        if close:
            expected = f"a known field (did you mean '{close[0]}'?; known: {', '.join(allowed)})"
        return ScenarioError(field, value if value is not None else loc[-1], expected)
    if kind in ("union_tag_invalid", "union_tag_not_found"):  # e.g. kind = "gamma"
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        return ScenarioError(f"{field}.kind", ctx.get("tag", "nothing"), f"one of {tags}")
    if kind == "missing":
        return ScenarioError(field, "nothing", "a value (this field is required)")
    if kind == "too_long" and "max_length" in ctx:  # e.g. more than 1,000 tiers
        return ScenarioError(field, f"{len(value):,} items" if hasattr(value, "__len__") else
                             value, f"at most {ctx['max_length']:,} items")
    return ScenarioError(field, value, expected_from(err["msg"]))


def expected_from(message: str) -> str:
    """What a pydantic error message says was expected, in the words of :class:`ScenarioError`.

    Examples
    --------
    >>> expected_from("Input should be greater than or equal to 1")
    'a value greater than or equal to 1'
    >>> expected_from("Value error, Not a tier")
    'not a tier'
    """
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif message.startswith("Input should be "):
        message = message[len("Input should be ") :]
    message = message[0].lower() + message[1:]
    if message.startswith(("greater", "less")):
        message = "a value " + message
    return message
