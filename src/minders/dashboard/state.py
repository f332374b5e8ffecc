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
and not of luck.
"""

from __future__ import annotations

import copy
import hashlib
import tomllib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minders.engine import Simulation
from minders.errors import ScenarioError
from minders.kinds import validate_scenario
from minders.population import JAILED, STATUS_NAMES
from minders.records import COUNT_COLUMNS, FLOWS, STOCKS, Records
from minders.scenario import Scenario
from minders.spec import apply_overrides, parse_mapping

#: Largest scenario file accepted from the browser (bytes).
MAX_UPLOAD_BYTES = 1 << 20
#: Nodes drawn in the network view; a few hundred keep a million agents responsive.
NETWORK_SAMPLE = 300
#: Populations up to this size are rebuilt at once after an edit (about a tenth of a second).
EAGER_BUILD_LIMIT = 200_000
#: Fields the baseline twin always takes from the variant (common random numbers, one horizon).
SHARED_FIELDS = ("run.seed", "run.steps")


# --------------------------------------------------------------------------- scenarios
def scenario_dirs() -> list[Path]:
    """Folders searched for bundled scenarios: ``./scenarios`` and the source tree's.

    Examples
    --------
    >>> any(p.name == "scenarios" for p in scenario_dirs())
    True
    """
    here = Path(__file__).resolve().parents[3] / "scenarios"  # src/minders/dashboard -> repo
    dirs: list[Path] = []
    for folder in (Path.cwd() / "scenarios", here):
        if folder.is_dir() and folder.resolve() not in [d.resolve() for d in dirs]:
            dirs.append(folder)
    return dirs


def bundled_scenarios(dirs: list[Path] | None = None) -> dict[str, Path]:
    """Scenario files of the minders kind, by name (the file stem).

    Files of other kinds (the classic models) and files that cannot be read
    are left out: the dashboard explores the minders model.

    Examples
    --------
    >>> "pyongyang" in bundled_scenarios()
    True
    """
    found: dict[str, Path] = {}
    for folder in scenario_dirs() if dirs is None else dirs:
        for path in sorted(folder.glob("*.toml")):
            try:
                kind = tomllib.loads(path.read_text(encoding="utf-8")).get("kind", "minders")
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if kind == "minders":
                found.setdefault(path.stem, path)
    return found


def parse_upload(filename: str, content: bytes) -> Scenario:
    r"""Read a scenario file sent by the browser, with the checks of ``minders run``.

    Parameters
    ----------
    filename : str
        The name the browser gave; only its suffix is used (.toml, .yaml, .yml).
    content : bytes
        The file, at most :data:`MAX_UPLOAD_BYTES`.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Too large, not UTF-8, not TOML/YAML, another kind, a graph file (a
        path on the server, which the browser may not name), or anything
        ``minders validate`` refuses, with the same message.

    Examples
    --------
    >>> text = b'[tiers.residents]\nsize = 100\nminded_by = "minders"\nspan = 10\n'
    >>> text += b'[tiers.minders]\nsize = "auto"\n'
    >>> parse_upload("mine.toml", text).tier_sizes()
    {'residents': 100, 'minders': 10}
    >>> parse_upload("mine.toml", text + b"[model]\nshirk = 2\n")
    Traceback (most recent call last):
    ...
    minders.errors.ScenarioError: model.shirk: expected a value less than or equal to 1, got 2
    """
    name = Path(filename).name or "upload"
    if len(content) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            "scenario", name, f"a file of at most {MAX_UPLOAD_BYTES // 1024} KiB "
            f"(this one has {len(content) // 1024:,} KiB)",
        )
    data = parse_mapping(content, Path(name).suffix, name)
    network = data.get("network")
    if isinstance(network, dict) and network.get("file") is not None:
        # A path chosen in the browser must not reach the server's file system.
        raise ScenarioError(
            "network.file", network["file"],
            "no graph file in an uploaded scenario (open it with "
            "'minders dashboard SCENARIO' on the machine that holds the graph)",
        )
    return _minders_scenario(validate_scenario(data))


def _minders_scenario(scenario: Any) -> Scenario:
    if not isinstance(scenario, Scenario):
        raise ScenarioError(
            "kind", getattr(scenario, "kind", None),
            "'minders' (the dashboard explores the minders model; run the classic models "
            "with 'minders run')",
        )
    return scenario


# --------------------------------------------------------------------------- helpers
def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to the leaves of nested dicts and lists (``shocks.0.value``).

    Distributions are leaves: changing ``hardship`` from beta to uniform is one change.

    Examples
    --------
    >>> flatten({"run": {"seed": 1}, "shocks": [{"value": 0.5}]})
    {'run.seed': 1, 'shocks.0.value': 0.5}
    """
    if isinstance(data, dict) and "kind" in data and prefix.rsplit(".", 1)[-1] in (
        "hardship", "risk_aversion", "threshold"
    ):
        return {prefix: data}
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        out = {}
        for k, value in enumerate(data):
            out.update(flatten(value, f"{prefix}.{k}"))
        return out
    return {prefix: data}


def diff_overrides(base: dict[str, Any], variant: dict[str, Any]) -> list[str]:
    """What turns ``base`` into ``variant``, as ``--set`` overrides.

    Seed and horizon are left out: the twin always shares them (see
    :data:`SHARED_FIELDS`). Tiers or shocks that exist in only one of the two
    are listed whole, as ``shocks.1: added`` or ``tiers.elites: removed``.

    Examples
    --------
    >>> diff_overrides({"run": {"seed": 1}, "model": {"fear": 0.02}},
    ...                {"run": {"seed": 2}, "model": {"fear": 0.05}})
    ['model.fear=0.05']
    """
    from minders.dashboard.export import toml_value

    before, after = flatten(base), flatten(variant)
    changes: list[str] = []
    for path in [*before, *(p for p in after if p not in before)]:
        if path in SHARED_FIELDS:
            continue
        if path in before and path in after:
            if before[path] != after[path]:
                value = after[path]
                changes.append(f"{path}={'none' if value is None else toml_value(value)}")
            continue
        word, other = ("removed", after) if path in before else ("added", before)
        change = f"{_missing_prefix(path, other)}: {word}"  # the whole tier or shock
        if change not in changes:
            changes.append(change)
    return changes


def _missing_prefix(path: str, other: dict[str, Any]) -> str:
    """The shortest prefix of ``path`` under which ``other`` has nothing."""
    parts = path.split(".")
    for n in range(1, len(parts) + 1):
        prefix = ".".join(parts[:n])
        if not any(key == prefix or key.startswith(prefix + ".") for key in other):
            return prefix
    return path


def records_digest(records: pd.DataFrame) -> str:
    """SHA-256 of every value of a records table (equal digests: identical records).

    Examples
    --------
    >>> import pandas as pd
    >>> records_digest(pd.DataFrame({"step": [0, 1]})) == records_digest(
    ...     pd.DataFrame({"step": [0, 1]}))
    True
    """
    hashed = pd.util.hash_pandas_object(records, index=False).to_numpy()
    header = ",".join(map(str, records.columns)).encode()
    return hashlib.sha256(header + hashed.tobytes()).hexdigest()


def totals(records: pd.DataFrame) -> dict[str, dict[str, float | int]]:
    """Per tier: stocks and rates at the last step, flows summed over the run.

    Examples
    --------
    >>> totals(result.records)["residents"]["defections"]  # doctest: +SKIP
    12
    """
    out: dict[str, dict[str, float | int]] = {}
    if records.empty:
        return out
    for tier, rows in records.groupby("tier", observed=True, sort=False):
        last = rows.iloc[-1]
        entry: dict[str, float | int] = {name: int(last[name]) for name in STOCKS}
        entry.update({name: int(rows[name].sum()) for name in FLOWS})
        for name in ("measured_discontent", "true_discontent", "surprise_gap",
                     "minders_per_ward"):
            entry[name] = float(last[name])
        entry["peak_surprise_gap"] = float(rows["surprise_gap"].max())
        out[str(tier)] = entry
    return out


@dataclass(frozen=True)
class Update:
    """What changed since the last :meth:`DashboardState.poll`.

    Attributes
    ----------
    reset : bool
        The world was rebuilt (or dropped): clear the charts before streaming.
    rows : pandas.DataFrame
        New record rows of the run (tidy, one per step and tier), with
        cumulative flows as ``cum_<flow>`` columns.
    baseline : pandas.DataFrame or None
        The same for the baseline twin in compare mode.
    """

    reset: bool
    rows: pd.DataFrame
    baseline: pd.DataFrame | None


@dataclass(frozen=True)
class NetworkSample:
    """A sample of the social graph with a fixed layout.

    Attributes
    ----------
    nodes : int64 array
        Positions in the population.
    edges : int64 array, shape (m, 2)
        Ties between sampled nodes, as indices into ``nodes``.
    x, y : float arrays
        Spring layout of the sample (computed once per world).
    tier : list of str
        Tier name of each node.
    is_minder : bool array
        The node supervises wards.
    """

    nodes: np.ndarray
    edges: np.ndarray
    x: np.ndarray
    y: np.ndarray
    tier: list[str]
    is_minder: np.ndarray


def sample_nodes(indptr: np.ndarray, indices: np.ndarray, size: int, seed: int) -> np.ndarray:
    """A snowball sample: breadth-first from a few random nodes, ``size`` nodes in all.

    Breadth-first keeps work units, families and their minder together, so the
    sample shows the structure of the graph, which a uniform sample of a sparse
    graph (almost no ties among a few hundred of a million) would not.

    Examples
    --------
    >>> indptr = np.array([0, 1, 3, 5, 6]); indices = np.array([1, 0, 2, 1, 3, 2])
    >>> sorted(sample_nodes(indptr, indices, 3, seed=0).tolist()) in ([0, 1, 2], [1, 2, 3])
    True
    """
    n = indptr.size - 1
    if n <= size:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    chosen = np.zeros(n, dtype=bool)
    order: list[int] = []
    per_seed = max(1, size // 4)  # several snowballs, so one big unit does not fill it all
    while len(order) < size:
        start = int(rng.integers(n))
        if chosen[start]:
            continue
        chosen[start] = True
        order.append(start)
        queue, budget = deque([start]), per_seed - 1
        while queue and budget > 0 and len(order) < size:
            node = queue.popleft()
            for neighbour in indices[indptr[node] : indptr[node + 1]]:
                if not chosen[neighbour]:
                    chosen[neighbour] = True
                    order.append(int(neighbour))
                    queue.append(int(neighbour))
                    budget -= 1
                    if budget <= 0 or len(order) >= size:
                        break
    return np.array(order, dtype=np.int64)


# --------------------------------------------------------------------------- controller
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
        spec = _minders_scenario(
            validate_scenario(scenario) if isinstance(scenario, dict) else scenario
        )
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
        >>> state.get("tiers.residents.span")  # doctest: +SKIP
        30
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
        >>> state.set("tiers.residents.span", 40)  # doctest: +SKIP
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
        rows = _new_rows(self.sim, start)
        baseline = _new_rows(self.twin, start) if self.twin is not None else None
        self._polled_steps = self.t
        return Update(reset=reset, rows=rows, baseline=baseline)

    def records(self) -> pd.DataFrame:
        """All records of the run so far (exactly what ``minders run`` writes)."""
        return _frame(self.sim)

    def baseline_records(self) -> pd.DataFrame:
        """All records of the baseline twin so far (empty if not comparing)."""
        return _frame(self.twin)

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
            counts[:, 0] = [sizes[name] for name in names]
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
            import networkx as nx

            graph, pop = self.sim.graph, self.sim.population
            nodes = sample_nodes(graph.indptr, graph.indices, size, seed=self.sim.seed)
            local = {int(node): k for k, node in enumerate(nodes)}
            edges = [
                (k, local[int(other)])
                for k, node in enumerate(nodes)
                for other in graph.neighbours(int(node))
                if int(other) in local and local[int(other)] > k
            ]
            layout_graph = nx.Graph()
            layout_graph.add_nodes_from(range(nodes.size))
            layout_graph.add_edges_from(edges)
            # Fixed seed: the picture does not jump between resets of the same world.
            layout = nx.spring_layout(layout_graph, seed=self.sim.seed % 2**32, iterations=60)
            xy = np.array([layout[k] for k in range(nodes.size)]).reshape(-1, 2)
            self._sample = NetworkSample(
                nodes=nodes, edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
                x=xy[:, 0], y=xy[:, 1],
                tier=[pop.tier_names[k] for k in pop.tier[nodes]],
                is_minder=pop.is_minder[nodes].copy(),
            )
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


def _frame(sim: Simulation | None, start: int = 0) -> pd.DataFrame:
    """Records of steps ``start .. t-1``, built by :meth:`Records.to_frame` itself.

    A view of the preallocated arrays from ``start`` on is handed to
    ``to_frame``, so a poll costs the new steps only and the rows are computed
    by the very code that writes ``records.parquet``.
    """
    if sim is None:
        return pd.DataFrame()
    records = sim.records
    start = min(start, records.filled)
    if start == 0:
        return records.to_frame()
    view = Records(0, records.tier_names)
    view.counts = records.counts[start : records.filled]
    view.p_detect = records.p_detect[start : records.filled]
    view.filled = records.filled - start
    frame = view.to_frame()
    frame["step"] += start
    return frame


def _new_rows(sim: Simulation | None, start: int) -> pd.DataFrame:
    """Rows of steps ``>= start``, with the flows summed since step 0 as ``cum_<flow>``."""
    frame = _frame(sim, start)
    if frame.empty or sim is None:
        return frame
    before = sim.records.counts[:start].sum(axis=0)  # (tier, field) totals up to start
    tiers = frame["tier"].cat.codes.to_numpy()
    grouped = frame.groupby("tier", observed=True, sort=False)
    for name in FLOWS:
        prior = before[:, COUNT_COLUMNS[name]][tiers] if start else 0
        frame[f"cum_{name}"] = grouped[name].cumsum().to_numpy() + prior
    return frame
