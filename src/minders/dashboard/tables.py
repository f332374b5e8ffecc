"""Record tables for the page: rows new since a poll, totals per tier, digests.

The rows are cut from the engine's preallocated record arrays and turned
into a table by :meth:`minders.records.Records.to_frame` itself, so what the
page streams is exactly what ``minders run`` writes to ``records.parquet``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from minders.records import COUNT_COLUMNS, FLOWS, STOCKS

if TYPE_CHECKING:
    from minders.engine import Simulation


def records_digest(records: pd.DataFrame) -> str:
    """SHA-256 of every value of a records table (equal digests: identical records).

    Examples
    --------
    >>> import pandas as pd
    >>> records_digest(pd.DataFrame({"step": [0, 1]})) == records_digest(
    ...     pd.DataFrame({"step": [0, 1]}))
    True
    """
    hashed = pd.util.hash_pandas_object(records, index=False).to_numpy()
    header = ",".join(map(str, records.columns)).encode()
    return hashlib.sha256(header + hashed.tobytes()).hexdigest()


def totals(records: pd.DataFrame) -> dict[str, dict[str, float | int]]:
    """Per tier: stocks and rates at the last step, flows summed over the run.

    Examples
    --------
    >>> import minders
    >>> records = minders.simulate(
    ...     minders.load_scenario("pyongyang", ["tiers.residents.size=300"]), steps=3).records
    >>> totals(records)["residents"]["defections"] == int(records.query(
    ...     "tier == 'residents'")["defections"].sum())
    True
    """
    out: dict[str, dict[str, float | int]] = {}
    if records.empty:
        return out
    for tier, rows in records.groupby("tier", observed=True, sort=False):
        last = rows.iloc[-1]
        entry: dict[str, float | int] = {name: int(last[name]) for name in STOCKS}
        entry.update({name: int(rows[name].sum()) for name in FLOWS})
        for name in ("measured_discontent", "true_discontent", "surprise_gap",
                     "minders_per_ward"):
            entry[name] = float(last[name])
        entry["peak_surprise_gap"] = float(rows["surprise_gap"].max())
        out[str(tier)] = entry
    return out


@dataclass(frozen=True)
class Update:
    """What changed since the last :meth:`DashboardState.poll`.

    Attributes
    ----------
    reset : bool
        The world was rebuilt (or dropped): clear the charts before streaming.
    rows : pandas.DataFrame
        New record rows of the run (tidy, one per step and tier), with
        cumulative flows as ``cum_<flow>`` columns.
    baseline : pandas.DataFrame or None
        The same for the baseline twin in compare mode.
    """

    reset: bool
    rows: pd.DataFrame
    baseline: pd.DataFrame | None


def frame_since(sim: Simulation | None, start: int = 0) -> pd.DataFrame:
    """Records of steps ``start .. t-1``, built by :meth:`Records.to_frame` itself.

    A view of the preallocated arrays from ``start`` on is handed to
    ``to_frame``, so a poll costs the new steps only and the rows are computed
    by the very code that writes ``records.parquet``.
    """
    if sim is None:
        return pd.DataFrame()
    return sim.records.to_frame(start)


def new_rows(sim: Simulation | None, start: int) -> pd.DataFrame:
    """Rows of steps ``>= start``, with the flows summed since step 0 as ``cum_<flow>``."""
    frame = frame_since(sim, start)
    if frame.empty or sim is None:
        return frame
    before = sim.records.counts[:start].sum(axis=0)  # (tier, field) totals up to start
    tiers = frame["tier"].cat.codes.to_numpy()
    grouped = frame.groupby("tier", observed=True, sort=False)
    for name in FLOWS:
        prior = before[:, COUNT_COLUMNS[name]][tiers] if start else 0
        frame[f"cum_{name}"] = grouped[name].cumsum().to_numpy() + prior
    return frame
