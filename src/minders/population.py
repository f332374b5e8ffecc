"""The population: one row per position, stored as NumPy columns (struct of arrays).

Positions are laid out tier by tier from the top of the hierarchy down, and
the wards of each minder occupy one contiguous block. So a minder always has a
smaller index than its wards (the surveillance kernel relies on it to compute
attention top-down in a single pass) and a work unit is a slice.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from minders.codes import LOYAL, NEVER, TALLY_FIELDS
from minders.errors import ScenarioError
from minders.scenario import Scenario, Tier
from minders.streams import generator

#: What the holder of a position brings, drawn from its tier's distributions, in draw order.
HOLDER_ATTRIBUTES = ("hardship", "risk_aversion", "threshold", "family")

# Bytes per position: the columns below, the step's scratch arrays, the graph's row
# offsets and the builder's largest transient part (the random ties); plus the graph's
# int32 entry per directed edge (the builder holds no list of pairs).
_BYTES_PER_AGENT = 160
_BYTES_PER_EDGE = 4
# Per step and tier: six float64 shock tables; the tally (int64) with p_detect, and the
# tidy table made from it (about 25 eight-byte columns, copied once while it is built).
_BYTES_PER_SCHEDULE_ROW = 6 * 8
_BYTES_PER_RECORD_ROW = (TALLY_FIELDS + 1) * 8 + 2 * 25 * 8


@dataclass
class Population:
    """Columns of agent attributes and state, plus the tier layout.

    Attributes
    ----------
    tier : int8 array (int16 from 128 tiers on)
        Index of the position's tier, in scenario order.
    hardship, risk_aversion, threshold : float64 arrays
        H, R and T of the current holder of the position.
    abroad, family : bool arrays
        Posted abroad; has family the regime can punish.
    minder : int32 array
        Position of the minder watching this one (-1: unsupervised tier).
    is_minder : bool array
        The position supervises wards.
    ward_start, ward_end : int32 arrays
        The contiguous block of this minder's wards (empty for non-minders).
    watched_tier : int8 array (int16 from 128 tiers on)
        Tier of this minder's wards (-1 for non-minders).
    status : int8 array
        One of the status codes of :mod:`minders.codes`, ``LOYAL`` .. ``DEFECTED``.
    fear : float64 array
        Perceived extra chance of being caught, from repression seen, in [0, 1].
    seen_success, seen_failure : float64 arrays
        Escapes and stopped attempts seen (fading): the holder's belief that leaving works.
    exposure : float64 array
        A minder's wards' escapes (fading): its exposure to a purge.
    jail_until, vacated_at, last_act : int32 arrays
        Release step, step the position was vacated, last step seen acting.
    tier_start, tier_end : int64 arrays
        Slice of each tier (scenario order).
    levels : int64 array
        Boundaries of the hierarchy's levels, top first: level ``k`` is
        ``levels[k]:levels[k + 1]``; every minder is on a level above its wards.
    """

    tier: np.ndarray
    hardship: np.ndarray
    risk_aversion: np.ndarray
    threshold: np.ndarray
    abroad: np.ndarray
    family: np.ndarray
    minder: np.ndarray
    is_minder: np.ndarray
    ward_start: np.ndarray
    ward_end: np.ndarray
    watched_tier: np.ndarray
    status: np.ndarray
    fear: np.ndarray
    seen_success: np.ndarray
    seen_failure: np.ndarray
    exposure: np.ndarray
    jail_until: np.ndarray
    vacated_at: np.ndarray
    last_act: np.ndarray
    tier_start: np.ndarray
    tier_end: np.ndarray
    tier_names: tuple[str, ...]
    levels: np.ndarray

    @property
    def size(self) -> int:
        """Number of positions."""
        return int(self.tier.size)

    def tier_slice(self, name: str) -> slice:
        """The positions of tier ``name``."""
        k = self.tier_names.index(name)
        return slice(int(self.tier_start[k]), int(self.tier_end[k]))


def estimate_bytes(scenario: Scenario, steps: int | None = None) -> int:
    """Rough peak memory of building and running ``scenario`` (bytes).

    The sum of :func:`world_bytes` and :func:`horizon_bytes`.
    """
    return world_bytes(scenario) + horizon_bytes(scenario, steps)


def world_bytes(scenario: Scenario) -> int:
    """The population's columns, the graph and its builder's transient edge arrays."""
    n = sum(scenario.tier_sizes().values())
    net = scenario.network
    degree = 2 * (net.unit_ties // 2 + 1) + (net.family_size - 1) + 2 * net.random_ties
    return int(n * _BYTES_PER_AGENT + n * degree * _BYTES_PER_EDGE)


def horizon_bytes(scenario: Scenario, steps: int | None = None) -> int:
    """What grows with the horizon: shock tables (burn-in included) and records."""
    steps = scenario.run.steps if steps is None else steps
    tiers = len(scenario.tiers)
    schedule = (scenario.run.burn_in + steps) * tiers * _BYTES_PER_SCHEDULE_ROW
    return int(schedule + steps * tiers * _BYTES_PER_RECORD_ROW)


def memory_limit(scenario: Scenario) -> int:
    """Bytes a population may use: ``run.max_memory_gb`` or 80% of physical memory."""
    if scenario.run.max_memory_gb is not None:
        return int(scenario.run.max_memory_gb * 2**30)
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        physical = 8 * 2**30
    return int(0.8 * physical)


def check_fits(scenario: Scenario, steps: int | None = None) -> None:
    """Refuse, before allocating anything, a run too large for memory.

    ``steps`` is the horizon of the run (default ``run.steps``). The message
    names the population or the horizon, whichever needs more.
    """
    sizes = scenario.tier_sizes()
    total = sum(sizes.values())
    if total >= 2**31 - 1:
        raise ScenarioError("tiers", total, "fewer than 2**31 positions in all")
    world, horizon = world_bytes(scenario), horizon_bytes(scenario, steps)
    need, limit = world + horizon, memory_limit(scenario)
    if need > limit:
        steps = scenario.run.steps if steps is None else steps
        if world >= horizon:
            field, value = "tiers", f"{total:,} positions"
        elif scenario.run.burn_in > steps:
            field, value = "run.burn_in", scenario.run.burn_in
        else:
            field, value = "run.steps", steps
        raise ScenarioError(
            field, value,
            f"a run whose estimated memory ({need / 2**30:.1f} GiB) fits in "
            f"{limit / 2**30:.1f} GiB (shrink the tiers, run.steps or run.burn_in, or raise "
            "run.max_memory_gb)",
        )


def _split_minders(total: int, needed: list[int], field: str) -> list[int]:
    """Share ``total`` minders among ward tiers in proportion to their needs."""
    if total < len(needed):
        raise ScenarioError(field, total, f"at least {len(needed)} minders, one per ward tier")
    quota = np.array(needed, dtype=float) / sum(needed) * total
    counts = np.maximum(np.floor(quota).astype(int), 1)
    while counts.sum() > total:  # the floor of 1 may overshoot
        counts[np.argmax(counts)] -= 1
    order = np.argsort(-(quota - np.floor(quota)), kind="stable")
    for k in order[: total - counts.sum()]:  # largest remainders
        counts[k] += 1
    return counts.tolist()


def build_population(scenario: Scenario, seed: int) -> Population:
    """Allocate and fill the columns for ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    seed : int
        Base seed; tier attributes come from the streams ``init/TIER/ATTRIBUTE``.

    Returns
    -------
    Population

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"tiers": {
    ...     "residents": {"size": 100, "minded_by": "minders", "span": 10},
    ...     "minders": {"size": "auto"}}})
    >>> pop = build_population(s, seed=1)
    >>> pop.size, int(pop.is_minder.sum())
    (110, 10)
    """
    check_fits(scenario)
    names = tuple(scenario.tiers)
    sizes = scenario.tier_sizes()
    n = sum(sizes.values())
    order = scenario.tier_order()

    tier_start = np.zeros(len(names), dtype=np.int64)
    tier_end = np.zeros(len(names), dtype=np.int64)
    depth = scenario.tier_depths()
    levels = [0]
    offset = 0
    for position, name in enumerate(order):
        k = names.index(name)
        tier_start[k], tier_end[k] = offset, offset + sizes[name]
        offset += sizes[name]
        last = position == len(order) - 1
        if last or depth[order[position + 1]] != depth[name]:
            levels.append(offset)

    # One byte per position for the tier codes while they fit (scenarios allow up to 1,000).
    tier_code = np.int8 if len(names) < 128 else np.int16
    tier = np.empty(n, dtype=tier_code)
    hardship = np.empty(n)
    risk_aversion = np.empty(n)
    threshold = np.empty(n)
    abroad = np.zeros(n, dtype=bool)
    family = np.zeros(n, dtype=bool)
    minder = np.full(n, -1, dtype=np.int32)
    is_minder = np.zeros(n, dtype=bool)
    ward_start = np.zeros(n, dtype=np.int32)
    ward_end = np.zeros(n, dtype=np.int32)
    watched_tier = np.full(n, -1, dtype=tier_code)

    holders = {"hardship": hardship, "risk_aversion": risk_aversion, "threshold": threshold,
               "family": family}
    for k, name in enumerate(names):
        spec = scenario.tiers[name]
        lo, hi = int(tier_start[k]), int(tier_end[k])
        size = hi - lo
        tier[lo:hi] = k
        # One stream per tier and attribute, so adding an attribute changes no other draw.
        rngs = [generator(seed, f"init/{name}/{attribute}") for attribute in HOLDER_ATTRIBUTES]
        for attribute, values in draw_holders(spec, size, rngs).items():
            holders[attribute][lo:hi] = values
        # Whole work units go abroad together: the first positions of the tier.
        abroad[lo : lo + round(spec.abroad * size)] = True

    # Assign each minder tier's positions to its ward tiers, then wards to minders
    # in balanced contiguous blocks (sizes differ by at most one).
    wards_of = scenario.wards_of()
    needed = scenario.minders_needed()
    for boss in names:
        if not wards_of[boss]:
            continue
        kb = names.index(boss)
        boss_lo, boss_size = int(tier_start[kb]), sizes[boss]
        counts = [needed[w] for w in wards_of[boss]]
        if scenario.tiers[boss].size != "auto":
            counts = _split_minders(boss_size, counts, f"tiers.{boss}.size")
        first = boss_lo
        for ward_name, n_minders in zip(wards_of[boss], counts, strict=True):
            kw = names.index(ward_name)
            lo, hi = int(tier_start[kw]), int(tier_end[kw])
            size = hi - lo
            local = (np.arange(size, dtype=np.int64) * n_minders) // size
            minder[lo:hi] = first + local
            bounds = np.searchsorted(local, np.arange(n_minders + 1))
            ward_start[first : first + n_minders] = lo + bounds[:-1]
            ward_end[first : first + n_minders] = lo + bounds[1:]
            is_minder[first : first + n_minders] = True
            watched_tier[first : first + n_minders] = kw
            first += n_minders

    status = np.full(n, LOYAL, dtype=np.int8)
    return Population(
        tier=tier, hardship=hardship, risk_aversion=risk_aversion, threshold=threshold,
        abroad=abroad, family=family, minder=minder, is_minder=is_minder,
        ward_start=ward_start, ward_end=ward_end, watched_tier=watched_tier,
        status=status, fear=np.zeros(n), seen_success=np.zeros(n), seen_failure=np.zeros(n),
        exposure=np.zeros(n), jail_until=np.zeros(n, dtype=np.int32),
        vacated_at=np.full(n, NEVER, dtype=np.int32), last_act=np.full(n, NEVER, dtype=np.int32),
        tier_start=tier_start, tier_end=tier_end, tier_names=names,
        levels=np.array(levels, dtype=np.int64),
    )


def draw_holders(
    spec: Tier, size: int, rngs: Sequence[np.random.Generator]
) -> dict[str, np.ndarray]:
    """Draw the attributes of ``size`` new holders of positions of one tier.

    The one place where H, R, T and family are drawn, for the initial
    population and for recruits alike.

    Parameters
    ----------
    spec : Tier
        The tier's parameters (its distributions and ``family_at_home``).
    size : int
        Number of holders.
    rngs : sequence of numpy.random.Generator
        One generator per attribute of :data:`HOLDER_ATTRIBUTES`, drawn from in
        that order (pass the same generator four times to draw all from one stream).

    Returns
    -------
    dict of str to numpy.ndarray
        The drawn values of each attribute of :data:`HOLDER_ATTRIBUTES`.

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> spec = Scenario.model_validate({"tiers": {"workers": {"size": 5}}}).tiers["workers"]
    >>> rng = np.random.default_rng(1)
    >>> sorted(draw_holders(spec, 5, [rng] * 4))
    ['family', 'hardship', 'risk_aversion', 'threshold']
    """
    hardship, risk_aversion, threshold, family = rngs
    return {
        "hardship": spec.hardship.sample(hardship, size),
        "risk_aversion": spec.risk_aversion.sample(risk_aversion, size),
        "threshold": spec.threshold.sample(threshold, size),
        "family": family.random(size) < spec.family_at_home,
    }


def renew(pop: Population, scenario: Scenario, rng_by_tier: dict) -> np.ndarray:
    """Redraw the hardship of the holders whose circumstances change this step.

    Docs/model.md, '4.0 Release and refill'. In each tier the number of
    changes is Binomial(positions, ``renewal``) and the positions are chosen
    uniformly without replacement, so each holder changes with chance
    ``renewal`` and the cost is that of the changes, not of the population.

    Returns
    -------
    int64 array
        The positions whose hardship was redrawn.
    """
    changed = []
    for k, name in enumerate(pop.tier_names):
        rate = scenario.tiers[name].renewal
        if rate <= 0.0:
            continue
        lo, hi = int(pop.tier_start[k]), int(pop.tier_end[k])
        rng = rng_by_tier[name]
        count = int(rng.binomial(hi - lo, rate))
        if count == 0:
            continue
        slots = np.sort(rng.choice(hi - lo, count, replace=False)) + lo
        pop.hardship[slots] = scenario.tiers[name].hardship.sample(rng, slots.size)
        changed.append(slots)
    return np.concatenate(changed) if changed else np.zeros(0, dtype=np.int64)


def recruit(pop: Population, scenario: Scenario, slots: np.ndarray, rng_by_tier: dict) -> None:
    """Fill vacant ``slots`` with new recruits drawn from their tiers' distributions.

    Parameters
    ----------
    pop : Population
        Updated in place.
    scenario : Scenario
        The tiers' distributions.
    slots : int64 array
        Vacant positions to fill.
    rng_by_tier : dict of str to numpy.random.Generator
        One generator per tier, for all attributes of that tier's recruits.
    """
    for k, name in enumerate(pop.tier_names):
        these = slots[pop.tier[slots] == k]
        if these.size == 0:
            continue
        rng = rng_by_tier[name]
        for attribute, values in draw_holders(scenario.tiers[name], these.size, [rng] * 4).items():
            getattr(pop, attribute)[these] = values
    # A new holder has seen nothing yet.
    for column in (pop.fear, pop.seen_success, pop.seen_failure, pop.exposure):
        column[slots] = 0.0
    pop.vacated_at[slots] = NEVER
