"""The codes shared by the population, the step kernels and the records.

Three small integer vocabularies, each defined once here:

- **statuses** of a position (docs/model.md, '2. Population'), stored in
  ``Population.status``;
- **events** of one step, one per position, written by the decision and
  response kernels (docs/model.md, '4.3 Decision and outcomes' and '4.4 Regime
  response');
- **tally fields**, the columns of the per-tier counts the ``tally`` kernel
  writes and :class:`minders.records.Records` keeps (docs/model.md,
  '8. Records'): the status stocks first, then the flows and the rest.

Examples
--------
>>> STATUS_NAMES[DEFECTED]
'defected'
>>> bool(JAILED <= PURGED < N_STATUSES == ATTEMPTS)
True
"""

from __future__ import annotations

import numpy as np

# ----------------------------------------------------------------------------- statuses
# Order matters: codes >= JAILED are not in post, codes >= PURGED are vacant positions.
LOYAL, FALSIFYING, ACTIVE, JAILED, PURGED, DEFECTED = range(6)
#: Names of the statuses, indexed by code (also the stock columns of the records).
STATUS_NAMES = ("loyal", "falsifying", "active", "jailed", "purged", "defected")
#: Number of statuses, hence of stock columns at the start of the tally.
N_STATUSES = len(STATUS_NAMES)
#: Step of "no act yet" / "never vacated": far in the past, yet safe from int32 overflow
#: when a memory or a delay is subtracted or added.
NEVER = np.iinfo(np.int32).min // 2

# ----------------------------------------------------------------------------- events
# Order matters: codes >= CAUGHT_PURGED are purges of minders.
NONE, DEFECTION, INTERCEPTION, ARREST, CAUGHT_PURGED, ARREST_PURGED, WARD_PURGED = range(7)

# ----------------------------------------------------------------------------- tally fields
# The tally's columns 0 .. N_STATUSES - 1 are the status stocks; these follow them.
(
    ATTEMPTS, DEFECTIONS, INTERCEPTIONS, ARRESTS, PURGES, IN_POST, AGGRIEVED, MINDERS_WATCHING,
) = range(N_STATUSES, N_STATUSES + 8)
#: Number of columns of the tally.
TALLY_FIELDS = MINDERS_WATCHING + 1

__all__ = [
    "LOYAL", "FALSIFYING", "ACTIVE", "JAILED", "PURGED", "DEFECTED", "STATUS_NAMES",
    "N_STATUSES", "NEVER",
    "NONE", "DEFECTION", "INTERCEPTION", "ARREST", "CAUGHT_PURGED", "ARREST_PURGED",
    "WARD_PURGED",
    "ATTEMPTS", "DEFECTIONS", "INTERCEPTIONS", "ARRESTS", "PURGES", "IN_POST", "AGGRIEVED",
    "MINDERS_WATCHING", "TALLY_FIELDS",
]
