"""The dashboard's controller: pure Python, testable without a browser.

:class:`DashboardState` holds what one browser session works on: the edited
scenario (a plain dict, validated after every edit with the same rules and
messages as ``minders run``), the simulation of it, and in compare mode a
twin run of a pinned baseline with the same seed. The page calls
:meth:`~DashboardState.step` and :meth:`~DashboardState.poll`, and streams the
record rows that are new since the last poll into its charts.

Because the engine draws every random number from counter-based streams keyed
by seed, decision and agent (``minders.streams``), the baseline and the
variant share every draw that the change does not touch: common random
numbers, so the difference between the two runs is the effect of the change
and not of luck (see :mod:`~minders.dashboard.compare`).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from minders import kinds
from minders.codes import JAILED, LOYAL, STATUS_NAMES
from minders.dashboard.catalog import MAX_UPLOAD_BYTES, bundled_scenarios, parse_upload
from minders.dashboard.compare import SHARED_FIELDS, diff_overrides, flatten
from minders.dashboard.network_sample import (
    NETWORK_SAMPLE,
    NetworkSample,
    layout_sample,
    sample_nodes,
)
from minders.dashboard.tables import Update, frame_since, new_rows, records_digest, totals
from minders.engine import Simulation
from minders.errors import ScenarioError
from minders.kinds import validate_scenario
from minders.scenario import Scenario
from minders.spec import apply_overrides

__all__ = [
    "EAGER_BUILD_LIMIT", "MAX_UPLOAD_BYTES", "NETWORK_SAMPLE", "SHARED_FIELDS",
    "DashboardState", "NetworkSample", "Update", "bundled_scenarios", "diff_overrides",
    "flatten", "parse_upload", "records_digest", "sample_nodes", "totals",
]

#: Populations up to this size are rebuilt at once after an edit (about a tenth of a second).
EAGER_BUILD_LIMIT = 200_000


class DashboardState:
    """The scenario, its run and its baseline twin, for one dashboard session.

    Parameters
    ----------
    scenario : Scenario or dict
        A validated scenario, or raw data to validate (:class:`ScenarioError`
        if invalid).
    source : str, optional
        Where it came from (a file name), for the page.

    Attributes
    ----------
    data : dict
        The scenario as edited in the page (may be invalid; see ``error``).
    scenario : Scenario
        The last valid scenario: what runs.
    error : str or None
        Why ``data`` is invalid, in the words of ``minders run``.
    failure : str or None
        Why building or stepping the world failed.
    baseline : Scenario or None
        The pinned baseline (compare mode).
    playing : bool
        The page is running the simulation (not paused).

    Examples
    --------
    >>> state = DashboardState({"run": {"steps": 3, "seed": 2}, "tiers": {
    ...     "residents": {"size": 200, "minded_by": "minders", "span": 20},
    ...     "minders": {"size": "auto"}}})
    >>> state.set("model.watch_capacity", 0)
    'model.watch_capacity: expected a value greater than 0, got 0'
    >>> state.set("model.watch_capacity", 8)
    >>> state.step(3), state.status
    (3, 'done')
    >>> len(state.poll().rows)  # 3 steps x 2 tiers
    6
    """

    def __init__(self, scenario: Scenario | dict[str, Any], source: str = "") -> None:
        self.sim: Simulation | None = None
        self.twin: Simulation | None = None
        self.playing = False
        self._generation = 0
        self._polled_generation = -1
        self._polled_steps = 0
        self._sample: NetworkSample | None = None
        self.load(scenario, source)

    # ------------------------------------------------------------------ scenario
    def load(self, scenario: Scenario | dict[str, Any], source: str = "") -> None:
        """Replace the scenario (a bundled file, an upload); leaves compare mode."""
        spec = validate_scenario(scenario) if isinstance(scenario, dict) else scenario
        kinds.require(spec, "dashboard")
        self.scenario: Scenario = spec
        self.data: dict[str, Any] = spec.model_dump(mode="json")
        self.source = source or spec.name
        self.error: str | None = None
        self.failure: str | None = None
        self.baseline: Scenario | None = None
        self._drop_world()

    def get(self, path: str) -> Any:
        """The edited value at a dotted path (``tiers.residents.span``).

        Examples
        --------
        >>> state = DashboardState({"tiers": {"residents": {"size": 20, "minded_by": "m",
        ...     "span": 5}, "m": {"size": "auto"}}})
        >>> state.get("tiers.residents.span")
        5
        """
        node: Any = self.data
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def set(self, path: str, value: Any) -> str | None:
        """Edit one value and validate the whole scenario.

        Returns
        -------
        str or None
            The error message (the same as ``minders run --set PATH=VALUE``
            gives), or None if the scenario is valid. An invalid edit is kept
            in ``data`` (the form shows what was typed) but does not run.

        Examples
        --------
        >>> state = DashboardState({"tiers": {"residents": {"size": 20, "minded_by": "m",
        ...     "span": 5}, "m": {"size": "auto"}}})
        >>> state.set("tiers.residents.span", 0)
        'tiers.residents.span: expected a value greater than or equal to 1, got 0'
        >>> state.set("tiers.residents.span", 4)
        """
        data = copy.deepcopy(self.data)
        try:
            apply_overrides(data, {path: value})
        except ScenarioError as exc:
            self.error = str(exc)
            return self.error
        return self._commit(data)

    def set_shocks(self, shocks: list[dict[str, Any]]) -> str | None:
        """Replace the list of shocks (the timeline editor) and validate."""
        data = copy.deepcopy(self.data)
        data["shocks"] = shocks
        return self._commit(data)

    def _commit(self, data: dict[str, Any]) -> str | None:
        self.data = data
        try:
            spec = validate_scenario(data)
        except ScenarioError as exc:
            self.error = str(exc)
            self.playing = False
            return self.error
        self.error = None
        if spec.scenario_hash() != self.scenario.scenario_hash():
            self.scenario = spec
            self._drop_world()
        return None

    @property
    def valid(self) -> bool:
        """The edited scenario is valid (it is what runs)."""
        return self.error is None

    @property
    def positions(self) -> int:
        """Number of positions of the scenario (all tiers)."""
        return sum(self.scenario.tier_sizes().values())

    # ------------------------------------------------------------------ compare mode
    @property
    def comparing(self) -> bool:
        """A baseline is pinned: the runs are the baseline and the edited variant."""
        return self.baseline is not None

    def pin_baseline(self) -> None:
        """Pin the current scenario as the baseline; later edits make the variant."""
        if not self.valid:
            raise ScenarioError("baseline", "the edited scenario", "a valid scenario to pin")
        self.baseline = self.scenario
        self._drop_world()

    def unpin_baseline(self) -> None:
        """Leave compare mode."""
        self.baseline = None
        self._drop_world()

    def overrides(self) -> list[str]:
        """The variant as the baseline plus ``--set`` overrides (empty if not comparing)."""
        if self.baseline is None:
            return []
        return diff_overrides(self.baseline.model_dump(mode="json"), self.data)

    # ------------------------------------------------------------------ running
    def _drop_world(self) -> None:
        self.sim = self.twin = None
        self.playing = False
        self.failure = None
        self._sample = None
        self._generation += 1

    def reset(self) -> bool:
        """Build the world of the scenario (and its twin) at step 0.

        Returns
        -------
        bool
            False if the scenario is invalid or the world could not be built
            (see ``error`` and ``failure``).
        """
        self._drop_world()
        if not self.valid:
            return False
        try:
            sim = Simulation(self.scenario)
            twin = None
            if self.baseline is not None:
                # Same seed and horizon: common random numbers (module docstring).
                twin = Simulation(self.baseline, seed=sim.seed, steps=sim.steps)
        except Exception as exc:  # shown in the page; the server must keep running
            self.failure = _describe(exc)
            return False
        self.sim, self.twin = sim, twin
        return True

    def ensure_world(self) -> bool:
        """Build the world if it is not built yet (see :meth:`reset`)."""
        return self.sim is not None or self.reset()

    def step(self, n: int = 1) -> int:
        """Advance the run (and the twin) by up to ``n`` steps; returns the steps done."""
        if not self.valid or self.failure is not None or not self.ensure_world():
            self.playing = False
            return 0
        assert self.sim is not None
        done = 0
        try:
            while done < n and self.sim.t < self.sim.steps:
                self.sim.step()
                if self.twin is not None and self.twin.t < self.twin.steps:
                    self.twin.step()
                done += 1
        except Exception as exc:  # shown in the page; the server must keep running
            self.failure = _describe(exc)
            self.playing = False
        if self.done:
            self.playing = False
        return done

    def play(self) -> bool:
        """Start running; a finished run starts over. False if it cannot run."""
        if self.done:
            self.reset()
        if not self.valid or self.failure is not None or not self.ensure_world():
            return False
        self.playing = True
        return True

    def pause(self) -> None:
        """Stop running (the world stays where it is)."""
        self.playing = False

    @property
    def t(self) -> int:
        """Steps done."""
        return 0 if self.sim is None else self.sim.t

    @property
    def steps(self) -> int:
        """The horizon."""
        return self.scenario.run.steps

    @property
    def done(self) -> bool:
        """All steps of the horizon are done."""
        return self.sim is not None and self.sim.t >= self.sim.steps

    @property
    def status(self) -> str:
        """One of invalid, failed, running, done, paused, ready."""
        if not self.valid:
            return "invalid"
        if self.failure is not None:
            return "failed"
        if self.playing:
            return "running"
        if self.done:
            return "done"
        return "paused" if self.t > 0 else "ready"

    # ------------------------------------------------------------------ records
    def poll(self) -> Update:
        """Record rows that are new since the last poll (all of them after a reset)."""
        reset = self._polled_generation != self._generation
        if reset:
            self._polled_generation, self._polled_steps = self._generation, 0
        start = self._polled_steps
        rows = new_rows(self.sim, start)
        baseline = new_rows(self.twin, start) if self.twin is not None else None
        self._polled_steps = self.t
        return Update(reset=reset, rows=rows, baseline=baseline)

    def records(self) -> pd.DataFrame:
        """All records of the run so far (exactly what ``minders run`` writes)."""
        return frame_since(self.sim)

    def baseline_records(self) -> pd.DataFrame:
        """All records of the baseline twin so far (empty if not comparing)."""
        return frame_since(self.twin)

    def result(self):
        """The run so far as a :class:`~minders.result.Result` (for the exports)."""
        from minders.result import Result

        sim = self.sim
        if sim is None:
            raise ScenarioError("run", "no run", "a run with at least one step")
        return Result(scenario=self.scenario, seed=sim.seed, records=self.records(),
                      wall_time=sim.wall_time, steps=sim.t)

    def comparison(self) -> pd.DataFrame:
        """Per tier in both runs: baseline, variant and difference of the main outcomes."""
        if self.twin is None or self.sim is None or self.sim.t == 0:
            return pd.DataFrame()
        base, variant = totals(self.baseline_records()), totals(self.records())
        rows = []
        for tier in [t for t in variant if t in base]:
            for name in ("defections", "attempts", "purges", "peak_surprise_gap",
                         "true_discontent", "measured_discontent"):
                b, v = base[tier][name], variant[tier][name]
                rows.append({"tier": tier, "outcome": name, "baseline": b, "variant": v,
                             "difference": v - b})
        return pd.DataFrame(rows)

    def snapshot(self) -> dict[str, Any]:
        """Plain data of the page's state (the JSON the page shows and the tests read)."""
        records = self.records()
        snap: dict[str, Any] = {
            "status": self.status, "step": self.t, "steps": self.steps,
            "seed": self.scenario.run.seed, "scenario": self.scenario.name,
            "scenario_hash": self.scenario.scenario_hash(), "error": self.error,
            "failure": self.failure, "positions": self.positions,
            "records_digest": records_digest(records) if len(records) else None,
            "tiers": totals(records),
        }
        if self.comparing:
            base = self.baseline_records()
            snap["baseline"] = {
                "scenario_hash": self.baseline.scenario_hash() if self.baseline else None,
                "overrides": self.overrides(),
                "records_digest": records_digest(base) if len(base) else None,
                "tiers": totals(base),
            }
        return snap

    # ------------------------------------------------------------------ views
    def hierarchy(self) -> pd.DataFrame:
        """One row per tier: level, positions, statuses now, unwatched wards, purges so far.

        A ward is unwatched when it is in post and its minder is not (jailed,
        purged or defected and not yet replaced): only informers watch it.
        """
        spec = self.scenario
        names = list(spec.tiers)
        sizes = spec.tier_sizes()
        depth = spec.tier_depths()
        counts = np.zeros((len(names), len(STATUS_NAMES)), dtype=np.int64)
        unwatched = np.zeros(len(names), dtype=np.int64)
        if self.sim is not None:
            pop = self.sim.population
            status, tier = pop.status.astype(np.int64), pop.tier.astype(np.int64)
            counts = np.bincount(tier * len(STATUS_NAMES) + status,
                                 minlength=len(names) * len(STATUS_NAMES))
            counts = counts.reshape(len(names), len(STATUS_NAMES))
            supervised = pop.minder >= 0
            boss_out = np.zeros(pop.size, dtype=bool)
            boss_out[supervised] = status[pop.minder[supervised]] >= JAILED
            lost = supervised & (status < JAILED) & boss_out
            unwatched = np.bincount(tier[lost], minlength=len(names))
        else:
            counts[:, LOYAL] = [sizes[name] for name in names]  # before the world: all loyal
        flows = totals(self.records())
        table = pd.DataFrame(counts, columns=list(STATUS_NAMES))
        table.insert(0, "tier", names)
        table.insert(1, "level", [depth[name] for name in names])
        table.insert(2, "positions", [sizes[name] for name in names])
        table.insert(3, "minded_by", [spec.tiers[name].minded_by or "" for name in names])
        table.insert(4, "span", [spec.tiers[name].span or 0 for name in names])
        table["unwatched"] = unwatched
        table["purges"] = [flows.get(name, {}).get("purges", 0) for name in names]
        table["defections"] = [flows.get(name, {}).get("defections", 0) for name in names]
        return table

    def network_sample(self, size: int = NETWORK_SAMPLE) -> NetworkSample | None:
        """A sample of the social graph with its layout, computed once per world."""
        if self.sim is None:
            return None
        if self._sample is None or self._sample.nodes.size > size:
            self._sample = layout_sample(self.sim, size)
        return self._sample

    def network_status(self) -> np.ndarray:
        """Status codes of the sampled nodes now."""
        sample = self.network_sample()
        if sample is None or self.sim is None:
            return np.zeros(0, dtype=np.int8)
        return self.sim.population.status[sample.nodes].copy()

    # ------------------------------------------------------------------ export
    def to_toml(self) -> str:
        """The scenario as a TOML file that ``minders run`` reproduces the run from."""
        from minders import __version__
        from minders.dashboard.export import to_toml

        spec = self.scenario
        header = (
            f"Exported by the minders dashboard {__version__}; scenario hash "
            f"{spec.scenario_hash()[:12]}.\n"
            f"minders run FILE reproduces the dashboard's run (seed {spec.run.seed}, "
            f"{spec.run.steps} steps)."
        )
        return to_toml(spec.model_dump(mode="json"), header=header)


def _describe(exc: Exception) -> str:
    """A failure for the page: the message of a user error, the type of anything else."""
    if isinstance(exc, ScenarioError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
