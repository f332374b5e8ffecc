"""The observed series and the observation model that turns departures into arrivals.

The model's records count departures per step (its expected escape flow,
``expected_defections``, by default). A receiving country records
*arrivals* per calendar period. :class:`ObservationModel` bridges the two:

1. sum the chosen record over the counted tiers, per step;
2. delay every departure by a gamma-distributed time (its mean may be fitted);
   departures before the first recorded step, still in transit when the
   records start, are taken as the first year's mean flow;
3. aggregate the steps into calendar periods (year, quarter, month);
4. divide by the scale (simulated positions per real person);
5. add known one-off events given as data (an airlift), which are not fitted.

:func:`load_observed` reads the observed series from a CSV or Parquet file
(or a dataset of :mod:`minders.data`) and refuses missing periods and
non-numeric values with one line each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from minders.errors import ScenarioError
from minders.experiments.calibration.schema import PERIODS

if TYPE_CHECKING:
    from minders.experiments.calibration.schema import Calibration, Observation


# --------------------------------------------------------------------------- periods
def period_code(value: Any, period: str, field: str = "period") -> int:
    """An integer that numbers calendar periods in order (``year * per_year + index``).

    Examples
    --------
    >>> period_code(2004, "year"), period_code("2004Q2", "quarter"), period_code("2004-12", "month")
    (2004, 8017, 24059)
    >>> period_code("2004-13", "month")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: period: expected a month such as 2019-07, got '2004-13'
    """
    text = str(value).strip()
    if period == "year":
        if re.fullmatch(r"\d{4}(\.0+)?", text):
            return int(float(text))
        raise ScenarioError(field, value, "a year such as 2019")
    if period == "quarter":
        match = re.fullmatch(r"(\d{4})-?Q([1-4])", text, flags=re.IGNORECASE)
        if match:
            return int(match[1]) * 4 + int(match[2]) - 1
        raise ScenarioError(field, value, "a quarter such as 2019Q3")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text)
    if match and 1 <= int(match[2]) <= 12:
        return int(match[1]) * 12 + int(match[2]) - 1
    raise ScenarioError(field, value, "a month such as 2019-07")


def period_label(code: int, period: str) -> str:
    """The label of a period code (inverse of :func:`period_code`).

    Examples
    --------
    >>> period_label(8017, "quarter"), period_label(24059, "month"), period_label(2004, "year")
    ('2004Q2', '2004-12', '2004')
    """
    if period == "year":
        return str(code)
    year, index = divmod(int(code), PERIODS[period])
    return f"{year}Q{index + 1}" if period == "quarter" else f"{year}-{index + 1:02d}"


def period_start(code: int, period: str) -> float:
    """Calendar time (years) at which a period starts.

    Examples
    --------
    >>> period_start(8017, "quarter")
    2004.25
    """
    return code / PERIODS[period]


# --------------------------------------------------------------------------- observed data
def load_observed(calibration: Calibration) -> pd.Series:
    """The observed series: float counts indexed by period code, in order, without gaps.

    Raises
    ------
    ScenarioError
        For a missing file or column, a non-numeric or negative value, a
        duplicated period, or a period missing inside the range used.
    """
    spec = calibration.data
    table, where = _read_table(calibration)
    for column, name in ((spec.time, "data.time"), (spec.value, "data.value")):
        if column not in table.columns:
            raise ScenarioError(name, column, f"a column of {where} "
                                f"({', '.join(map(str, table.columns))})")
    time = table[spec.time]
    keep = time.notna() & (time.astype(str).str.strip() != "")  # lumped rows have no period
    table = table[keep]
    codes = np.array([period_code(v, spec.period, "data.time") for v in table[spec.time]],
                     dtype=np.int64)
    raw = table[spec.value]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    first = period_code(spec.first, spec.period, "data.first") if spec.first is not None \
        else (int(codes.min()) if codes.size else 0)
    last = period_code(spec.last, spec.period, "data.last") if spec.last is not None \
        else (int(codes.max()) if codes.size else -1)
    inside = (codes >= first) & (codes <= last)
    codes, values, raw = codes[inside], values[inside], raw[inside]
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        shown = raw.iloc[k]
        raise ScenarioError("data.value", "blank" if pd.isna(shown) else shown,
                            f"a number in column '{spec.value}' of {where} for every period "
                            f"(period {period_label(int(codes[k]), spec.period)})")
    if (values < 0).any():
        k = int(np.flatnonzero(values < 0)[0])
        raise ScenarioError("data.value", values[k], f"a count >= 0 (period "
                            f"{period_label(int(codes[k]), spec.period)})")
    if codes.size == 0:
        raise ScenarioError("data", where, "at least two periods of data")
    unique, counts = np.unique(codes, return_counts=True)
    if (counts > 1).any():
        raise ScenarioError("data.time", period_label(int(unique[counts > 1][0]), spec.period),
                            f"each {spec.period} once in {where}")
    missing = np.setdiff1d(np.arange(first, last + 1), codes)
    if missing.size:
        shown = ", ".join(period_label(int(c), spec.period) for c in missing[:5])
        raise ScenarioError("data.time", f"none for {shown}",
                            f"every {spec.period} from {period_label(first, spec.period)} to "
                            f"{period_label(last, spec.period)} in {where}")
    if codes.size < 2:
        raise ScenarioError("data", where, "at least two periods of data")
    order = np.argsort(codes)
    return pd.Series(values[order], index=pd.Index(codes[order], name="period"),
                     name=spec.value)


def _read_table(calibration: Calibration) -> tuple[pd.DataFrame, str]:
    spec = calibration.data
    if spec.dataset is not None:
        from minders import data

        return data.load(spec.dataset), f"dataset {spec.dataset}"
    path = Path(spec.file)  # type: ignore[arg-type]
    if not path.is_absolute() and calibration.folder:
        path = Path(calibration.folder) / path
    if not path.is_file():
        raise ScenarioError("data.file", str(path), "an existing CSV or Parquet file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path), path.name
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path), path.name
    except (ValueError, OSError) as exc:  # unreadable content
        raise ScenarioError("data.file", str(path), f"a readable table ({exc})") from None
    raise ScenarioError("data.file", str(path), "a .csv or .parquet file")


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class Calendar:
    """Where the simulated steps fall in calendar time.

    Attributes
    ----------
    start_year : float
        Calendar time of the first recorded step.
    steps_per_year : int
        Steps in a year.
    steps : int
        Recorded steps.
    period : str
        Calendar period of the observations.

    Examples
    --------
    >>> cal = Calendar(2002.0, 52, 104, "year")
    >>> cal.first_code, cal.last_code
    (2002, 2003)
    """

    start_year: float
    steps_per_year: int
    steps: int
    period: str

    @property
    def step_codes(self) -> np.ndarray:
        """The period of each step (the one holding its middle)."""
        middle = self.start_year + (np.arange(self.steps) + 0.5) / self.steps_per_year
        return np.floor(middle * PERIODS[self.period] + 1e-9).astype(np.int64)

    @property
    def first_code(self) -> int:
        """The first period the steps cover whole."""
        per = PERIODS[self.period]
        return int(np.ceil(self.start_year * per - 1e-9))

    @property
    def last_code(self) -> int:
        """The last period the steps cover whole."""
        per = PERIODS[self.period]
        end = self.start_year + self.steps / self.steps_per_year
        return int(np.floor(end * per + 1e-9)) - 1


class ObservationModel:
    """Turn per-step departures into recorded arrivals per period.

    Parameters
    ----------
    spec : Observation
        The calibration's observation section.
    calendar : Calendar
        Where the steps fall.
    codes : array of int
        The periods to report, in order.
    positions : int
        Simulated positions of the counted tiers (for ``represents``).

    Examples
    --------
    >>> from minders.experiments.calibration.schema import Observation
    >>> spec = Observation(scale=0.5, delay={"kind": "none"},
    ...                    events=[{"period": 2003, "count": 10}])
    >>> model = ObservationModel(spec, Calendar(2002.0, 4, 8, "year"), [2002, 2003], 100)
    >>> model.arrivals(np.ones(8)).tolist()
    [8.0, 18.0]
    """

    def __init__(self, spec: Observation, calendar: Calendar, codes: Any,
                 positions: int) -> None:
        self.spec = spec
        self.calendar = calendar
        self.codes = np.asarray(codes, dtype=np.int64)
        self.positions = int(positions)
        if self.codes.size and (self.codes[0] < calendar.first_code
                                or self.codes[-1] > calendar.last_code):
            have = (f"{period_label(calendar.first_code, calendar.period)} to "
                    f"{period_label(calendar.last_code, calendar.period)}")
            raise ScenarioError(
                "run.steps", calendar.steps,
                f"a horizon covering the data, {period_label(int(self.codes[0]), calendar.period)}"
                f" to {period_label(int(self.codes[-1]), calendar.period)} (the run covers "
                f"{have}; check start_year and run.steps)")
        self.events = np.zeros(self.codes.size)
        for k, event in enumerate(spec.events):
            code = period_code(event.period, calendar.period, f"observation.events.{k}.period")
            self.events[self.codes == code] += event.count

    def scale(self, values: dict[str, float] | None = None) -> float:
        """Simulated positions per real person.

        ``values`` may hold fitted ones, and ``positions``: the counted
        positions of this run (a fitted tier size changes them).
        """
        values = values or {}
        if "observation.scale" in values or self.spec.scale is not None:
            return float(values.get("observation.scale", self.spec.scale))
        represents = float(values.get("observation.represents", self.spec.represents))
        return float(values.get("positions", self.positions)) / represents

    def delay_pmf(self, values: dict[str, float] | None = None) -> np.ndarray:
        """Share of departures arriving 0, 1, 2, ... steps later (gamma, discretised)."""
        values = values or {}
        if self.spec.delay.kind == "none":
            return np.ones(1)
        from scipy.stats import gamma

        mean = float(values.get("observation.delay.mean", self.spec.delay.mean))
        shape = float(values.get("observation.delay.shape", self.spec.delay.shape))
        if mean <= 0:
            return np.ones(1)
        per_year = self.calendar.steps_per_year
        dist = gamma(shape, scale=mean / shape)
        longest = int(np.ceil(dist.ppf(0.999) * per_year)) + 1
        cdf = dist.cdf(np.arange(longest + 1) / per_year)
        return np.diff(cdf)

    def arrivals(self, departures: np.ndarray,
                 values: dict[str, float] | None = None) -> np.ndarray:
        """Expected arrivals per reported period from departures per step."""
        departures = np.asarray(departures, dtype=float)
        pmf = self.delay_pmf(values)
        # Departures before the first recorded step (the burn-in is not recorded) are still
        # in transit when the records start: they are taken as the first year's mean flow.
        lead = pmf.size - 1
        before = departures[: self.calendar.steps_per_year].mean() if departures.size else 0.0
        padded = np.concatenate([np.full(lead, before), departures])
        arrived = np.convolve(padded, pmf)[lead: lead + departures.size]
        codes = self.calendar.step_codes[: departures.size]
        first = int(self.codes[0])
        inside = (codes >= first) & (codes <= int(self.codes[-1]))
        per_period = np.bincount(codes[inside] - first, weights=arrived[inside],
                                 minlength=int(self.codes[-1]) - first + 1)
        return per_period[self.codes - first] / self.scale(values) + self.events


def departures(records: pd.DataFrame, spec: Observation) -> np.ndarray:
    """The observed record summed over the counted tiers, per step.

    Examples
    --------
    >>> from minders.experiments.calibration.schema import Observation
    >>> records = pd.DataFrame({"step": [0, 0, 1, 1], "tier": ["a", "b", "a", "b"],
    ...                         "expected_defections": [1.0, 2.0, 3.0, 4.0]})
    >>> departures(records, Observation(scale=1, tiers=["b"])).tolist()
    [2.0, 4.0]
    """
    table = records
    if spec.tiers is not None:
        table = table[table["tier"].astype(str).isin(spec.tiers)]
    steps = int(records["step"].max()) + 1 if len(records) else 0
    return np.bincount(table["step"].to_numpy(), weights=table[spec.quantity].to_numpy(float),
                       minlength=steps)


def departures_of(records: Any, spec: Observation) -> np.ndarray:
    """The observed record summed over the counted tiers, per step, from the engine's arrays.

    ``records`` is a :class:`minders.records.Records` (``Simulation.records``);
    the same numbers as :func:`departures` on its tidy table, without making it.
    """
    from minders.codes import DEFECTIONS

    filled = records.filled
    if spec.quantity == "expected_defections":
        table = records.expected[:filled]
    else:
        table = records.counts[:filled, :, DEFECTIONS].astype(float)
    if spec.tiers is None:
        return table.sum(axis=1)
    columns = [records.tier_names.index(t) for t in spec.tiers]
    return table[:, columns].sum(axis=1)
