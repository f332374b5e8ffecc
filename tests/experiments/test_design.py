"""The experiment file: validation, design points, seeds."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from minders.errors import ScenarioError
from minders.experiments.design import build_sweep, load_experiment, run_seed

from .conftest import GRID, write_experiment


def test_grid_is_every_combination_in_file_order(grid_file):
    sweep = build_sweep(load_experiment(grid_file))
    assert sweep.n_points == 6 and sweep.n_runs == 18
    assert sweep.points["tiers.workers.span"].tolist() == [5, 5, 20, 20, 40, 40]
    assert sweep.points["model.purge_rate"].tolist() == [0.1, 0.9] * 3
    assert sweep.points["tiers.workers.span"].dtype == np.int64
    assert sweep.overrides_of(3) == {"tiers.workers.span": 20, "model.purge_rate": 0.9}
    assert len(set(sweep.point_hashes)) == 6  # every point is another scenario


def test_toml_and_yaml_give_the_same_sweep(tmp_path, grid_file):
    toml = tmp_path / "exp.toml"
    toml.write_text("""
name = "tiny_grid"
scenario = "base.toml"
seed = 3
replicates = 3
[parameters."tiers.workers.span"]
values = [5, 20, 40]
[parameters."model.purge_rate"]
low = 0.1
high = 0.9
num = 2
[[metrics]]
kind = "defections"
tier = "workers"
[[metrics]]
kind = "defection_rate"
[[metrics]]
kind = "peak_surprise_gap"
[[metrics]]
kind = "surveillance_headcount"
[[metrics]]
kind = "total"
column = "arrests"
""")
    assert build_sweep(load_experiment(toml)).hash == build_sweep(load_experiment(grid_file)).hash


def test_ranges_round_for_integer_parameters_and_paths_move_together(tmp_path):
    data = copy.deepcopy(GRID)
    data["parameters"] = {
        "span": {"paths": ["tiers.workers.span", "tiers.minders.span"], "low": 4, "high": 10,
                 "num": 4},
        "model.fear_per_event": {"low": 0.0, "high": 0.1, "step": 0.05},
    }
    sweep = build_sweep(load_experiment(write_experiment(tmp_path, data)))
    assert sorted(set(sweep.points["span"])) == [4, 6, 8, 10]
    assert sorted(set(sweep.points["model.fear_per_event"])) == pytest.approx([0.0, 0.05, 0.1])
    assert sweep.overrides_of(0) == {"tiers.workers.span": 4, "tiers.minders.span": 4,
                                     "model.fear_per_event": 0.0}


@pytest.mark.parametrize(("method", "samples", "expected"), [
    ("lhs", 10, 10), ("sobol", 8, 8 * (2 + 2)), ("morris", 3, 3 * (2 + 1)),
])
def test_sampled_designs(tmp_path, method, samples, expected):
    data = copy.deepcopy(GRID)
    data["design"] = {"method": method, "samples": samples}
    data["parameters"] = {"tiers.workers.span": {"low": 5, "high": 40},
                          "model.purge_rate": {"low": 0.1, "high": 0.9}}
    sweep = build_sweep(load_experiment(write_experiment(tmp_path, data)))
    spans = sweep.points["tiers.workers.span"]
    assert sweep.n_points == expected and sweep.sample.shape == (expected, 2)
    assert spans.dtype == np.int64 and spans.between(5, 40).all()
    assert sweep.points["model.purge_rate"].between(0.1, 0.9).all()
    again = build_sweep(load_experiment(write_experiment(tmp_path, data)))
    assert again.points.equals(sweep.points)  # the experiment seed fixes the sample


def test_seeds_depend_only_on_the_experiment_point_and_replicate(grid_file):
    sweep = build_sweep(load_experiment(grid_file))
    seeds = [sweep.seed_of(k) for k in range(sweep.n_runs)]
    assert len(set(seeds)) == sweep.n_runs and all(0 <= s < 2**63 for s in seeds)
    assert seeds[4] == run_seed(3, 1, 1)  # run 4 = point 1, replicate 1
    assert run_seed(3, 1, 1) != run_seed(4, 1, 1)
    # common random numbers: replicate r has the same seed at every point
    assert run_seed(3, 0, 2, common=True) == run_seed(3, 7, 2, common=True)


def _bad(**changes):
    data = copy.deepcopy(GRID)
    for key, value in changes.items():
        node = data
        *parents, last = key.split("/")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
    return data


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"replicate": 3}, "replicate", "known field (name, description, scenario"),
    ({"replicates": 0}, "replicates", "greater than or equal to 1"),
    ({"seed": -1}, "seed", "greater than or equal to 0"),
    ({"metrics/0/kind": "deaths"}, "metrics.0.kind", "one of defections"),
    ({"metrics/1/colour": "red"}, "metrics.1.colour", "known field (kind, name, tier)"),
    ({"metrics/2/tier": "police"}, "metrics.2.tier", "a tier of the scenario"),
    ({"metrics/4/column": "bribes"}, "metrics.4.column", "a column of the records"),
    ({"metrics": []}, "metrics", "at least 1 item"),
    ({"design": {"method": "random"}}, "design.method", "'grid', 'lhs', 'sobol' or 'morris'"),
    ({"design": {"method": "sobol", "samples": 8}}, "parameters.tiers.workers.span.values",
     "low and high"),
    ({"design": {"method": "sobol", "samples": 100}, "parameters/tiers.workers.span":
      {"low": 5, "high": 40}}, "design.samples",
     "a power of two for a sobol design (64 or 128)"),
    ({"parameters/tiers.workers.span": {"low": 5}}, "parameters.tiers.workers.span.low",
     "both low and high"),
    ({"parameters/tiers.workers.span": {"values": [5], "step": 2}},
     "parameters.tiers.workers.span.values", "not both"),
    ({"parameters/tiers.workers.spam": {"values": [5]}}, "parameters.tiers.workers.spam",
     "dotted path to a value of the base scenario"),
    ({"parameters/tiers.workers.span": {"values": [5, 0]}}, "parameters (point 2",
     "tiers.workers.span: expected a value greater than or equal to 1"),
    ({"scenario": "missing.toml"}, "scenario", "an existing scenario file"),
    ({"set": ["model.purge_rate=2"]}, "model.purge_rate", "less than or equal to 1"),
])
def test_bad_experiments_name_field_value_and_expectation(tmp_path, changes, field, words):
    path = write_experiment(tmp_path, _bad(**changes))
    with pytest.raises(ScenarioError) as info:
        build_sweep(load_experiment(path))
    message = str(info.value)
    assert message.startswith(field) and words in message, message


def test_unreadable_experiment_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("replicates = [")
    with pytest.raises(ScenarioError, match="valid TOML"):
        load_experiment(bad)
    with pytest.raises(ScenarioError, match="existing experiment file"):
        load_experiment(tmp_path / "nope.toml")
