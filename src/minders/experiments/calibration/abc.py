"""ABC-SMC with pyabc: the model pyabc calls, a seeded sampler on minders' executors, the loop.

pyabc (imported only here, only when calibrating) runs the sequential Monte
Carlo: priors, perturbation kernels, the adaptive p-norm distance (Prangle
2017: each period's weight is refreshed every generation from the spread of
the simulations) and the quantile epsilon schedule. minders adds three
things:

- :class:`SimulationModel`, the picklable model: it sets the fitted values
  on the base scenario, runs it with a seed derived from those values, and
  passes the records through the observation model;
- :class:`SeededSampler`, a pyabc sampler that sends each particle's search
  to an executor of :mod:`minders.experiments.executors` (local processes,
  Dask or serial) with a seed fixed by (calibration seed, generation,
  particle). pyabc draws from NumPy's global generator, so each task seeds
  it first; the results are put back in particle order, so the posterior
  does not depend on the executor, the workers or the order tasks finish;
- :func:`run_abc`, which runs one generation at a time, each from what the
  database holds (``ABCSMC.load``). A run killed at any moment and started
  again resumes from the last finished generation and, since an
  uninterrupted run takes the same path, ends with the same posterior.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from minders.experiments.calibration.observation import ObservationModel, departures_of

#: Transforms of the summary statistics.
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "identity": lambda x: x,
}


@dataclass
class SimulationModel:
    """The model pyabc calls: fitted values in, transformed arrivals per period out.

    Attributes
    ----------
    kind : str
        Scenario kind.
    base : dict
        The base scenario (``set`` applied), as a raw mapping.
    names : list of str
        Fitted dotted paths, in order.
    integer : list of bool
        Whether each is rounded before it is set.
    observation : ObservationModel
        Departures per step to arrivals per period (every observed period).
    fit : array of bool
        The periods the distance compares (all but the held-out ones).
    transform : str
        Applied to the arrivals before the distance (see :data:`TRANSFORMS`).
    seed : int
        The calibration's seed; each simulation's seed is derived from it
        and the fitted values.
    """

    kind: str
    base: dict[str, Any]
    names: list[str]
    integer: list[bool]
    observation: ObservationModel
    fit: np.ndarray
    transform: str
    seed: int
    bounds: list[tuple[float, float]] | None = None
    threads: int | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def values(self, parameters: Any) -> dict[str, float]:
        """The fitted values by dotted path (from pyabc's ``p0``, ``p1``, ... names)."""
        out = {}
        for k, (name, whole) in enumerate(zip(self.names, self.integer, strict=True)):
            value = float(parameters[f"p{k}"])
            if self.bounds is not None:
                # A normal prior reaches past the range checked against the parameter's
                # bounds (its 0.01% tails); a draw out there is set at the range's end.
                value = min(max(value, self.bounds[k][0]), self.bounds[k][1])
            out[name] = float(round(value)) if whole else value
        return out

    def run_seed(self, values: dict[str, float]) -> int:
        """A simulation seed fixed by the calibration seed and the values (any worker)."""
        key = json.dumps([self.seed, [values[n] for n in self.names]]).encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") >> 1

    def scenario(self, values: dict[str, float]) -> Any:
        """The base scenario with the fitted values set."""
        from minders import kinds
        from minders.spec import apply_overrides

        overrides = {n: (int(v) if whole else v) for (n, v), whole in
                     zip(values.items(), self.integer, strict=True)
                     if not n.startswith("observation.")}
        return kinds.validate_scenario(apply_overrides(copy.deepcopy(self.base), overrides))

    def arrivals(self, values: dict[str, float], seed: int | None = None) -> np.ndarray:
        """Expected arrivals for every observed period (held-out ones included)."""
        from minders.engine import Simulation

        scenario = self.scenario(values)
        # The engine's record arrays are read directly: the tidy table is not needed.
        sim = Simulation(scenario, seed=self.run_seed(values) if seed is None else seed)
        while sim.t < sim.steps:
            sim.step()
        flow = departures_of(sim.records, self.observation.spec)
        if self.observation.spec.tiers is None:
            positions = sum(scenario.tier_sizes().values())
        else:
            positions = sum(scenario.tier_sizes()[t] for t in self.observation.spec.tiers)
        return self.observation.arrivals(flow, {"positions": positions, **values})

    def __call__(self, parameters: Any) -> dict[str, np.ndarray]:
        """The model call pyabc makes: the transformed arrivals of the fitted periods."""
        series = self.arrivals(self.values(parameters))
        return {"arrivals": TRANSFORMS[self.transform](np.maximum(series[self.fit], 0.0))}


# --------------------------------------------------------------------------- the sampler
def task_seed(seed: int, t: int, prior_sample: bool, index: int) -> int:
    """The 32-bit seed of one particle's search (what NumPy's global generator takes).

    Examples
    --------
    >>> task_seed(1, 0, False, 3) == task_seed(1, 0, False, 3) != task_seed(1, 0, True, 3)
    True
    """
    sequence = np.random.SeedSequence([int(seed), int(t) + 2, int(prior_sample), int(index)])
    return int(sequence.generate_state(1)[0])


def sample_task(task: tuple[int, bytes, bytes, int, int, int | None]) -> tuple[int, Any, int,
                                                                                 bool]:
    """Search for one accepted particle (runs on a worker): seed, then simulate until accepted.

    Returns ``(index, sample, simulations, found)``; ``found`` is False when
    the search gave up after its share of the generation's simulations.
    """
    import random

    import cloudpickle

    from minders.experiments.runner import _numba_threads

    index, simulate_blob, factory_blob, seed, tries, threads = task
    simulate_one = cloudpickle.loads(simulate_blob)
    sample = cloudpickle.loads(factory_blob)()
    np.random.seed(seed)  # pyabc samples from NumPy's global generator
    random.seed(seed)
    done = 0
    with _numba_threads(threads):
        while done < tries:
            particle = simulate_one()
            done += 1
            sample.append(particle)
            if particle.accepted:
                return index, sample, done, True
    return index, sample, done, False


def make_sampler(executor: Any, seed: int,
                 on_particle: Callable[[int, int], None] | None = None) -> Any:
    """A :class:`SeededSampler` (a pyabc ``Sampler``) over ``executor``.

    Defined in a function so that pyabc is imported only when calibrating.
    """
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """One task per particle, seeded by (seed, generation, particle), run on ``executor``."""

        def __init__(self) -> None:
            super().__init__()
            self.executor = executor
            self.seed = seed
            self.on_particle = on_particle

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            import cloudpickle

            blob = cloudpickle.dumps(simulate_one)
            factory = cloudpickle.dumps(self.sample_factory)
            tries = 1 if all_accepted else (
                int(math.ceil(max_eval / n)) if math.isfinite(max_eval) else 2**62)
            tasks = [(k, blob, factory, task_seed(self.seed, t, all_accepted, k), tries,
                      self.executor.threads) for k in range(n)]
            found: dict[int, Any] = {}
            total, ok = 0, True
            for index, part, done, accepted in self.executor.map(sample_task, tasks):
                found[index] = part
                total += done
                ok = ok and accepted
                if self.on_particle is not None and not all_accepted:
                    self.on_particle(len(found), n)
            sample = self._create_empty_sample()
            for k in range(n):  # particle order, whatever order the tasks finished in
                sample += found[k]
            sample.ok = ok
            self.nr_evaluations_ = total
            return sample

    return SeededSampler()


# --------------------------------------------------------------------------- the loop
@dataclass
class Generation:
    """One finished generation, as the progress display shows it.

    Examples
    --------
    >>> Generation(2, 0.5, 40, 100, 12.0).acceptance
    0.4
    """

    t: int
    epsilon: float
    accepted: int
    simulations: int
    seconds: float

    @property
    def acceptance(self) -> float:
        """Accepted particles per simulation."""
        return self.accepted / self.simulations if self.simulations else float("nan")


def prior_distribution(priors: list[Any]) -> Any:
    """The pyabc prior: a ``Distribution`` of scipy random variables ``p0``, ``p1``, ...."""
    import pyabc

    rvs = {}
    for k, prior in enumerate(priors):
        if prior.prior == "uniform":
            rv = pyabc.RV("uniform", prior.low, prior.high - prior.low)
        elif prior.prior == "loguniform":
            rv = pyabc.RV("loguniform", prior.low, prior.high)
        elif prior.prior == "normal":
            rv = pyabc.RV("norm", prior.mean, prior.sd)
        else:
            low, high = prior.support()
            rv = pyabc.RV("beta", prior.a, prior.b, low, high - low)
        rvs[f"p{k}"] = rv
    return pyabc.Distribution(**rvs)


def quiet_pyabc() -> None:
    """Silence pyabc's log (a line per generation at INFO): minders shows its own progress."""
    for name in ("ABC", "pyabc", "Sampler", "Epsilon", "Distance", "Acceptor", "History"):
        logging.getLogger(name).setLevel(logging.WARNING)


def generations(db: Path) -> list[Generation]:
    """The finished generations stored in a database (none when it does not exist)."""
    if not stored_run(db):
        return []
    import pyabc

    history = pyabc.History(f"sqlite:///{db}", _id=1)
    if history.max_t is None or history.n_populations == 0:
        return []
    table = history.get_all_populations()
    table = table[table["t"] >= 0]
    return [Generation(int(r.t), float(r.epsilon), int(history.get_nr_particles_per_population()
                       .get(int(r.t), 0)), int(r.samples), 0.0) for r in table.itertuples()]


def stored_run(db: Path) -> bool:
    """Whether ``db`` holds a started ABC-SMC run (a kill can leave a file without one)."""
    import sqlite3

    if not db.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
            return con.execute("select count(*) from abc_smc").fetchone()[0] > 0
    except sqlite3.Error:
        return False


def run_abc(model: SimulationModel, priors: list[Any], observed: np.ndarray, db: Path,
            executor: Any, settings: Any, seed: int,
            on_generation: Callable[[Generation, int], None] | None = None,
            on_particle: Callable[[int, int], None] | None = None) -> Any:
    """Run (or resume) ABC-SMC until a stopping rule holds; returns the pyabc ``History``.

    Parameters
    ----------
    model : SimulationModel
        What pyabc calls.
    priors : list of Prior
        In the order of ``model.names``.
    observed : array
        The transformed observed arrivals of the fitted periods.
    db : Path
        The SQLite database (created, or resumed when it holds generations).
    executor : Executor
        Entered already; where particles are searched for.
    settings : Inference
        Population size, generations and the stopping rules.
    seed : int
        The calibration seed.
    on_generation : callable, optional
        ``on_generation(generation, total)`` after each generation (and for
        every generation already stored when resuming).
    on_particle : callable, optional
        ``on_particle(done, n)`` as particles of a generation come in.
    """
    import pyabc

    quiet_pyabc()
    url = f"sqlite:///{db}"
    for generation in generations(db):
        if on_generation is not None:
            on_generation(generation, settings.generations)
    while True:
        done = generations(db)
        if done and _stop(done, settings):
            break
        distance = pyabc.AdaptivePNormDistance(p=2, max_scale_weight_ratio=100.0,
                                               all_particles_for_scale=False)
        abc = pyabc.ABCSMC(
            model, prior_distribution(priors), distance,
            population_size=settings.population,
            sampler=make_sampler(executor, seed, on_particle),
            eps=pyabc.QuantileEpsilon(alpha=settings.quantile),
        )
        if stored_run(db):
            abc.load(url, 1)
        else:
            db.unlink(missing_ok=True)  # killed while it was being created: start afresh
            abc.new(url, {"arrivals": observed})
        start = time.perf_counter()
        history = abc.run(max_nr_populations=1, minimum_epsilon=settings.min_epsilon,
                          min_acceptance_rate=settings.min_acceptance)
        after = generations(db)
        if len(after) == len(done):  # the generation failed (its sample was not ok)
            break
        newest = after[-1]
        newest.seconds = time.perf_counter() - start
        if on_generation is not None:
            on_generation(newest, settings.generations)
    return pyabc.History(url, _id=1) if stored_run(db) else history


def _stop(done: list[Generation], settings: Any) -> bool:
    last = done[-1]
    return (len(done) >= settings.generations or last.epsilon <= settings.min_epsilon
            or last.acceptance < settings.min_acceptance
            or sum(g.simulations for g in done) >= settings.max_simulations)
