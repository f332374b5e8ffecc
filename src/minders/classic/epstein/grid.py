"""The torus, its padded mirror of packed cell weights, vision neighbourhoods, the world.

The torus is mirrored into a padded grid of packed cell weights (one 10-bit
field each for cops, actives and empty cells), so that looking around is a
plain sum over a few contiguous row segments (:func:`row_runs`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from minders.classic.epstein.scenario import COP, OFF_DUTY, QUIET, CopChange, EpsteinScenario
from minders.streams import generator

# The padded grid holds one packed weight per cell, so that the sum of the weights over a
# run of cells counts cops, actives and empty cells at once, in 10-bit fields: a vision of
# radius <= MAX_VISION has fewer than 2**10 cells.
COP_WEIGHT, ACTIVE_WEIGHT, EMPTY_WEIGHT = 1, 1 << 10, 1 << 20
FIELD = (1 << 10) - 1
ACTIVE_SHIFT, EMPTY_SHIFT = 10, 20


# --------------------------------------------------------------------------- vision
def vision_offsets(radius: int, shape: str) -> tuple[np.ndarray, np.ndarray]:
    """Offsets ``(dx, dy)`` of the cells within vision, the agent's own cell excluded.

    Examples
    --------
    >>> dx, dy = vision_offsets(7, "von_neumann")
    >>> dx.size    # Mesa's radius-7 von Neumann neighbourhood: 2 v (v + 1) cells
    112
    >>> vision_offsets(2, "cross")[0].size
    8
    """
    span = np.arange(-radius, radius + 1)
    dx, dy = (a.ravel() for a in np.meshgrid(span, span))
    if shape == "von_neumann":
        keep = np.abs(dx) + np.abs(dy) <= radius
    elif shape == "moore":
        keep = np.ones(dx.size, dtype=bool)
    elif shape == "disc":
        keep = dx * dx + dy * dy <= radius * radius
    elif shape == "cross":
        keep = (dx == 0) | (dy == 0)
    else:
        raise ValueError(f"unknown neighbourhood {shape!r}")
    keep &= (dx != 0) | (dy != 0)
    return dx[keep].astype(np.int64), dy[keep].astype(np.int64)


def row_runs(radius: int, shape: str, padded_width: int) -> tuple[np.ndarray, np.ndarray]:
    """The vision as runs of contiguous cells of the padded grid: (first offset, length).

    The own cell is inside one run; the kernels subtract its contribution.
    Computed once per argument set (it took ~0.3 ms, 2% of a 40 x 40 run);
    each call returns fresh arrays.
    """
    starts, lengths = _row_runs_cached(radius, shape, padded_width)
    return starts.copy(), lengths.copy()


@functools.lru_cache(maxsize=64)
def _row_runs_cached(radius: int, shape: str, padded_width: int) -> tuple[np.ndarray, np.ndarray]:
    dx, dy = vision_offsets(radius, shape)
    dx, dy = np.append(dx, 0), np.append(dy, 0)
    starts, lengths = [], []
    for row in np.unique(dy):
        cols = np.sort(dx[dy == row])
        breaks = np.flatnonzero(np.diff(cols) > 1) + 1
        for piece in np.split(cols, breaks):
            starts.append(int(row) * padded_width + int(piece[0]))
            lengths.append(piece.size)
    return np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)


# --------------------------------------------------------------------------- the world
@dataclass
class World:
    """The state of a run: agents as columns, the grid twice (occupants, padded weights).

    Citizens are agents ``0 .. n_citizens - 1``, cops the rest; a cop schedule
    that adds cops gets slots for them at the end, off duty (and off the grid)
    until they are added.
    """

    width: int
    height: int
    pad: int
    n_citizens: int
    cell: np.ndarray        # int64 (agents): cell index y * width + x (kept while jailed)
    on_grid: np.ndarray     # bool (agents): False while jailed off the grid
    occupant: np.ndarray    # int64 (cells): agent index or -1
    weight: np.ndarray      # int32 (padded cells): packed cop/active/empty weight
    padded_cell: np.ndarray  # int64 (padded cells): the real cell of each padded position
    status: np.ndarray      # int8 (agents): QUIET, ACTIVE, JAILED; COP for cops
    jail_left: np.ndarray   # int64 (agents)
    hardship: np.ndarray    # float64 (citizens)
    risk_aversion: np.ndarray  # float64 (citizens)

    @property
    def n_agents(self) -> int:
        """Citizens and cops."""
        return int(self.cell.size)


def padded_cells(width: int, height: int, pad: int) -> np.ndarray:
    """The real cell behind every position of the padded grid (the torus, mirrored)."""
    padded_width, padded_height = width + 2 * pad, height + 2 * pad
    px, py = np.meshgrid(np.arange(padded_width), np.arange(padded_height))
    return (((py - pad) % height) * width + (px - pad) % width).ravel().astype(np.int64)


def build_world(scenario: EpsteinScenario, seed: int) -> World:
    """Place citizens and cops (stream ``epstein/placement``) and draw H and R.

    Cop slots for the schedule's additions (:meth:`EpsteinScenario.cop_slots`)
    follow the cops, off duty; without a schedule there are none, and the
    world is the same as before schedules existed.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> w = build_world(s, seed=1)
    >>> w.n_citizens, w.n_agents - w.n_citizens   # round(0.7 * 400), round(0.04 * 400)
    (280, 16)
    """
    width, height = scenario.grid.width, scenario.grid.height
    cells = width * height
    rng = generator(seed, "epstein/placement")
    cit, cop = scenario.citizens.density, scenario.cops.density
    if scenario.conventions.placement == "exact":
        n_cit, n_cop = round(cit * cells), round(cop * cells)
        n_cop = min(n_cop, cells - n_cit)
        chosen = rng.permutation(cells)[: n_cit + n_cop]
        cit_cells, cop_cells = chosen[:n_cit], chosen[n_cit:]
    else:  # Mesa: each cell a citizen with p = density, else a cop with p = cop density
        draw = rng.random(cells)
        cit_cells = np.flatnonzero(draw < cit)
        cop_cells = np.flatnonzero((draw >= cit) & (draw < cit + cop))
    n_cit = cit_cells.size
    placed = n_cit + cop_cells.size
    slots = scenario.cop_slots()
    cell = np.concatenate([cit_cells, cop_cells, np.zeros(slots, np.int64)]).astype(np.int64)
    n = cell.size
    pad = max(scenario.citizens.vision, scenario.cops.vision)
    padded_cell = padded_cells(width, height, pad)
    occupant = np.full(cells, -1, dtype=np.int64)
    occupant[cell[:placed]] = np.arange(placed)
    status = np.full(n, COP, dtype=np.int8)
    status[:n_cit] = QUIET
    status[placed:] = OFF_DUTY
    on_grid = np.ones(n, dtype=np.bool_)
    on_grid[placed:] = False
    weight = np.empty(padded_cell.size, dtype=np.int32)
    _fill_weights(weight, occupant, padded_cell, status)
    return World(
        width=width, height=height, pad=pad, n_citizens=n_cit, cell=cell,
        on_grid=on_grid, occupant=occupant, weight=weight,
        padded_cell=padded_cell, status=status, jail_left=np.zeros(n, dtype=np.int64),
        hardship=scenario.citizens.hardship.sample(generator(seed, "epstein/hardship"), n_cit),
        risk_aversion=scenario.citizens.risk_aversion.sample(
            generator(seed, "epstein/risk_aversion"), n_cit
        ),
    )



def _fill_weights(weight: np.ndarray, occupant: np.ndarray, padded_cell: np.ndarray,
                  status: np.ndarray) -> None:
    """Write every padded position's packed weight from the occupants and their statuses."""
    on_cell = occupant[padded_cell]
    by_status = np.array([0, ACTIVE_WEIGHT, 0, COP_WEIGHT, 0], dtype=np.int32)
    weight[:] = np.where(on_cell >= 0, by_status[status[np.maximum(on_cell, 0)]], EMPTY_WEIGHT)


def change_cops(world: World, change: CopChange, rng: np.random.Generator) -> int:
    """Remove or add cops between steps, as ``change`` says; returns the cops on duty after.

    Removed cops are drawn at random among those on duty and leave the grid;
    added ones take off-duty slots and random empty cells (as many as there
    are empty cells, on a grid too crowded for all of them).

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}, "cops": {
    ...     "schedule": [{"step": 2, "change": -6}, {"step": 4, "change": 10}]}})
    >>> w = build_world(s, seed=1)
    >>> rng = np.random.default_rng(0)
    >>> [change_cops(w, c, rng) for c in s.cops.schedule]   # 16 cops, then 10, then 20
    [10, 20]
    """
    cops = np.arange(world.n_citizens, world.n_agents)
    if change.change < 0:
        on_duty = cops[world.status[cops] == COP]
        leaving = np.sort(rng.choice(on_duty, size=-change.change, replace=False))
        world.occupant[world.cell[leaving]] = -1
        world.status[leaving] = OFF_DUTY
        world.on_grid[leaving] = False
    else:
        free = cops[world.status[cops] == OFF_DUTY]
        empty = np.flatnonzero(world.occupant < 0)
        # leave a cell for every citizen, the jailed off the grid included, to come back to
        room = world.occupant.size - world.n_citizens - (cops.size - free.size)
        n = max(0, min(change.change, free.size, room))
        coming = free[:n]
        world.cell[coming] = rng.choice(empty, size=n, replace=False)
        world.occupant[world.cell[coming]] = coming
        world.status[coming] = COP
        world.on_grid[coming] = True
    _fill_weights(world.weight, world.occupant, world.padded_cell, world.status)
    return int(np.count_nonzero(world.status[cops] == COP))
