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
# REPATRIATED: a worker caught abroad and sent home (the post abroad is vacant).
LOYAL, FALSIFYING, ACTIVE, JAILED, PURGED, REPATRIATED, DEFECTED = range(7)
#: Names of the statuses, indexed by code (also the stock columns of the records).
STATUS_NAMES = ("loyal", "falsifying", "active", "jailed", "purged", "repatriated", "defected")
#: Number of statuses, hence of stock columns at the start of the tally.
N_STATUSES = len(STATUS_NAMES)
#: Step of "no act yet" / "never vacated": far in the past, yet safe from int32 overflow
#: when a memory or a delay is subtracted or added.
NEVER = np.iinfo(np.int32).min // 2

# ----------------------------------------------------------------------------- events
# Order matters: DEFECTION..FOLLOW are ways of leaving (alone, with the work unit, with
# one's defecting minder); INTERCEPTION..INTERCEPTION_FAILED are attempts stopped (jailed,
# sent home from abroad, or turned back because the jails are full); ARREST..ARREST_FAILED
# likewise for open dissent; codes >= CAUGHT_PURGED are purges of minders.
(
    NONE, DEFECTION, GROUP_DEFECTION, FOLLOW,
    INTERCEPTION, INTERCEPTION_REPATRIATED, INTERCEPTION_FAILED,
    ARREST, ARREST_REPATRIATED, ARREST_FAILED,
    CAUGHT_PURGED, ARREST_PURGED, WARD_PURGED,
) = range(13)
#: Number of event codes.
N_EVENTS = WARD_PURGED + 1

# ----------------------------------------------------------------------------- tally fields
# The tally's columns 0 .. N_STATUSES - 1 are the status stocks; these follow them.
(
    ATTEMPTS, DEFECTIONS, INTERCEPTIONS, ARRESTS, PURGES, IN_POST, AGGRIEVED, MINDERS_WATCHING,
    REPATRIATIONS, ARRESTS_FAILED, GROUPS, GROUP_MEMBERS, FOLLOWERS,
) = range(N_STATUSES, N_STATUSES + 13)
#: Number of columns of the tally.
TALLY_FIELDS = FOLLOWERS + 1

__all__ = [
    "LOYAL", "FALSIFYING", "ACTIVE", "JAILED", "PURGED", "REPATRIATED", "DEFECTED",
    "STATUS_NAMES", "N_STATUSES", "NEVER",
    "NONE", "DEFECTION", "GROUP_DEFECTION", "FOLLOW", "INTERCEPTION",
    "INTERCEPTION_REPATRIATED", "INTERCEPTION_FAILED", "ARREST", "ARREST_REPATRIATED",
    "ARREST_FAILED", "CAUGHT_PURGED", "ARREST_PURGED", "WARD_PURGED", "N_EVENTS",
    "ATTEMPTS", "DEFECTIONS", "INTERCEPTIONS", "ARRESTS", "PURGES", "IN_POST", "AGGRIEVED",
    "MINDERS_WATCHING", "REPATRIATIONS", "ARRESTS_FAILED", "GROUPS", "GROUP_MEMBERS",
    "FOLLOWERS", "TALLY_FIELDS",
]
