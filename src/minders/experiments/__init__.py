"""Experiments at scale: ensembles, sweeps, sensitivity analysis and planning.

An *experiment file* (TOML or YAML) names a base scenario, the parameters to
vary, how many replicates to run at each point and which outcome metrics to
keep. :func:`run_sweep` runs it on local processes or a Dask cluster into a
resumable results folder; :func:`load_results` reads that folder back.

Data flows one way: :mod:`~minders.experiments.design` (the file, the
points, the seeds) -> :mod:`~minders.experiments.runner` (one chunk of runs
on a worker, outcomes from :mod:`~minders.experiments.metrics`) ->
:mod:`~minders.experiments.executors` (where the chunks run) ->
:mod:`~minders.experiments.store` (manifest and Parquet parts) ->
:mod:`~minders.experiments.summary`, :mod:`~minders.experiments.sensitivity`
and :mod:`~minders.experiments.planning`.

Examples
--------
The bundled ``span_sweep`` (``load_experiment("span_sweep")``) runs 210
runs of five years; a smaller one, with the scenario kind's default metrics:

>>> import tempfile
>>> from minders.experiments import build_sweep, load_results, run_sweep, validate_experiment
>>> experiment = validate_experiment({"scenario": "overseas_workers", "replicates": 2,
...     "set": {"run.steps": 8}, "parameters": {"tiers.minders.span": {"values": [5, 10]}}})
>>> sweep = build_sweep(experiment)
>>> out = tempfile.mkdtemp()
>>> run_sweep(sweep, out, "serial").ran
4
>>> load_results(out)[["point", "replicate", "tiers.minders.span"]].values.tolist()
[[0, 0, 5], [0, 1, 5], [1, 0, 10], [1, 1, 10]]
"""

from minders.experiments.design import Sweep, build_sweep
from minders.experiments.replicates import Replicates, run_replicates
from minders.experiments.schema import Experiment, load_experiment, validate_experiment
from minders.experiments.store import load_records, load_results
from minders.experiments.summary import summarize
from minders.experiments.sweep import run_sweep

__all__ = [
    "Experiment", "Replicates", "Sweep", "build_sweep", "load_experiment", "load_records",
    "load_results", "run_replicates", "run_sweep", "summarize", "validate_experiment",
]
