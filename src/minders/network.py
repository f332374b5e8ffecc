"""The social graph: work units, families and random ties in one CSR graph.

Docs/model.md, '3. Social network': the wards of one minder form a work unit (they see each
other, and their minder), families are small groups drawn across the whole
population, and each agent has a few random long-range ties. The union is
symmetrised, deduplicated and stored as CSR (``indptr``, ``indices``). A
scenario may instead load a graph from an edge list or a GraphML file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numba as nb
import numpy as np

from minders.errors import ScenarioError
from minders.population import Population
from minders.scenario import NetworkParams
from minders.streams import generator


@dataclass(frozen=True)
class Graph:
    """An undirected graph in compressed sparse row form.

    Attributes
    ----------
    indptr : int64 array, shape (n + 1,)
        Neighbours of node ``i`` are ``indices[indptr[i]:indptr[i + 1]]``.
    indices : int32 array
        Concatenated neighbour lists, each sorted.
    """

    indptr: np.ndarray
    indices: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.indptr.size - 1)

    @property
    def degree(self) -> np.ndarray:
        """Degree of every node."""
        return np.diff(self.indptr)

    def neighbours(self, node: int) -> np.ndarray:
        """Neighbours of ``node``."""
        return self.indices[self.indptr[node] : self.indptr[node + 1]]


@nb.njit(cache=True)
def _csr_from_pairs(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counting sort of directed pairs into CSR (pairs already unique)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(src.size):
        indptr[src[e] + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    fill = indptr[:-1].copy()
    indices = np.empty(src.size, dtype=np.int32)
    for e in range(src.size):
        indices[fill[src[e]]] = dst[e]
        fill[src[e]] += 1
    return indptr, indices


def graph_from_edges(n: int, u: np.ndarray, v: np.ndarray) -> Graph:
    """Build an undirected CSR graph on ``n`` nodes from endpoint arrays.

    Self-loops and repeated edges are dropped.

    Examples
    --------
    >>> g = graph_from_edges(3, np.array([0, 1, 1]), np.array([1, 0, 2]))
    >>> g.neighbours(1).tolist()
    [0, 2]
    """
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    keep = u != v
    lo, hi = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    # Sort then drop repeats: NumPy >= 2.3's hash-based np.unique is ~40x slower here.
    key = np.sort(lo * n + hi)
    if key.size:
        keep = np.empty(key.size, dtype=bool)
        keep[0] = True
        np.not_equal(key[1:], key[:-1], out=keep[1:])
        key = key[keep]
    lo, hi = key // n, key % n
    # Keys are sorted by (lo, hi), so listing the lower neighbours first and the
    # higher ones after gives sorted rows from a stable counting sort.
    src = np.concatenate([hi, lo])
    dst = np.concatenate([lo, hi])
    indptr, indices = _csr_from_pairs(n, src, dst)
    return Graph(indptr=indptr, indices=indices)


def _unit_edges(pop: Population, ties: int) -> tuple[np.ndarray, np.ndarray]:
    """Ring lattice inside each work unit (a clique when the unit is small), plus the minder."""
    wards = np.flatnonzero(pop.minder >= 0)
    bosses = pop.minder[wards]
    start = pop.ward_start[bosses].astype(np.int64)
    size = (pop.ward_end[bosses] - pop.ward_start[bosses]).astype(np.int64)
    local = wards - start
    reach = np.minimum((ties + 1) // 2, size // 2)  # neighbours on each side of the ring
    us, vs = [wards], [bosses.astype(np.int64)]  # the minder sees its wards
    for offset in range(1, (ties + 1) // 2 + 1):
        has = offset <= reach
        us.append(wards[has])
        vs.append(start[has] + (local[has] + offset) % size[has])
    return np.concatenate(us), np.concatenate(vs)


def _family_edges(n: int, family_size: int, rng: np.random.Generator):
    """Cliques of ``family_size`` over a random permutation of all positions."""
    if family_size < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    perm = rng.permutation(n)
    us, vs = [], []
    for a in range(family_size):
        for b in range(a + 1, family_size):
            left = perm[a::family_size]
            right = perm[b::family_size]
            m = min(left.size, right.size)
            us.append(left[:m])
            vs.append(right[:m])
    return np.concatenate(us), np.concatenate(vs)


def build_graph(pop: Population, params: NetworkParams, seed: int) -> Graph:
    """Build the social graph of ``pop``, or load it from ``params.file``.

    Parameters
    ----------
    pop : Population
        Layout of positions, tiers and work units.
    params : NetworkParams
        Tie counts, or the file to read.
    seed : int
        Base seed (streams ``network/family`` and ``network/random``).

    Returns
    -------
    Graph
    """
    n = pop.size
    if params.file is not None:
        return load_graph(params.file, n)
    us, vs = [], []
    u, v = _unit_edges(pop, params.unit_ties)
    us.append(u), vs.append(v)
    u, v = _family_edges(n, params.family_size, generator(seed, "network/family"))
    us.append(u), vs.append(v)
    if params.random_ties > 0:
        rng = generator(seed, "network/random")
        u = np.repeat(np.arange(n, dtype=np.int64), params.random_ties)
        us.append(u), vs.append(rng.integers(0, n, u.size))
    return graph_from_edges(n, np.concatenate(us), np.concatenate(vs))


def load_graph(path: str | Path, n: int) -> Graph:
    """Read an edge list (two integer columns) or GraphML file with ``n`` nodes.

    Nodes are the positions ``0..n-1`` in tier order (top tier first). In a
    GraphML file, integer node ids are used as positions; other ids are taken
    in the file's order.

    The last graph read is kept, keyed by the file's path, size and change
    time: the checks before a run read the file in full, and the run then
    builds from the same graph instead of parsing it again. (The engine only
    reads a graph's arrays.)
    """
    path = Path(path)
    field = "network.file"
    if not path.is_file():
        raise ScenarioError(field, str(path), "an existing graph file")
    stat = path.stat()
    return _read_graph(str(path), stat.st_size, stat.st_mtime_ns, n)


@functools.lru_cache(maxsize=1)
def _read_graph(name: str, size: int, mtime_ns: int, n: int) -> Graph:
    """Parse the graph file ``name`` (``size`` and ``mtime_ns`` only key the cache)."""
    path = Path(name)
    field = "network.file"
    suffix = path.suffix.lower()
    if suffix == ".graphml":
        import networkx as nx

        try:
            g = nx.read_graphml(path)
        except Exception as exc:  # networkx raises several parser errors
            raise ScenarioError(field, str(path), f"a readable GraphML file ({exc})") from None
        nodes = list(g.nodes)
        if len(nodes) != n:
            raise ScenarioError(field, f"{len(nodes)} nodes", f"{n} nodes, one per position")
        try:
            index = {node: int(node) for node in nodes}
        except (TypeError, ValueError):
            index = {node: k for k, node in enumerate(nodes)}
        edges = np.array([(index[a], index[b]) for a, b in g.edges], dtype=np.int64)
        edges = edges.reshape(-1, 2)
    elif suffix in (".csv", ".tsv", ".txt", ".edgelist", ".edges"):
        import pandas as pd

        sep = {".csv": ",", ".tsv": "\t"}.get(suffix, r"\s+")
        try:
            table = pd.read_csv(path, sep=sep, header=None, comment="#", engine="python",
                                dtype=str, encoding="utf-8")
        except UnicodeDecodeError:
            raise ScenarioError(field, str(path), "a text edge list (UTF-8)") from None
        except pd.errors.EmptyDataError:
            table = pd.DataFrame(np.empty((0, 2), dtype=str))
        except (pd.errors.ParserError, ValueError) as exc:
            detail = str(exc).splitlines()[0][:120]
            raise ScenarioError(field, str(path), f"a readable edge list ({detail})") from None
        if table.shape[1] < 2:
            raise ScenarioError(field, str(path), "two columns: source and target")
        table = table.iloc[:, :2].apply(pd.to_numeric, errors="coerce")
        if table.shape[0] and table.iloc[0].isna().any():
            table = table.iloc[1:]  # a header row
        values = table.to_numpy(dtype=np.float64)
        # Ids must be whole numbers that int64 holds exactly; range is checked below.
        if not np.all(np.isfinite(values) & (values == np.round(values))
                      & (np.abs(values) < 2.0**53)):
            raise ScenarioError(field, str(path), "integer node ids in both columns")
        edges = values.astype(np.int64)
    else:
        raise ScenarioError(
            field, str(path), "a .csv, .tsv, .txt, .edgelist, .edges or .graphml file"
        )
    if edges.size and (edges.min() < 0 or edges.max() >= n):
        bad = int(edges.max() if edges.max() >= n else edges.min())
        raise ScenarioError(field, f"node {bad}", f"node ids in [0, {n}) (one per position)")
    return graph_from_edges(n, edges[:, 0], edges[:, 1])
