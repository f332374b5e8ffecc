"""The ``[warning]`` table of an experiment file: cascades, indicators, windows, survey.

An early-warning experiment is an ordinary experiment file (an ensemble or
a sweep around a tipping point, see :mod:`minders.experiments.schema`) with
a ``[warning]`` table::

    [warning.cascade]          # what counts as a cascade
    tiers = ["residents"]
    share = 0.10               # active or gone, as a share of the tiers' positions
    start = 150                # first step the share is looked at
    [warning]
    window = 26                # rolling window (steps)
    detrend = "gaussian"       # none, linear or gaussian
    leads = [0, 4, 8, 13]      # steps before the cascade at which runs are scored
    [[warning.indicators]]     # optional: the default list otherwise
    column = "defections"
    tiers = ["elites"]
    [warning.survey]           # optional: a simulated survey of defectors
    runs = 40

Examples
--------
>>> spec = WarningSpec.model_validate({"cascade": {"share": 0.2, "start": 30}})
>>> [i.label for i in spec.indicator_list()][:3]
['measured_discontent', 'arrests', 'defections']
>>> WarningSpec.model_validate({"cascade": {"start": 30},
...     "indicators": [{"column": "true_discontent"}]})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for WarningSpec
...
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from minders.errors import ScenarioError
from minders.experiments.warning.indicators import DETRENDING, STATISTICS
from minders.experiments.warning.observables import OBSERVABLE

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)
#: Upper bound of every step count here (a century of weeks is 5,200).
MAX_STEPS = 1_000_000

#: Indicators scored when the file lists none: each pooled over every tier.
DEFAULT_INDICATORS = (
    "measured_discontent", "arrests", "defections", "interceptions", "purges",
    "repatriations", "groups", "jail_occupancy",
)
#: Stocks that may count towards a cascade ("active or gone").
CASCADE_STOCKS = ("active", "jailed", "purged", "repatriated", "defected")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Tiers = Annotated[list[str] | None, BeforeValidator(_as_list),
                  Field(None, description="Tiers pooled (default: all tiers).")]


class Cascade(BaseModel):
    """What counts as a cascade: the share active or gone crosses ``share`` in a window.

    Examples
    --------
    >>> Cascade(share=0.1, start=100).count
    ['active', 'defected']
    """

    model_config = _STRICT
    tiers: Tiers
    share: float = Field(0.1, gt=0.0, le=1.0,
                         description="Threshold on (counted stocks) / positions of the tiers.")
    count: list[Literal["active", "jailed", "purged", "repatriated", "defected"]] = Field(
        default_factory=lambda: ["active", "defected"], min_length=1,
        description="Stocks counted as 'active or gone'.")
    start: int = Field(0, ge=0, le=MAX_STEPS, description="First step of the cascade window.")
    end: int | None = Field(None, ge=0, le=MAX_STEPS,
                            description="Step after the last of the window (default: the end).")

    @model_validator(mode="after")
    def _window(self) -> Cascade:
        if self.end is not None and self.end <= self.start:
            raise ScenarioError("end", self.end, f"a step after start ({self.start})")
        return self


class Indicator(BaseModel):
    """One observable column, pooled over some tiers.

    Examples
    --------
    >>> Indicator(column="defections", tiers=["elites"]).label
    'defections_elites'
    """

    model_config = _STRICT
    column: str = Field(description="An observable column of the records.")
    tiers: Tiers
    name: str | None = Field(None, min_length=1, max_length=100,
                             description="Label (default: column and tiers).")

    @model_validator(mode="after")
    def _observable(self) -> Indicator:
        if self.column not in OBSERVABLE:
            raise ScenarioError("column", self.column,
                                f"an observable column ({', '.join(OBSERVABLE)})")
        return self

    @property
    def label(self) -> str:
        """The indicator's name in tables and figures."""
        if self.name:
            return self.name
        return "_".join([self.column, *(self.tiers or [])])


class Survey(BaseModel):
    """A simulated survey of those who left.

    Examples
    --------
    >>> Survey().runs, Survey().sample
    (0, 100)
    """

    model_config = _STRICT
    runs: int = Field(0, ge=0, le=10_000,
                      description="Runs re-run step by step for the survey (0: no survey).")
    sample: int = Field(100, ge=1, le=1_000_000,
                        description="Interviews per survey (leavers sampled).")
    recall: int = Field(26, ge=1, le=MAX_STEPS,
                        description="A survey at step t interviews those who left in the last "
                        "'recall' steps.")
    tiers: Tiers


class WarningSpec(BaseModel):
    """The ``[warning]`` table, validated.

    Examples
    --------
    >>> WarningSpec.model_validate({"cascade": {"start": 60}}).window
    26
    """

    model_config = _STRICT
    cascade: Cascade = Field(default_factory=Cascade)
    indicators: list[Indicator] | None = Field(
        None, min_length=1, max_length=100,
        description="Observable indicators (default: the usual counts, all tiers).")
    statistics: list[Literal["level", "trend", "variance", "ac1", "skewness"]] = Field(
        default_factory=lambda: list(STATISTICS), min_length=1,
        description="Rolling statistics of each indicator.")
    window: int = Field(26, ge=3, le=MAX_STEPS, description="Rolling window, in steps.")
    detrend: Literal["none", "linear", "gaussian"] = Field(
        "gaussian", description=f"Detrending before variance, ac1, skewness ({DETRENDING}).")
    bandwidth: float = Field(13.0, gt=0.0, le=MAX_STEPS,
                             description="Gaussian detrending: kernel s.d., in steps.")
    leads: list[int] = Field(
        default_factory=lambda: [0, 4, 8, 13, 26], min_length=1, max_length=1000,
        description="Steps before the cascade at which runs are scored.")
    quantile: float = Field(0.95, gt=0.0, lt=1.0,
                            description="Alarm threshold: this quantile of the baseline values.")
    calibrate: Literal["baseline", "quiet"] = Field(
        "baseline", description="Where the alarm threshold comes from: the baseline steps of "
        "every run, or the highest values of half the runs that did not cascade while "
        "watched (false alarms then counted on the other half).")
    baseline: list[int] | None = Field(
        None, min_length=2, max_length=2,
        description="[start, end) steps whose values set the alarm thresholds "
        "(default: from the first full window to cascade.start).")
    align: Literal["cascade", "shock"] = Field(
        "cascade", description="Trajectory figure: steps relative to the cascade or a shock.")
    shock: int = Field(0, ge=0, le=10_000, description="Shock aligned on (align = 'shock').")
    confidence: float = Field(0.95, gt=0.0, lt=1.0, description="Level of the AUC intervals.")
    benchmark: bool = Field(
        True, description="Also score true discontent (hidden) as a benchmark.")
    survey: Survey = Field(default_factory=Survey)

    @model_validator(mode="after")
    def _consistent(self) -> WarningSpec:
        for k, lead in enumerate(self.leads):
            if not 0 <= lead <= MAX_STEPS:
                raise ScenarioError(f"leads.{k}", lead, f"a step count in [0, {MAX_STEPS}]")
        labels = [i.label for i in self.indicator_list()]
        for k, label in enumerate(labels):
            if label in labels[:k]:
                raise ScenarioError(f"indicators.{k}.name", label,
                                    "a name not used by another indicator")
        if self.baseline is not None:
            low, high = self.baseline
            if not 0 <= low < high:
                raise ScenarioError("baseline", self.baseline, "[start, end) with 0 <= start < end")
        return self

    def indicator_list(self) -> list[Indicator]:
        """The indicators scored (the file's, or :data:`DEFAULT_INDICATORS`)."""
        if self.indicators is not None:
            return list(self.indicators)
        return [Indicator(column=c) for c in DEFAULT_INDICATORS]

    def baseline_steps(self) -> tuple[int, int]:
        """``[start, end)`` of the baseline: given, or first full window .. cascade start."""
        if self.baseline is not None:
            return self.baseline[0], self.baseline[1]
        return self.window - 1, self.cascade.start
