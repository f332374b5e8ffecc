"""The experiment file's schema: what an experiment may say, validated once.

An experiment file (TOML or YAML) looks like::

    name = "span_sweep"
    scenario = "overseas_workers"   # a bundled scenario, or a path relative to this file
    seed = 1
    replicates = 5
    set = { "run.steps" = 104 }     # fixed overrides

    [design]
    method = "grid"                 # grid, lhs, sobol or morris

    [parameters.worker_span]        # a name of your choice ...
    paths = ["tiers.workers_china.span", "tiers.workers_russia.span"]
    values = [6, 12, 24]

    [parameters."model.purge_rate"] # ... or the dotted path itself
    low = 0.1
    high = 0.9
    num = 3

    [[metrics]]                     # optional: the kind's default metrics otherwise
    kind = "defection_rate"
    tier = ["workers_china", "workers_russia"]

:func:`load_experiment` validates it into an :class:`Experiment` (one
:class:`~minders.errors.ScenarioError` naming field, value and expectation,
like scenarios). Every number has finite bounds, NaN and infinities are
refused, and the size of the design (points x replicates) is checked
against :data:`MAX_RUNS` before anything is allocated. Turning the file into
points, run ids and seeds is :mod:`minders.experiments.design`'s business.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
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
from minders.experiments.warning.spec import WarningSpec

#: Runs (points x replicates) one experiment may hold. The run ids, the design table
#: and the list of runs still to do are allocated whole; ten million runs keep each
#: of them under a few hundred MB (a larger study is several experiments).
MAX_RUNS = 10_000_000
#: Largest magnitude of a parameter's range, step or numeric value: integers up to
#: 2**53 are exact as floats, so rounding a sampled integer parameter stays exact.
MAX_VALUE = 1e15

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

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
    values: list[Any] | None = Field(None, description="Values to try (a grid).", min_length=1,
                                     max_length=MAX_RUNS)
    low: float | None = Field(None, ge=-MAX_VALUE, le=MAX_VALUE,
                              description="Lower end of the range.")
    high: float | None = Field(None, ge=-MAX_VALUE, le=MAX_VALUE,
                               description="Upper end of the range.")
    num: int | None = Field(None, ge=1, le=MAX_RUNS,
                            description="Grid: number of evenly spaced values.")
    step: float | None = Field(None, gt=0.0, le=MAX_VALUE,
                               description="Grid: spacing from low up to high.")
    integer: bool | None = Field(
        None, description="Round to integers (default: when the base value is an integer)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        # Numbers here reach NumPy columns (int64, float64): refuse what they cannot hold.
        for value in self.values or []:
            if isinstance(value, int | float) and not isinstance(value, bool) and (
                    not math.isfinite(value) or abs(value) > MAX_VALUE):
                raise ScenarioError("values", value,
                                    f"finite numbers in [-{MAX_VALUE:g}, {MAX_VALUE:g}]")
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

    def grid_size(self) -> int:
        """Values of a grid over this parameter before integer rounding (0: no grid given).

        Computed without allocating anything, so a huge grid is refused before it is built.

        Examples
        --------
        >>> Parameter(low=0, high=1, step=0.25).grid_size(), Parameter(values=[1, 2]).grid_size()
        (5, 2)
        """
        if self.values is not None:
            return len(self.values)
        if self.num is not None:
            return self.num
        if self.step is not None and self.low is not None and self.high is not None:
            count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
            return int(min(count, MAX_RUNS + 1))  # anything above the limit is refused
        return 0

    def grid_values(self, integer: bool) -> list[Any]:
        """The values this parameter takes in a grid design."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        if self.num is not None:
            raw = np.linspace(self.low, self.high, self.num)
        elif self.step is not None:
            raw = self.low + self.step * np.arange(self.grid_size())
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
    samples: int | None = Field(None, ge=1, le=MAX_RUNS, description="Sample size (see above).")
    second_order: bool = Field(False, description="Sobol: also second-order indices.")
    levels: int = Field(4, ge=2, le=1000, description="Morris: levels of the grid.")


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
    seed: int = Field(0, ge=0, le=kinds.MAX_SEED,
                      description="Experiment seed: every run's seed derives from it.")
    replicates: int = Field(1, ge=1, le=MAX_RUNS, description="Runs per design point.")
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
    metrics: list[MetricSpec] | None = Field(
        None, description="Outcomes to keep per run (default: the scenario kind's defaults).",
        min_length=1, max_length=1000,
    )
    output: Output = Field(default_factory=Output)
    warning: WarningSpec | None = Field(
        None, description="Early-warning analysis of the runs (minders warning; docs/warning.md).",
    )

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
        points = self.planned_points()
        if points > MAX_RUNS:
            where = "parameters" if method == "grid" else "design.samples"
            raise ScenarioError(where, f"{points:,} points",
                                f"a design of at most {MAX_RUNS:,} points (runs in all)")
        if points * self.replicates > MAX_RUNS:
            raise ScenarioError(
                "replicates", self.replicates,
                f"at most {MAX_RUNS:,} runs in all (points x replicates); this design has "
                f"{points:,} points, so at most {MAX_RUNS // max(1, points):,} replicates "
                "(split the study into several experiments)",
            )
        labels = [m.label for m in self.metrics or []]
        for k, label in enumerate(labels):
            if label in labels[:k]:
                raise ScenarioError(f"metrics.{k}.name", label,
                                    "a column name not used by another metric")
        return self

    def planned_points(self) -> int:
        """Design points, known before any is drawn (a grid: before integer rounding).

        Examples
        --------
        >>> Experiment.model_validate({"scenario": "-", "design": {"method": "sobol",
        ...     "samples": 8}, "parameters": {"a": {"low": 0, "high": 1}}}).planned_points()
        24
        """
        method, count = self.design.method, len(self.parameters)
        if method == "grid":
            return math.prod(p.grid_size() for p in self.parameters.values())
        samples = self.design.samples or 1
        if method == "lhs":
            return samples
        if method == "sobol":  # Saltelli: N (D + 2), or N (2D + 2) with second order
            return samples * ((2 * count + 2) if self.design.second_order else (count + 2))
        return samples * (count + 1)  # morris: N trajectories of D + 1 points

    def content_hash(self, base: dict[str, Any]) -> str:
        """SHA-256 of what determines the results: the design, the base scenario, the version.

        The name, description and the scenario's path are left out, so a renamed
        or moved experiment still resumes into its results; so is the ``warning``
        table, which changes how runs are analysed, not the runs.
        """
        from minders import __version__

        content = self.model_dump(mode="json",
                                  exclude={"name", "description", "scenario", "warning"})
        return spec_module.content_hash(
            {"experiment": content, "base": base, "minders": __version__})


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
    data, _ = read_with_scenario(path, "experiments")
    return validate_experiment(data)


def read_with_scenario(path: str | Path, collection: str) -> tuple[dict[str, Any], Path]:
    """Read an experiment-like file (or a bundled one of ``collection``, by name).

    Its ``scenario`` (a path relative to the file, or a bundled name) becomes an
    absolute path. Returns the mapping and the file's path.
    """
    from minders import scenarios

    path = scenarios.resolve(path, collection)
    data = spec_module.read_mapping(path, collection[:-1])
    if isinstance(data.get("scenario"), str):
        data["scenario"] = str(scenarios.resolve(data["scenario"], relative_to=path.parent)
                               .resolve())
    return data, path


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


