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
    indptr : int32 (int64 beyond 2**31 directed edges) array, shape (n + 1,)
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


# The CSR graph is built in two passes over the same pairs, made twice by the same
# deterministic parts (work units from the layout, families and random ties from their own
# streams): the first counts each row, the second fills it. No list of all pairs is ever held,
# so building takes the graph itself plus one part's temporaries: at 26 million positions,
# the pairs of a one-pass build would take gigabytes more.
@nb.njit(cache=True)
def _add_pairs(u: np.ndarray, v: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
               fill: bool) -> None:
    """Both directions of each pair (self-loops left out): counted, or written into the rows.

    Counting adds to ``indptr[i + 1]``. Filling writes at row ``i``'s next free
    place, ``indptr[i]`` (no separate array): it ends at the row's end, and
    :func:`_finish_rows` shifts it back.
    """
    for e in range(u.size):
        a, b = u[e], v[e]
        if a == b:
            continue
        if fill:
            indices[indptr[a]] = b
            indptr[a] += 1
            indices[indptr[b]] = a
            indptr[b] += 1
        else:
            indptr[a + 1] += 1
            indptr[b + 1] += 1


@nb.njit(cache=True)
def _unit_pairs(is_minder: np.ndarray, ward_start: np.ndarray, ward_end: np.ndarray, ties: int,
                indptr: np.ndarray, indices: np.ndarray, fill: bool) -> None:
    """Work units: each ward with its minder and a ring lattice inside its unit.

    Counts the rows (``fill`` false) or fills them (:func:`_add_pairs`, one pair at a
    time); the ring reaches ``(ties + 1) // 2`` wards on each side, or half the unit
    when it is smaller (then a clique).
    """
    one_u = np.empty(1, dtype=indices.dtype)
    one_v = np.empty(1, dtype=indices.dtype)
    for m in range(is_minder.size):
        if not is_minder[m]:
            continue
        lo, hi = ward_start[m], ward_end[m]
        size = hi - lo
        reach = min((ties + 1) // 2, size // 2)
        for w in range(lo, hi):
            one_u[0] = w
            one_v[0] = m
            _add_pairs(one_u, one_v, indptr, indices, fill)
            for offset in range(1, reach + 1):
                one_v[0] = lo + (w - lo + offset) % size
                _add_pairs(one_u, one_v, indptr, indices, fill)


@nb.njit(cache=True)
def _finish_rows(indptr: np.ndarray, indices: np.ndarray) -> int:
    """Restore the row starts, sort each row and drop its repeats; return the entries kept.

    Rows are short: insertion sort. The rows are compacted forward in place and
    ``indptr`` rewritten for them.
    """
    n = indptr.size - 1
    for i in range(n, 0, -1):  # after filling, indptr[i] is row i's end: shift back
        indptr[i] = indptr[i - 1]
    indptr[0] = 0
    write = 0
    for i in range(n):
        lo, hi = indptr[i], indptr[i + 1]
        for j in range(lo + 1, hi):
            x = indices[j]
            k = j - 1
            while k >= lo and indices[k] > x:
                indices[k + 1] = indices[k]
                k -= 1
            indices[k + 1] = x
        indptr[i] = write  # row i now starts here (lo >= write: nothing unread is overwritten)
        for j in range(lo, hi):
            if j == lo or indices[j] != indices[j - 1]:
                indices[write] = indices[j]
                write += 1
    indptr[n] = write
    return write


def _index_type(n: int) -> type:
    """The integer type of node numbers on ``n`` nodes: int32 while they fit."""
    return np.int32 if n < 2**31 - 1 else np.int64


def _build(n: int, parts, units=None) -> Graph:
    """CSR from ``parts()``, a callable giving the same ``(u, v)`` pair arrays each time.

    ``units`` is ``(pop, ties)`` for the work units' pairs, generated in the kernel.
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    index_type = _index_type(n)
    no_rows = np.empty(0, dtype=index_type)
    if units is not None:
        pop, ties = units
        _unit_pairs(pop.is_minder, pop.ward_start, pop.ward_end, ties, indptr, no_rows, False)
    for u, v in parts():
        _add_pairs(u.astype(index_type, copy=False), v.astype(index_type, copy=False), indptr,
                   no_rows, False)
    np.cumsum(indptr, out=indptr)
    indices = np.empty(int(indptr[n]), dtype=index_type)
    if units is not None:
        _unit_pairs(pop.is_minder, pop.ward_start, pop.ward_end, ties, indptr, indices, True)
    for u, v in parts():
        _add_pairs(u.astype(index_type, copy=False), v.astype(index_type, copy=False), indptr,
                   indices, True)
    kept = _finish_rows(indptr, indices)
    # Repeats are few (a random tie that doubles a family or unit tie): keep the view rather
    # than copy the neighbour lists to give their room back.
    indices = indices[:kept]
    if kept < 2**31:
        indptr = indptr.astype(np.int32)
    return Graph(indptr=indptr, indices=indices)


def graph_from_edges(n: int, u: np.ndarray, v: np.ndarray) -> Graph:
    """Build an undirected CSR graph on ``n`` nodes from endpoint arrays.

    Self-loops and repeated edges are dropped; each neighbour list is sorted.
    ``indptr`` is ``int32`` when the edges fit, else ``int64``.

    Examples
    --------
    >>> g = graph_from_edges(3, np.array([0, 1, 1]), np.array([1, 0, 2]))
    >>> g.neighbours(1).tolist()
    [0, 2]
    """
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    return _build(n, lambda: [(u, v)])


def _family_edges(n: int, family_size: int, rng: np.random.Generator):
    """Cliques of ``family_size`` over a random permutation of all positions (pairs, in parts)."""
    if family_size < 2:
        return
    perm = rng.permutation(n)
    for a in range(family_size):
        for b in range(a + 1, family_size):
            left = perm[a::family_size]
            right = perm[b::family_size]
            m = min(left.size, right.size)
            yield left[:m], right[:m]


def _random_edges(n: int, ties: int, rng: np.random.Generator):
    """``ties`` ties from each position to positions drawn uniformly (pairs, one part)."""
    if ties > 0:
        yield np.repeat(np.arange(n, dtype=_index_type(n)), ties), \
            rng.integers(0, n, n * ties)


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

    def parts():  # fresh generators each time: both passes see the same pairs
        yield from _family_edges(n, params.family_size, generator(seed, "network/family"))
        yield from _random_edges(n, params.random_ties, generator(seed, "network/random"))

    return _build(n, parts, units=(pop, params.unit_ties))


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
