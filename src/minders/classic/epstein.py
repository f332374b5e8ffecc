"""Epstein (2002), "Modeling civil violence: an agent-based computational approach", Model I.

PNAS 99 (suppl. 3): 7243-7250. Citizens and cops on a torus. A citizen's
grievance is ``G = H (1 - L)`` (hardship H, legitimacy L); its estimate of
the chance of arrest is ``P = 1 - exp(-k (C/A)_v)``, with C cops and A
actives within its vision v; it turns active when ``G - R P > T`` (risk
aversion R, threshold T) and is quiet otherwise. A cop arrests one random
active citizen within its vision; the citizen is jailed for a term drawn
uniformly from ``0..J_max``. Everyone moves to a random empty cell within
vision. The paper's findings reproduced here (tests/classic): punctuated
equilibrium (long quiet spells broken by outbursts), and a sudden drop of
legitimacy setting off an outburst that a gradual decline to the same level
does not.

Implementations differ in details the paper leaves open, so each is a
scenario option in ``[conventions]`` (see ``docs/classic.md``):

``arrest_ratio``
    ``"paper"``: ``C / A`` with A counting the citizen itself (``A >= 1``);
    ``"netlogo"``: ``floor(C / A)``, A counting the citizen once more when it
    is active (NetLogo Rebellion, Wilensky 2004); ``"mesa"``:
    ``round(C / A)`` (halves to even), A counting the citizen (Mesa's example).
``activation``
    ``"random"``: random sequential, a fresh permutation every step (the paper
    and Mesa); ``"synchronous"``: all citizens decide from the same snapshot,
    then cops arrest and everyone moves in a random order.
``order``
    ``"act_then_move"`` (Mesa) or ``"move_then_act"`` (NetLogo) within one
    activation.
``neighbourhood``
    ``"von_neumann"`` (|dx| + |dy| <= v; Mesa), ``"moore"``, ``"disc"``
    (dx^2 + dy^2 <= v^2; NetLogo's in-radius) or ``"cross"`` (the four lattice
    directions only, the most literal reading of the paper's vision).
``jail_holds_cell``
    Jailed citizens keep their cell (Mesa) or leave it free and come back to it
    on release (or, if it was taken, to a random empty cell).
``placement``
    ``"exact"``: ``round(density * cells)`` citizens and cops on random cells
    (NetLogo); ``"per_cell"``: each cell independently (Mesa).

Records: ``step``, ``quiet``, ``active``, ``jailed`` (citizens) and
``legitimacy``; ``step`` 0 is the start (everyone quiet).

Implementation: the torus is mirrored into a padded grid of packed cell
weights (one 10-bit field each for cops, actives and empty cells), so that
looking around is a plain sum over a few contiguous row segments and
choosing a random empty cell (or active citizen) rescans one segment.
Random sequential activation with movement is inherently sequential: one
Numba kernel per step loops over a permutation drawn from the counter-based
stream ``epstein/activation``; moves, arrests, jail terms and releases draw
from streams of their own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numba as nb
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from minders.classic._common import STRICT, ClassicRun, ClassicScenario
from minders.distributions import Distribution, Uniform, sample
from minders.errors import ScenarioError
from minders.kinds import Kind
from minders.result import Result
from minders.streams import generator, stream_key, uniform

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Statuses: citizens are quiet, active or jailed; cops are cops.
QUIET, ACTIVE, JAILED, COP = 0, 1, 2, 3
#: Largest vision radius (a Moore neighbourhood of radius 15 has 960 cells < 2**10).
MAX_VISION = 15
STATUS_NAMES = ("quiet", "active", "jailed")
ARREST_RATIOS = ("paper", "netlogo", "mesa")
NEIGHBOURHOODS = ("von_neumann", "moore", "disc", "cross")


# --------------------------------------------------------------------------- the scenario
class EpsteinGrid(BaseModel):
    """The torus."""

    model_config = STRICT
    width: int = Field(40, ge=3, description="Cells across (the paper: 40).")
    height: int = Field(40, ge=3, description="Cells down (the paper: 40).")


class EpsteinCitizens(BaseModel):
    """The general population ("agents" in the paper)."""

    model_config = STRICT
    density: float = Field(0.7, ge=0.0, le=1.0, description="Share of cells holding a citizen.")
    vision: int = Field(7, ge=1, le=MAX_VISION, description="v: how far a citizen sees (cells).")
    hardship: Distribution = Field(
        default_factory=lambda: Uniform(),
        description="H: perceived hardship, U(0, 1) in the paper.",
    )
    risk_aversion: Distribution = Field(
        default_factory=lambda: Uniform(), description="R: risk aversion, U(0, 1) in the paper."
    )
    threshold: float = Field(0.1, ge=0.0, description="T: net grievance needed to turn active.")
    arrest_constant: float = Field(
        2.3, gt=0.0, description="k: makes P = 0.9 when C = A = 1 (the paper: 2.3 = ln 10).",
    )


class EpsteinCops(BaseModel):
    """The forces of the central authority."""

    model_config = STRICT
    density: float = Field(0.04, ge=0.0, le=1.0, description="Share of cells holding a cop.")
    vision: int = Field(7, ge=1, le=MAX_VISION, description="v*: how far a cop sees (cells).")
    max_jail: int = Field(30, ge=0, description="J_max: jail terms are uniform on 0..J_max steps.")


class LegitimacyChange(BaseModel):
    """A change of legitimacy: at once (``ramp = 0``) or linear over ``ramp`` steps."""

    model_config = STRICT
    start: int = Field(ge=1, description="First step at which the change acts.")
    value: float = Field(ge=0.0, le=1.0, description="Legitimacy reached.")
    ramp: int = Field(
        0, ge=0, description="Steps over which L moves linearly to value (0: a sudden drop)."
    )


class EpsteinLegitimacy(BaseModel):
    """Legitimacy L of the regime over time."""

    model_config = STRICT
    initial: float = Field(0.82, ge=0.0, le=1.0, description="L at the start.")
    changes: list[LegitimacyChange] = Field(
        default_factory=list, description="Sudden drops or gradual declines, in order."
    )

    @model_validator(mode="after")
    def _ordered(self) -> EpsteinLegitimacy:
        for k in range(1, len(self.changes)):
            if self.changes[k].start < self.changes[k - 1].start:
                previous = self.changes[k - 1].start
                raise ScenarioError(f"changes.{k}.start", self.changes[k].start,
                                    f"a step >= the previous change's ({previous})")
        return self


class EpsteinConventions(BaseModel):
    """Details the paper leaves open, as its implementations settle them."""

    model_config = STRICT
    arrest_ratio: Literal["paper", "netlogo", "mesa"] = Field(
        "paper", description="(C/A)_v: 'paper' C/A, A counting the citizen; 'netlogo' "
        "floor(C/A), A counting the citizen once more when active; 'mesa' round(C/A), halves "
        "to even, A counting the citizen.",
    )
    activation: Literal["random", "synchronous"] = Field(
        "random", description="'random': random sequential (the paper, Mesa); 'synchronous': "
        "decisions from one snapshot, then arrests and moves in a random order.",
    )
    order: Literal["act_then_move", "move_then_act"] = Field(
        "act_then_move", description="Within an activation: decide/arrest, then move (Mesa), "
        "or move first (NetLogo).",
    )
    neighbourhood: Literal["von_neumann", "moore", "disc", "cross"] = Field(
        "von_neumann", description="Shape of vision: von_neumann |dx|+|dy|<=v (Mesa), moore, "
        "disc dx^2+dy^2<=v^2 (NetLogo), cross (the four lattice directions).",
    )
    jail_holds_cell: bool = Field(
        False, description="Jailed citizens keep their cell (Mesa) or leave it free (NetLogo).",
    )
    placement: Literal["exact", "per_cell"] = Field(
        "exact", description="'exact': round(density * cells) of each kind (NetLogo); "
        "'per_cell': each cell drawn independently (Mesa).",
    )
    movement: bool = Field(True, description="Agents move to a random empty cell in vision.")


class EpsteinScenario(ClassicScenario):
    """An Epstein (2002) Model I scenario.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> s.cops.density, s.conventions.arrest_ratio
    (0.04, 'paper')
    """

    kind: Literal["epstein"] = Field("epstein", description="Scenario kind.")
    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: ClassicRun = Field(default_factory=ClassicRun)
    grid: EpsteinGrid = Field(default_factory=EpsteinGrid)
    citizens: EpsteinCitizens = Field(default_factory=EpsteinCitizens)
    cops: EpsteinCops = Field(default_factory=EpsteinCops)
    legitimacy: EpsteinLegitimacy = Field(default_factory=EpsteinLegitimacy)
    conventions: EpsteinConventions = Field(default_factory=EpsteinConventions)

    @model_validator(mode="after")
    def _fits(self) -> EpsteinScenario:
        steps = self.run.steps
        for k, change in enumerate(self.legitimacy.changes):
            if change.start > steps:  # L at step t drives step t, so steps 1..steps act
                raise ScenarioError(
                    f"legitimacy.changes.{k}.start", change.start,
                    f"a step inside the horizon [1, {steps}] (run.steps = {steps})",
                )
        free = 1.0 - self.citizens.density
        if self.cops.density > free + 1e-12:
            raise ScenarioError(
                "cops.density", self.cops.density,
                f"a density <= 1 - citizens.density ({free:g}): one agent per cell",
            )
        reach = max(self.citizens.vision, self.cops.vision)
        for side in ("width", "height"):
            size = getattr(self.grid, side)
            if size < 2 * reach + 1:
                raise ScenarioError(
                    f"grid.{side}", size,
                    f"at least 2 * vision + 1 = {2 * reach + 1} cells (vision must not wrap "
                    "around the torus onto itself)",
                )
        return self


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


def _row_runs(radius: int, shape: str, padded_width: int) -> tuple[np.ndarray, np.ndarray]:
    """The vision as runs of contiguous cells of the padded grid: (first offset, length).

    The own cell is inside one run; the kernels subtract its contribution.
    """
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

    Citizens are agents ``0 .. n_citizens - 1``, cops the rest.
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


def _padded_cells(width: int, height: int, pad: int) -> np.ndarray:
    """The real cell behind every position of the padded grid (the torus, mirrored)."""
    padded_width, padded_height = width + 2 * pad, height + 2 * pad
    px, py = np.meshgrid(np.arange(padded_width), np.arange(padded_height))
    return (((py - pad) % height) * width + (px - pad) % width).ravel().astype(np.int64)


def build_world(scenario: EpsteinScenario, seed: int) -> World:
    """Place citizens and cops (stream ``epstein/placement``) and draw H and R.

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
    cell = np.concatenate([cit_cells, cop_cells]).astype(np.int64)
    n = cell.size
    pad = max(scenario.citizens.vision, scenario.cops.vision)
    padded_cell = _padded_cells(width, height, pad)
    occupant = np.full(cells, -1, dtype=np.int64)
    occupant[cell] = np.arange(n)
    status = np.full(n, COP, dtype=np.int8)
    status[:n_cit] = QUIET
    on_cell = occupant[padded_cell]
    by_status = np.array([0, ACTIVE_WEIGHT, 0, COP_WEIGHT], dtype=np.int32)
    weight = np.where(on_cell >= 0, by_status[status[np.maximum(on_cell, 0)]], EMPTY_WEIGHT)
    return World(
        width=width, height=height, pad=pad, n_citizens=n_cit, cell=cell,
        on_grid=np.ones(n, dtype=np.bool_), occupant=occupant, weight=weight.astype(np.int32),
        padded_cell=padded_cell, status=status, jail_left=np.zeros(n, dtype=np.int64),
        hardship=sample(scenario.citizens.hardship, generator(seed, "epstein/hardship"), n_cit),
        risk_aversion=sample(
            scenario.citizens.risk_aversion, generator(seed, "epstein/risk_aversion"), n_cit
        ),
    )


def legitimacy_path(scenario: EpsteinScenario, steps: int) -> np.ndarray:
    """L at steps ``0..steps``: the initial level, then each change in turn.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"legitimacy": {"initial": 0.8, "changes": [
    ...     {"start": 2, "value": 0.6, "ramp": 2}]}})
    >>> legitimacy_path(s, 4).round(3).tolist()
    [0.8, 0.8, 0.7, 0.6, 0.6]
    """
    level = np.full(steps + 1, scenario.legitimacy.initial, dtype=np.float64)
    for change in scenario.legitimacy.changes:
        if change.start > steps:
            continue
        before = level[change.start - 1]
        t = np.arange(change.start, steps + 1)
        if change.ramp == 0:
            level[t] = change.value
        else:
            done = np.minimum(1.0, (t - change.start + 1) / change.ramp)
            level[t] = before + (change.value - before) * done
    return level


# --------------------------------------------------------------------------- the kernels
# The padded grid holds one packed weight per cell, so that the sum of the weights over a
# run of cells counts cops, actives and empty cells at once, in 10-bit fields: a vision of
# radius <= MAX_VISION has fewer than 2**10 cells.
COP_WEIGHT, ACTIVE_WEIGHT, EMPTY_WEIGHT = 1, 1 << 10, 1 << 20
FIELD = (1 << 10) - 1
ACTIVE_SHIFT, EMPTY_SHIFT = 10, 20


@nb.njit(inline="always", cache=True, error_model="numpy")
def _weight_of(status):
    if status == ACTIVE:
        return ACTIVE_WEIGHT
    if status == COP:
        return COP_WEIGHT
    return 0  # quiet, or jailed on its cell: occupied, neither cop nor active


@nb.njit(inline="always", cache=True, error_model="numpy")
def _set(weight, cell, value, width, height, pad):
    """Write ``value`` at ``cell`` and at its torus mirrors in the padding (up to 4 places).

    The mirrors are computed, not looked up in a table: stores whose
    addresses wait on a table load measurably slowed the next agent's look.
    """
    padded_width = width + 2 * pad
    y = cell // width
    x = cell - y * width
    px = x + pad
    py = y + pad
    weight[py * padded_width + px] = value
    mx = px + width if x < pad else (px - width if x >= width - pad else -1)
    my = py + height if y < pad else (py - height if y >= height - pad else -1)
    if mx >= 0:
        weight[py * padded_width + mx] = value
    if my >= 0:
        weight[my * padded_width + px] = value
        if mx >= 0:
            weight[my * padded_width + mx] = value


@nb.njit(inline="always", cache=True, error_model="numpy")
def _centre(cell, width, pad, padded_width):
    return (cell // width + pad) * padded_width + cell % width + pad


@nb.njit(inline="always", cache=True, error_model="numpy")
def _look(centre, starts, lengths, weight, run_sum):
    """Packed sum of the weights in vision of padded position ``centre`` (own cell included).

    ``run_sum[r]`` keeps the sum of run ``r``, for :func:`_pick`.
    """
    total = 0
    for r in range(starts.size):
        base = centre + starts[r]
        acc = 0
        for j in range(lengths[r]):
            acc += weight[base + j]
        run_sum[r] = acc
        total += acc
    return total


@nb.njit(inline="always", cache=True, error_model="numpy")
def _pick(m, shift, value, centre, starts, lengths, weight, run_sum):
    """Padded position of the ``m``-th cell (in row order) of weight ``value`` in vision."""
    for r in range(starts.size):
        here = (run_sum[r] >> shift) & FIELD
        if m >= here:
            m -= here
            continue
        base = centre + starts[r]
        for j in range(lengths[r]):
            if weight[base + j] == value:
                if m == 0:
                    return base + j
                m -= 1
    return -1


@nb.njit(inline="always", cache=True, error_model="numpy")
def _arrest_probability(cops, others_active, self_active, k, rule):
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
            arrest_key, jail_key):
    """Cop ``cop`` jails a uniformly drawn active citizen in its vision; True if it did."""
    if actives <= 0:
        return False
    m = int(uniform(arrest_key, t, cop) * actives)
    position = _pick(m, ACTIVE_SHIFT, ACTIVE_WEIGHT, centre, starts, lengths, weight, run_sum)
    suspect = occupant[padded_cell[position]]
    status[suspect] = JAILED
    jail_left[suspect] = int(uniform(jail_key, t, suspect) * (max_jail + 1))  # U{0..J_max}
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
    cops = total & FIELD
    actives = (total >> ACTIVE_SHIFT) & FIELD
    self_active = 1 if status[a] == ACTIVE else 0
    p = _arrest_probability(cops, actives, self_active, arrest_constant, rule)
    return ACTIVE if grievance - risk_aversion[a] * p > threshold else QUIET


@nb.njit(cache=True, error_model="numpy")
def step_random(
    t, keys, legitimacy, threshold, arrest_constant, max_jail, rule, move_first, holds_cell,
    movement, width, height, pad, cit_start, cit_length, cop_start, cop_length, n_citizens,
    hardship, risk_aversion, status, jail_left, cell, on_grid, occupant, weight, padded_cell,
    order, run_sum,
):
    """One step of random sequential activation (Epstein 2002; Mesa's ``shuffle_do``).

    ``order`` is refilled with a permutation of the agents from the stream
    ``keys[0]``; each agent in turn then acts: a jailed citizen serves one
    step of its term (or, with none left, is released and acts), a free
    citizen decides (rule A) and moves (rule M), a cop arrests (rule C) and
    moves. ``keys``: activation, move, arrest, jail_term, release streams.
    """
    padded_width = width + 2 * pad
    _shuffle(order, keys[0], t)
    for i in range(order.size):
        a = order[i]
        citizen = a < n_citizens
        if citizen and status[a] == JAILED:
            if jail_left[a] > 0:
                jail_left[a] -= 1
                continue
            _release(a, t, keys[4], cell, on_grid, occupant, weight, width, height, pad, status)
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
                               on_grid, cell, width, height, pad, max_jail, holds_cell, keys[2],
                               keys[3])
            if arrested and not holds_cell and not move_first:  # a cell came free
                total = _look(centre, starts, lengths, weight, run_sum) - weight[centre]
        if movement and not move_first:
            _move(a, t, keys[1], total >> EMPTY_SHIFT, centre, starts, lengths, weight, run_sum,
                  cell, occupant, width, height, pad, padded_cell, status)


@nb.njit(cache=True, error_model="numpy")
def step_synchronous(
    t, keys, legitimacy, threshold, arrest_constant, max_jail, rule, move_first, holds_cell,
    movement, width, height, pad, cit_start, cit_length, cop_start, cop_length, n_citizens,
    hardship, risk_aversion, status, jail_left, cell, on_grid, occupant, weight, padded_cell,
    order, run_sum,
):
    """One synchronous step: releases, all decisions from one snapshot, arrests, moves.

    Jail terms run down and released citizens return first; then every free
    citizen decides from the same snapshot of the grid; then the cops, in a
    random order, each arrest one active citizen in vision; then every free
    agent moves in that order (``move_first`` has no effect here).
    """
    padded_width = width + 2 * pad
    _shuffle(order, keys[0], t)
    for a in range(n_citizens):
        if status[a] == JAILED:
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
        if a >= n_citizens:
            centre = _centre(cell[a], width, pad, padded_width)
            total = _look(centre, cop_start, cop_length, weight, run_sum)
            _arrest(a, t, (total >> ACTIVE_SHIFT) & FIELD, centre, cop_start, cop_length, weight,
                    run_sum, padded_cell, occupant, status, jail_left, on_grid, cell, width,
                    height, pad, max_jail, holds_cell, keys[2], keys[3])
    if movement:
        for i in range(order.size):
            a = order[i]
            citizen = a < n_citizens
            if citizen and status[a] == JAILED:
                continue
            starts, lengths = (cit_start, cit_length) if citizen else (cop_start, cop_length)
            centre = _centre(cell[a], width, pad, padded_width)
            total = _look(centre, starts, lengths, weight, run_sum)
            _move(a, t, keys[1], total >> EMPTY_SHIFT, centre, starts, lengths, weight, run_sum,
                  cell, occupant, width, height, pad, padded_cell, status)


@nb.njit(cache=True, error_model="numpy")
def run_steps(
    first, last, synchronous, keys, legitimacy_by_step, threshold, arrest_constant, max_jail,
    rule, move_first, holds_cell, movement, width, height, pad, cit_start, cit_length,
    cop_start, cop_length, n_citizens, hardship, risk_aversion, status, jail_left, cell, on_grid,
    occupant, weight, padded_cell, counts,
):
    """Run steps ``first..last`` (inclusive); ``counts[t]`` gets quiet, active, jailed."""
    order = np.empty(cell.size, dtype=np.int64)
    run_sum = np.empty(max(cit_start.size, cop_start.size), dtype=np.int64)
    for t in range(first, last + 1):
        if synchronous:
            step_synchronous(
                t, keys, legitimacy_by_step[t], threshold, arrest_constant, max_jail, rule,
                move_first, holds_cell, movement, width, height, pad, cit_start, cit_length,
                cop_start, cop_length, n_citizens, hardship, risk_aversion, status, jail_left, cell,
                on_grid, occupant, weight, padded_cell, order, run_sum,
            )
        else:
            step_random(
                t, keys, legitimacy_by_step[t], threshold, arrest_constant, max_jail, rule,
                move_first, holds_cell, movement, width, height, pad, cit_start, cit_length,
                cop_start, cop_length, n_citizens, hardship, risk_aversion, status, jail_left, cell,
                on_grid, occupant, weight, padded_cell, order, run_sum,
            )
        counts[t, 0] = 0
        counts[t, 1] = 0
        counts[t, 2] = 0
        for a in range(n_citizens):
            counts[t, status[a]] += 1


# --------------------------------------------------------------------------- running
#: The named counter-based streams of one run, in the order ``run_steps`` takes their keys.
STREAMS = ("activation", "move", "arrest", "jail_term", "release")


def simulate(
    scenario: EpsteinScenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run Model I and return its :class:`~minders.result.Result`.

    Parameters
    ----------
    scenario : EpsteinScenario
        A validated scenario.
    seed : int, optional
        Base seed (default ``run.seed``).
    steps : int, optional
        Horizon (default ``run.steps``).
    progress : callable, optional
        ``progress(done, total)``, every few steps.

    Returns
    -------
    Result
        Records ``step``, ``quiet``, ``active``, ``jailed``, ``legitimacy``.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> rec = simulate(s, seed=1, steps=20).records
    >>> rec.columns.tolist()
    ['step', 'quiet', 'active', 'jailed', 'legitimacy']
    >>> bool((rec[["quiet", "active", "jailed"]].sum(axis=1) == 280).all())
    True
    """
    start = time.perf_counter()
    seed = scenario.run.seed if seed is None else int(seed)
    horizon = scenario.run.steps if steps is None else int(steps)
    world = build_world(scenario, seed)
    conv = scenario.conventions
    legitimacy = legitimacy_path(scenario, horizon)
    keys = np.array([stream_key(seed, f"epstein/{name}") for name in STREAMS], dtype=np.uint64)
    width = world.width + 2 * world.pad
    cit_start, cit_length = _row_runs(scenario.citizens.vision, conv.neighbourhood, width)
    cop_start, cop_length = _row_runs(scenario.cops.vision, conv.neighbourhood, width)
    counts = np.zeros((horizon + 1, 3), dtype=np.int64)
    counts[0, QUIET] = world.n_citizens
    chunk = max(1, min(50, horizon // 100 or 1))
    done = 0
    while done < horizon:
        last = min(horizon, done + chunk)
        run_steps(
            done + 1, last, conv.activation == "synchronous", keys, legitimacy,
            scenario.citizens.threshold, scenario.citizens.arrest_constant,
            scenario.cops.max_jail, ARREST_RATIOS.index(conv.arrest_ratio),
            conv.order == "move_then_act", conv.jail_holds_cell, conv.movement, world.width,
            world.height, world.pad, cit_start, cit_length, cop_start, cop_length, world.n_citizens,
            world.hardship, world.risk_aversion, world.status, world.jail_left, world.cell,
            world.on_grid, world.occupant, world.weight, world.padded_cell, counts,
        )
        done = last
        if progress is not None:
            progress(done, horizon)
    records = pd.DataFrame({
        "step": np.arange(horizon + 1, dtype=np.int64),
        "quiet": counts[:, QUIET],
        "active": counts[:, ACTIVE],
        "jailed": counts[:, JAILED],
        "legitimacy": legitimacy,
    })
    return Result(scenario=scenario, seed=seed, records=records,
                  wall_time=time.perf_counter() - start, steps=horizon)


# --------------------------------------------------------------------------- analysis
def outbursts(active: np.ndarray, level: float) -> pd.DataFrame:
    """Spells during which at least ``level`` citizens are active.

    Parameters
    ----------
    active : int array
        Active citizens per step.
    level : float
        How many actives make an outburst.

    Returns
    -------
    pandas.DataFrame
        One row per outburst: ``start``, ``end`` (exclusive), ``peak``.

    Examples
    --------
    >>> outbursts(np.array([0, 5, 60, 80, 3, 0, 70, 1]), 50).values.tolist()
    [[2, 4, 80], [6, 7, 70]]
    """
    above = np.concatenate([[False], np.asarray(active) >= level, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    peaks = [int(np.max(active[s:e])) for s, e in zip(starts, ends, strict=True)]
    return pd.DataFrame({"start": starts, "end": ends, "peak": peaks}, dtype=np.int64)


def summary(result: Result) -> pd.DataFrame:
    """Per citizen status: mean, sd, max and final count, and the mean share of citizens.

    Examples
    --------
    >>> s = EpsteinScenario.model_validate({"grid": {"width": 20, "height": 20}})
    >>> summary(simulate(s, steps=5)).index.tolist()
    ['quiet', 'active', 'jailed']
    """
    rec = result.records.iloc[1:] if len(result.records) > 1 else result.records
    citizens = int(result.records.loc[0, ["quiet", "active", "jailed"]].sum())
    table = pd.DataFrame({
        "mean": [float(rec[s].mean()) for s in STATUS_NAMES],
        "sd": [float(rec[s].std(ddof=0)) for s in STATUS_NAMES],
        "max": [int(rec[s].max()) for s in STATUS_NAMES],
        "final": [int(rec[s].iloc[-1]) for s in STATUS_NAMES],
        "mean_share": [float(rec[s].mean()) / max(citizens, 1) for s in STATUS_NAMES],
    }, index=pd.Index(list(STATUS_NAMES), name="citizens"))
    return table


def figure(result: Result) -> Figure:
    """Quiet, active and jailed citizens over time, legitimacy on a second axis."""
    import matplotlib.pyplot as plt

    from minders import plotting  # noqa: F401  (selects the headless backend)

    rec = result.records
    fig, ax = plt.subplots(figsize=(10, 4.8), constrained_layout=True)
    for name, colour in zip(STATUS_NAMES, ("tab:blue", "tab:red", "dimgrey"), strict=True):
        ax.plot(rec["step"], rec[name], color=colour, linewidth=1.0, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("citizens")
    conv = result.scenario.conventions
    ax.set_title(f"{result.scenario.name} (seed {result.seed}): Epstein (2002) Model I; "
                 f"C/A {conv.arrest_ratio}, {conv.activation} activation", fontsize=10)
    twin = ax.twinx()
    twin.plot(rec["step"], rec["legitimacy"], color="tab:green", linestyle="--", linewidth=1.0,
              label="legitimacy")
    twin.set_ylim(0, 1.05)
    twin.set_ylabel("legitimacy L")
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    return fig


KIND = Kind(
    name="epstein", scenario_class=EpsteinScenario, simulate=simulate, summary=summary,
    figure=figure, description="Epstein (2002) civil violence, Model I (citizens and cops).",
)
