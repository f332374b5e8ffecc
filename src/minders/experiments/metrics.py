"""Outcome metrics: one number per run, computed from ``Result.records``.

Each metric is a small pydantic model (so an experiment file validates it
like any other section) with a ``kind`` from :data:`METRICS` and a
``compute(view)`` method. A metric that takes ``tier`` pools the listed tiers
(default: all of them): counts are summed, ratios are recomputed from the
pooled counts.

Examples
--------
>>> spec = parse_metric({"kind": "defection_rate", "tier": "workers"})
>>> spec.label
'defection_rate_workers'
>>> sorted(METRICS)[:4]
['cascade', 'cascade_size', 'defection_rate', 'defections']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from minders import kinds
from minders.errors import ScenarioError

if TYPE_CHECKING:
    import pandas as pd

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


def _as_list(value: Any) -> Any:
    """Let ``tier = "workers"`` stand for ``tier = ["workers"]``."""
    return [value] if isinstance(value, str) else value


Tiers = Annotated[
    list[str] | None,
    BeforeValidator(_as_list),
    Field(description="Tier or tiers to pool (default: all tiers)."),
]


class RunView:
    """The records of one run as (step x tier) arrays, plus what metrics need of the scenario.

    Parameters
    ----------
    records : pandas.DataFrame
        ``Result.records``: one row per (step, tier) in step-major order.
    scenario : Scenario
        The scenario that was run.
    steps : int
        Steps simulated.

    Examples
    --------
    >>> import pandas as pd
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"tiers": {"w": {"size": 10, "minded_by": "m", "span": 5},
    ...                                        "m": {"size": "auto"}}})
    >>> rec = pd.DataFrame({"step": [0, 0, 1, 1], "tier": ["w", "m", "w", "m"],
    ...                     "defections": [1, 0, 2, 1]})
    >>> RunView(rec, s, steps=2).series("defections", ["w"]).tolist()
    [1.0, 2.0]
    """

    def __init__(self, records: pd.DataFrame, scenario: Any, steps: int) -> None:
        self.records = records
        self.scenario = scenario
        self.steps = int(steps)
        if "tier" in records.columns:
            self.tiers = [str(t) for t in dict.fromkeys(records["tier"].astype(str))]
        else:
            self.tiers = []
        self._cache: dict[str, np.ndarray] = {}

    @property
    def years(self) -> float:
        """Length of the run in years (``scenario.steps_per_year()``).

        Raises
        ------
        ScenarioError
            For a kind whose steps have no calendar length (``steps_per_year()``
            is None): per-year metrics are refused for it when the experiment
            is built, rather than counted per step under another name.
        """
        per_year = self.scenario.steps_per_year()
        if per_year is None:
            raise ScenarioError("metrics.kind", "a per-year metric",
                                f"a scenario kind with a calendar ({self.scenario.kind} "
                                "steps have none)")
        return self.steps / per_year

    def matrix(self, column: str) -> np.ndarray:
        """The column as a float (step x tier) array (one column when records have no tiers)."""
        if column not in self._cache:
            if column not in self.records.columns:
                known = ", ".join(c for c in self.records.columns if c not in ("step", "tier"))
                raise ScenarioError("metrics.column", column, f"a column of the records ({known})")
            values = self.records[column].to_numpy(dtype=float)
            width = max(1, len(self.tiers))
            self._cache[column] = values.reshape(-1, width)
        return self._cache[column]

    def select(self, tiers: list[str] | None) -> list[int]:
        """Column indices of ``tiers`` (all when None)."""
        if tiers is None:
            return list(range(max(1, len(self.tiers))))
        missing = [t for t in tiers if t not in self.tiers]
        if missing:
            raise ScenarioError("metrics.tier", missing[0], f"a tier ({', '.join(self.tiers)})")
        return [self.tiers.index(t) for t in tiers]

    def series(self, column: str, tiers: list[str] | None) -> np.ndarray:
        """Per-step sum of a count column over ``tiers``."""
        return self.matrix(column)[:, self.select(tiers)].sum(axis=1)

    def positions(self, tiers: list[str] | None) -> int:
        """Number of positions in ``tiers`` (all when None)."""
        sizes = self.scenario.tier_sizes()
        return int(sum(sizes[t] for t in (tiers if tiers is not None else sizes)))


class Metric(BaseModel):
    """Base of all metrics: an optional column ``name`` and the tiers to pool.

    Subclasses set ``kind`` (a literal), ``summary`` (one line) and ``compute``.

    Examples
    --------
    >>> Defections(tier="workers").label, Defections(name="d").label
    ('defections_workers', 'd')
    """

    model_config = _STRICT
    kind: str
    name: str | None = Field(None, description="Column name in the results (default: derived).")
    tier: Tiers = None

    #: One line for ``docs/experiments.md`` and help texts.
    summary: ClassVar[str] = ""
    #: Whether the metric counts per year (needs ``steps_per_year()``).
    per_year: ClassVar[bool] = False
    #: What it measures, which decides its interval (:mod:`minders.experiments.intervals`):
    #: probability, count, size, time, continuous or constant.
    quantity: ClassVar[str] = "continuous"

    def unit(self, scenario: Any, steps: int) -> float | None:
        """Value of one event in a run (counts and sizes; None for other quantities).

        A yearly count of zero events still has an upper bound: it needs what
        one event is worth (``1 / years``; over positions for a rate).

        Examples
        --------
        >>> from minders.scenario import Scenario
        >>> s = Scenario.model_validate({"run": {"steps_per_year": 52}, "tiers": {
        ...     "w": {"size": 100, "minded_by": "m", "span": 10}, "m": {"size": "auto"}}})
        >>> DefectionRate(tier="w").unit(s, 104)
        0.005
        """
        return None

    @property
    def label(self) -> str:
        """The column this metric gets in the runs table."""
        if self.name:
            return self.name
        return self.kind + ("_" + "+".join(self.tier) if self.tier else "")

    def measures(self) -> str:
        """The quantity this metric measures (one of ``intervals.QUANTITIES``).

        Examples
        --------
        >>> Cascade().measures(), Total(column="arrests").measures()
        ('probability', 'count')
        """
        return self.quantity

    def compute(self, view: RunView) -> float:  # pragma: no cover - abstract
        """The metric's value for one run."""
        raise NotImplementedError

    def check(self, tiers: list[str], columns: list[str] | None,
              steps_per_year: int | None = 52) -> None:
        """Raise :class:`ScenarioError` (field relative to the metric) if it cannot apply here.

        ``tiers`` are the scenario's groups, ``columns`` the value columns of its
        records (None: unknown) and ``steps_per_year`` its calendar (None: a
        kind whose steps have no length in time, where per-year metrics are refused).
        """
        if self.per_year and steps_per_year is None:
            raise ScenarioError("kind", self.kind, "a metric per run or per step: this "
                                "scenario kind's steps have no length in time")
        for tier in self.tier or []:
            if tier not in tiers:
                raise ScenarioError("tier", tier, f"a tier of the scenario ({', '.join(tiers)})")


class Defections(Metric):
    """Total successful defections over the run."""

    kind: Literal["defections"] = "defections"
    summary: ClassVar[str] = "total defections over the run"
    quantity: ClassVar[str] = "count"

    def compute(self, view: RunView) -> float:
        """Sum of the ``defections`` flow."""
        return float(view.series("defections", self.tier).sum())

    def unit(self, scenario: Any, steps: int) -> float | None:
        """One defection."""
        return 1.0


class DefectionsPerYear(Metric):
    """Mean yearly number of defections."""

    kind: Literal["defections_per_year"] = "defections_per_year"
    summary: ClassVar[str] = "defections per year (count)"
    quantity: ClassVar[str] = "count"
    per_year: ClassVar[bool] = True

    def compute(self, view: RunView) -> float:
        """Total defections divided by the run's length in years."""
        return float(view.series("defections", self.tier).sum() / view.years)

    def unit(self, scenario: Any, steps: int) -> float | None:
        """One defection over the run's years."""
        per_year = scenario.steps_per_year()
        return per_year / steps if per_year else None


class DefectionRate(Metric):
    """Yearly defection rate: defections per year per position of the pooled tiers."""

    kind: Literal["defection_rate"] = "defection_rate"
    summary: ClassVar[str] = "defections per year / positions (share of the tiers per year)"
    quantity: ClassVar[str] = "count"
    per_year: ClassVar[bool] = True

    def compute(self, view: RunView) -> float:
        """Defections per year over positions."""
        total = view.series("defections", self.tier).sum()
        return float(total / view.years / view.positions(self.tier))

    def unit(self, scenario: Any, steps: int) -> float | None:
        """One defection over the run's years and the pooled positions."""
        per_year = scenario.steps_per_year()
        sizes = scenario.tier_sizes()
        positions = sum(sizes[t] for t in (self.tier or sizes) if t in sizes)
        return per_year / steps / positions if per_year and positions else None


class PeakSurpriseGap(Metric):
    """Largest surprise gap (true minus measured discontent) over the run."""

    kind: Literal["peak_surprise_gap"] = "peak_surprise_gap"
    summary: ClassVar[str] = "max over steps of true - measured discontent (pooled tiers)"

    def compute(self, view: RunView) -> float:
        """Pooled gap: (aggrieved - active) / in post, per step; its maximum."""
        in_post = view.series("in_post", self.tier)
        hidden = view.series("aggrieved", self.tier) - view.series("active", self.tier)
        gap = np.divide(hidden, in_post, out=np.zeros_like(hidden), where=in_post > 0)
        return float(gap.max()) if gap.size else 0.0


class CascadeSize(Metric):
    """Largest number of defections within ``window`` consecutive steps."""

    kind: Literal["cascade_size"] = "cascade_size"
    window: int = Field(4, ge=1, le=kinds.MAX_STEPS, description="Steps in the moving window.")
    summary: ClassVar[str] = "most defections in any `window` consecutive steps (default 4)"
    quantity: ClassVar[str] = "size"

    def compute(self, view: RunView) -> float:
        """Maximum of the moving sum of defections."""
        return float(_moving_sum(view.series("defections", self.tier), self.window).max(initial=0))

    def unit(self, scenario: Any, steps: int) -> float | None:
        """One defection."""
        return 1.0


class _CascadeRule(Metric):
    """A cascade: at least ``threshold`` x positions defect within ``window`` steps."""

    window: int = Field(4, ge=1, le=kinds.MAX_STEPS, description="Steps in the moving window.")
    threshold: float = Field(
        0.01, gt=0.0, le=1.0,
        description="Share of the pooled tiers' positions that makes a cascade."
    )

    def _first(self, view: RunView) -> int | None:
        moving = _moving_sum(view.series("defections", self.tier), self.window)
        hits = np.flatnonzero(moving >= self.threshold * view.positions(self.tier))
        return int(hits[0]) if hits.size else None


class Cascade(_CascadeRule):
    """1 if a cascade happened, else 0 (its mean over replicates is the cascade probability)."""

    kind: Literal["cascade"] = "cascade"
    summary: ClassVar[str] = ("1 if >= `threshold` (0.01) of positions defect within `window` "
                              "steps, else 0")
    quantity: ClassVar[str] = "probability"

    def compute(self, view: RunView) -> float:
        """Indicator of a cascade."""
        return 0.0 if self._first(view) is None else 1.0


class TimeToCascade(_CascadeRule):
    """Step at which the first cascade completes; the horizon (``steps``) when none does."""

    kind: Literal["time_to_cascade"] = "time_to_cascade"
    summary: ClassVar[str] = "first step a cascade completes; `steps` if none (censored)"
    quantity: ClassVar[str] = "time"

    def compute(self, view: RunView) -> float:
        """Step index of the first cascade, censored at the horizon."""
        first = self._first(view)
        return float(view.steps if first is None else first)


class SurveillanceHeadcount(Metric):
    """Positions in minder tiers (``tier`` restricts to some of them)."""

    kind: Literal["surveillance_headcount"] = "surveillance_headcount"
    summary: ClassVar[str] = "positions in minder tiers (a design quantity, same every run)"
    quantity: ClassVar[str] = "constant"

    def compute(self, view: RunView) -> float:
        """Sum of the sizes of the minder tiers."""
        minders = view.scenario.minder_tiers()
        chosen = [t for t in (self.tier or minders) if t in minders]
        return float(view.positions(chosen)) if chosen else 0.0


class SurveillanceShare(Metric):
    """Minder positions as a share of all positions."""

    kind: Literal["surveillance_share"] = "surveillance_share"
    summary: ClassVar[str] = "positions in minder tiers / all positions"
    quantity: ClassVar[str] = "constant"

    def compute(self, view: RunView) -> float:
        """Headcount over population."""
        headcount = SurveillanceHeadcount(tier=self.tier).compute(view)
        return headcount / view.positions(None)


class _ColumnMetric(Metric):
    """A statistic of any records column, over all steps or a window of them."""

    column: str = Field(description="A column of the records.")
    start: int | None = Field(
        None, ge=0, le=kinds.MAX_STEPS,
        description="First step of the window (recorded steps, 0 = the first; default: 0).",
    )
    end: int | None = Field(
        None, ge=1, le=kinds.MAX_STEPS,
        description="Step after the window's last (default: the end of the run).",
    )

    @model_validator(mode="after")
    def _window_is_ordered(self) -> _ColumnMetric:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        return self

    @property
    def label(self) -> str:
        """Column name in the runs table (default ``KIND_COLUMN[_TIER]``)."""
        if self.name:
            return self.name
        return f"{self.kind}_{self.column}" + ("_" + "+".join(self.tier) if self.tier else "")

    def values(self, view: RunView) -> np.ndarray:
        """Per-step values: counts summed over tiers; a ratio column needs a single tier."""
        from minders.records import RATE_COLUMNS

        if self.column in RATE_COLUMNS:
            chosen = view.select(self.tier)
            if len(chosen) != 1:
                raise ScenarioError(f"metrics.{self.label}.tier", self.tier,
                                    f"a single tier for the ratio column '{self.column}'")
            values = view.matrix(self.column)[:, chosen[0]]
        else:
            values = view.series(self.column, self.tier)
        return values[self.start : self.end]

    def check(self, tiers: list[str], columns: list[str] | None,
              steps_per_year: int | None = 52) -> None:
        """Also check that the column exists (when the records' columns are known)."""
        super().check(tiers, columns, steps_per_year)
        if columns is not None and self.column not in columns:
            raise ScenarioError("column", self.column,
                                f"a column of the records ({', '.join(columns)})")
        from minders.records import RATE_COLUMNS

        if self.column in RATE_COLUMNS and (self.tier is None or len(self.tier) != 1):
            if len(tiers) != 1:
                raise ScenarioError("tier", self.tier,
                                    f"a single tier for the ratio column '{self.column}'")


class Total(_ColumnMetric):
    """Sum over the steps of a column (a flow such as ``arrests``)."""

    kind: Literal["total"] = "total"
    summary: ClassVar[str] = "sum over steps of `column` (e.g. arrests, purges)"
    quantity: ClassVar[str] = "count"

    def compute(self, view: RunView) -> float:
        """Sum over steps."""
        return float(self.values(view).sum())

    def unit(self, scenario: Any, steps: int) -> float | None:
        """One event of a count column (None for a ratio column, summed as a continuous value)."""
        from minders.records import RATE_COLUMNS

        return None if self.column in RATE_COLUMNS else 1.0

    def measures(self) -> str:
        """A count, except the sum of a ratio column (a continuous value)."""
        from minders.records import RATE_COLUMNS

        return "continuous" if self.column in RATE_COLUMNS else "count"


class Peak(_ColumnMetric):
    """Maximum over the steps of a column."""

    kind: Literal["peak"] = "peak"
    summary: ClassVar[str] = "max over steps of `column`"

    def compute(self, view: RunView) -> float:
        """Maximum over steps."""
        return float(self.values(view).max(initial=-np.inf))


class Final(_ColumnMetric):
    """Value of a column at the last step."""

    kind: Literal["final"] = "final"
    summary: ClassVar[str] = "`column` at the last step"

    def compute(self, view: RunView) -> float:
        """Last value."""
        values = self.values(view)
        return float(values[-1]) if values.size else float("nan")


class Mean(_ColumnMetric):
    """Mean over the steps of a column."""

    kind: Literal["mean"] = "mean"
    summary: ClassVar[str] = "mean over steps of `column`"

    def compute(self, view: RunView) -> float:
        """Mean over steps."""
        values = self.values(view)
        return float(values.mean()) if values.size else float("nan")


class _ShareRule(Metric):
    """The share of the pooled tiers' positions whose holders are in some statuses."""

    statuses: list[Literal["active", "defected", "jailed", "purged", "repatriated",
                           "falsifying", "loyal"]] = Field(
        ["active", "defected"], min_length=1,
        description="Statuses counted: by default those who dissent openly or have gone.",
    )

    def shares(self, view: RunView) -> np.ndarray:
        """Per-step share of the positions of ``tier`` holding one of ``statuses``."""
        counted = sum(view.series(status, self.tier) for status in self.statuses)
        return np.asarray(counted, dtype=float) / max(1, view.positions(self.tier))


class PeakShare(_ShareRule):
    """Largest share of positions active or gone (by default) at any step: an uprising's size."""

    kind: Literal["peak_share"] = "peak_share"
    summary: ClassVar[str] = ("max over steps of the share of positions in `statuses` "
                              "(default: active or defected)")

    def compute(self, view: RunView) -> float:
        """Maximum share over the steps."""
        return float(self.shares(view).max(initial=0.0))


class Uprising(_ShareRule):
    """1 if at some step more than ``threshold`` of the positions are active or gone, else 0.

    The cascade definition of the tipping-point experiment: open dissent and
    exit that spread beyond a tenth of a population (by default) at once.
    """

    kind: Literal["uprising"] = "uprising"
    threshold: float = Field(
        0.1, gt=0.0, lt=1.0,
        description="Share of the pooled tiers' positions, active or gone, that makes a cascade.",
    )
    summary: ClassVar[str] = ("1 if more than `threshold` (0.1) of positions are active or "
                              "defected at some step, else 0")
    quantity: ClassVar[str] = "probability"

    def compute(self, view: RunView) -> float:
        """Indicator of a share above the threshold."""
        return float(np.any(self.shares(view) > self.threshold))


#: The registry: metric kind -> class.
METRICS: dict[str, type[Metric]] = {
    cls.model_fields["kind"].default: cls
    for cls in (
        Defections, DefectionsPerYear, DefectionRate, PeakSurpriseGap, CascadeSize, Cascade,
        TimeToCascade, SurveillanceHeadcount, SurveillanceShare, Total, Peak, Final, Mean,
        PeakShare, Uprising,
    )
}

MetricSpec = Annotated[
    Defections | DefectionsPerYear | DefectionRate | PeakSurpriseGap | CascadeSize | Cascade
    | TimeToCascade | SurveillanceHeadcount | SurveillanceShare | Total | Peak | Final | Mean
    | PeakShare | Uprising,
    Field(discriminator="kind"),
]


def parse_metric(data: dict[str, Any]) -> Metric:
    """Validate one metric given as a dict (as it travels to a worker).

    Examples
    --------
    >>> parse_metric({"kind": "total", "column": "arrests"}).label
    'total_arrests'
    """
    kind = data.get("kind")
    if kind not in METRICS:
        raise ScenarioError("metrics.kind", kind, f"one of {', '.join(METRICS)}")
    return METRICS[kind].model_validate(data)


def compute_metrics(result: Any, metrics: list[Metric]) -> list[float]:
    """Every metric's value for one :class:`~minders.result.Result`.

    Examples
    --------
    >>> import minders
    >>> s = minders.Scenario.model_validate({"run": {"steps": 4}, "tiers": {
    ...     "w": {"size": 40, "minded_by": "m", "span": 10}, "m": {"size": "auto"}}})
    >>> compute_metrics(minders.simulate(s), [parse_metric({"kind": "surveillance_headcount"})])
    [4.0]
    """
    view = RunView(result.records, result.scenario, result.steps)
    return [metric.compute(view) for metric in metrics]


def _moving_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of each ``window`` consecutive values ending at every step (shorter at the start)."""
    cumulative = np.cumsum(values)
    shifted = np.concatenate([np.zeros(min(window, values.size)), cumulative[:-window]])
    return cumulative - shifted[: values.size]
