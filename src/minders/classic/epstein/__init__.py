"""Epstein (2002), "Modeling civil violence: an agent-based computational approach", Model I.

PNAS 99 (suppl. 3): 7243-7250. Citizens and cops on a torus. A citizen's
grievance is ``G = H (1 - L)`` (hardship H, legitimacy L); its estimate of
the chance of arrest is ``P = 1 - exp(-k (C/A)_v)``, with C cops and A
actives within its vision v; it turns active when ``G - R P > T`` (risk
aversion R, threshold T) and is quiet otherwise. A cop arrests one random
active citizen within its vision; the citizen is jailed for a term drawn
uniformly from ``0..J_max`` (``cops.max_jail = "inf"``: for good).
Everyone moves to a random empty cell within vision. The paper's findings
reproduced here (tests/classic): punctuated
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
``jail_term``
    ``"inclusive"``: terms uniform on ``0..J_max``, one step served at each
    of the citizen's activations (the paper's U(0, J_max); Mesa);
    ``"netlogo"``: uniform on ``0..J_max - 1``, counted down at the end of
    each step (NetLogo Rebellion).
``preset``
    ``"epstein"`` (the defaults), ``"netlogo"`` or ``"mesa"`` sets all of the
    above as that implementation does (:data:`PRESETS`); ``conventions =
    "netlogo"`` is short for ``[conventions] preset = "netlogo"``.

``[[cops.schedule]]`` removes or adds cops before given steps (shocks; the
records then gain a ``cops`` column), for Epstein's cop-reduction runs.

Records: ``step``, ``quiet``, ``active``, ``jailed`` (citizens) and
``legitimacy``; ``step`` 0 is the start (everyone quiet).

The package, one module per concern: :mod:`.scenario` (the scenario and its
conventions), :mod:`.grid` (the torus, its padded mirror of packed cell
weights, vision neighbourhoods and the initial world), :mod:`.kernels` (the
Numba step kernels), :mod:`.simulation` (:func:`simulate`) and
:mod:`.analysis` (outbursts, the summary table, the figure).
"""

from __future__ import annotations

from minders.classic.epstein.analysis import figure, outbursts, summary
from minders.classic.epstein.grid import (
    ACTIVE_SHIFT,
    ACTIVE_WEIGHT,
    COP_WEIGHT,
    EMPTY_SHIFT,
    EMPTY_WEIGHT,
    FIELD,
    World,
    build_world,
    change_cops,
    padded_cells,
    row_runs,
    vision_offsets,
)
from minders.classic.epstein.kernels import (
    ENDLESS,
    STREAMS,
    Layout,
    Rules,
    State,
    _arrest_probability,
    count_down,
    kernel_inputs,
    run_steps,
    step_random,
    step_synchronous,
)
from minders.classic.epstein.scenario import (
    ACTIVE,
    ARREST_RATIOS,
    COP,
    JAILED,
    MAX_VISION,
    NEIGHBOURHOODS,
    OFF_DUTY,
    PRESETS,
    QUIET,
    STATUS_NAMES,
    CopChange,
    EpsteinCitizens,
    EpsteinConventions,
    EpsteinCops,
    EpsteinGrid,
    EpsteinLegitimacy,
    EpsteinScenario,
    LegitimacyChange,
)
from minders.classic.epstein.simulation import legitimacy_path, simulate

_row_runs = row_runs  # the name the tests knew it by

__all__ = [
    "ACTIVE", "ACTIVE_SHIFT", "ACTIVE_WEIGHT", "ARREST_RATIOS", "COP", "COP_WEIGHT",
    "EMPTY_SHIFT", "EMPTY_WEIGHT", "ENDLESS", "FIELD", "JAILED", "MAX_VISION",
    "NEIGHBOURHOODS", "OFF_DUTY", "PRESETS", "QUIET", "STATUS_NAMES", "STREAMS", "CopChange",
    "EpsteinCitizens", "EpsteinConventions", "EpsteinCops", "EpsteinGrid", "EpsteinLegitimacy",
    "EpsteinScenario", "Layout", "LegitimacyChange", "Rules", "State", "World", "build_world",
    "change_cops", "count_down", "figure", "kernel_inputs", "legitimacy_path", "outbursts",
    "padded_cells", "row_runs", "run_steps", "simulate", "step_random", "step_synchronous",
    "summary", "vision_offsets", "_arrest_probability", "_row_runs",
]


# --------------------------------------------------------------------------- the kind
# minders.kinds.REGISTRY names this attribute ("minders.classic.epstein:KIND").
from minders.kinds import Kind  # noqa: E402

KIND = Kind(
    name="epstein", scenario_class=EpsteinScenario, simulate=simulate, summary=summary,
    figure=figure, description="Epstein (2002) civil violence, Model I (citizens and cops).",
)
