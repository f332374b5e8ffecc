"""The calibration file's schema: what a calibration may say, validated once.

A calibration file (TOML or YAML) looks like::

    name = "north_korea_arrivals"
    scenario = "border_history"       # a bundled scenario, or a path relative to this file
    seed = 1
    start_year = 2002                 # calendar year of the first recorded step
    set = { "tiers.borderlanders.size" = 20000 }   # fixed overrides (a smaller world)

    [parameters."tiers.borderlanders.border_chance"]   # a dotted path, as in sweeps
    prior = "loguniform"              # uniform, loguniform, normal or beta
    low = 0.0005
    high = 0.02

    [parameters."observation.delay.mean"]              # the observation model's own
    prior = "uniform"
    low = 0.1
    high = 1.5

    [data]
    dataset = "nk_defector_arrivals_mou"   # a minders.data dataset, or file = "x.csv"
    time = "year_start"
    value = "total"
    period = "year"                   # year, quarter or month
    source = "Ministry of Unification"

    [observation]
    represents = 5_000_000            # real people the counted positions stand for
    delay = { kind = "gamma", mean = 0.5, shape = 2.0 }
    [[observation.events]]
    period = "2004"
    count = 468
    label = "Vietnam airlift"

    [inference]
    population = 100
    generations = 8

:func:`load_calibration` validates it into a :class:`Calibration` whose
problems are one :class:`~minders.errors.ScenarioError` each, like
scenarios. :func:`check_parameters` then checks every fitted path against
the base scenario: that it exists and that the prior's range stays inside
the parameter's own bounds.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from minders import spec as spec_module
from minders.errors import ScenarioError

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)

#: Prior kinds and the fields each one needs.
PRIORS = ("uniform", "loguniform", "normal", "beta")
#: Calendar periods the observation model aggregates to, and their number per year.
PERIODS: dict[str, int] = {"year": 1, "quarter": 4, "month": 12}
#: Prior quantiles that must give a valid scenario (a normal prior has no hard ends).
PRIOR_TAIL = 1e-4


class Prior(BaseModel):
    """The prior of one fitted parameter.

    ``uniform`` and ``loguniform`` take ``low`` and ``high``; ``normal`` takes
    ``mean`` and ``sd``; ``beta`` takes ``a`` and ``b`` on [``low``, ``high``]
    (default [0, 1]). ``integer = true`` rounds the value before it is set
    (a span, a delay in steps).

    Examples
    --------
    >>> Prior(prior="loguniform", low=0.001, high=0.1).support()
    (0.001, 0.1)
    """

    model_config = _STRICT
    prior: Literal["uniform", "loguniform", "normal", "beta"] = Field(
        description="Distribution: uniform, loguniform, normal or beta.")
    low: float | None = Field(None, ge=-1e12, le=1e12, description="Lower end.")
    high: float | None = Field(None, ge=-1e12, le=1e12, description="Upper end.")
    mean: float | None = Field(None, ge=-1e12, le=1e12, description="Mean (normal).")
    sd: float | None = Field(None, gt=0, le=1e12, description="Standard deviation (normal).")
    a: float | None = Field(None, gt=0, le=1e6, description="First shape (beta).")
    b: float | None = Field(None, gt=0, le=1e6, description="Second shape (beta).")
    integer: bool = Field(False, description="Round the value to an integer before setting it.")

    @model_validator(mode="after")
    def _fields(self) -> Prior:
        need = {"uniform": ("low", "high"), "loguniform": ("low", "high"),
                "normal": ("mean", "sd"), "beta": ("a", "b")}[self.prior]
        for name in need:
            if getattr(self, name) is None:
                raise ScenarioError(name, "nothing", f"a value (a {self.prior} prior needs "
                                    f"{' and '.join(need)})")
        if self.prior == "beta" and (self.low is None) != (self.high is None):
            raise ScenarioError("low", self.low, "both low and high, or neither (beta)")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ScenarioError("high", self.high, f"a value above low ({self.low})")
        if self.prior == "loguniform" and not (self.low or 0) > 0:
            raise ScenarioError("low", self.low, "a value > 0 (a loguniform prior)")
        return self

    def support(self) -> tuple[float, float]:
        """The range that holds all but :data:`PRIOR_TAIL` of the prior at each end."""
        if self.prior == "normal":
            from scipy.stats import norm

            return (float(norm.ppf(PRIOR_TAIL, self.mean, self.sd)),
                    float(norm.ppf(1 - PRIOR_TAIL, self.mean, self.sd)))
        if self.prior == "beta":
            return (self.low if self.low is not None else 0.0,
                    self.high if self.high is not None else 1.0)
        return float(self.low), float(self.high)  # type: ignore[arg-type]

    def rv(self) -> Any:
        """The prior as a frozen :mod:`scipy.stats` distribution."""
        from scipy import stats

        if self.prior == "uniform":
            return stats.uniform(self.low, self.high - self.low)
        if self.prior == "loguniform":
            return stats.loguniform(self.low, self.high)
        if self.prior == "normal":
            return stats.norm(self.mean, self.sd)
        low, high = self.support()
        return stats.beta(self.a, self.b, loc=low, scale=high - low)

    def describe(self) -> str:
        """``loguniform(0.001, 0.1)`` and the like, for tables."""
        if self.prior == "normal":
            return f"normal({self.mean:g}, {self.sd:g})"
        if self.prior == "beta":
            low, high = self.support()
            return f"beta({self.a:g}, {self.b:g}) on [{low:g}, {high:g}]"
        return f"{self.prior}({self.low:g}, {self.high:g})"


class DataSpec(BaseModel):
    """Where the observed series comes from and which columns hold it."""

    model_config = _STRICT
    file: str | None = Field(None, description="CSV or Parquet file (relative to the "
                             "calibration file).")
    dataset: str | None = Field(None, description="A dataset of minders.data instead of a file.")
    time: str = Field("year", description="Column holding the period: a year (period = year), "
                      "or a label such as 2019Q3 or 2019-07.")
    value: str = Field("total", description="Column holding the observed counts.")
    period: Literal["year", "quarter", "month"] = Field("year", description="Calendar period "
                                                        "of one row.")
    first: str | int | None = Field(None, description="First period used (default: the "
                                    "first in the data).")
    last: str | int | None = Field(None, description="Last period used (default: the last).")
    source: str = Field("", description="Where the data come from (shown on figures).")

    @model_validator(mode="after")
    def _one_source(self) -> DataSpec:
        if (self.file is None) == (self.dataset is None):
            raise ScenarioError("data", "file" if self.file else "nothing",
                                "exactly one of data.file or data.dataset")
        return self


class Delay(BaseModel):
    """Time from leaving to being counted on arrival: gamma-distributed, in years."""

    model_config = _STRICT
    kind: Literal["gamma", "none"] = Field("gamma", description="gamma, or none (no delay).")
    mean: float = Field(0.5, ge=0, le=20, description="Mean delay (years).")
    shape: float = Field(2.0, gt=0, le=1000, description="Gamma shape (1: exponential).")


class Event(BaseModel):
    """A known one-off arrival, given as data and added to the model's (not fitted)."""

    model_config = _STRICT
    period: str | int = Field(description="The period it is counted in (2004, 2019Q3, 2019-07).")
    count: float = Field(ge=0, le=1e9, description="People counted.")
    label: str = Field("", description="What happened.")


class Observation(BaseModel):
    """How simulated departures become recorded arrivals."""

    model_config = _STRICT
    quantity: Literal["expected_defections", "defections"] = Field(
        "expected_defections", description="Record summed over the tiers: the expected escape "
        "flow (low noise, default) or realised defections.")
    tiers: list[str] | None = Field(None, description="Tiers counted (default: all).")
    scale: float | None = Field(None, gt=0, le=1e9, description="Simulated positions per real "
                                "person (give this or represents).")
    represents: float | None = Field(None, gt=0, le=1e12, description="Real people the counted "
                                     "tiers' positions stand for (scale = positions / this).")
    delay: Delay = Field(default_factory=Delay)
    events: list[Event] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _one_scale(self) -> Observation:
        if (self.scale is None) == (self.represents is None):
            raise ScenarioError("observation.scale", self.scale,
                                "exactly one of observation.scale or observation.represents")
        return self


class Summary(BaseModel):
    """Summary statistics: the aggregated series, transformed, with an adaptive distance."""

    model_config = _STRICT
    transform: Literal["log1p", "sqrt", "identity"] = Field(
        "log1p", description="Applied to every period's count before the distance.")


class Inference(BaseModel):
    """ABC-SMC settings."""

    model_config = _STRICT
    population: int = Field(100, ge=4, le=100_000, description="Particles per generation.")
    generations: int = Field(8, ge=1, le=100, description="Most generations.")
    quantile: float = Field(0.5, gt=0, lt=1, description="Each generation's epsilon is this "
                            "quantile of the last one's distances (lower: faster, fewer accepted).")
    min_epsilon: float = Field(0.0, ge=0, le=1e12, description="Stop below this epsilon.")
    min_acceptance: float = Field(0.01, ge=0, le=1, description="Stop below this acceptance "
                                  "rate.")
    max_simulations: int = Field(1_000_000, ge=1, le=10**9, description="Stop after this many "
                                 "simulations in all.")
    predictive: int = Field(100, ge=2, le=100_000, description="Posterior draws simulated for "
                            "the predictive bands.")


class HistoryMatching(BaseModel):
    """An optional first stage: a Gaussian-process emulator narrows the priors before ABC."""

    model_config = _STRICT
    samples: int = Field(0, ge=0, le=100_000, description="Latin-hypercube simulations over "
                         "the priors (0: no history matching).")
    candidates: int = Field(20_000, ge=100, le=10_000_000, description="Points the emulator "
                            "judges.")
    cutoff: float = Field(3.0, gt=0, le=100, description="Implausibility above which a point "
                          "is ruled out (3: Pukelsheim's three-sigma rule).")
    tolerance: float = Field(0.1, gt=0, le=1e9, description="Model discrepancy and observation "
                             "error, as an sd in the units of the transformed summary.")


class Calibration(BaseModel):
    """A complete, validated calibration file.

    Examples
    --------
    >>> c = validate_calibration({"scenario": "border_closure", "start_year": 2018,
    ...     "parameters": {"shocks.0.value": {"prior": "uniform", "low": 0, "high": 1}},
    ...     "data": {"file": "x.csv"}, "observation": {"scale": 0.02}})
    >>> c.parameter_names()
    ['shocks.0.value']
    """

    model_config = _STRICT
    name: str = Field("calibration", max_length=200, description="Short name.")
    description: str = Field("", description="What is fitted, and why.")
    scenario: str = Field(description="Base scenario: a path relative to this file, or a "
                          "bundled name.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed overrides of the "
                                "scenario (dotted paths).")
    seed: int = Field(1, ge=0, le=spec_module.MAX_SEED, description="Seed of the whole "
                      "calibration.")
    start_year: float = Field(ge=1000, le=3000, description="Calendar time (year) of the "
                              "first recorded step.")
    fit_until: str | int | None = Field(None, description="Fit only periods up to this one; "
                                        "score the forecast of the rest.")
    parameters: dict[str, Prior] = Field(min_length=1, max_length=50,
                                         description="Fitted parameters by dotted path.")
    data: DataSpec
    observation: Observation
    summary: Summary = Field(default_factory=Summary)
    inference: Inference = Field(default_factory=Inference)
    history_matching: HistoryMatching = Field(default_factory=HistoryMatching)
    folder: str | None = Field(None, description="Folder of the calibration file (set by "
                               "load_calibration; relative files start there).")

    @field_validator("set", mode="before")
    @classmethod
    def _set_as_dict(cls, value: Any) -> Any:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return dict(spec_module.parse_override(v) for v in value)
        return value

    @field_validator("parameters")
    @classmethod
    def _paths(cls, value: dict[str, Prior]) -> dict[str, Prior]:
        for path in value:
            if path.startswith("observation.") and path not in OBSERVATION_PATHS:
                raise ScenarioError(f"parameters.{path}", path,
                                    f"one of {', '.join(OBSERVATION_PATHS)} (the observation "
                                    "model's fitted values) or a scenario path")
        return value

    def parameter_names(self) -> list[str]:
        """The fitted parameters' dotted paths, in file order."""
        return list(self.parameters)


#: Values of the observation model that may be fitted, and their bounds.
OBSERVATION_PATHS: dict[str, tuple[float, float]] = {
    "observation.delay.mean": (0.0, 20.0),
    "observation.delay.shape": (1e-9, 1000.0),
    "observation.scale": (1e-12, 1e9),
    "observation.represents": (1e-9, 1e12),
}


def validate_calibration(data: dict[str, Any]) -> Calibration:
    """Validate a raw dict into a :class:`Calibration`, with the scenarios' error messages.

    Examples
    --------
    >>> try:
    ...     validate_calibration({"scenario": "x"})
    ... except ScenarioError as exc:
    ...     print(exc.errors[0])
    start_year: expected a value (this field is required), got 'nothing'
    """
    return spec_module.validate_as(Calibration, data)


def load_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file (or a bundled calibration, by name).

    ``scenario`` becomes an absolute path and ``folder`` the file's folder.

    Examples
    --------
    >>> c = load_calibration("north_korea_arrivals")
    >>> c.data.dataset, Path(c.scenario).name
    ('nk_defector_arrivals_mou', 'border_history.toml')
    """
    from minders.experiments.schema import read_with_scenario

    data, path = read_with_scenario(path, "calibrations")
    data["folder"] = str(path.parent.resolve())
    return validate_calibration(data)


def base_scenario_data(calibration: Calibration) -> dict[str, Any]:
    """The base scenario as a raw dict with the fixed ``set`` overrides applied."""
    from minders import scenarios

    data = spec_module.read_scenario_file(scenarios.resolve(calibration.scenario))
    return spec_module.apply_overrides(data, dict(calibration.set))


def check_parameters(calibration: Calibration, base: dict[str, Any]) -> None:
    """Check that every fitted path exists and its prior stays inside the parameter's bounds.

    Each scenario path is set to both ends of its prior's range
    (:meth:`Prior.support`) and the scenario validated; an unknown path or an
    end the scenario refuses raises a :class:`ScenarioError` naming the
    parameter.
    """
    from minders import kinds

    resolved = kinds.validate_scenario(copy.deepcopy(base)).model_dump(mode="json")
    for path, prior in calibration.parameters.items():
        field = f"parameters.{path}"
        low, high = prior.support()
        if path in OBSERVATION_PATHS:
            lowest, highest = OBSERVATION_PATHS[path]
            if low < lowest or high > highest:
                raise ScenarioError(field, f"{prior.describe()}",
                                    f"a prior inside the parameter's bounds [{lowest:g}, "
                                    f"{highest:g}]")
            continue
        if not _path_exists(resolved, path):
            raise ScenarioError(field, path, "the dotted path of a number in the base "
                                "scenario")
        for end in (low, high):
            value = round(end) if prior.integer else end
            try:
                kinds.validate_scenario(spec_module.apply_overrides(copy.deepcopy(base),
                                                                    {path: value}))
            except ScenarioError as exc:
                raise ScenarioError(field, prior.describe(),
                                    f"a prior inside the parameter's bounds ({exc})") from None


def _path_exists(data: Any, path: str) -> bool:
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return isinstance(node, int | float) and not isinstance(node, bool) and math.isfinite(node)
