"""Watts (2002), "A simple model of global cascades on random networks", PNAS 99(9): 5766-5771.

Nodes of a sparse random graph hold a binary state. A node of degree ``k``
turns active once the active share of its ``k`` neighbours reaches its
threshold ``phi``; active nodes stay active. One random seed node (or a
seed share) starts active and the states update synchronously until nothing
changes. Global cascades happen only inside a window of the (phi, mean
degree z) plane (Watts 2002, Fig. 1): below it the graph falls apart into
small components, above it every node is too well connected to be tipped by
a single neighbour. The window's edges are where the vulnerable nodes
(``phi <= 1/k``) percolate, the cascade condition ``sum_k k (k - 1) rho_k
p_k = z`` (Watts 2002, eq. 4); :func:`cascade_condition` evaluates it for
Erdos-Renyi graphs.

Scenario::

    kind = "watts"
    [network]
    kind = "erdos_renyi"     # or "file", with file = "edges.csv"
    nodes = 10000
    mean_degree = 4.0
    [cascade]
    threshold = 0.18         # phi: a number or a distribution
    seed_nodes = 1

Records: ``step``, ``active``, ``active_share`` (``step`` 0 holds the seeds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numba as nb
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from minders.classic._common import (
    SHARE_TOLERANCE,
    STRICT,
    ClassicScenario,
    ThresholdList,
    ThresholdRun,
    ThresholdSpec,
    check_threshold_bounds,
    mib,
    sample_thresholds,
    steps_bytes,
)
from minders.errors import ScenarioError
from minders.kinds import Kind
from minders.network import Graph, graph_from_edges, load_graph
from minders.result import Result
from minders.streams import generator

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Most nodes of a graph (an Erdos-Renyi graph of 10**8 nodes and mean degree 4 is ~30 GiB).
MAX_NODES = 100_000_000


class WattsNetwork(BaseModel):
    """The graph: an Erdos-Renyi random graph, or one read from a file."""

    model_config = STRICT
    kind: Literal["erdos_renyi", "file"] = Field(
        "erdos_renyi", description="'erdos_renyi': G(n, p) with p = z / (n - 1); 'file': an "
        "edge list or GraphML file (see minders.network.load_graph).",
    )
    nodes: int = Field(ge=1, le=MAX_NODES, description="Number of nodes n.")
    mean_degree: float | None = Field(
        None, ge=0.0, description="z: expected mean degree of the Erdos-Renyi graph."
    )
    file: str | None = Field(
        None, description="Graph file (nodes 0..n-1), relative to the scenario file."
    )

    @model_validator(mode="after")
    def _complete(self) -> WattsNetwork:
        if self.kind == "erdos_renyi":
            if self.mean_degree is None:
                raise ScenarioError("mean_degree", None, "a number >= 0 for an erdos_renyi graph")
            if self.nodes > 1 and self.mean_degree > self.nodes - 1:
                raise ScenarioError(
                    "mean_degree", self.mean_degree,
                    f"a mean degree <= nodes - 1 ({self.nodes - 1})",
                )
        elif self.file is None:
            raise ScenarioError("file", None, "a graph file (required with kind = 'file')")
        return self


class WattsCascade(BaseModel):
    """Thresholds and the initial seeds."""

    model_config = STRICT
    threshold: ThresholdSpec = Field(
        description="phi: share of active neighbours at which a node turns active, in [0, 1]; "
        "a number, a list (one per node) or a distribution (a normal clipped by low and high "
        "inside [0, 1]).",
    )
    seed_nodes: int | None = Field(
        None, ge=1, le=MAX_NODES,
        description="Number of random seed nodes (default 1 unless seed_share is set).",
    )
    seed_share: float | None = Field(
        None, gt=0.0, le=1.0, description="Share of nodes seeded at random instead of seed_nodes."
    )
    global_share: float = Field(
        0.1, gt=0.0, le=1.0, description="A cascade that reaches at least this share of the nodes "
        "is called global (on 10,000 nodes global and local cascades are far apart, so any "
        "cutoff from ~1% to ~50% gives the same frequencies away from the window's edges).",
    )

    @model_validator(mode="after")
    def _one_seed_rule(self) -> WattsCascade:
        if self.seed_nodes is not None and self.seed_share is not None:
            raise ScenarioError("seed_share", self.seed_share, "nothing when seed_nodes is set")
        return self


class WattsScenario(ClassicScenario):
    """A Watts global-cascades scenario.

    Examples
    --------
    >>> s = WattsScenario.model_validate({
    ...     "network": {"nodes": 1000, "mean_degree": 4}, "cascade": {"threshold": 0.18}})
    >>> s.cascade.threshold.value
    0.18
    """

    kind: Literal["watts"] = Field("watts", description="Scenario kind.")
    name: str = Field("unnamed", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    run: ThresholdRun = Field(default_factory=lambda: ThresholdRun(steps=1000))
    network: WattsNetwork = Field(description="The graph.")
    cascade: WattsCascade = Field(description="Thresholds and seeds.")

    @model_validator(mode="after")
    def _sizes(self) -> WattsScenario:
        n = self.network.nodes
        spec = self.cascade.threshold
        check_threshold_bounds(spec, "cascade.threshold")  # phi is a share of neighbours
        if isinstance(spec, ThresholdList) and len(spec.values) != n:
            raise ScenarioError(
                "cascade.threshold", f"{len(spec.values)} values", f"{n} values (one per node)"
            )
        if self.cascade.seed_nodes is not None and self.cascade.seed_nodes > n:
            raise ScenarioError("cascade.seed_nodes", self.cascade.seed_nodes,
                                f"at most the number of nodes ({n})")
        self.check_fits()
        return self

    def estimate_bytes(self, steps: int | None = None) -> int:
        """Rough peak memory of a run (bytes): ~72 a node, ~128 an edge of a random graph.

        Drawing ``m`` distinct edges holds a few int64 arrays of ``m`` at once
        (the draws, their keys, the sort of ``numpy.unique``), and the graph
        keeps both directions; a graph read from a file counts nodes only.

        Examples
        --------
        >>> s = WattsScenario.model_validate({
        ...     "network": {"nodes": 10**6, "mean_degree": 4}, "cascade": {"threshold": 0.18}})
        >>> s.estimate_bytes() // 2**20
        312
        """
        steps = self.run.steps if steps is None else steps
        net = self.network
        edges = net.nodes * float(net.mean_degree) / 2 if net.kind == "erdos_renyi" else 0.0
        return int(72 * net.nodes + 128 * edges) + steps_bytes(steps, 24)

    def size_field(self) -> tuple[str, str]:
        """The graph sets the size of a run."""
        net = self.network
        if net.kind == "erdos_renyi" and net.mean_degree:
            return "network", f"{net.nodes:,} nodes of mean degree {net.mean_degree:g}"
        return "network.nodes", f"{net.nodes:,} nodes"

    def describe(self) -> str:
        """One line for ``minders validate``.

        Examples
        --------
        >>> WattsScenario.model_validate({"name": "er", "network": {
        ...     "nodes": 10000, "mean_degree": 4}, "cascade": {"threshold": 0.18}}).describe()
        "watts scenario 'er', Erdos-Renyi graph of 10,000 nodes (mean degree 4), 1 seed node, \
1,000 steps at most, ~3 MiB"
        """
        net = self.network
        graph = (f"Erdos-Renyi graph of {net.nodes:,} nodes (mean degree {net.mean_degree:g})"
                 if net.kind == "erdos_renyi" else f"graph of {net.nodes:,} nodes from {net.file}")
        seeds = self.seed_count()
        return (
            f"watts scenario '{self.name}', {graph}, {seeds:,} seed node{'' if seeds == 1 else 's'}"
            f", {self.run.steps:,} steps at most, {mib(self.estimate_bytes())}"
        )

    def shocks_after(self, steps: int) -> list[str]:
        """None: a Watts cascade has no shocks.

        Examples
        --------
        >>> WattsScenario.model_validate({"network": {"nodes": 10, "mean_degree": 2},
        ...     "cascade": {"threshold": 0.2}}).shocks_after(1)
        []
        """
        return []

    def seed_count(self) -> int:
        """Number of seed nodes: ``seed_nodes``, ``round(seed_share * n)`` (at least 1), or 1."""
        if self.cascade.seed_share is not None:
            return max(1, round(self.cascade.seed_share * self.network.nodes))
        return self.cascade.seed_nodes or 1


# --------------------------------------------------------------------------- the graph
def erdos_renyi(n: int, mean_degree: float, rng: np.random.Generator) -> Graph:
    """G(n, p) with ``p = mean_degree / (n - 1)``: a binomial number of distinct random edges.

    Examples
    --------
    >>> g = erdos_renyi(2000, 4.0, np.random.default_rng(1))
    >>> round(float(g.degree.mean()))
    4
    """
    pairs = n * (n - 1) // 2
    if n < 2 or mean_degree <= 0:
        return graph_from_edges(n, np.empty(0, np.int64), np.empty(0, np.int64))
    p = min(1.0, mean_degree / (n - 1))
    m = int(rng.binomial(pairs, p))
    keys = np.empty(0, dtype=np.int64)
    while keys.size < m:  # draw until m distinct edges: an exact G(n, m), so an exact G(n, p)
        want = int((m - keys.size) * 1.05) + 64
        u = rng.integers(0, n, want)
        v = rng.integers(0, n, want)
        keep = u != v
        lo, hi = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
        both = np.concatenate([keys, lo * n + hi])
        _, first = np.unique(both, return_index=True)
        keys = both[np.sort(first)]  # distinct keys, in order of first draw
    keys = keys[:m]
    return graph_from_edges(n, keys // n, keys % n)


def build_graph(scenario: WattsScenario, seed: int) -> Graph:
    """The scenario's graph (stream ``watts/network`` for a random one)."""
    net = scenario.network
    if net.kind == "file":
        return load_graph(net.file, net.nodes)
    return erdos_renyi(net.nodes, float(net.mean_degree), generator(seed, "watts/network"))


# --------------------------------------------------------------------------- the cascade
@nb.njit(cache=True)
def cascade_kernel(
    indptr: np.ndarray, indices: np.ndarray, threshold: np.ndarray, seeds: np.ndarray,
    steps: int, active_count: np.ndarray, state: np.ndarray,
) -> int:
    """Synchronous threshold cascade from ``seeds``; returns the number of updates run.

    Node ``v`` of degree ``k > 0`` turns active at ``t + 1`` when
    ``(active neighbours at t) / k >= threshold[v]``; a node whose threshold
    is ``<= 0`` turns active at step 1 (it needs no one). The run stops after
    the first update that activates nobody.

    Parameters
    ----------
    indptr, indices : integer arrays
        The graph in CSR form: the neighbours of ``u`` are
        ``indices[indptr[u]:indptr[u + 1]]``.
    threshold : float64 array
        phi of each node, a share of its neighbours.
    seeds : int64 array
        The nodes active at the start.
    steps : int
        Most updates to run.
    active_count : int64 array, at least ``steps + 1`` long
        Filled: ``active_count[t]`` is the number active after ``t`` updates
        (``active_count[0]``: the seeds).
    state : bool array
        All False on entry; ends as the active set.

    Returns
    -------
    int
        Updates run (the last one activated nobody, unless ``steps`` ran out).
    """
    n = indptr.size - 1
    hits = np.zeros(n, dtype=np.int64)
    queued = np.zeros(n, dtype=np.bool_)
    frontier = np.empty(n, dtype=np.int64)
    upcoming = np.empty(n, dtype=np.int64)
    size = 0
    for s in seeds:
        if not state[s]:
            state[s] = True
            frontier[size] = s
            size += 1
    count = size
    active_count[0] = count
    ran = 0
    for t in range(1, steps + 1):
        new = 0
        if t == 1:  # nodes that need no one act at once (Granovetter's instigators)
            for v in range(n):
                if not state[v] and threshold[v] <= 0.0:
                    queued[v] = True
                    upcoming[new] = v
                    new += 1
        for f in range(size):  # the news of the last step reaches the neighbours
            u = frontier[f]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if state[v] or queued[v]:
                    continue
                hits[v] += 1
                degree = indptr[v + 1] - indptr[v]
                if hits[v] / degree + SHARE_TOLERANCE >= threshold[v]:
                    queued[v] = True
                    upcoming[new] = v
                    new += 1
        for f in range(new):
            v = upcoming[f]
            state[v] = True
            frontier[f] = v
        size = new
        count += new
        active_count[t] = count
        ran = t
        if new == 0:
            break
    return ran


def cascade_reference(
    indptr: np.ndarray, indices: np.ndarray, threshold: np.ndarray, seeds: np.ndarray, steps: int
) -> np.ndarray:
    """Plain NumPy reference of :func:`cascade_kernel` (the test oracle): counts per update.

    Examples
    --------
    >>> g = graph_from_edges(3, np.array([0, 1]), np.array([1, 2]))   # a path 0-1-2
    >>> cascade_reference(g.indptr, g.indices, np.full(3, 0.5), np.array([0]), 10).tolist()
    [1, 2, 3, 3]
    """
    n = indptr.size - 1
    degree = np.diff(indptr)
    rows = np.repeat(np.arange(n), degree)
    state = np.zeros(n, dtype=bool)
    state[seeds] = True
    counts = [int(state.sum())]
    for _ in range(steps):
        active_neighbours = np.bincount(rows, weights=state[indices].astype(float), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(degree > 0, active_neighbours / np.maximum(degree, 1), 0.0)
        turn = ~state & ((threshold <= 0) | ((degree > 0) & (share + SHARE_TOLERANCE >= threshold)))
        state = state | turn
        counts.append(int(state.sum()))
        if not turn.any():
            break
    return np.array(counts)


def simulate(
    scenario: WattsScenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Build the graph, seed it and run the cascade to quiescence.

    Parameters
    ----------
    scenario : WattsScenario
        A validated scenario.
    seed : int, optional
        Base seed (default ``run.seed``): streams ``watts/network``,
        ``watts/threshold`` and ``watts/seeds``.
    steps : int, optional
        Most updates (default ``run.steps``).
    progress : callable, optional
        ``progress(done, total)`` once the cascade has run.

    Returns
    -------
    Result
        Records ``step``, ``active``, ``active_share``.

    Examples
    --------
    >>> s = WattsScenario.model_validate({
    ...     "network": {"nodes": 500, "mean_degree": 16}, "cascade": {"threshold": 0.18}})
    >>> int(simulate(s, seed=1).records["active"].iloc[-1]) < 20   # z = 16: too well connected
    True
    """
    start = time.perf_counter()
    seed = scenario.run.seed if seed is None else int(seed)
    horizon = scenario.run.steps if steps is None else int(steps)
    if steps is not None:  # a horizon other than the validated one
        scenario.check_fits(horizon)
    graph = build_graph(scenario, seed)
    n = graph.n_nodes
    threshold = sample_thresholds(scenario.cascade.threshold, n, generator(seed, "watts/threshold"))
    seeds = generator(seed, "watts/seeds").choice(n, size=scenario.seed_count(), replace=False)
    counts = np.zeros(horizon + 1, dtype=np.int64)
    state = np.zeros(n, dtype=np.bool_)
    ran = cascade_kernel(graph.indptr, graph.indices, threshold, seeds.astype(np.int64),
                         horizon, counts, state)
    if not scenario.run.stop_at_fixed_point:  # nothing changes after quiescence
        counts[ran + 1:] = counts[ran]
        ran = horizon
    counts = counts[: ran + 1]
    if progress is not None:
        progress(ran, horizon)
    records = pd.DataFrame({
        "step": np.arange(counts.size, dtype=np.int64),
        "active": counts,
        "active_share": counts / n,
    })
    return Result(scenario=scenario, seed=seed, records=records,
                  wall_time=time.perf_counter() - start, steps=ran)


# --------------------------------------------------------------------------- analysis
def cascade_condition(mean_degree: float, phi: float, kmax: int = 400) -> float:
    """Watts's (2002, eq. 4) cascade condition for Erdos-Renyi graphs and one threshold.

    Returns ``sum_k k (k - 1) rho_k p_k / z`` with ``p_k`` Poisson(``z``) and
    ``rho_k = 1`` for the vulnerable degrees ``1 <= k <= 1/phi`` (else 0):
    global cascades are possible where it exceeds 1 (inside the window of
    Fig. 1), impossible where it falls short.

    Examples
    --------
    >>> cascade_condition(4.0, 0.18) > 1 > cascade_condition(16.0, 0.18)
    True
    """
    z = float(mean_degree)
    if z <= 0:
        return 0.0
    k_vulnerable = min(kmax, math.floor(1.0 / phi + SHARE_TOLERANCE)) if phi > 0 else kmax
    total = 0.0
    log_pk = -z  # log Poisson(z) at k = 0
    for k in range(1, k_vulnerable + 1):
        log_pk += math.log(z) - math.log(k)
        total += k * (k - 1) * math.exp(log_pk)
    return total / z


def summary(result: Result) -> pd.DataFrame:
    """One row: nodes, mean degree, seeds, final cascade size and whether it was global.

    Examples
    --------
    >>> s = WattsScenario.model_validate({
    ...     "network": {"nodes": 100, "mean_degree": 3}, "cascade": {"threshold": 0.18}})
    >>> summary(simulate(s)).columns.tolist()[:3]
    ['nodes', 'mean_degree', 'seeds']
    """
    scenario = result.scenario
    rec = result.records
    size = float(rec["active_share"].iloc[-1])
    net = scenario.network
    return pd.DataFrame({
        "nodes": [int(net.nodes)],
        "mean_degree": [float(net.mean_degree) if net.mean_degree is not None else float("nan")],
        "seeds": [int(rec["active"].iloc[0])],
        "cascade_size": [size],
        "global_cascade": ["yes" if size >= scenario.cascade.global_share else "no"],
        "steps": [int(result.steps)],
    }, index=pd.Index([scenario.name], name="scenario"))


def figure(result: Result) -> Figure:
    """Cascade growth: active share per step."""
    import matplotlib.pyplot as plt

    from minders import plotting  # noqa: F401  (selects the headless backend)

    rec = result.records
    fig, ax = plt.subplots(figsize=(9, 4.5), constrained_layout=True)
    ax.step(rec["step"], rec["active_share"], where="post")
    ax.axhline(result.scenario.cascade.global_share, color="grey", linestyle="--", linewidth=0.8,
               label="global cascade cutoff")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step")
    ax.set_ylabel("active share")
    ax.set_title(f"{result.scenario.name} (seed {result.seed}): Watts (2002) cascade")
    ax.legend(fontsize=8)
    return fig


KIND = Kind(
    name="watts", scenario_class=WattsScenario, simulate=simulate, summary=summary,
    figure=figure, description="Watts (2002) global cascades on random networks.",
)
