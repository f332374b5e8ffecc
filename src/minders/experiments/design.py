"""The experiment file, its design points and the seed of every run.

An experiment file (TOML or YAML) looks like::

    name = "span_sweep"
    scenario = "../scenarios/overseas_workers.toml"   # relative to this file
    seed = 1
    replicates = 5
    set = { "run.steps" = 104 }                       # fixed overrides

    [design]
    method = "grid"                                   # grid, lhs, sobol or morris

    [parameters.worker_span]                          # a name of your choice ...
    paths = ["tiers.workers_china.span", "tiers.workers_russia.span"]
    values = [6, 12, 24]

    [parameters."model.purge_rate"]                   # ... or the dotted path itself
    low = 0.1
    high = 0.9
    num = 3

    [[metrics]]
    kind = "defection_rate"
    tier = ["workers_china", "workers_russia"]

:func:`load_experiment` validates it (one :class:`~minders.errors.ScenarioError`
naming field, value and expectation, like scenarios); :func:`build_sweep`
reads the base scenario, expands the design into points, checks that every
point makes a valid scenario and gives every run its id and seed.

Run ``r`` of point ``p`` has id ``p * replicates + r`` and the seed drawn
from ``numpy.random.SeedSequence(seed, spawn_key=(p, r))``, so a run's result
depends only on the experiment, never on the executor, the worker count, the
chunking or the order in which runs happen. With
``common_random_numbers = true`` the key is ``(r,)``: every point shares the
seeds of its replicates, and differences between points are not blurred by
independent noise.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from minders import kinds
from minders import spec as spec_module
from minders.errors import ScenarioError, ScenarioErrors
from minders.experiments.metrics import MetricSpec

_STRICT = ConfigDict(extra="forbid")

#: Sampling methods: a full grid, or samples drawn with SALib.
METHODS = ("grid", "lhs", "sobol", "morris")


def _overrides_as_dict(value: Any) -> Any:
    """Accept ``set = ["path=value", ...]`` (like ``--set``) as well as a table."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return dict(spec_module.parse_override(v) for v in value)
    return value


def _paths_as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Parameter(BaseModel):
    """One varied parameter: its values (a grid) or its range (grid or sampled designs).

    Give ``values``, or ``low`` and ``high`` (and for a grid ``num`` evenly spaced
    points or a ``step``). Sampled designs (lhs, sobol, morris) need ``low`` and
    ``high``. A parameter whose base value is an integer (a span, a size) is
    rounded; for sampled designs it is drawn on ``[low - 0.5, high + 0.5]`` so
    every integer of the range has the same chance.

    Examples
    --------
    >>> Parameter(low=2, high=10, step=4).grid_values(integer=True)
    [2, 6, 10]
    >>> Parameter(values=[0.1, 0.5]).grid_values(integer=False)
    [0.1, 0.5]
    """

    model_config = _STRICT
    paths: Annotated[list[str] | None, BeforeValidator(_paths_as_list)] = Field(
        None, description="Dotted paths this parameter sets (default: its own name)."
    )
    values: list[Any] | None = Field(None, description="Values to try (a grid).", min_length=1)
    low: float | None = Field(None, description="Lower end of the range.")
    high: float | None = Field(None, description="Upper end of the range.")
    num: int | None = Field(None, ge=1, description="Grid: number of evenly spaced values.")
    step: float | None = Field(None, gt=0.0, description="Grid: spacing from low up to high.")
    integer: bool | None = Field(
        None, description="Round to integers (default: when the base value is an integer)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        ranged = self.low is not None or self.high is not None
        if self.values is not None and (ranged or self.num is not None or self.step is not None):
            raise ScenarioError("values", self.values, "either values or low/high, not both")
        if self.values is None:
            if self.low is None or self.high is None:
                raise ScenarioError("low", self.low, "values, or both low and high")
            if self.high < self.low:
                raise ScenarioError("high", self.high, f"a number >= low ({self.low})")
            if self.num is not None and self.step is not None:
                raise ScenarioError("step", self.step, "either num or step, not both")
        return self

    def grid_values(self, integer: bool) -> list[Any]:
        """The values this parameter takes in a grid design."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        if self.num is not None:
            raw = np.linspace(self.low, self.high, self.num)
        elif self.step is not None:
            count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
            raw = self.low + self.step * np.arange(count)
        else:
            raise ScenarioError("num", None, "num or step for a grid over low..high")
        if integer:
            return list(dict.fromkeys(int(math.floor(x + 0.5)) for x in raw))
        return [float(x) for x in raw]

    def bounds(self, integer: bool) -> tuple[float, float]:
        """The sampling range (widened by half a unit for integers)."""
        assert self.low is not None and self.high is not None
        if integer:
            return self.low - 0.5, self.high + 0.5
        if self.high == self.low:  # SALib needs a range of positive width
            return self.low, self.low + 1e-12
        return self.low, self.high


class Design(BaseModel):
    """How the points are chosen.

    ``samples`` is the number of points for ``lhs``, the base sample size N
    for ``sobol`` (N (D + 2) points, N (2D + 2) with ``second_order``; N
    must be a power of two) and the number of trajectories for ``morris``
    (N (D + 1) points), D being the number of parameters.

    Examples
    --------
    >>> Design(method="sobol", samples=64).second_order
    False
    """

    model_config = _STRICT
    method: Literal["grid", "lhs", "sobol", "morris"] = Field(
        "grid", description="grid (every combination), lhs, sobol (Saltelli) or morris."
    )
    samples: int | None = Field(None, ge=1, description="Sample size (see above).")
    second_order: bool = Field(False, description="Sobol: also second-order indices.")
    levels: int = Field(4, ge=2, description="Morris: levels of the grid.")


class Output(BaseModel):
    """What to keep besides the per-run outcomes.

    Examples
    --------
    >>> Output(records=True).records
    True
    """

    model_config = _STRICT
    records: bool = Field(False, description="Also keep every run's per-step records.")


class Experiment(BaseModel):
    """An experiment file, validated.

    Examples
    --------
    >>> e = Experiment.model_validate({
    ...     "scenario": "base.toml", "replicates": 3,
    ...     "parameters": {"model.purge_rate": {"values": [0.1, 0.5]}},
    ...     "metrics": [{"kind": "defections"}]})
    >>> e.design.method, e.replicates
    ('grid', 3)
    """

    model_config = _STRICT
    name: str = Field("experiment", description="Short name (default results folder).")
    description: str = Field("", description="What the experiment asks.")
    scenario: str = Field(description="Base scenario file, relative to the experiment file.")
    seed: int = Field(0, ge=0, description="Experiment seed: every run's seed derives from it.")
    replicates: int = Field(1, ge=1, description="Runs per design point.")
    common_random_numbers: bool = Field(
        False, description="Same seeds at every point (replicate r gets the same seed).",
    )
    set: Annotated[dict[str, Any], BeforeValidator(_overrides_as_dict)] = Field(
        default_factory=dict, description="Fixed overrides of the base scenario (dotted paths).",
    )
    design: Design = Field(default_factory=Design)
    parameters: dict[str, Parameter] = Field(
        default_factory=dict, description="Parameters to vary, by name or dotted path."
    )
    metrics: list[MetricSpec] = Field(description="Outcomes to keep per run.", min_length=1)
    output: Output = Field(default_factory=Output)

    @model_validator(mode="after")
    def _structure(self) -> Experiment:
        method = self.design.method
        for name, param in self.parameters.items():
            if method == "grid" and param.values is None and param.num is None \
                    and param.step is None:
                raise ScenarioError(f"parameters.{name}.num", None,
                                    "num or step (or values) for a grid design")
            if method != "grid" and param.values is not None:
                raise ScenarioError(f"parameters.{name}.values", param.values,
                                    f"low and high: a {method} design samples a range")
        if method != "grid":
            if not self.parameters:
                raise ScenarioError("parameters", {}, f"at least one parameter for {method}")
            if self.design.samples is None:
                raise ScenarioError("design.samples", None, f"a sample size for {method}")
            n = self.design.samples
            if method == "sobol" and n & (n - 1):
                # SALib only warns, but Saltelli's estimates converge as designed at 2^k only
                low = 1 << (n.bit_length() - 1)
                raise ScenarioError(
                    "design.samples", n, f"a power of two for a sobol design ({low} or "
                    f"{2 * low}): the Sobol' sequence keeps its convergence properties only "
                    "at N = 2^k",
                )
        labels = [m.label for m in self.metrics]
        for k, label in enumerate(labels):
            if label in labels[:k]:
                raise ScenarioError(f"metrics.{k}.name", label,
                                    "a column name not used by another metric")
        return self

    def content_hash(self, base: dict[str, Any]) -> str:
        """SHA-256 of what determines the results: the design, the base scenario, the version.

        The name, description and the scenario's path are left out, so a renamed
        or moved experiment still resumes into its results.
        """
        from minders import __version__

        content = self.model_dump(mode="json", exclude={"name", "description", "scenario"})
        canonical = json.dumps({"experiment": content, "base": base, "minders": __version__},
                               sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


# --------------------------------------------------------------------------- loading
def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file; ``scenario`` becomes an absolute path.

    Parameters
    ----------
    path : str or Path
        A ``.toml``, ``.yaml`` or ``.yml`` experiment file, or the name of a
        bundled experiment. Its ``scenario`` is a path relative to the file
        or the name of a bundled scenario.

    Returns
    -------
    Experiment

    Raises
    ------
    ScenarioError
        Naming the field, the value and what was expected.

    Examples
    --------
    >>> e = load_experiment("span_sweep")
    >>> e.design.method, Path(e.scenario).name
    ('grid', 'overseas_workers.toml')
    """
    from minders import scenarios

    path = scenarios.resolve(path, "experiments")
    data = spec_module.read_mapping(path, "experiment")
    if isinstance(data.get("scenario"), str):
        data["scenario"] = str(scenarios.resolve(data["scenario"], relative_to=path.parent)
                               .resolve())
    return validate_experiment(data)


def validate_experiment(data: dict[str, Any]) -> Experiment:
    """Validate a raw dict into an :class:`Experiment`, with the scenarios' error messages.

    Examples
    --------
    >>> validate_experiment({"scenario": "s.toml", "metrics": [{"kind": "nope"}]})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: metrics.0.kind: expected one of defections, ...
    """
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        errors = [_translate(err) for err in exc.errors()]
        raise (errors[0] if len(errors) == 1 else ScenarioErrors(errors)) from None


def _translate(err: Any) -> ScenarioError:
    """Reuse the scenario messages; drop the metric tag pydantic puts in the location."""
    from minders.experiments.metrics import METRICS

    raw = tuple(err["loc"])
    clean = tuple(
        item for k, item in enumerate(raw)
        if not (k == 2 and raw[0] == "metrics" and item in METRICS)
    )
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        tag = (err.get("ctx") or {}).get("tag")
        where = ".".join(str(x) for x in clean) or "metrics"
        return ScenarioError(f"{where}.kind", tag if tag is not None else "nothing",
                             f"one of {', '.join(METRICS)}")
    translated = spec_module.translate_error({**err, "loc": clean}, Experiment)
    if err["type"] == "extra_forbidden":
        allowed = spec_module.allowed_fields(Experiment, raw)
        expected = "a known field" + (f" ({', '.join(allowed)})" if allowed else "")
        return ScenarioError(translated.field, translated.value, expected)
    return translated


# --------------------------------------------------------------------------- the sweep
@dataclass
class Sweep:
    """An experiment made concrete: base scenario, points, run ids and seeds.

    Attributes
    ----------
    experiment : Experiment
        The validated experiment file.
    base : dict
        The base scenario with the fixed overrides, resolved (``model_dump``).
    kind : str
        The scenario kind (see :mod:`minders.kinds`).
    parameters : list of str
        Names of the varied parameters (columns of ``points``).
    paths : dict
        Parameter name -> the dotted paths it sets.
    points : pandas.DataFrame
        One row per point: ``point`` and the value of each parameter.
    sample : numpy.ndarray or None
        The raw SALib sample (points x parameters) before rounding, for sampled designs.
    problem : dict or None
        The SALib problem (names, bounds) of a sampled design.
    hash : str
        :meth:`Experiment.content_hash`: a results folder only resumes the same hash.

    Examples
    --------
    >>> sweep = build_sweep(load_experiment("experiments/span_sweep.toml"))  # doctest: +SKIP
    >>> sweep.n_runs, sweep.seed_of(0)  # doctest: +SKIP
    """

    experiment: Experiment
    base: dict[str, Any]
    kind: str
    parameters: list[str]
    paths: dict[str, list[str]]
    points: pd.DataFrame
    sample: np.ndarray | None
    problem: dict[str, Any] | None
    hash: str
    point_hashes: list[str] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.points)

    @property
    def n_runs(self) -> int:
        """Points x replicates."""
        return self.n_points * self.experiment.replicates

    @property
    def metric_columns(self) -> list[str]:
        """Column names of the metrics, in file order."""
        return [m.label for m in self.experiment.metrics]

    def locate(self, run_id: int) -> tuple[int, int]:
        """``(point, replicate)`` of a run id."""
        return divmod(int(run_id), self.experiment.replicates)

    def seed_of(self, run_id: int) -> int:
        """The seed of a run (see the module docstring)."""
        point, replicate = self.locate(run_id)
        return run_seed(self.experiment.seed, point, replicate,
                        self.experiment.common_random_numbers)

    def overrides_of(self, point: int) -> dict[str, Any]:
        """Dotted path -> value for one point."""
        return {  # column by column: a row of mixed types would turn integers into floats
            path: _plain(self.points[name].iloc[point])
            for name in self.parameters for path in self.paths[name]
        }


def run_seed(seed: int, point: int, replicate: int, common: bool = False) -> int:
    """A run's seed: 63 bits from ``SeedSequence(seed, spawn_key=(point, replicate))``.

    Examples
    --------
    >>> run_seed(1, 0, 0) == run_seed(1, 0, 0) != run_seed(1, 0, 1)
    True
    >>> run_seed(1, 0, 2, common=True) == run_seed(1, 5, 2, common=True)
    True
    """
    key = (int(replicate),) if common else (int(point), int(replicate))
    state = np.random.SeedSequence(int(seed), spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))  # fits a signed 64-bit Parquet column


def build_sweep(experiment: Experiment, base: Any | None = None) -> Sweep:
    """Read the base scenario, expand the design and validate every point.

    Parameters
    ----------
    experiment : Experiment
        From :func:`load_experiment`.
    base : Scenario, optional
        Use this scenario instead of reading ``experiment.scenario``.

    Returns
    -------
    Sweep

    Raises
    ------
    ScenarioError
        If a path is not a parameter of the scenario, a metric names an unknown
        tier, or a point gives an invalid scenario (the message names the point).

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"tiers": {"w": {"size": 20, "minded_by": "m", "span": 5},
    ...                                        "m": {"size": "auto"}}})
    >>> e = Experiment.model_validate({"scenario": "-", "replicates": 2,
    ...     "parameters": {"tiers.w.span": {"values": [2, 5, 10]}},
    ...     "metrics": [{"kind": "surveillance_headcount"}]})
    >>> sweep = build_sweep(e, base=s)
    >>> sweep.n_points, sweep.n_runs, sweep.points["tiers.w.span"].tolist()
    (3, 6, [2, 5, 10])
    """
    if base is None:
        spec = kinds.load_scenario(experiment.scenario, experiment.set or None)
    else:
        spec = base.with_overrides(experiment.set) if experiment.set else base
    base_dict = spec.model_dump(mode="json")
    kind = spec.kind
    names = list(experiment.parameters)
    paths = {name: p.paths or [name] for name, p in experiment.parameters.items()}
    integer = {}
    for name in names:
        kinds_at = set()
        for path in paths[name]:
            found, value = _lookup(base_dict, path)
            if not found:
                raise ScenarioError(f"parameters.{name}", path,
                                    "a dotted path to a value of the base scenario "
                                    "(e.g. tiers.workers.span)")
            kinds_at.add(isinstance(value, int) and not isinstance(value, bool))
        explicit = experiment.parameters[name].integer
        integer[name] = explicit if explicit is not None else all(kinds_at)
    points, sample, problem = _expand(experiment, names, integer)
    _check_metrics(experiment, spec)
    sweep = Sweep(
        experiment=experiment, base=base_dict, kind=kind, parameters=names, paths=paths,
        points=points, sample=sample, problem=problem,
        hash=experiment.content_hash(base_dict),
    )
    sweep.point_hashes = [_validate_point(sweep, point) for point in range(sweep.n_points)]
    return sweep


def _expand(
    experiment: Experiment, names: list[str], integer: dict[str, bool]
) -> tuple[pd.DataFrame, np.ndarray | None, dict[str, Any] | None]:
    """The points table (and raw sample and SALib problem for sampled designs)."""
    design = experiment.design
    params = experiment.parameters
    if design.method == "grid":
        grids = [params[n].grid_values(integer[n]) for n in names]
        rows = list(itertools.product(*grids)) if names else [()]
        points = pd.DataFrame(rows, columns=names)
        points.insert(0, "point", np.arange(len(points), dtype=np.int64))
        return _typed(points, names), None, None
    problem = {
        "num_vars": len(names), "names": names,
        "bounds": [list(params[n].bounds(integer[n])) for n in names],
    }
    sample = _sample(design, problem, experiment.seed)
    columns = {}
    for k, name in enumerate(names):
        values = sample[:, k]
        if integer[name]:
            low, high = params[name].low, params[name].high
            columns[name] = np.clip(np.floor(values + 0.5), low, high).astype(np.int64)
        else:
            columns[name] = values.astype(float)
    points = pd.DataFrame({"point": np.arange(len(sample), dtype=np.int64), **columns})
    return points, sample, problem


def _sample(design: Design, problem: dict[str, Any], seed: int) -> np.ndarray:
    """Draw the design with SALib (imported here: it is slow to import)."""
    import warnings

    n = int(design.samples or 1)
    # SALib's samplers accept an integer seed; the same seed gives the same design.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sobol's N is a power of two (checked); morris, lhs
        if design.method == "lhs":
            from SALib.sample import latin

            return np.asarray(latin.sample(problem, n, seed=seed))
        if design.method == "sobol":
            from SALib.sample import sobol

            return np.asarray(sobol.sample(problem, n, calc_second_order=design.second_order,
                                           seed=seed))
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, n, num_levels=design.levels, seed=seed))


def _typed(points: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Give each parameter column one Parquet-friendly type (JSON text for anything else)."""
    for name in names:
        values = points[name].tolist()
        if all(isinstance(v, bool) for v in values):
            points[name] = points[name].astype(bool)
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            points[name] = points[name].astype(np.int64)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            points[name] = points[name].astype(float)
        elif all(isinstance(v, str) for v in values):
            points[name] = points[name].astype(object)
        else:  # tables (e.g. a distribution): stored as JSON text, applied as the value
            points[name] = [json.dumps(v, sort_keys=True) for v in values]
            points.attrs.setdefault("json", []).append(name)
    return points


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value a scenario expects (JSON text decoded)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _lookup(data: Any, path: str) -> tuple[bool, Any]:
    """Whether ``path`` names a value in the dumped scenario, and that value."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _check_metrics(experiment: Experiment, spec: Any) -> None:
    tiers = list(getattr(spec, "tiers", {}) or [])
    columns = None
    if spec.kind == "minders":
        from minders.records import COUNT_COLUMNS, RATE_COLUMNS

        columns = [*COUNT_COLUMNS, *RATE_COLUMNS]
    for k, metric in enumerate(experiment.metrics):
        try:
            metric.check(tiers, columns)
        except ScenarioError as exc:
            raise ScenarioError(f"metrics.{k}.{exc.field}", exc.value, exc.expected) from None


def _validate_point(sweep: Sweep, point: int) -> str:
    """Validate the scenario of one point; return its hash."""
    overrides = sweep.overrides_of(point)
    data = spec_module.apply_overrides(copy.deepcopy(sweep.base), overrides)
    try:
        spec = kinds.validate_scenario(data)
    except ScenarioError as exc:
        values = ", ".join(f"{n}={_plain(sweep.points[n].iloc[point])!r}"
                           for n in sweep.parameters)
        raise ScenarioError(
            f"parameters (point {point}: {values})", exc.value,
            f"values the scenario accepts ({exc.field}: expected {exc.expected})",
        ) from None
    return spec.scenario_hash()


def metric_specs(experiment: Experiment) -> list[dict[str, Any]]:
    """The metrics as plain dicts (how they travel to workers).

    Examples
    --------
    >>> e = Experiment.model_validate({"scenario": "-", "metrics": [{"kind": "cascade"}]})
    >>> metric_specs(e)[0]["window"], metric_specs(e)[0]["threshold"]
    (4, 0.01)
    """
    return [m.model_dump(mode="json") for m in experiment.metrics]
