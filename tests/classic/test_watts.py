"""Watts (2002) global cascades: the kernel against a NumPy oracle, and the cascade window."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import binomtest

from minders.classic.watts import (
    WattsScenario,
    cascade_condition,
    cascade_kernel,
    cascade_reference,
    erdos_renyi,
    simulate,
    summary,
)
from minders.errors import ScenarioError
from minders.kinds import load_scenario, validate_scenario
from minders.network import graph_from_edges

ROOT = Path(__file__).resolve().parents[2]


def er(z: float, phi: float = 0.18, n: int = 10_000) -> WattsScenario:
    return WattsScenario.model_validate({
        "network": {"nodes": n, "mean_degree": z}, "cascade": {"threshold": phi}})


def global_frequency(scenario: WattsScenario, runs: int) -> tuple[int, np.ndarray]:
    sizes = np.array([simulate(scenario, seed=s).records["active_share"].iloc[-1]
                      for s in range(runs)])
    return int((sizes >= 0.1).sum()), sizes


def test_kernel_matches_the_numpy_reference():
    rng = np.random.default_rng(2)
    for trial in range(30):
        n = int(rng.integers(20, 300))
        graph = erdos_renyi(n, float(rng.uniform(0.5, 6)), rng)
        threshold = rng.uniform(-0.05, 0.5, n) if trial % 3 else np.full(n, 0.18)
        seeds = rng.choice(n, size=int(rng.integers(1, 4)), replace=False)
        counts = np.zeros(201, dtype=np.int64)
        state = np.zeros(n, dtype=np.bool_)
        ran = cascade_kernel(graph.indptr, graph.indices, threshold, seeds, 200, counts, state)
        expected = cascade_reference(graph.indptr, graph.indices, threshold, seeds, 200)
        assert counts[: ran + 1].tolist() == expected.tolist()
        assert state.sum() == expected[-1]


def test_the_analytic_window_for_phi_0_18():
    """Watts (2002), eq. 4 (cascade condition sum_k k(k-1) rho_k p_k = z) for Poisson degrees
    and phi = 0.18: the window of Fig. 1 runs from z just above 1 to z ~ 5.8."""
    lower = brentq(lambda z: cascade_condition(z, 0.18) - 1, 0.5, 2.0)
    upper = brentq(lambda z: cascade_condition(z, 0.18) - 1, 3.0, 10.0)
    assert lower == pytest.approx(1.02, abs=0.01)
    assert upper == pytest.approx(5.76, abs=0.02)
    # vulnerable degrees are k <= 1/phi: phi = 0.18 -> k <= 5; z e^{-z} sum_{j<=3} z^j/j!
    z = 4.0
    closed = z * math.exp(-z) * sum(z**j / math.factorial(j) for j in range(4))
    assert cascade_condition(z, 0.18) == pytest.approx(closed)


@pytest.mark.parametrize(("z", "runs", "inside"), [
    (1.0, 100, False), (2.0, 120, True), (4.0, 120, True), (16.0, 60, False),
])
def test_cascade_window_in_the_phi_z_plane(z, runs, inside):
    """Watts (2002), Figs. 1-2, n = 10,000, phi = 0.18, one random seed: global cascades
    (>= 10% of the nodes) are frequent inside the window (z = 2, 4) and absent at z = 1
    (the graph has no giant component) and z = 16 (no node is vulnerable). Frequencies
    with exact binomial 95% confidence intervals over independent graphs and seeds; the
    analytic condition of eq. 4 agrees with the side of the window."""
    hits, sizes = global_frequency(er(z), runs)
    interval = binomtest(hits, runs).proportion_ci(0.95)
    assert (cascade_condition(z, 0.18) > 1) == inside
    if inside:
        assert interval.low > 0.5
        # global cascades take nearly everyone: bimodal sizes, nothing in between
        big = sizes[sizes >= 0.1]
        assert big.min() > 0.5
        assert ((sizes > 0.01) & (sizes < 0.1)).sum() == 0
    else:
        assert hits == 0 and interval.high < 0.07


def test_watts_er_scenario_cascades_for_most_seeds():
    scenario = load_scenario(ROOT / "scenarios" / "watts_er.toml")
    result = simulate(scenario)
    table = summary(result)
    assert table["nodes"].item() == 10_000
    assert result.records["active"].iloc[0] == 1
    assert result.records["active"].is_monotonic_increasing


def test_erdos_renyi_has_the_right_number_of_distinct_edges():
    rng = np.random.default_rng(0)
    n, z = 5000, 3.0
    counts = [erdos_renyi(n, z, rng).indices.size / 2 for _ in range(20)]
    expected = n * (n - 1) / 2 * z / (n - 1)
    sd = math.sqrt(expected)
    assert abs(np.mean(counts) - expected) < 4 * sd / math.sqrt(20)
    g = erdos_renyi(n, z, rng)
    assert (g.indices != np.repeat(np.arange(n), g.degree)).all()  # no self-loops


def test_graph_from_a_file(tmp_path):
    edges = tmp_path / "star.csv"
    edges.write_text("source,target\n" + "\n".join(f"0,{k}" for k in range(1, 6)) + "\n")
    path = tmp_path / "star.toml"
    path.write_text(
        'kind = "watts"\n[network]\nkind = "file"\nfile = "star.csv"\nnodes = 6\n'
        '[cascade]\nthreshold = 1.0\nseed_nodes = 1\n'
    )
    scenario = load_scenario(path)
    # a leaf has one neighbour: once the hub is active the leaves follow, whatever the seed
    shares = {simulate(scenario, seed=s).records["active_share"].iloc[-1] for s in range(8)}
    assert shares <= {1.0, 1 / 6}  # the hub tips every leaf; a leaf cannot tip the hub
    assert 1.0 in shares


def test_seed_share_and_zero_thresholds():
    g = graph_from_edges(4, np.array([0, 1, 2]), np.array([1, 2, 3]))
    threshold = np.array([0.0, 0.5, 0.5, 1.0])  # a path 0-1-2-3, seeded at 3
    expected = cascade_reference(g.indptr, g.indices, threshold, np.array([3]), 9)
    assert expected.tolist() == [1, 3, 4, 4]  # node 0 needs no one, node 2 half its neighbours
    counts = np.zeros(10, dtype=np.int64)
    ran = cascade_kernel(g.indptr, g.indices, threshold, np.array([3]), 9, counts,
                         np.zeros(4, dtype=np.bool_))
    assert counts[: ran + 1].tolist() == expected.tolist()
    s = WattsScenario.model_validate({"network": {"nodes": 1000, "mean_degree": 2},
                                      "cascade": {"threshold": 0.5, "seed_share": 0.05}})
    assert simulate(s).records["active"].iloc[0] == 50


def test_same_seed_same_records_other_seed_other_graph():
    s = er(4.0, n=2000)
    assert simulate(s, seed=5).records.equals(simulate(s, seed=5).records)
    sizes = {len(simulate(s, seed=k).records) for k in range(6)}
    assert len(sizes) > 1


@pytest.mark.parametrize(("data", "field"), [
    ({"network": {"nodes": 10}, "cascade": {"threshold": 0.2}}, "network.mean_degree"),
    ({"network": {"nodes": 10, "kind": "file"}, "cascade": {"threshold": 0.2}}, "network.file"),
    ({"network": {"nodes": 10, "mean_degree": 2},
      "cascade": {"threshold": 0.2, "seed_nodes": 11}}, "cascade.seed_nodes"),
    ({"network": {"nodes": 10, "mean_degree": 2},
      "cascade": {"threshold": 0.2, "seed_nodes": 1, "seed_share": 0.1}}, "cascade.seed_share"),
    ({"network": {"nodes": 10, "mean_degree": 2}, "cascade": {"threshold": [0.1, 0.2]}},
     "cascade.threshold"),
    ({"network": {"nodes": 0, "mean_degree": 2}, "cascade": {"threshold": 0.2}},
     "network.nodes"),
])
def test_bad_scenarios_name_the_field(data, field):
    with pytest.raises(ScenarioError) as info:
        validate_scenario({"kind": "watts", **data})
    assert info.value.field == field, str(info.value)
