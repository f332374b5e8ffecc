"""Epstein (2002) civil violence, Model I: the kernels against a plain-Python oracle, and
the paper's findings (punctuated equilibrium; sudden versus gradual legitimacy decline)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from minders.classic import epstein as E
from minders.kinds import load_scenario
from minders.streams import stream_key, uniform_reference

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"


# --------------------------------------------------------------------------- the oracle
def draw(key, t, slot):
    return float(uniform_reference(key, t, np.array([slot]))[0])


class Reference:
    """Plain-Python Model I: one object per world, dicts and lists, the same draws."""

    def __init__(self, scenario: E.EpsteinScenario, world: E.World, keys: np.ndarray):
        self.s = scenario
        self.conv = scenario.conventions
        self.w, self.h = world.width, world.height
        self.n_cit = world.n_citizens
        self.cell = world.cell.tolist()
        self.on_grid = world.on_grid.tolist()
        self.occupant = world.occupant.tolist()
        self.status = world.status.tolist()
        self.jail_left = world.jail_left.tolist()
        self.hardship = world.hardship.tolist()
        self.risk = world.risk_aversion.tolist()
        self.keys = [np.uint64(k) for k in keys]
        shape = self.conv.neighbourhood
        self.vision = {
            True: list(zip(*E.vision_offsets(scenario.citizens.vision, shape), strict=True)),
            False: list(zip(*E.vision_offsets(scenario.cops.vision, shape), strict=True)),
        }

    def cells_in_vision(self, a):
        x, y = self.cell[a] % self.w, self.cell[a] // self.w
        citizen = a < self.n_cit
        return [((y + dy) % self.h) * self.w + (x + dx) % self.w
                for dx, dy in self.vision[citizen]]

    def look(self, a):
        cops, actives, empties = 0, [], []
        for c in self.cells_in_vision(a):
            b = self.occupant[c]
            if b < 0:
                empties.append(c)
            elif b >= self.n_cit:
                cops += 1
            elif self.status[b] == E.ACTIVE:
                actives.append(b)
        return cops, actives, empties

    def move(self, a, t, empties):
        if not empties or not self.conv.movement:
            return
        target = empties[int(draw(self.keys[1], t, a) * len(empties))]
        self.occupant[self.cell[a]] = -1
        self.occupant[target] = a
        self.cell[a] = target

    def release(self, a, t):
        self.status[a] = E.QUIET
        if self.on_grid[a]:
            return
        self.on_grid[a] = True
        target = self.cell[a]
        n_cells = len(self.occupant)
        if self.occupant[target] >= 0:
            target = -1
            for j in range(32):
                trial = int(draw(self.keys[4], t, a * 64 + j) * n_cells)
                if self.occupant[trial] < 0:
                    target = trial
                    break
            if target < 0:
                empty = [c for c in range(n_cells) if self.occupant[c] < 0]
                target = empty[int(draw(self.keys[4], t, a * 64 + 63) * len(empty))]
        self.occupant[target] = a
        self.cell[a] = target

    def decide(self, a, cops, n_active, legitimacy):
        own = 1 if self.status[a] == E.ACTIVE else 0
        rule = self.conv.arrest_ratio
        if rule == "paper":
            ratio = cops / (1 + n_active)
        elif rule == "netlogo":
            ratio = math.floor(cops / (1 + n_active + own))
        else:
            ratio = round(cops / (1 + n_active))  # Python's round: halves to even
        p = 1 - math.exp(-self.s.citizens.arrest_constant * ratio)
        g = self.hardship[a] * (1 - legitimacy)
        return E.ACTIVE if g - self.risk[a] * p > self.s.citizens.threshold else E.QUIET

    def arrest(self, cop, t, actives):
        if not actives:
            return False
        suspect = actives[int(draw(self.keys[2], t, cop) * len(actives))]
        self.status[suspect] = E.JAILED
        longest = self.s.cops.max_jail
        if longest == "inf":
            self.jail_left[suspect] = E.ENDLESS
        elif self.conv.jail_term == "netlogo":  # NetLogo's random max-jail-term: 0..J-1
            self.jail_left[suspect] = int(draw(self.keys[3], t, suspect) * longest)
        else:
            self.jail_left[suspect] = int(draw(self.keys[3], t, suspect) * (longest + 1))
        if not self.conv.jail_holds_cell:
            self.occupant[self.cell[suspect]] = -1
            self.on_grid[suspect] = False
        return True

    def order(self, t):
        order = list(range(len(self.cell)))
        for i in range(len(order) - 1, 0, -1):
            j = int(draw(self.keys[0], t, i) * (i + 1))
            order[i], order[j] = order[j], order[i]
        return order

    def count_down(self, t):
        """NetLogo: every term counts down at the end of the step; free at 0."""
        if self.conv.jail_term != "netlogo":
            return
        for a in range(self.n_cit):
            if self.status[a] == E.JAILED:
                self.jail_left[a] = max(0, self.jail_left[a] - 1)
                if self.jail_left[a] == 0:
                    self.release(a, t)

    def step_random(self, t, legitimacy):
        move_first = self.conv.order == "move_then_act"
        countdown = self.conv.jail_term == "netlogo"
        for a in self.order(t):
            citizen = a < self.n_cit
            if citizen and self.status[a] == E.JAILED:
                if countdown:
                    continue
                if self.jail_left[a] > 0:
                    self.jail_left[a] -= 1
                    continue
                self.release(a, t)
            cops, actives, empties = self.look(a)
            if move_first:
                self.move(a, t, empties)
                cops, actives, empties = self.look(a)
            if citizen:
                self.status[a] = self.decide(a, cops, len(actives), legitimacy)
            elif self.arrest(a, t, actives) and not self.conv.jail_holds_cell:
                cops, actives, empties = self.look(a)
            if not move_first:
                self.move(a, t, empties)
        self.count_down(t)

    def step_synchronous(self, t, legitimacy):
        order = self.order(t)
        for a in range(self.n_cit):
            if self.status[a] == E.JAILED and self.conv.jail_term != "netlogo":
                if self.jail_left[a] > 0:
                    self.jail_left[a] -= 1
                else:
                    self.release(a, t)
        decided = list(self.status)
        for a in range(self.n_cit):
            if self.status[a] != E.JAILED:
                cops, actives, _ = self.look(a)
                decided[a] = self.decide(a, cops, len(actives), legitimacy)
        self.status = decided
        for a in order:
            if a >= self.n_cit:
                self.arrest(a, t, self.look(a)[1])
        for a in order:
            if a < self.n_cit and self.status[a] == E.JAILED:
                continue
            self.move(a, t, self.look(a)[2])
        self.count_down(t)


def kernel_step(world, scenario, t, keys, legitimacy, counts):
    layout, rules, state = E.kernel_inputs(scenario, world, seed=7)
    assert (rules.keys == keys).all()
    E.run_steps(t, t, legitimacy, layout, rules, state, counts)


def small(conventions: dict, **sections) -> E.EpsteinScenario:
    data = {
        "grid": {"width": 17, "height": 15},
        "citizens": {"density": 0.6, "vision": 3},
        "cops": {"density": 0.08, "vision": 4, "max_jail": 3},
        "legitimacy": {"initial": 0.6},
        "conventions": conventions,
    }
    data.update(sections)
    return E.EpsteinScenario.model_validate(data)


CONVENTIONS = [
    {"arrest_ratio": "paper"},
    {"arrest_ratio": "mesa", "placement": "per_cell", "jail_holds_cell": True},
    {"arrest_ratio": "netlogo", "order": "move_then_act", "neighbourhood": "disc"},
    {"arrest_ratio": "mesa", "neighbourhood": "moore", "jail_holds_cell": True,
     "order": "move_then_act"},
    {"arrest_ratio": "netlogo", "neighbourhood": "cross", "movement": False},
    {"arrest_ratio": "paper", "activation": "synchronous"},
    {"arrest_ratio": "mesa", "activation": "synchronous", "jail_holds_cell": True},
    {"preset": "netlogo"},
    {"preset": "netlogo", "jail_holds_cell": True, "activation": "synchronous"},
    {"preset": "mesa", "jail_term": "netlogo"},
]


@pytest.mark.parametrize("conventions", CONVENTIONS, ids=lambda c: "-".join(map(str, c.values())))
def test_kernel_matches_the_python_reference_step_by_step(conventions):
    scenario = small(conventions, **{"citizens": {"density": 0.55, "vision": 3,
                                                  "threshold": 0.05}})
    _compare_with_reference(scenario)


def test_kernel_matches_the_reference_with_endless_terms():
    scenario = small({"preset": "netlogo"}, **{
        "citizens": {"density": 0.55, "vision": 3, "threshold": 0.05},
        "cops": {"density": 0.08, "vision": 4, "max_jail": "inf"}})
    _compare_with_reference(scenario)


def test_kernel_matches_the_reference_with_risk_seeking_citizens():
    """R < 0 (a risk-seeking citizen) makes G - R P larger than G: the kernel must take P then."""
    scenario = small({"arrest_ratio": "paper"}, **{
        "citizens": {"density": 0.55, "vision": 3, "threshold": 0.05,
                     "risk_aversion": {"kind": "uniform", "low": -1.0, "high": 0.5}}})
    assert (E.build_world(scenario, seed=7).risk_aversion < 0).any()
    _compare_with_reference(scenario)


def _compare_with_reference(scenario: E.EpsteinScenario) -> None:
    world = E.build_world(scenario, seed=7)
    keys = np.array([stream_key(7, f"epstein/{n}") for n in E.STREAMS], dtype=np.uint64)
    reference = Reference(scenario, world, keys)
    steps = 12
    legitimacy = np.linspace(0.6, 0.2, steps + 1)
    counts = np.zeros((steps + 1, 3), dtype=np.int64)
    seen = set()
    for t in range(1, steps + 1):
        kernel_step(world, scenario, t, keys, legitimacy, counts)
        if scenario.conventions.activation == "synchronous":
            reference.step_synchronous(t, legitimacy[t])
        else:
            reference.step_random(t, legitimacy[t])
        assert world.status.tolist() == reference.status, f"status differs at step {t}"
        assert world.cell.tolist() == reference.cell, f"cells differ at step {t}"
        assert world.occupant.tolist() == reference.occupant
        assert world.jail_left.tolist() == reference.jail_left
        assert world.on_grid.tolist() == reference.on_grid
        seen.update(reference.status[: world.n_citizens])
        check_grid(world)
    assert {E.QUIET, E.ACTIVE, E.JAILED} <= seen  # the comparison exercised every status


def check_grid(world: E.World) -> None:
    """The padded weights agree with occupants and statuses, mirrors included."""
    on_cell = world.occupant[world.padded_cell]
    by_status = np.array([0, E.ACTIVE_WEIGHT, 0, E.COP_WEIGHT])
    expected = np.where(on_cell >= 0, by_status[world.status[np.maximum(on_cell, 0)]],
                        E.EMPTY_WEIGHT)
    np.testing.assert_array_equal(world.weight, expected)
    placed = np.flatnonzero(world.on_grid)
    np.testing.assert_array_equal(world.occupant[world.cell[placed]], placed)
    assert (world.occupant >= 0).sum() == placed.size


def test_vision_sizes_follow_each_shape():
    v = 7
    assert E.vision_offsets(v, "von_neumann")[0].size == 2 * v * (v + 1)  # Mesa: 112
    assert E.vision_offsets(v, "moore")[0].size == (2 * v + 1) ** 2 - 1
    assert E.vision_offsets(v, "cross")[0].size == 4 * v
    dx, dy = E.vision_offsets(v, "disc")
    assert dx.size == sum(1 for i in range(-v, v + 1) for j in range(-v, v + 1)
                          if 0 < i * i + j * j <= v * v)
    assert (dx * dx + dy * dy <= v * v).all()


def test_rounding_conventions_differ_where_the_paper_is_silent():
    """C/A = 1/2: the paper's P = 1 - exp(-k/2); Mesa rounds 0.5 to 0, NetLogo floors to 0."""
    k = 2.3
    assert E._arrest_probability(1, 1, 0, k, 0) == pytest.approx(1 - math.exp(-k / 2))
    assert E._arrest_probability(1, 1, 0, k, 2) == 0.0  # round(0.5) == 0
    assert E._arrest_probability(3, 1, 0, k, 2) == pytest.approx(1 - math.exp(-2 * k))  # 1.5->2
    assert E._arrest_probability(5, 1, 0, k, 2) == pytest.approx(1 - math.exp(-2 * k))  # 2.5->2
    assert E._arrest_probability(2, 1, 0, k, 1) == pytest.approx(1 - math.exp(-k))  # 2/2
    assert E._arrest_probability(2, 1, 1, k, 1) == 0.0  # NetLogo: an active counts twice: 2/3
    # the paper's calibration: P = 0.9 when C = A = 1 (the citizen alone, one cop)
    assert E._arrest_probability(1, 0, 0, math.log(10), 0) == pytest.approx(0.9)


def test_statuses_add_up_and_the_grid_stays_consistent():
    scenario = load_scenario(SCENARIOS / "epstein_model1.toml", ["run.steps=60"])
    result = E.simulate(scenario, seed=3)
    rec = result.records
    citizens = round(0.7 * 1600)
    assert (rec[["quiet", "active", "jailed"]].sum(axis=1) == citizens).all()
    assert rec.loc[0, "quiet"] == citizens and rec["step"].tolist() == list(range(61))
    world = E.build_world(scenario, seed=3)
    check_grid(world)


def test_same_seed_same_records_other_seed_other_records():
    scenario = load_scenario(SCENARIOS / "epstein_model1.toml", ["run.steps=80"])
    first = E.simulate(scenario, seed=11).records
    again = E.simulate(scenario, seed=11).records
    other = E.simulate(scenario, seed=12).records
    assert first.equals(again)
    assert not first.equals(other)


# --------------------------------------------------------------------------- the paper
def test_punctuated_equilibrium_at_the_papers_parameters():
    """Epstein (2002), Model I, the paper's time series of actives captioned "punctuated
    equilibrium": long quiet spells broken by outbursts, at the paper's parameters
    (40x40, densities 0.7 / 0.04, v = 7, L = 0.82, J_max = 30, k = 2.3, T = 0.1).
    Checked over 6 seeds x 500 steps: every run has several outbursts of >= 100 actives
    (9% of the citizens), separated by spells in which fewer than 10 are active, and those
    quiet steps are the majority of the time; the typical step is quiet (median < 10)."""
    scenario = load_scenario(SCENARIOS / "epstein_model1.toml")
    for seed in range(6):
        active = E.simulate(scenario, seed=seed).records["active"].to_numpy()[1:]
        bursts = E.outbursts(active, 100)
        assert len(bursts) >= 4, (seed, len(bursts))
        assert np.median(active) < 10
        assert (active < 10).mean() > 0.4
        gaps = bursts["start"].to_numpy()[1:] - bursts["end"].to_numpy()[:-1]
        # between two outbursts there is a calm spell, not just a dip
        assert all((active[e:s] < 10).any() for e, s in
                   zip(bursts["end"][:-1], bursts["start"][1:], strict=True))
        assert np.median(gaps) >= 5


def test_the_papers_literal_ratio_keeps_the_same_population_quiet():
    """The convention matters (documented in docs/classic.md): with the literal C/A (no
    floor or rounding) the same population at L = 0.82 never builds an outburst, which is
    why NetLogo floors and Mesa rounds the ratio ("impossible to replicate the dynamics"
    without it, says Mesa's example)."""
    scenario = load_scenario(SCENARIOS / "epstein_model1.toml",
                             ["conventions.arrest_ratio=paper", "run.steps=300"])
    peaks = [E.simulate(scenario, seed=s).records["active"].max() for s in range(3)]
    assert max(peaks) < 50


def test_sudden_legitimacy_drop_sets_off_an_outburst_a_gradual_decline_does_not():
    """Epstein (2002), Model I, the paper's pair of legitimacy-crisis runs (an incremental
    versus an abrupt reduction of L): the same fall of legitimacy (0.9 -> 0.5) at once
    sets off a large outburst, while a gradual decline (over 250 steps) mostly does not.
    Statistical over 12 seeds per arm: peak actives from the start of the change until
    50 steps after legitimacy reaches 0.5; one-sided Mann-Whitney test."""
    drop = load_scenario(SCENARIOS / "epstein_legitimacy_drop.toml", ["run.steps=100"])
    decline = load_scenario(SCENARIOS / "epstein_legitimacy_decline.toml")
    seeds = range(100, 112)
    sudden = np.array([E.simulate(drop, seed=s).records["active"].iloc[50:].max()
                       for s in seeds])
    gradual = np.array([E.simulate(decline, seed=s).records["active"].iloc[50:].max()
                        for s in seeds])
    citizens = round(0.7 * 1600)
    assert sudden.min() > 0.3 * citizens  # every sudden drop: a third of the citizens or more
    assert np.median(gradual) < 0.02 * citizens  # the typical gradual decline: nothing
    assert gradual.max() < sudden.min()  # even the gradual runs that flare up stay smaller
    assert mannwhitneyu(sudden, gradual, alternative="greater").pvalue < 1e-4


def test_legitimacy_path_and_outbursts_helpers():
    s = E.EpsteinScenario.model_validate({"legitimacy": {"initial": 0.9, "changes": [
        {"start": 3, "value": 0.5}, {"start": 5, "value": 0.7, "ramp": 2}]}})
    np.testing.assert_allclose(E.legitimacy_path(s, 7),
                               [0.9, 0.9, 0.9, 0.5, 0.5, 0.6, 0.7, 0.7])
    assert E.outbursts(np.array([0, 0, 0]), 1).empty
    assert E.outbursts(np.array([5, 5]), 1).values.tolist() == [[0, 2, 5]]


def test_per_cell_placement_matches_densities_on_average():
    s = E.EpsteinScenario.model_validate({"grid": {"width": 100, "height": 100},
                                          "conventions": {"placement": "per_cell"}})
    world = E.build_world(s, seed=5)
    cops = world.n_agents - world.n_citizens
    assert abs(world.n_citizens - 7000) < 4 * math.sqrt(10000 * 0.7 * 0.3)
    assert abs(cops - 400) < 4 * math.sqrt(10000 * 0.04 * 0.96)
