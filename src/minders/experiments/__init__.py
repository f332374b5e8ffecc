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
>>> from minders.experiments import load_experiment, build_sweep, run_sweep, load_results
>>> sweep = build_sweep(load_experiment("experiments/span_sweep.toml"))  # doctest: +SKIP
>>> run_sweep(sweep, "results/span_sweep")  # doctest: +SKIP
>>> load_results("results/span_sweep").head()  # doctest: +SKIP
"""

from minders.experiments.design import Experiment, Sweep, build_sweep, load_experiment
from minders.experiments.store import load_records, load_results
from minders.experiments.summary import summarize
from minders.experiments.sweep import run_sweep

__all__ = [
    "Experiment", "Sweep", "build_sweep", "load_experiment", "load_records", "load_results",
    "run_sweep", "summarize",
]
