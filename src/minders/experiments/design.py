"""An experiment made concrete: its design points, run ids and seeds.

The experiment file and its validation live in :mod:`minders.experiments.schema`
(:class:`Experiment`, :func:`load_experiment`, re-exported here).
:func:`build_sweep` reads the base scenario, fills in the kind's default
metrics when the file names none, expands the design into points, checks
that every point makes a valid scenario and gives every run its id and seed.

Run ``r`` of point ``p`` has id ``p * replicates + r`` and the seed drawn
from ``numpy.random.SeedSequence(seed, spawn_key=(p, r))``, so a run's result
depends only on the experiment, never on the executor, the worker count, the
chunking or the order in which runs happen. With
``common_random_numbers = true`` the key is ``(r,)``: every point shares the
seeds of its replicates, and differences between points are not blurred by
independent noise.
"""

from __future__ import annotations

import copy
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from minders import kinds
from minders import spec as spec_module
from minders.errors import ScenarioError
from minders.experiments.metrics import parse_metric
from minders.experiments.schema import (  # re-exported: the names lived here before
    MAX_RUNS,
    METHODS,
    Design,
    Experiment,
    Output,
    Parameter,
    load_experiment,
    validate_experiment,
)

__all__ = [
    "MAX_RUNS", "METHODS", "Design", "Experiment", "Output", "Parameter", "Sweep",
    "build_sweep", "load_experiment", "metric_specs", "run_seed", "validate_experiment",
]

# --------------------------------------------------------------------------- the sweep
@dataclass
class Sweep:
    """An experiment made concrete: base scenario, points, run ids and seeds.

    Attributes
    ----------
    experiment : Experiment
        The validated experiment file.
    base : dict
        The base scenario with the fixed overrides, resolved (``model_dump``).
    kind : str
        The scenario kind (see :mod:`minders.kinds`).
    parameters : list of str
        Names of the varied parameters (columns of ``points``).
    paths : dict
        Parameter name -> the dotted paths it sets.
    points : pandas.DataFrame
        One row per point: ``point`` and the value of each parameter.
    sample : numpy.ndarray or None
        The raw SALib sample (points x parameters) before rounding, for sampled designs.
    problem : dict or None
        The SALib problem (names, bounds) of a sampled design.
    hash : str
        :meth:`Experiment.content_hash`: a results folder only resumes the same hash.

    Examples
    --------
    >>> sweep = build_sweep(load_experiment("span_sweep"))
    >>> sweep.n_points, sweep.n_runs, sweep.kind
    (21, 210, 'minders')
    """

    experiment: Experiment
    base: dict[str, Any]
    kind: str
    parameters: list[str]
    paths: dict[str, list[str]]
    points: pd.DataFrame
    sample: np.ndarray | None
    problem: dict[str, Any] | None
    hash: str
    point_hashes: list[str] = field(default_factory=list)

    @property
    def n_points(self) -> int:
        """Number of design points."""
        return len(self.points)

    @property
    def n_runs(self) -> int:
        """Points x replicates."""
        return self.n_points * self.experiment.replicates

    @property
    def metric_columns(self) -> list[str]:
        """Column names of the metrics, in file order."""
        return [m.label for m in self.experiment.metrics or []]

    def locate(self, run_id: int) -> tuple[int, int]:
        """``(point, replicate)`` of a run id."""
        return divmod(int(run_id), self.experiment.replicates)

    def seed_of(self, run_id: int) -> int:
        """The seed of a run (see the module docstring)."""
        point, replicate = self.locate(run_id)
        return run_seed(self.experiment.seed, point, replicate,
                        self.experiment.common_random_numbers)

    def overrides_of(self, point: int) -> dict[str, Any]:
        """Dotted path -> value for one point."""
        return {  # column by column: a row of mixed types would turn integers into floats
            path: _plain(self.points[name].iloc[point])
            for name in self.parameters for path in self.paths[name]
        }


def run_seed(seed: int, point: int, replicate: int, common: bool = False) -> int:
    """A run's seed: 63 bits from ``SeedSequence(seed, spawn_key=(point, replicate))``.

    Examples
    --------
    >>> run_seed(1, 0, 0) == run_seed(1, 0, 0) != run_seed(1, 0, 1)
    True
    >>> run_seed(1, 0, 2, common=True) == run_seed(1, 5, 2, common=True)
    True
    """
    key = (int(replicate),) if common else (int(point), int(replicate))
    state = np.random.SeedSequence(int(seed), spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))  # fits a signed 64-bit Parquet column


def build_sweep(experiment: Experiment, base: Any | None = None) -> Sweep:
    """Read the base scenario, expand the design and validate every point.

    Parameters
    ----------
    experiment : Experiment
        From :func:`load_experiment`.
    base : Scenario, optional
        Use this scenario instead of reading ``experiment.scenario``.

    Returns
    -------
    Sweep

    Raises
    ------
    ScenarioError
        If a path is not a parameter of the scenario, a metric names an unknown
        tier or column or needs a calendar the kind has not, the file names no
        metric and the kind has no defaults, or a point gives an invalid
        scenario (the message names the point).

    Examples
    --------
    >>> from minders.scenario import Scenario
    >>> s = Scenario.model_validate({"tiers": {"w": {"size": 20, "minded_by": "m", "span": 5},
    ...                                        "m": {"size": "auto"}}})
    >>> e = Experiment.model_validate({"scenario": "-", "replicates": 2,
    ...     "parameters": {"tiers.w.span": {"values": [2, 5, 10]}},
    ...     "metrics": [{"kind": "surveillance_headcount"}]})
    >>> sweep = build_sweep(e, base=s)
    >>> sweep.n_points, sweep.n_runs, sweep.points["tiers.w.span"].tolist()
    (3, 6, [2, 5, 10])
    """
    if base is None:
        spec = kinds.load_scenario(experiment.scenario, experiment.set or None)
    else:
        spec = base.with_overrides(experiment.set) if experiment.set else base
    base_dict = spec.model_dump(mode="json")
    kind = spec.kind
    if experiment.metrics is None:  # the file names none: the kind's defaults
        defaults = kinds.of(spec).default_metrics(spec)
        if not defaults:
            raise ScenarioError("metrics", None, f"at least one metric (the {kind} kind has "
                                "no default metrics)")
        experiment = experiment.model_copy(
            update={"metrics": [parse_metric(m) for m in defaults]})
    names = list(experiment.parameters)
    paths = {name: p.paths or [name] for name, p in experiment.parameters.items()}
    integer = {}
    for name in names:
        kinds_at = set()
        for path in paths[name]:
            found, value = _lookup(base_dict, path)
            if not found:
                raise ScenarioError(f"parameters.{name}", path,
                                    "a dotted path to a value of the base scenario "
                                    "(e.g. tiers.workers.span)")
            kinds_at.add(isinstance(value, int) and not isinstance(value, bool))
        explicit = experiment.parameters[name].integer
        integer[name] = explicit if explicit is not None else all(kinds_at)
    points, sample, problem = _expand(experiment, names, integer)
    _check_metrics(experiment, spec)
    sweep = Sweep(
        experiment=experiment, base=base_dict, kind=kind, parameters=names, paths=paths,
        points=points, sample=sample, problem=problem,
        hash=experiment.content_hash(base_dict),
    )
    sweep.point_hashes = [_validate_point(sweep, point) for point in range(sweep.n_points)]
    return sweep


def _expand(
    experiment: Experiment, names: list[str], integer: dict[str, bool]
) -> tuple[pd.DataFrame, np.ndarray | None, dict[str, Any] | None]:
    """The points table (and raw sample and SALib problem for sampled designs)."""
    design = experiment.design
    params = experiment.parameters
    if design.method == "grid":
        grids = [params[n].grid_values(integer[n]) for n in names]
        rows = list(itertools.product(*grids)) if names else [()]
        points = pd.DataFrame(rows, columns=names)
        points.insert(0, "point", np.arange(len(points), dtype=np.int64))
        return _typed(points, names), None, None
    problem = {
        "num_vars": len(names), "names": names,
        "bounds": [list(params[n].bounds(integer[n])) for n in names],
    }
    sample = _sample(design, problem, experiment.seed)
    columns = {}
    for k, name in enumerate(names):
        values = sample[:, k]
        if integer[name]:
            low, high = params[name].low, params[name].high
            columns[name] = np.clip(np.floor(values + 0.5), low, high).astype(np.int64)
        else:
            columns[name] = values.astype(float)
    points = pd.DataFrame({"point": np.arange(len(sample), dtype=np.int64), **columns})
    return points, sample, problem


def _sample(design: Design, problem: dict[str, Any], seed: int) -> np.ndarray:
    """Draw the design with SALib (imported here: it is slow to import)."""
    import warnings

    n = int(design.samples or 1)
    # SALib's samplers accept an integer seed; the same seed gives the same design.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sobol's N is a power of two (checked); morris, lhs
        if design.method == "lhs":
            from SALib.sample import latin

            return np.asarray(latin.sample(problem, n, seed=seed))
        if design.method == "sobol":
            from SALib.sample import sobol

            return np.asarray(sobol.sample(problem, n, calc_second_order=design.second_order,
                                           seed=seed))
        from SALib.sample import morris

        return np.asarray(morris.sample(problem, n, num_levels=design.levels, seed=seed))


def _typed(points: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Give each parameter column one Parquet-friendly type (JSON text for anything else)."""
    for name in names:
        values = points[name].tolist()
        if all(isinstance(v, bool) for v in values):
            points[name] = points[name].astype(bool)
        elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            points[name] = points[name].astype(np.int64)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            points[name] = points[name].astype(float)
        elif all(isinstance(v, str) for v in values):
            points[name] = points[name].astype(object)
        else:  # tables (e.g. a distribution): stored as JSON text, applied as the value
            points[name] = [json.dumps(v, sort_keys=True) for v in values]
            points.attrs.setdefault("json", []).append(name)
    return points


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value a scenario expects (JSON text decoded)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _lookup(data: Any, path: str) -> tuple[bool, Any]:
    """Whether ``path`` names a value in the dumped scenario, and that value."""
    node = data
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _check_metrics(experiment: Experiment, spec: Any) -> None:
    """Check every metric against the scenario's groups, record columns and calendar."""
    groups = spec.groups()
    columns = list(kinds.of(spec).columns) or None  # a kind that declares none: not checked
    for k, metric in enumerate(experiment.metrics or []):
        try:
            metric.check(groups, columns, spec.steps_per_year())
        except ScenarioError as exc:
            raise ScenarioError(f"metrics.{k}.{exc.field}", exc.value, exc.expected) from None


def _validate_point(sweep: Sweep, point: int) -> str:
    """Validate the scenario of one point; return its hash."""
    overrides = sweep.overrides_of(point)
    data = spec_module.apply_overrides(copy.deepcopy(sweep.base), overrides)
    try:
        spec = kinds.validate_scenario(data)
    except ScenarioError as exc:
        values = ", ".join(f"{n}={_plain(sweep.points[n].iloc[point])!r}"
                           for n in sweep.parameters)
        raise ScenarioError(
            f"parameters (point {point}: {values})", exc.value,
            f"values the scenario accepts ({exc.field}: expected {exc.expected})",
        ) from None
    return spec.scenario_hash()


def metric_specs(experiment: Experiment) -> list[dict[str, Any]]:
    """The metrics as plain dicts (how they travel to workers).

    Use the experiment of a :class:`Sweep`: :func:`build_sweep` fills in the
    default metrics of an experiment that names none.

    Examples
    --------
    >>> e = Experiment.model_validate({"scenario": "-", "metrics": [{"kind": "cascade"}]})
    >>> metric_specs(e)[0]["window"], metric_specs(e)[0]["threshold"]
    (4, 0.01)
    """
    return [m.model_dump(mode="json") for m in experiment.metrics or []]
