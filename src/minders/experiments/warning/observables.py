"""What an outside observer or the regime can see: the observable columns of the records.

Every column of the records (docs/model.md, '8. Records') is either in
:data:`OBSERVABLE` or in :data:`HIDDEN`; ``tests/experiments/test_warning.py``
checks the two lists cover the records exactly, so a new record column
needs a decision here before the warning analysis runs.

Observable: open dissent (``active``), the jailed, purged, sent home and
gone, the flows of escapes, interceptions, arrests and purges, the
regime's own measured discontent, its staffing (minders per ward) and its
jails. Hidden: the split of the quiet into ``loyal`` and ``falsifying``
(preference falsification is private, Kuran 1991), ``aggrieved``, true
discontent and the surprise gap computed from it, and two quantities of the
model itself (``p_detect`` after leaks, ``expected_defections``).

Indicator code gets an :class:`ObservableRecords`, which holds only the
observable columns: a hidden column is not there to read.

Examples
--------
>>> "measured_discontent" in OBSERVABLE, "true_discontent" in HIDDEN
(True, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minders.errors import ScenarioError

#: Keys of a row of the records of many runs.
KEYS = ("run_id", "step", "tier")

#: Columns an outside observer or the regime could see (counts and the regime's measures).
OBSERVABLE = (
    "active", "jailed", "purged", "repatriated", "defected", "in_post",
    "attempts", "defections", "interceptions", "arrests", "purges", "repatriations",
    "arrests_failed", "groups", "group_members", "followers",
    "measured_discontent", "minders_per_ward", "jail_occupancy",
)
#: Columns nobody outside the model sees: private preferences and model internals.
HIDDEN = (
    "loyal", "falsifying", "aggrieved", "true_discontent", "surprise_gap", "p_detect",
    "expected_defections",
)
#: Stocks that together make every position of a tier (in post, away or vacant).
POSITIONS = ("in_post", "jailed", "purged", "repatriated", "defected")
#: Ratio columns: pooled over tiers they are recomputed, not summed.
RATIOS = {"measured_discontent": ("active", "in_post")}
#: Regime-wide columns, the same on every tier's row of a step (pooled: taken once).
REGIME_WIDE = ("jail_occupancy",)


class ObservableRecords:
    """The records of many runs, cut down to the observable columns.

    Parameters
    ----------
    records : pandas.DataFrame
        Tidy records with a ``run_id`` column (``load_records`` of a sweep);
        every column not in :data:`OBSERVABLE` or :data:`KEYS` is dropped here.

    Examples
    --------
    >>> frame = pd.DataFrame({"run_id": [0, 0], "step": [0, 1], "tier": ["a", "a"],
    ...     "active": [1, 2], "in_post": [10, 10], "true_discontent": [0.5, 0.6]})
    >>> view = ObservableRecords(frame)
    >>> view.columns
    ('active', 'in_post')
    >>> view.pooled("active").tolist()
    [[1.0, 2.0]]
    >>> view.pooled("true_discontent")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: column: expected an observable column (...), got 'true_discontent'
    """

    def __init__(self, records: pd.DataFrame) -> None:
        missing = [k for k in KEYS if k not in records.columns]
        if missing:
            raise ScenarioError("records", ", ".join(missing),
                                "records of many runs, with run_id, step and tier columns")
        keep = [c for c in records.columns if c in OBSERVABLE]
        self._frame = records[[*KEYS, *keep]].copy()
        self._frame["tier"] = self._frame["tier"].astype(str)
        self.columns: tuple[str, ...] = tuple(keep)
        self.run_ids = np.unique(self._frame["run_id"].to_numpy())
        self.steps = np.unique(self._frame["step"].to_numpy())
        self.tiers: tuple[str, ...] = tuple(dict.fromkeys(self._frame["tier"]))

    def pooled(self, column: str, tiers: list[str] | None = None) -> np.ndarray:
        """A column as a (runs x steps) array, pooled over ``tiers`` (default: all).

        Counts are summed over the tiers; ratios are recomputed from the pooled counts;
        regime-wide columns are taken once.
        """
        if column not in OBSERVABLE:
            raise ScenarioError("column", column,
                                f"an observable column ({', '.join(OBSERVABLE)})")
        if column in RATIOS:
            top, bottom = (self.pooled(c, tiers) for c in RATIOS[column])
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), 0.0)
        if column not in self.columns:
            raise ScenarioError("column", column, "a column present in the records")
        frame = self._frame
        if tiers:
            unknown = [t for t in tiers if t not in self.tiers]
            if unknown:
                raise ScenarioError("tiers", unknown[0], f"one of {', '.join(self.tiers)}")
            frame = frame[frame["tier"].isin(tiers)]
        how = "first" if column in REGIME_WIDE else "sum"
        table = frame.groupby(["run_id", "step"])[column].agg(how).unstack("step")
        table = table.reindex(index=self.run_ids, columns=self.steps)
        return table.to_numpy(dtype=float)

    def positions(self, tiers: list[str] | None = None) -> np.ndarray:
        """Positions of ``tiers`` per run and step (every stock that makes a position)."""
        return sum(self.pooled(c, tiers) for c in POSITIONS)
