"""Per-unit series of a run: escapes of each minder's wards and the minder's own defection.

The records count per tier; the rule that makes a minder defect after its wards'
escapes (its expected purge and what it saw, docs/model.md, '4.3 Decision and
outcomes') acts unit by unit. :func:`unit_series` runs a scenario step by step
and keeps, for each work unit (a minder's position and its wards), the escapes
of the wards and the defection of whoever holds the minder's post, so that
:func:`minders.experiments.analysis.lagged_correlation` can pool them over units.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from minders.codes import DEFECTION, FOLLOW
from minders.engine import Simulation
from minders.errors import ScenarioError


class UnitSeries(NamedTuple):
    """Per-step, per-unit counts of one run.

    Attributes
    ----------
    escapes : int64 array, shape (steps, units)
        Wards of the unit who left (alone, with the unit or following the minder).
    minder_defections : int64 array, shape (steps, units)
        1 where the holder of the unit's minder post left that step.
    minders : int64 array, shape (units,)
        The positions of the units' minders.
    """

    escapes: np.ndarray
    minder_defections: np.ndarray
    minders: np.ndarray


def unit_series(scenario: Any, seed: int, ward_tiers: list[str]) -> UnitSeries:
    """Run ``scenario`` with ``seed`` and count, per step, each unit's escapes and defections.

    Parameters
    ----------
    scenario : Scenario
        A minders scenario (validated).
    seed : int
        The run's seed.
    ward_tiers : list of str
        Tiers whose minders make the units (for example the worker tiers).

    Returns
    -------
    UnitSeries

    Examples
    --------
    >>> import minders
    >>> s = minders.load_scenario("overseas_workers", ["run.steps=8", "run.burn_in=0"])
    >>> series = unit_series(s, seed=1, ward_tiers=["workers_china"])
    >>> series.escapes.shape[0], series.escapes.shape[1] == series.minders.size
    (8, True)
    """
    sim = Simulation(scenario, seed=seed)
    names = list(sim.population.tier_names)
    unknown = [t for t in ward_tiers if t not in names]
    if unknown:
        raise ScenarioError("ward_tiers", unknown[0], f"a tier ({', '.join(names)})")
    layout = sim.layout
    is_ward = np.isin(layout.tier, [names.index(t) for t in ward_tiers]) & (layout.minder >= 0)
    minders = np.unique(layout.minder[is_ward])
    unit_of = np.full(layout.tier.size, -1, dtype=np.int64)
    unit_of[minders] = np.arange(minders.size)
    ward_unit = np.where(is_ward, unit_of[np.maximum(layout.minder, 0)], -1)
    escapes = np.zeros((sim.steps, minders.size), dtype=np.int64)
    defections = np.zeros((sim.steps, minders.size), dtype=np.int64)
    for t in range(sim.steps):
        sim.step()
        event = sim.values.event
        left = (event >= DEFECTION) & (event <= FOLLOW)
        escapes[t] = np.bincount(ward_unit[left & is_ward], minlength=minders.size)
        defections[t] = left[minders]
    return UnitSeries(escapes, defections, minders)
