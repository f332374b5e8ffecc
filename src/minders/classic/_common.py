"""Pieces shared by the classic models: run sections, threshold distributions, fixed points.

The threshold models (Granovetter 1978, Kuran 1991, Watts 2002) draw one
threshold per agent from a list or a distribution; :func:`sample_thresholds`
does it from a named random stream. :func:`iterate_shares` runs the
synchronous map ``r(t+1) = F(r(t))`` of a complete population to its fixed
point, with optional threshold shifts on the way (Kuran's shocks).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from minders.distributions import Bounded
from minders.errors import ScenarioError
from minders.spec import MAX_SEED, MAX_STEPS, ScenarioBase

#: Unknown keys are refused, and so are NaN and infinities: no classic parameter means
#: anything as NaN, and an infinite threshold or density is a typo, not a model.
STRICT = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

#: Most people of the complete-population models (Granovetter, Kuran): 40 bytes each, and
#: a step over 10^8 of them already takes tens of seconds.
MAX_PEOPLE = 10_000_000

#: A share written as 0.03 counts as reached by 3 agents of 100: comparisons of
#: thresholds with shares allow this much rounding error.
SHARE_TOLERANCE = 1e-9


# --------------------------------------------------------------------------- run sections
class ClassicRun(BaseModel):
    """How long to run and with which seed (mirrors :class:`minders.scenario.RunParams`)."""

    model_config = STRICT
    steps: int = Field(
        200, ge=1, le=MAX_STEPS, description="Number of steps (updates) to simulate."
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Base seed of every random stream.")
    max_memory_gb: float | None = Field(
        None, gt=0.0, description="Refuse scenarios whose estimated memory exceeds this (GiB). "
        "Default: 80% of this machine's physical memory.",
    )


class ThresholdRun(ClassicRun):
    """Run section of the threshold models, which may stop at a fixed point."""

    stop_at_fixed_point: bool = Field(
        True, description="Stop after the first update that changes nothing (and no shock is "
        "still to come); Result.steps then holds the updates actually run.",
    )


class ClassicScenario(ScenarioBase):
    """Methods every classic scenario shares (the fields live in each kind's class).

    Each kind defines :meth:`estimate_bytes`, :meth:`size_field`,
    :meth:`describe` and :meth:`shocks_after`; its validator calls
    :meth:`check_fits`, so that a scenario too large for memory is refused
    when it is loaded, before anything is allocated.
    """

    def estimate_bytes(self, steps: int | None = None) -> int:
        """Rough peak memory of a run of ``steps`` (default ``run.steps``) steps, in bytes."""
        raise NotImplementedError

    def size_field(self) -> tuple[str, str]:
        """The field that sets the scenario's size, and its value in words (for messages)."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for ``minders validate``."""
        raise NotImplementedError

    def shocks_after(self, steps: int) -> list[str]:
        """Labels of the shocks that a run of ``steps`` steps ends before (none by default)."""
        return []

    def check_fits(self, steps: int | None = None) -> None:
        """Refuse, before anything is allocated, a run too large for memory.

        The limit is :func:`minders.population.memory_limit`'s:
        ``run.max_memory_gb``, or 80% of physical memory.

        Raises
        ------
        ScenarioError
            Naming the field that sets the size (or ``run.steps``).
        """
        from minders.population import memory_limit

        need, limit = self.estimate_bytes(steps), memory_limit(self)
        if need <= limit:
            return
        field, value = self.size_field()
        if steps is not None and self.estimate_bytes(1) <= limit:
            field, value = "run.steps", steps  # the horizon alone is too long
        raise ScenarioError(
            field, value,
            f"a scenario whose estimated memory ({need / 2**30:,.1f} GiB) fits in "
            f"{limit / 2**30:,.1f} GiB (make it smaller or raise run.max_memory_gb)",
        )


def steps_bytes(steps: int, per_step: int) -> int:
    """Bytes of the per-step arrays and records of a run of ``steps`` steps."""
    return (steps + 1) * per_step


def mib(n_bytes: int) -> str:
    """``n_bytes`` as a rounded number of MiB, for :meth:`ClassicScenario.describe`.

    Examples
    --------
    >>> mib(3 * 2**20 + 5)
    '~3 MiB'
    """
    return f"~{max(1, round(n_bytes / 2**20)):,} MiB"


# --------------------------------------------------------------------------- thresholds
Sampling = Literal["random", "quantiles"]
_SAMPLING_HELP = (
    "'random': independent draws; 'quantiles': the n quantiles (k + 1/2)/n of the "
    "distribution, a deterministic population that follows it as closely as n allows."
)


class ThresholdList(BaseModel):
    """Every agent's threshold, listed (the population has one agent per entry)."""

    model_config = STRICT
    kind: Literal["list"] = "list"
    values: list[float] = Field(min_length=1, description="One threshold per agent.")


class ThresholdConstant(BaseModel):
    """Every agent has the same threshold."""

    model_config = STRICT
    kind: Literal["constant"] = "constant"
    value: float = Field(description="The threshold of every agent.")


class ThresholdUniform(Bounded):
    """Thresholds uniform on ``[low, high]`` (``Bounded`` refuses ``high < low``)."""

    model_config = STRICT
    kind: Literal["uniform"] = "uniform"
    low: float = Field(0.0, description="Lower bound.")
    high: float = Field(1.0, description="Upper bound.")
    sampling: Sampling = Field("random", description=_SAMPLING_HELP)


class ThresholdNormal(BaseModel):
    """Normal thresholds (Granovetter 1978, Fig. 2), optionally clipped to ``[low, high]``."""

    model_config = STRICT
    kind: Literal["normal"] = "normal"
    mean: float = Field(description="Mean.")
    sd: float = Field(ge=0.0, description="Standard deviation.")
    low: float | None = Field(None, description="Draws below are set to low (none: no floor).")
    high: float | None = Field(None, description="Draws above are set to high (none: no cap).")
    sampling: Sampling = Field("random", description=_SAMPLING_HELP)

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdNormal:
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ScenarioError("high", self.high, f"a number >= low ({self.low})")
        return self


class ThresholdEmpirical(BaseModel):
    """Thresholds drawn from observed values (with replacement, optionally weighted)."""

    model_config = STRICT
    kind: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1, description="Observed thresholds.")
    weights: list[float] | None = Field(
        None, description="Relative weight of each value (none: equal weights)."
    )
    sampling: Sampling = Field("random", description=_SAMPLING_HELP)

    @model_validator(mode="after")
    def _weights(self) -> ThresholdEmpirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ScenarioError(
                    "weights", f"{len(self.weights)} weights", f"{len(self.values)} (one per value)"
                )
            if min(self.weights) < 0 or sum(self.weights) <= 0:
                raise ScenarioError("weights", self.weights, "weights >= 0 with a positive sum")
        return self


THRESHOLD_KINDS = ("list", "constant", "uniform", "normal", "empirical")


def _threshold_shorthand(value: Any) -> Any:
    """A bare number is a constant; a bare list is a list of thresholds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"kind": "constant", "value": value}
    if isinstance(value, list | tuple):
        return {"kind": "list", "values": list(value)}
    if isinstance(value, dict) and "kind" not in value:
        raise ValueError(f"a 'kind' key, one of {', '.join(THRESHOLD_KINDS)}")
    return value


ThresholdSpec = Annotated[
    ThresholdList | ThresholdConstant | ThresholdUniform | ThresholdNormal | ThresholdEmpirical,
    Field(discriminator="kind"),
    BeforeValidator(_threshold_shorthand),
]


def population_size(spec: Any, size: int | None, field: str) -> int:
    """The number of agents: the list's length, or ``size`` for a distribution.

    Raises
    ------
    ScenarioError
        When a list and a different ``size`` are both given, or neither is.
    """
    if isinstance(spec, ThresholdList):
        if size is not None and size != len(spec.values):
            raise ScenarioError(
                field, size, f"{len(spec.values)} (the length of the threshold list) or nothing"
            )
        return len(spec.values)
    if size is None:
        raise ScenarioError(field, None, "an integer >= 1 (required when thresholds are drawn)")
    return size


def check_threshold_bounds(spec: Any, field: str, low: float = 0.0, high: float = 1.0) -> None:
    """Refuse a threshold specification that can give a value outside ``[low, high]``.

    A normal distribution must be clipped (``low`` and ``high`` set) inside the bounds.

    Raises
    ------
    ScenarioError
        Naming ``field`` (or ``field.low``/``field.high``), the value and the bounds.

    Examples
    --------
    >>> check_threshold_bounds(ThresholdConstant(value=0.18), "cascade.threshold")
    >>> check_threshold_bounds(ThresholdConstant(value=1.5), "cascade.threshold")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: cascade.threshold: expected a value in [0, 1], got 1.5
    """
    inside = f"a value in [{low:g}, {high:g}]"
    if isinstance(spec, ThresholdList | ThresholdEmpirical):
        for k, value in enumerate(spec.values):
            if not low <= value <= high:
                raise ScenarioError(f"{field}.values.{k}", value, inside)
    elif isinstance(spec, ThresholdConstant):
        if not low <= spec.value <= high:
            raise ScenarioError(field, spec.value, inside)
    elif isinstance(spec, ThresholdUniform | ThresholdNormal):
        clip = " (clip the normal: set low and high)" if isinstance(spec, ThresholdNormal) else ""
        for side in ("low", "high"):
            value = getattr(spec, side)
            if value is None or not low <= value <= high:
                raise ScenarioError(f"{field}.{side}", value, inside + clip)


def sample_thresholds(spec: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` thresholds from ``spec`` with ``rng`` (unused for lists and quantiles).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> sample_thresholds(ThresholdList(values=[0, 1, 1]), 3, rng).tolist()
    [0.0, 1.0, 1.0]
    >>> sample_thresholds(ThresholdUniform(low=0, high=1, sampling="quantiles"), 4, rng).tolist()
    [0.125, 0.375, 0.625, 0.875]
    """
    if isinstance(spec, ThresholdList):
        return np.asarray(spec.values, dtype=np.float64)
    if isinstance(spec, ThresholdConstant):
        return np.full(n, spec.value, dtype=np.float64)
    quantiles = spec.sampling == "quantiles"
    levels = (np.arange(n) + 0.5) / n if quantiles else rng.random(n)
    if isinstance(spec, ThresholdUniform):
        return spec.low + (spec.high - spec.low) * levels
    if isinstance(spec, ThresholdNormal):
        if quantiles:
            from scipy.special import ndtri

            values = spec.mean + spec.sd * ndtri(levels)
        else:
            values = rng.normal(spec.mean, spec.sd, n)
        lo = -np.inf if spec.low is None else spec.low
        hi = np.inf if spec.high is None else spec.high
        return np.clip(values, lo, hi)
    if isinstance(spec, ThresholdEmpirical):
        values = np.asarray(spec.values, dtype=np.float64)
        weights = np.ones(values.size) if spec.weights is None else np.asarray(spec.weights)
        order = np.argsort(values, kind="stable")
        cdf = np.cumsum(weights[order]) / weights.sum()
        # inverse CDF of the weighted empirical distribution
        picks = np.minimum(np.searchsorted(cdf, levels, side="right"), values.size - 1)
        return values[order][picks]
    raise TypeError(f"unknown threshold distribution {spec!r}")


# --------------------------------------------------------------------------- fixed points
def iterate_shares(
    thresholds: np.ndarray,
    steps: int,
    *,
    unit: Literal["count", "share"] = "share",
    initial: float = 0.0,
    stop_at_fixed_point: bool = True,
    shifts: dict[int, Callable[[np.ndarray], None]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Iterate ``r(t+1) = #{i : threshold_i <= r(t)}`` on a complete population.

    Granovetter's (1978) synchronous threshold dynamics, and Kuran's (1991)
    public opposition ``S(t+1) = share whose threshold is at most S(t)``.

    Parameters
    ----------
    thresholds : float array
        One threshold per agent, in counts (``unit="count"``) or population
        shares (``unit="share"``).
    steps : int
        Most updates to run.
    unit : {"count", "share"}
        Whether thresholds are numbers of others acting or shares of the population.
    initial : float
        ``r(0)``, in the unit of the thresholds.
    stop_at_fixed_point : bool
        Stop after the first update that changes nothing, unless a shift is
        still to come.
    shifts : dict, optional
        ``{step: f}``: before computing ``r(step)``, ``f(thresholds)`` edits
        the thresholds in place (a shock).
    progress : callable, optional
        ``progress(done, total)`` after each update.

    Returns
    -------
    active : int array
        Number of agents acting after each update, ``active[0]`` at the start
        (the count ``round(initial)`` or ``round(initial * n)``).
    steps_run : int
        Updates performed: ``active.size - 1``.

    Examples
    --------
    Granovetter's riot of 100 with thresholds 0, 1, ..., 99 (all riot):

    >>> active, steps = iterate_shares(np.arange(100.0), 500, unit="count")
    >>> int(active[-1]), steps
    (100, 101)
    """
    thresholds = np.array(thresholds, dtype=np.float64)
    n = thresholds.size
    shifts = dict(shifts or {})
    last_shift = max(shifts, default=0)
    ordered = np.sort(thresholds)
    active = np.zeros(steps + 1, dtype=np.int64)
    level = float(initial)
    active[0] = round(initial) if unit == "count" else round(initial * n)
    t = 0
    for t in range(1, steps + 1):
        if t in shifts:
            shifts[t](thresholds)
            ordered = np.sort(thresholds)
        # those whose threshold the level of the last step reaches act now
        reach = level if unit == "count" else level + SHARE_TOLERANCE
        count = int(np.searchsorted(ordered, reach, side="right"))
        active[t] = count
        previous, level = level, (float(count) if unit == "count" else count / n)
        if progress is not None:
            progress(t, steps)
        if stop_at_fixed_point and t >= last_shift and level == previous:
            break  # r(t) = r(t-1): a fixed point of F, and no shock is still to come
    return active[: t + 1], t
