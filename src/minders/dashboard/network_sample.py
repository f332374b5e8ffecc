"""A small sample of the social graph with a fixed layout, for the network view.

A few hundred nodes keep a million agents' network drawable: the sample is
a snowball (breadth-first from a few random nodes), so it shows work units,
families and their minders together.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Nodes drawn in the network view; a few hundred keep a million agents responsive.
NETWORK_SAMPLE = 300


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


def layout_sample(sim: Any, size: int = NETWORK_SAMPLE) -> NetworkSample:
    """Sample ``size`` nodes of a simulation's graph and lay them out (spring layout).

    Examples
    --------
    >>> import minders
    >>> from minders.engine import Simulation
    >>> sim = Simulation(minders.load_scenario("pyongyang", ["tiers.residents.size=500"]))
    >>> layout_sample(sim, 50).nodes.size
    50
    """
    import networkx as nx

    graph, pop = sim.graph, sim.population
    nodes = sample_nodes(graph.indptr, graph.indices, size, seed=sim.seed)
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
    layout = nx.spring_layout(layout_graph, seed=sim.seed % 2**32, iterations=60)
    xy = np.array([layout[k] for k in range(nodes.size)]).reshape(-1, 2)
    return NetworkSample(
        nodes=nodes, edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
        x=xy[:, 0], y=xy[:, 1],
        tier=[pop.tier_names[k] for k in pop.tier[nodes]],
        is_minder=pop.is_minder[nodes].copy(),
    )
