"""The Numba step kernels of Model I, over the packed padded grid of :mod:`.grid`.

Random sequential activation with movement is inherently sequential: one
kernel call per step loops over a permutation drawn from the counter-based
stream ``epstein/activation``; moves, arrests, jail terms and releases draw
from streams of their own (:data:`STREAMS`, in the order of ``Rules.keys``).

The kernels take their inputs grouped in three named tuples, which Numba
passes as plain structs: :class:`Layout` (the geometry, fixed for a run),
:class:`Rules` (the parameters and conventions, fixed for a run) and
:class:`State` (the agents' columns and the grids, updated in place).
:func:`kernel_inputs` builds them from a scenario and a
:class:`~minders.classic.epstein.grid.World`. Each step kernel unpacks the
groups into locals once and hands plain arrays and scalars to the inlined
helpers (``_move``, ``_arrest``, ...): helpers that read fields of the
groups themselves made a 100x100 run 30% slower.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba as nb
import numpy as np

from minders.classic.epstein.grid import (
    ACTIVE_SHIFT,
    ACTIVE_WEIGHT,
    COP_WEIGHT,
    EMPTY_SHIFT,
    EMPTY_WEIGHT,
    FIELD,
    World,
    row_runs,
)
from minders.classic.epstein.scenario import (
    ACTIVE,
    ARREST_RATIOS,
    COP,
    JAILED,
    OFF_DUTY,
    QUIET,
    EpsteinScenario,
)
from minders.streams import stream_key, uniform

#: The named counter-based streams of one run, in the order of ``Rules.keys``.
STREAMS = ("activation", "move", "arrest", "jail_term", "release")

#: A jail term that never ends (``max_jail = "inf"``): more steps than any run has.
ENDLESS = 1 << 62


class Layout(NamedTuple):
    """The geometry of a run: the torus, its padding and the vision runs (fixed for a run).

    Attributes
    ----------
    width, height : int
        The torus, in cells.
    pad : int
        Width of the mirrored border of the padded grid (the larger vision).
    cit_start, cit_length : int64 array
        A citizen's vision as runs of contiguous padded positions: offset of
        each run's first cell from the agent's position, and its length
        (:func:`~minders.classic.epstein.grid.row_runs`).
    cop_start, cop_length : int64 array
        The same for a cop's vision.
    padded_cell : int64 array
        The real cell behind every padded position.
    n_citizens : int
        Agents ``0 .. n_citizens - 1`` are citizens, the rest cops.
    """

    width: int
    height: int
    pad: int
    cit_start: np.ndarray
    cit_length: np.ndarray
    cop_start: np.ndarray
    cop_length: np.ndarray
    padded_cell: np.ndarray
    n_citizens: int


class Rules(NamedTuple):
    """The parameters and conventions of a run (fixed for a run).

    Attributes
    ----------
    keys : uint64 array
        Keys of the streams :data:`STREAMS`, in that order.
    threshold : float
        T: net grievance needed to turn active.
    arrest_constant : float
        k in ``P = 1 - exp(-k (C/A))``.
    max_jail : int
        J_max: jail terms are uniform on ``0..J_max`` (``0..J_max - 1`` when
        ``countdown``); -1: endless terms (``max_jail = "inf"``).
    arrest_ratio : int
        Index in :data:`ARREST_RATIOS` (0 paper, 1 NetLogo, 2 Mesa).
    synchronous : bool
        Synchronous activation (else random sequential).
    move_first : bool
        Move, then act (NetLogo), within an activation.
    holds_cell : bool
        The jailed keep their cell (Mesa).
    movement : bool
        Agents move to a random empty cell in vision.
    countdown : bool
        NetLogo's jail terms: every term counts down at the end of each step
        and the citizen is free once it reaches 0 (else one step is served at
        each of the citizen's activations).
    """

    keys: np.ndarray
    threshold: float
    arrest_constant: float
    max_jail: int
    arrest_ratio: int
    synchronous: bool
    move_first: bool
    holds_cell: bool
    movement: bool
    countdown: bool


class State(NamedTuple):
    """The agents' columns and the grids, updated in place by the kernels.

    Attributes
    ----------
    hardship, risk_aversion : float64 array
        H and R of each citizen (fixed).
    status : int8 array
        QUIET, ACTIVE, JAILED for citizens; COP for cops.
    jail_left : int64 array
        Steps of its term a jailed citizen still has to serve.
    cell : int64 array
        Each agent's cell ``y * width + x`` (kept while jailed).
    on_grid : bool array
        False while a jailed citizen is off the grid.
    occupant : int64 array
        The agent on each cell, or -1.
    weight : int32 array
        Packed cop/active/empty weight of each padded position.
    """

    hardship: np.ndarray
    risk_aversion: np.ndarray
    status: np.ndarray
    jail_left: np.ndarray
    cell: np.ndarray
    on_grid: np.ndarray
    occupant: np.ndarray
    weight: np.ndarray


def kernel_inputs(
    scenario: EpsteinScenario, world: World, seed: int
) -> tuple[Layout, Rules, State]:
    """The kernels' inputs for ``scenario``; ``State`` holds (not copies) ``world``'s arrays.

    Examples
    --------
    >>> from minders.classic.epstein.grid import build_world
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> layout, rules, state = kernel_inputs(s, build_world(s, 1), seed=1)
    >>> layout.n_citizens, rules.arrest_ratio, state.status.size
    (280, 0, 296)
    """
    conv = scenario.conventions
    padded_width = world.width + 2 * world.pad
    cit_start, cit_length = row_runs(scenario.citizens.vision, conv.neighbourhood, padded_width)
    cop_start, cop_length = row_runs(scenario.cops.vision, conv.neighbourhood, padded_width)
    layout = Layout(
        width=world.width, height=world.height, pad=world.pad, cit_start=cit_start,
        cit_length=cit_length, cop_start=cop_start, cop_length=cop_length,
        padded_cell=world.padded_cell, n_citizens=world.n_citizens,
    )
    rules = Rules(
        keys=np.array([stream_key(seed, f"epstein/{name}") for name in STREAMS], dtype=np.uint64),
        threshold=float(scenario.citizens.threshold),
        arrest_constant=float(scenario.citizens.arrest_constant),
        max_jail=-1 if scenario.cops.max_jail == "inf" else int(scenario.cops.max_jail),
        arrest_ratio=ARREST_RATIOS.index(conv.arrest_ratio),
        synchronous=conv.activation == "synchronous",
        move_first=conv.order == "move_then_act",
        holds_cell=bool(conv.jail_holds_cell),
        movement=bool(conv.movement),
        countdown=conv.jail_term == "netlogo",
    )
    state = State(
        hardship=world.hardship, risk_aversion=world.risk_aversion, status=world.status,
        jail_left=world.jail_left, cell=world.cell, on_grid=world.on_grid,
        occupant=world.occupant, weight=world.weight,
    )
    return layout, rules, state


# --------------------------------------------------------------------------- helpers
@nb.njit(inline="always", cache=True, error_model="numpy")
def _weight_of(status):
    if status == ACTIVE:
        return ACTIVE_WEIGHT
    if status == COP:
        return COP_WEIGHT
    return 0  # quiet, or jailed on its cell: occupied, neither cop nor active


@nb.njit(inline="always", cache=True, error_model="numpy")
def _xy(cell, width):
    """Column and row of ``cell``, unsigned.

    The cell is never negative, and signed division would pay for Python's
    floor rounding.
    """
    unsigned_cell, w = np.uint64(cell), np.uint64(width)
    y = unsigned_cell // w
    return unsigned_cell - y * w, y


@nb.njit(inline="always", cache=True, error_model="numpy")
def _set(weight, cell, value, width, height, pad):
    """Write ``value`` at ``cell`` and at its torus mirrors in the padding (up to 4 places).

    Always four stores: a cell without a mirror on an axis writes its own
    position again. Branching on whether a mirror exists mispredicted on a
    third of the cells of a 40 x 40 grid; the four stores made a step 7-9%
    faster there (0-3% at 100 x 100, where fewer cells have mirrors). The
    mirrors are computed, not looked up in a table: stores whose addresses
    wait on a table load measurably slowed the next agent's look.
    """
    x, y = _xy(cell, width)
    w, h, p = np.uint64(width), np.uint64(height), np.uint64(pad)
    px = x + p
    py = y + p
    mx = px + w if x < p else (px - w if x >= w - p else px)  # the grid is wider than 2 pad
    my = py + h if y < p else (py - h if y >= h - p else py)
    padded_width = w + p + p
    weight[py * padded_width + px] = value
    weight[py * padded_width + mx] = value
    weight[my * padded_width + px] = value
    weight[my * padded_width + mx] = value


@nb.njit(inline="always", cache=True, error_model="numpy")
def _centre(cell, width, pad, padded_width):
    x, y = _xy(cell, width)
    p = np.uint64(pad)
    return np.int64((y + p) * np.uint64(padded_width) + x + p)


@nb.njit(inline="always", cache=True, error_model="numpy")
def _look(centre, starts, lengths, weight, run_sum):
    """Packed sum of the weights in vision of padded position ``centre`` (own cell included).

    ``run_sum[r]`` keeps the packed sum of runs ``0..r`` (cumulative), for
    :func:`_pick`. The positions are unsigned: with a signed index Numba
    checks for a negative one at every load, which made this loop twice as
    slow.
    """
    total = 0
    for r in range(starts.size):
        base = np.uint64(centre + starts[r])
        acc = 0
        for j in range(np.uint64(lengths[r])):
            acc += weight[base + j]
        total += acc
        run_sum[r] = total
    return total


@nb.njit(inline="always", cache=True, error_model="numpy")
def _pick(m, shift, value, centre, starts, lengths, weight, run_sum):
    """Padded position of the ``m``-th cell (in row order) of weight ``value`` in vision.

    Without branches on the data, which mispredict: the run holding that cell
    is the number of runs whose cumulative count is at most ``m``, and its
    place in the run the number of cells before which at most ``m`` of the
    run's cells of that weight are seen.
    """
    n_runs = starts.size
    r = 0
    for k in range(n_runs):
        r += ((run_sum[k] >> shift) & FIELD) <= m
    if r == n_runs:
        return -1
    if r > 0:
        m -= (run_sum[r - 1] >> shift) & FIELD
    base = np.uint64(centre + starts[r])
    seen = 0
    at = 0
    for j in range(np.uint64(lengths[r])):
        seen += weight[base + j] == value
        at += seen <= m
    return np.int64(base + at)


@nb.njit(inline="always", cache=True, error_model="numpy")
def _arrest_probability(cops, others_active, self_active, k, rule):
    """P = 1 - exp(-k (C/A)_v), with (C/A)_v as ``rule`` (an index in ARREST_RATIOS) reads it."""
    if rule == 0:  # the paper: C / A, the citizen counting itself
        ratio = cops / (1.0 + others_active)
    elif rule == 1:  # NetLogo Rebellion: floor, the citizen counted again when active
        ratio = float(math.floor(cops / (1.0 + others_active + self_active)))
    else:  # Mesa: Python's round (halves to even), the citizen counting itself
        ratio = float(round(cops / (1.0 + others_active)))
    return 1.0 - math.exp(-k * ratio)


@nb.njit(inline="always", cache=True, error_model="numpy")
def _move(a, t, key, empties, centre, starts, lengths, weight, run_sum, cell, occupant, width,
          height, pad, padded_cell, status):
    """Move agent ``a`` to a uniformly drawn empty cell in vision (stay if there is none)."""
    if empties <= 0:
        return
    m = int(uniform(key, t, a) * empties)
    target = padded_cell[_pick(m, EMPTY_SHIFT, EMPTY_WEIGHT, centre, starts, lengths, weight,
                               run_sum)]
    old = cell[a]
    occupant[old] = -1
    _set(weight, old, EMPTY_WEIGHT, width, height, pad)
    occupant[target] = a
    cell[a] = target
    _set(weight, target, _weight_of(status[a]), width, height, pad)


@nb.njit(inline="always", cache=True, error_model="numpy")
def _release(a, t, key, cell, on_grid, occupant, weight, width, height, pad, status):
    """End a term: back to the old cell if free, else to a random empty cell (``key``)."""
    status[a] = QUIET
    if on_grid[a]:  # the jailed kept its cell
        _set(weight, cell[a], 0, width, height, pad)
        return
    on_grid[a] = True
    n_cells = occupant.size
    target = cell[a]
    if occupant[target] >= 0:
        target = -1
        for j in range(32):
            trial = int(uniform(key, t, a * 64 + j) * n_cells)
            if occupant[trial] < 0:
                target = trial
                break
        if target < 0:  # a crowded grid: pick among all empty cells
            empty = 0
            for c in range(n_cells):
                empty += occupant[c] < 0
            pick = int(uniform(key, t, a * 64 + 63) * empty)
            for c in range(n_cells):
                if occupant[c] < 0:
                    if pick == 0:
                        target = c
                        break
                    pick -= 1
    occupant[target] = a
    cell[a] = target
    _set(weight, target, 0, width, height, pad)


@nb.njit(inline="always", cache=True, error_model="numpy")
def _arrest(cop, t, actives, centre, starts, lengths, weight, run_sum, padded_cell, occupant,
            status, jail_left, on_grid, cell, width, height, pad, max_jail, holds_cell,
            countdown, arrest_key, jail_key):
    """Cop ``cop`` jails a uniformly drawn active citizen in its vision; True if it did."""
    if actives <= 0:
        return False
    m = int(uniform(arrest_key, t, cop) * actives)
    position = _pick(m, ACTIVE_SHIFT, ACTIVE_WEIGHT, centre, starts, lengths, weight, run_sum)
    suspect = occupant[padded_cell[position]]
    status[suspect] = JAILED
    if max_jail < 0:  # J_max = inf
        jail_left[suspect] = ENDLESS
    elif countdown:  # NetLogo: random max-jail-term, U{0..J_max - 1}
        jail_left[suspect] = int(uniform(jail_key, t, suspect) * max_jail)
    else:  # U{0..J_max}
        jail_left[suspect] = int(uniform(jail_key, t, suspect) * (max_jail + 1))
    if holds_cell:
        _set(weight, cell[suspect], 0, width, height, pad)
    else:  # off the grid until released; its cell is remembered
        occupant[cell[suspect]] = -1
        _set(weight, cell[suspect], EMPTY_WEIGHT, width, height, pad)
        on_grid[suspect] = False
    return True


@nb.njit(inline="always", cache=True, error_model="numpy")
def _shuffle(order, key, t):
    """Fisher-Yates permutation of the agents from the counter-based stream ``key``."""
    n = order.size
    for i in range(n):
        order[i] = i
    for i in range(n - 1, 0, -1):
        j = int(uniform(key, t, i) * (i + 1))
        order[i], order[j] = order[j], order[i]


@nb.njit(inline="always", cache=True, error_model="numpy")
def _decide(a, total, legitimacy, threshold, arrest_constant, rule, hardship, risk_aversion,
            status):
    """Epstein's rule A: active iff G - R P > T, with G = H (1 - L), P = 1 - exp(-k (C/A))."""
    grievance = hardship[a] * (1.0 - legitimacy)
    risk = risk_aversion[a]
    if grievance <= threshold and risk >= 0.0:  # G - R P <= G <= T whatever P >= 0: no exp
        return QUIET
    cops = total & FIELD
    actives = (total >> ACTIVE_SHIFT) & FIELD
    self_active = 1 if status[a] == ACTIVE else 0
    p = _arrest_probability(cops, actives, self_active, arrest_constant, rule)
    return ACTIVE if grievance - risk * p > threshold else QUIET



# --------------------------------------------------------------------------- the steps
@nb.njit(cache=True, error_model="numpy")
def step_random(t, legitimacy, layout, rules, state, order, run_sum):
    """One step of random sequential activation (Epstein 2002; Mesa's ``shuffle_do``).

    ``order`` is refilled with a permutation of the agents from the
    activation stream; each agent in turn then acts: a jailed citizen serves
    one step of its term (or, with none left, is released and acts), a free
    citizen decides (rule A) and moves (rule M), a cop arrests (rule C) and
    moves.

    Parameters
    ----------
    t : int
        The step (the counter of every stream draw).
    legitimacy : float
        L during this step.
    layout : Layout
        The geometry of the run.
    rules : Rules
        Parameters, conventions and stream keys.
    state : State
        Agents and grids, updated in place.
    order : int64 array
        Scratch, one slot per agent: the activation order.
    run_sum : int64 array
        Scratch, one slot per vision run (the longer vision's count).
    """
    # the groups unpacked once: the body then reads plain locals, as fast as separate arguments
    (keys, threshold, arrest_constant, max_jail, rule, _, move_first, holds_cell, movement,
     countdown) = rules
    width, height, pad, cit_start, cit_length, cop_start, cop_length, padded_cell, n_citizens = (
        layout
    )
    hardship, risk_aversion, status, jail_left, cell, on_grid, occupant, weight = state
    padded_width = width + 2 * pad
    _shuffle(order, keys[0], t)
    for i in range(order.size):
        a = order[i]
        citizen = a < n_citizens
        if citizen and status[a] == JAILED:
            if countdown:  # served at the end of the step (count_down)
                continue
            if jail_left[a] > 0:
                jail_left[a] -= 1
                continue
            _release(a, t, keys[4], cell, on_grid, occupant, weight, width, height, pad, status)
        elif not citizen and status[a] == OFF_DUTY:
            continue
        starts, lengths = (cit_start, cit_length) if citizen else (cop_start, cop_length)
        centre = _centre(cell[a], width, pad, padded_width)
        total = _look(centre, starts, lengths, weight, run_sum) - weight[centre]
        if move_first and movement:
            _move(a, t, keys[1], total >> EMPTY_SHIFT, centre, starts, lengths, weight, run_sum,
                  cell, occupant, width, height, pad, padded_cell, status)
            centre = _centre(cell[a], width, pad, padded_width)
            total = _look(centre, starts, lengths, weight, run_sum) - weight[centre]
        if citizen:
            new = _decide(a, total, legitimacy, threshold, arrest_constant, rule, hardship,
                          risk_aversion, status)
            if new != status[a]:
                status[a] = new
                _set(weight, cell[a], _weight_of(new), width, height, pad)
        else:
            arrested = _arrest(a, t, (total >> ACTIVE_SHIFT) & FIELD, centre, starts, lengths,
                               weight, run_sum, padded_cell, occupant, status, jail_left,
                               on_grid, cell, width, height, pad, max_jail, holds_cell,
                               countdown, keys[2], keys[3])
            if arrested and not holds_cell and not move_first:  # a cell came free
                total = _look(centre, starts, lengths, weight, run_sum) - weight[centre]
        if movement and not move_first:
            _move(a, t, keys[1], total >> EMPTY_SHIFT, centre, starts, lengths, weight, run_sum,
                  cell, occupant, width, height, pad, padded_cell, status)


@nb.njit(cache=True, error_model="numpy")
def step_synchronous(t, legitimacy, layout, rules, state, order, run_sum):
    """One synchronous step: releases, all decisions from one snapshot, arrests, moves.

    Jail terms run down and released citizens return first; then every free
    citizen decides from the same snapshot of the grid; then the cops, in a
    random order, each arrest one active citizen in vision; then every free
    agent moves in that order (``rules.move_first`` has no effect here).

    Parameters
    ----------
    t : int
        The step (the counter of every stream draw).
    legitimacy : float
        L during this step.
    layout : Layout
        The geometry of the run.
    rules : Rules
        Parameters, conventions and stream keys.
    state : State
        Agents and grids, updated in place.
    order : int64 array
        Scratch, one slot per agent: the order of arrests and moves.
    run_sum : int64 array
        Scratch, one slot per vision run (the longer vision's count).
    """
    # the groups unpacked once: the body then reads plain locals, as fast as separate arguments
    (keys, threshold, arrest_constant, max_jail, rule, _, move_first, holds_cell, movement,
     countdown) = rules
    width, height, pad, cit_start, cit_length, cop_start, cop_length, padded_cell, n_citizens = (
        layout
    )
    hardship, risk_aversion, status, jail_left, cell, on_grid, occupant, weight = state
    padded_width = width + 2 * pad
    _shuffle(order, keys[0], t)
    for a in range(n_citizens):
        if status[a] == JAILED and not countdown:
            if jail_left[a] > 0:
                jail_left[a] -= 1
            else:
                _release(a, t, keys[4], cell, on_grid, occupant, weight, width, height, pad,
                         status)
    snapshot = weight.copy()
    decided = status.copy()
    for a in range(n_citizens):
        if status[a] != JAILED:
            centre = _centre(cell[a], width, pad, padded_width)
            total = _look(centre, cit_start, cit_length, snapshot, run_sum) - snapshot[centre]
            decided[a] = _decide(a, total, legitimacy, threshold, arrest_constant, rule,
                                 hardship, risk_aversion, status)
    for a in range(n_citizens):
        if decided[a] != status[a]:
            status[a] = decided[a]
            _set(weight, cell[a], _weight_of(decided[a]), width, height, pad)
    for i in range(order.size):
        a = order[i]
        if a >= n_citizens and status[a] == COP:
            centre = _centre(cell[a], width, pad, padded_width)
            total = _look(centre, cop_start, cop_length, weight, run_sum)
            _arrest(a, t, (total >> ACTIVE_SHIFT) & FIELD, centre, cop_start, cop_length, weight,
                    run_sum, padded_cell, occupant, status, jail_left, on_grid, cell, width,
                    height, pad, max_jail, holds_cell, countdown, keys[2], keys[3])
    if movement:
        for i in range(order.size):
            a = order[i]
            citizen = a < n_citizens
            if status[a] == JAILED or status[a] == OFF_DUTY:
                continue
            starts, lengths = (cit_start, cit_length) if citizen else (cop_start, cop_length)
            centre = _centre(cell[a], width, pad, padded_width)
            total = _look(centre, starts, lengths, weight, run_sum)
            _move(a, t, keys[1], total >> EMPTY_SHIFT, centre, starts, lengths, weight, run_sum,
                  cell, occupant, width, height, pad, padded_cell, status)


@nb.njit(cache=True, error_model="numpy")
def count_down(t, layout, rules, state):
    """NetLogo's jail: every term counts down at the end of step ``t``; at 0 the citizen is free.

    A term of 0 or 1 drawn this step ends now, so such a citizen is never
    counted as jailed (NetLogo counts ``jail-term > 0`` after the countdown).
    """
    width, height, pad = layout.width, layout.height, layout.pad
    status, jail_left, cell, on_grid = state.status, state.jail_left, state.cell, state.on_grid
    for a in range(layout.n_citizens):
        if status[a] == JAILED:
            if jail_left[a] > 0:
                jail_left[a] -= 1
            if jail_left[a] == 0:
                _release(a, t, rules.keys[4], cell, on_grid, state.occupant, state.weight, width,
                         height, pad, status)


@nb.njit(cache=True, error_model="numpy")
def run_steps(first, last, legitimacy_by_step, layout, rules, state, counts):
    """Run steps ``first..last`` (inclusive), counting the citizens of each status.

    Parameters
    ----------
    first, last : int
        The steps to run, inclusive.
    legitimacy_by_step : float64 array
        L at every step ``0..horizon``.
    layout : Layout
        The geometry of the run.
    rules : Rules
        Parameters, conventions and stream keys; ``rules.synchronous`` picks
        :func:`step_synchronous` over :func:`step_random`.
    state : State
        Agents and grids, updated in place.
    counts : int64 array, shape (horizon + 1, 3)
        ``counts[t]`` gets the quiet, active and jailed citizens after step ``t``.
    """
    order = np.empty(state.cell.size, dtype=np.int64)
    run_sum = np.empty(max(layout.cit_start.size, layout.cop_start.size), dtype=np.int64)
    status = state.status
    for t in range(first, last + 1):
        if rules.synchronous:
            step_synchronous(t, legitimacy_by_step[t], layout, rules, state, order, run_sum)
        else:
            step_random(t, legitimacy_by_step[t], layout, rules, state, order, run_sum)
        if rules.countdown:
            count_down(t, layout, rules, state)
        counts[t, 0] = 0
        counts[t, 1] = 0
        counts[t, 2] = 0
        for a in range(layout.n_citizens):
            counts[t, status[a]] += 1
