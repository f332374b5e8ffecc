"""Records: preallocated (step x tier x field) arrays, exported as a tidy table.

One row per (step, tier). Stocks are counts at the end of the step and add
up to the tier's positions; flows count what happened during the step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minders.codes import (
    ACTIVE,
    AGGRIEVED,
    ARRESTS,
    ARRESTS_FAILED,
    ATTEMPTS,
    DEFECTIONS,
    FOLLOWERS,
    GROUP_MEMBERS,
    GROUPS,
    IN_POST,
    INTERCEPTIONS,
    JAILED,
    MINDERS_WATCHING,
    PURGES,
    REPATRIATIONS,
    STATUS_NAMES,
    TALLY_FIELDS,
)

#: Count columns of the records, in order, and the tally column each comes from.
COUNT_COLUMNS: dict[str, int] = {
    **{name: k for k, name in enumerate(STATUS_NAMES)},
    "attempts": ATTEMPTS,
    "defections": DEFECTIONS,
    "interceptions": INTERCEPTIONS,
    "arrests": ARRESTS,
    "purges": PURGES,
    "repatriations": REPATRIATIONS,
    "arrests_failed": ARRESTS_FAILED,
    "groups": GROUPS,
    "group_members": GROUP_MEMBERS,
    "followers": FOLLOWERS,
    "in_post": IN_POST,
    "aggrieved": AGGRIEVED,
}
STOCKS = STATUS_NAMES
FLOWS = (
    "attempts", "defections", "interceptions", "arrests", "purges", "repatriations",
    "arrests_failed", "groups", "group_members", "followers",
)
RATE_COLUMNS = (
    "measured_discontent", "true_discontent", "surprise_gap", "minders_per_ward", "p_detect",
    "expected_defections", "jail_occupancy",
)


class Records:
    """Per-step, per-tier counts filled in by the engine.

    Parameters
    ----------
    steps : int
        Capacity in steps.
    tier_names : sequence of str
        Tiers, in scenario order.
    """

    def __init__(self, steps: int, tier_names: tuple[str, ...]) -> None:
        self.tier_names = tuple(tier_names)
        self.counts = np.zeros((steps, len(tier_names), TALLY_FIELDS), dtype=np.int64)
        self.p_detect = np.zeros((steps, len(tier_names)))
        self.expected = np.zeros((steps, len(tier_names)))
        self.jail_occupancy = np.zeros(steps)
        self.filled = 0

    def store(self, step: int, tally: np.ndarray, p_detect: np.ndarray,
              expected: np.ndarray, jail_capacity: int) -> None:
        """Keep the tally of ``step``, its detection, expected escapes and jail occupancy."""
        self.counts[step] = tally
        self.p_detect[step] = p_detect
        self.expected[step] = expected
        jailed = tally[:, JAILED].sum()
        self.jail_occupancy[step] = jailed / jail_capacity if jail_capacity > 0 else np.nan
        self.filled = max(self.filled, step + 1)

    def to_frame(self, start: int = 0) -> pd.DataFrame:
        """The records as a tidy pandas DataFrame (one row per step and tier).

        ``start`` leaves out the steps before it (the dashboard's new rows).
        """
        start = min(max(0, start), self.filled)
        counts = self.counts[start : self.filled]
        steps, tiers = counts.shape[:2]
        frame: dict[str, np.ndarray] = {
            "step": np.repeat(np.arange(start, start + steps, dtype=np.int64), tiers),
            "tier": np.tile(np.array(self.tier_names, dtype=object), steps),
        }
        for name, column in COUNT_COLUMNS.items():
            frame[name] = counts[:, :, column].reshape(-1)
        in_post = counts[:, :, IN_POST].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            measured = np.where(in_post > 0, counts[:, :, ACTIVE] / in_post, 0.0)
            true = np.where(in_post > 0, counts[:, :, AGGRIEVED] / in_post, 0.0)
            per_ward = np.where(in_post > 0, counts[:, :, MINDERS_WATCHING] / in_post, 0.0)
        frame["measured_discontent"] = measured.reshape(-1)
        frame["true_discontent"] = true.reshape(-1)
        frame["surprise_gap"] = (true - measured).reshape(-1)
        frame["minders_per_ward"] = per_ward.reshape(-1)
        frame["p_detect"] = self.p_detect[start : self.filled].reshape(-1)
        frame["expected_defections"] = self.expected[start : self.filled].reshape(-1)
        # Regime-wide: the same on every tier's row of a step.
        frame["jail_occupancy"] = np.repeat(self.jail_occupancy[start : self.filled], tiers)
        table = pd.DataFrame(frame)
        table["tier"] = pd.Categorical(table["tier"], categories=list(self.tier_names))
        return table
