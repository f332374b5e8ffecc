"""Every bundled experiment validates, and a few of its runs go through the whole pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from minders import kinds
from minders.experiments import build_sweep, load_experiment
from minders.experiments.runner import run_chunk
from minders.experiments.sweep import chunk_task, part_frames

from ..conftest import ROOT

EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))


def test_there_are_bundled_experiments():
    assert {p.name for p in EXPERIMENTS} >= {"span_sweep.toml", "sensitivity.toml"}


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_bundled_experiment_runs(path):
    experiment = load_experiment(path)
    sweep = build_sweep(experiment)
    assert sweep.n_runs >= 10 and experiment.description
    # A short horizon keeps this quick; the design and metrics are the file's own.
    short_set = {**experiment.set, "run.steps": 5}
    base = kinds.load_scenario(experiment.scenario, experiment.set or None)
    for k, _ in enumerate(getattr(base, "shocks", None) or []):  # shocks move inside it
        short_set.update({f"shocks.{k}.start": 1, f"shocks.{k}.end": 4})
    short = build_sweep(experiment.model_copy(update={"set": short_set}))
    ids = np.array([0, short.n_runs - 1])
    runs, _ = part_frames(short, run_chunk(chunk_task(short, ids)))
    assert runs["run_id"].tolist() == ids.tolist()
    assert np.isfinite(runs[short.metric_columns].to_numpy()).all()
