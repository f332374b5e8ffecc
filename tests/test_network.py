"""The social graph: symmetric CSR, work units, families, random ties, files."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from minders.engine import Simulation
from minders.errors import ScenarioError
from minders.network import build_graph, graph_from_edges, load_graph
from minders.population import build_population

from .conftest import make_scenario


def _pairs(graph):
    src = np.repeat(np.arange(graph.n_nodes), graph.degree)
    return set(zip(src.tolist(), graph.indices.tolist(), strict=True))


def test_graph_is_symmetric_simple_and_sorted(small):
    pop = build_population(small, seed=2)
    graph = build_graph(pop, small.network, seed=2)
    pairs = _pairs(graph)
    assert all((b, a) in pairs for a, b in pairs)
    assert all(a != b for a, b in pairs)
    for i in range(0, graph.n_nodes, 37):
        row = graph.neighbours(i)
        assert np.all(np.diff(row) > 0)
    assert 5 < graph.degree.mean() < 15


def test_work_units_see_each_other_and_their_minder():
    s = make_scenario({"network.family_size": 1, "network.random_ties": 0,
                       "network.unit_ties": 100})
    pop = build_population(s, seed=1)
    graph = build_graph(pop, s.network, seed=1)
    m = int(np.flatnonzero(pop.is_minder & (pop.watched_tier == 0))[0])
    unit = set(range(pop.ward_start[m], pop.ward_end[m]))
    for ward in unit:
        assert set(graph.neighbours(ward).tolist()) == (unit - {ward}) | {m}


def test_ring_lattice_inside_large_units():
    s = make_scenario({"network.family_size": 1, "network.random_ties": 0,
                       "network.unit_ties": 4})
    pop = build_population(s, seed=1)
    graph = build_graph(pop, s.network, seed=1)
    wards = np.flatnonzero(pop.tier == 0)
    assert set(np.unique(graph.degree[wards]).tolist()) == {5}  # 4 unit ties + the minder


def test_edge_list_and_graphml_files(tmp_path):
    s = make_scenario()
    n = sum(s.tier_sizes().values())
    ring = nx.cycle_graph(n)
    edges = tmp_path / "ring.csv"
    edges.write_text("source,target\n" + "\n".join(f"{a},{b}" for a, b in ring.edges))
    nx.write_graphml(ring, tmp_path / "ring.graphml")
    for path in (edges, tmp_path / "ring.graphml"):
        graph = load_graph(path, n)
        assert graph.degree.tolist() == [2] * n
    sim = Simulation(s.with_overrides({"network.file": str(edges)}), seed=1)
    assert sim.graph.degree.tolist() == [2] * n


def test_bad_graph_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("0,1\n1,x\n")
    with pytest.raises(ScenarioError, match="integer node ids"):
        load_graph(bad, 10)
    out_of_range = tmp_path / "big.txt"
    out_of_range.write_text("0 1\n1 50\n")
    with pytest.raises(ScenarioError, match=r"\[0, 10\).*node 50"):
        load_graph(out_of_range, 10)
    nx.write_graphml(nx.path_graph(4), tmp_path / "small.graphml")
    with pytest.raises(ScenarioError, match="10 nodes"):
        load_graph(tmp_path / "small.graphml", 10)
    with pytest.raises(ScenarioError, match="existing graph file"):
        load_graph(tmp_path / "none.csv", 10)


def test_graph_from_edges_drops_loops_and_repeats():
    g = graph_from_edges(4, np.array([0, 0, 1, 2, 3]), np.array([1, 1, 0, 2, 0]))
    assert g.neighbours(0).tolist() == [1, 3]
    assert g.neighbours(2).tolist() == []
