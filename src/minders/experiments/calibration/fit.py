"""Run a calibration into its folder: check everything, ABC-SMC, predictive, outputs.

Every input is checked before the folder is touched (a bad file leaves
nothing behind). The folder then holds ``abc.db`` (pyabc's database, from
which a killed calibration resumes) and ``calibration.json``; the results
are written into a staging folder and renamed into place once complete.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minders.errors import ScenarioError
from minders.experiments.calibration.abc import Generation, SimulationModel
from minders.experiments.calibration.observation import (
    Calendar,
    ObservationModel,
    load_observed,
    period_code,
    period_label,
)
from minders.experiments.calibration.schema import (
    Calibration,
    Prior,
    base_scenario_data,
    check_parameters,
    load_calibration,
)

#: Files of a finished calibration, by key.
OUTPUTS = {
    "posterior": "posterior.parquet",
    "summary": "summary.csv",
    "predictive": "predictive.parquet",
    "scenario": "calibrated.toml",
    "pairs": "pairs.png",
    "figure": "predictive.png",
    "report": "report.json",
}


@dataclass
class CalibrationResult:
    """What :func:`calibrate` found.

    Attributes
    ----------
    calibration : Calibration
        The calibration as run.
    posterior : pandas.DataFrame
        The last generation's particles: one column per fitted path, ``weight``.
    summary : pandas.DataFrame
        Per parameter: prior, median, 90% interval, sd ratio and status.
    predictive : pandas.DataFrame
        Per observed period: observed, fitted (bool), median and band quantiles.
    scores : dict
        Hold-out scores (empty without ``fit_until``).
    generations : list of Generation
        The ABC-SMC generations.
    simulations : int
        Simulations run by ABC-SMC (calibration sample included) and the predictive.
    seconds : float
        Wall time of this call.
    paths : dict
        Output files by key (see :data:`OUTPUTS`).
    history_matching : dict or None
        The history-matching stage's narrowed priors and what it kept.
    """

    calibration: Calibration
    posterior: pd.DataFrame
    summary: pd.DataFrame
    predictive: pd.DataFrame
    scores: dict[str, Any]
    generations: list[Generation]
    simulations: int
    seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    history_matching: dict[str, Any] | None = None

    @property
    def simulations_per_second(self) -> float:
        """Simulations per second of wall time (resumed generations not counted)."""
        return self.simulations / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class Problem:
    """A calibration made ready to run: the model pyabc calls and the observed series."""

    calibration: Calibration
    model: SimulationModel
    observed: pd.Series
    fit: np.ndarray
    target: np.ndarray
    base: dict[str, Any]


def prepare(calibration: Calibration | str | Path, fit_until: str | int | None = None,
            overrides: dict[str, Any] | None = None) -> Problem:
    """Check a calibration against its scenario and data, and build the model pyabc calls.

    Raises
    ------
    ScenarioError
        For any problem with the file, the scenario, the priors or the data.
    """
    from minders import kinds
    from minders.experiments.calibration.abc import TRANSFORMS

    if not isinstance(calibration, Calibration):
        calibration = load_calibration(calibration)
    if fit_until is not None or overrides:
        changes: dict[str, Any] = dict(overrides or {})
        if fit_until is not None:
            changes["fit_until"] = fit_until
        calibration = calibration.model_copy(update=changes)
    base = base_scenario_data(calibration)
    scenario = kinds.validate_scenario(base)
    sizes = getattr(scenario, "tier_sizes", None)
    per_year = scenario.steps_per_year()
    if sizes is None or per_year is None:
        raise ScenarioError("scenario", calibration.scenario,
                            "a minders scenario (tiers, and steps with a calendar length)")
    sizes = sizes()
    check_parameters(calibration, base)
    spec = calibration.observation
    for tier in spec.tiers or []:
        if tier not in sizes:
            raise ScenarioError("observation.tiers", tier, f"a tier ({', '.join(sizes)})")
    positions = sum(sizes[t] for t in (spec.tiers or sizes))
    observed = load_observed(calibration)
    calendar = Calendar(calibration.start_year, per_year, scenario.run.steps,
                        calibration.data.period)
    observation = ObservationModel(spec, calendar, observed.index.to_numpy(), positions)
    codes = observed.index.to_numpy()
    fit = np.ones(codes.size, dtype=bool)
    if calibration.fit_until is not None:
        until = period_code(calibration.fit_until, calibration.data.period, "fit_until")
        fit = codes <= until
        if fit.sum() < 2 or fit.all():
            raise ScenarioError(
                "fit_until", calibration.fit_until,
                f"a period leaving at least two observed periods to fit and one to forecast "
                f"({period_label(int(codes[1]), calibration.data.period)} to "
                f"{period_label(int(codes[-2]), calibration.data.period)})")
    model = SimulationModel(
        kind=scenario.kind, base=base, names=calibration.parameter_names(),
        integer=[p.integer for p in calibration.parameters.values()], observation=observation,
        fit=fit, transform=calibration.summary.transform, seed=calibration.seed,
        bounds=[p.support() for p in calibration.parameters.values()],
    )
    target = TRANSFORMS[calibration.summary.transform](observed.to_numpy()[fit])
    return Problem(calibration, model, observed, fit, target, base)


def calibrate(
    calibration: Calibration | str | Path,
    out: str | Path | None = None,
    executor: Any = "local",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    fit_until: str | int | None = None,
    population: int | None = None,
    generations: int | None = None,
    on_generation: Callable[[Generation, int], None] | None = None,
    on_particle: Callable[[int, int], None] | None = None,
) -> CalibrationResult:
    """Fit a scenario's parameters to an observed series with ABC-SMC (pyabc).

    Parameters
    ----------
    calibration : Calibration, str or Path
        A calibration file, the name of a bundled one, or a validated one.
    out : str or Path, optional
        Output folder (default: :func:`default_folder`). A folder of the
        same calibration is resumed from its ``abc.db``; one of another is
        refused.
    executor : str or Executor
        ``"local"`` (processes, default), ``"dask"`` or ``"serial"``, as for sweeps.
    workers : int, optional
        Processes or local Dask workers (default: all cores).
    scheduler : str, optional
        Dask scheduler address.
    fit_until : str or int, optional
        Fit periods up to this one only and score the forecast of the rest.
    population, generations : int, optional
        Override ``inference.population`` and ``inference.generations``.
    on_generation : callable, optional
        ``on_generation(generation, total)`` after each generation.
    on_particle : callable, optional
        ``on_particle(done, n)`` as a generation's particles come in.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    ScenarioError
        For a bad file, prior, data or option, before anything is written.

    Examples
    --------
    >>> import minders  # doctest: +SKIP
    >>> result = minders.calibrate("north_korea_arrivals", "results/nk")  # doctest: +SKIP
    >>> result.summary[["median", "low_90", "high_90", "status"]]  # doctest: +SKIP
    """
    from minders.experiments.executors import make_executor

    start = time.perf_counter()
    inference: dict[str, Any] = {}
    if population is not None:
        inference["population"] = population
    if generations is not None:
        inference["generations"] = generations
    if inference:
        if not isinstance(calibration, Calibration):
            calibration = load_calibration(calibration)
        calibration = calibration.model_copy(update={"inference": calibration.inference
                                                     .model_copy(update=inference)})
        from minders.spec import validate_as

        validate_as(type(calibration.inference), calibration.inference.model_dump())
    problem = prepare(calibration, fit_until)
    calibration = problem.calibration
    if isinstance(executor, str):
        executor = make_executor(executor, workers=workers, scheduler=scheduler)
    _require_pyabc()
    folder = Path(out) if out is not None else default_folder(calibration)
    _claim(folder, calibration)
    db = folder / "abc.db"
    with executor:
        problem.model.threads = executor.threads
        from minders.experiments.calibration.abc import run_abc

        matching = _history_matching(problem, folder, executor)
        priors = list(calibration.parameters.values())
        if matching is not None:
            priors = [Prior.model_validate(p) for p in matching["priors"]]
        history = run_abc(problem.model, priors, problem.target,
                          db, executor, calibration.inference, calibration.seed,
                          on_generation=on_generation, on_particle=on_particle)
        done = _generations(db)
        if not done:
            raise ScenarioError("inference", "no accepted generation",
                                "settings under which ABC-SMC accepts particles (a wider "
                                "prior, a lower inference.min_acceptance)")
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        posterior = pd.DataFrame({name: frame[f"p{k}"].to_numpy(float)
                                  for k, name in enumerate(problem.model.names)})
        posterior["weight"] = weights / weights.sum()
        draws = predictive_draws(problem, posterior, executor)
    result = _finish(problem, posterior, draws, done, start)
    if matching is not None:
        result.simulations += matching.pop("fresh")
    result.history_matching = matching
    result.paths = save(result, problem, folder)
    return result


def default_folder(calibration: Calibration, fit_until: str | int | None = None) -> Path:
    """``results/calibrate-NAME``, or ``results/calibrate-NAME-until-YEAR`` for a hold-out fit.

    Examples
    --------
    >>> default_folder(load_calibration("north_korea_arrivals"), 2015).as_posix()
    'results/calibrate-north_korea_arrivals-until-2015'
    """
    until = fit_until if fit_until is not None else calibration.fit_until
    suffix = f"-until-{until}" if until is not None else ""
    return Path("results") / f"calibrate-{calibration.name}{suffix}"


def _history_matching(problem: Problem, folder: Path, executor: Any) -> dict[str, Any] | None:
    """The narrowed priors of the history-matching stage (kept in the folder for a resume)."""
    from minders.result import atomic_path

    settings = problem.calibration.history_matching
    if not settings.samples:
        return None
    file = folder / "history_matching.json"
    if file.is_file():  # done before this call: its simulations are not this call's
        return {**json.loads(file.read_text(encoding="utf-8")), "fresh": 0}
    from minders.experiments.calibration.history import history_match

    matching = history_match(problem.model, list(problem.calibration.parameters.values()),
                             problem.target, settings, executor, problem.calibration.seed)
    with atomic_path(file) as tmp:
        tmp.write_text(json.dumps(matching, indent=2) + "\n", encoding="utf-8")
    return {**matching, "fresh": matching["samples"]}


def _require_pyabc() -> None:
    import importlib.util

    if importlib.util.find_spec("pyabc") is None:
        raise ScenarioError("calibrate", "pyabc missing",
                            "pyabc installed: pip install 'minders[calibrate]'")


def _identity(calibration: Calibration) -> dict[str, Any]:
    """What must match for a folder to be resumed: all but the stopping rules and the folder."""
    data = calibration.model_dump(mode="json", exclude={"folder"})
    for key in ("generations", "predictive", "min_epsilon", "min_acceptance", "max_simulations"):
        data["inference"].pop(key, None)
    return data


def _claim(folder: Path, calibration: Calibration) -> None:
    """Create (or reopen) the folder; refuse one that holds another calibration."""
    from minders.result import atomic_path
    from minders.spec import content_hash

    identity = _identity(calibration)
    digest = content_hash(identity)
    manifest = folder / "calibration.json"
    if manifest.is_file():
        try:
            found = json.loads(manifest.read_text(encoding="utf-8")).get("hash")
        except (OSError, ValueError):
            found = None
        if found != digest:
            raise ScenarioError("--out", str(folder), "an empty folder or one of the same "
                                "calibration (this one holds another; choose another --out)")
        return
    if (folder / "abc.db").exists():
        raise ScenarioError("--out", str(folder), "a folder without another calibration's "
                            "abc.db")
    from minders import __version__

    with atomic_path(manifest) as tmp:
        tmp.write_text(json.dumps({"hash": digest, "calibration": identity,
                                   "minders_version": __version__}, indent=2) + "\n",
                       encoding="utf-8")


def _generations(db: Path) -> list[Generation]:
    from minders.experiments.calibration.abc import generations

    return generations(db)


def predict_task(task: tuple[SimulationModel, dict[str, float], int]) -> np.ndarray:
    """Arrivals of every observed period for one posterior draw (runs on a worker)."""
    from minders.experiments.runner import _numba_threads

    model, values, seed = task
    with _numba_threads(model.threads):
        return model.arrivals(values, seed=seed)


def predictive_draws(problem: Problem, posterior: pd.DataFrame, executor: Any) -> np.ndarray:
    """Posterior predictive arrivals (draws x periods): resampled particles, fresh seeds, Poisson.

    Each draw runs a particle (resampled by weight) with a new seed over
    the whole horizon, held-out periods included, and adds Poisson noise
    to its expected arrivals: the spread of the recorded counts around
    their expectation.
    """
    calibration = problem.calibration
    rng = np.random.default_rng([calibration.seed, 7])
    n = calibration.inference.predictive
    picks = rng.choice(len(posterior), size=n, p=posterior["weight"].to_numpy())
    names = problem.model.names
    tasks = []
    for k, row in enumerate(picks):
        values = problem.model.values({f"p{j}": float(posterior[name].iloc[row])
                                       for j, name in enumerate(names)})
        seed = int(np.random.SeedSequence([calibration.seed, 11, k]).generate_state(1,
                                                                                  np.uint64)[0])
        tasks.append((problem.model, values, seed >> 1))
    indexed = [(k, task) for k, task in enumerate(tasks)]
    results: dict[int, np.ndarray] = {}
    for k, series in executor.map(_indexed_predict, indexed):
        results[k] = series
    expected = np.maximum(np.vstack([results[k] for k in range(n)]), 0.0)
    return rng.poisson(expected).astype(float)


def _indexed_predict(item: tuple[int, Any]) -> tuple[int, np.ndarray]:
    k, task = item
    return k, predict_task(task)


def _finish(problem: Problem, posterior: pd.DataFrame, draws: np.ndarray,
            done: list[Generation], start: float) -> CalibrationResult:
    from minders.experiments.calibration.report import bands, holdout_scores, summary_table

    calibration = problem.calibration
    weights = posterior["weight"].to_numpy()
    summary = summary_table(posterior, weights, calibration.parameters)
    codes = problem.observed.index.to_numpy()
    table = pd.DataFrame({
        "period": codes,
        "label": [period_label(int(c), calibration.data.period) for c in codes],
        "observed": problem.observed.to_numpy(),
        "fitted": problem.fit,
        **bands(draws),
    })
    scores = holdout_scores(draws, problem.observed.to_numpy(), problem.fit)
    simulations = sum(g.simulations for g in done) + len(draws)
    return CalibrationResult(calibration, posterior, summary, table, scores, done, simulations,
                             time.perf_counter() - start)


def calibrated_scenario(problem: Problem, summary: pd.DataFrame) -> str:
    """The base scenario with every fitted scenario value at its posterior median, as TOML."""
    import tomli_w

    values = problem.model.values({f"p{k}": float(summary.loc[name, "median"])
                                   for k, name in enumerate(problem.model.names)})
    scenario = problem.model.scenario(values).model_dump(mode="json")
    lines = [f"# {problem.calibration.name}: scenario at the posterior medians "
             "(minders calibrate).",
             "# Fitted values:"]
    lines += [f"#   {name} = {value:.6g}" for name, value in values.items()]
    return "\n".join(lines) + "\n\n" + tomli_w.dumps(_drop_none(scenario))


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def save(result: CalibrationResult, problem: Problem, folder: Path) -> dict[str, Path]:
    """Write every output into a staging folder, then rename each into ``folder``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from minders import __version__
    from minders.experiments.calibration.report import pair_plot, predictive_plot
    from minders.result import command_line, machine

    calibration = problem.calibration
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        result.posterior.to_parquet(staging / OUTPUTS["posterior"], index=False)
        result.summary.to_csv(staging / OUTPUTS["summary"])
        result.predictive.to_parquet(staging / OUTPUTS["predictive"], index=False)
        (staging / OUTPUTS["scenario"]).write_text(calibrated_scenario(problem, result.summary),
                                                   encoding="utf-8")
        weights = result.posterior["weight"].to_numpy()
        fig = pair_plot(result.posterior, weights, problem.model.names)
        fig.savefig(staging / OUTPUTS["pairs"], dpi=110)
        plt.close(fig)
        title = f"{calibration.name}: posterior predictive ({calibration.data.value})"
        fit_until = None if calibration.fit_until is None else str(calibration.fit_until)
        fig = predictive_plot(result.predictive, title, calibration.data.source, fit_until)
        fig.savefig(staging / OUTPUTS["figure"], dpi=110)
        plt.close(fig)
        report = {
            "name": calibration.name, "seed": calibration.seed,
            "fit_until": calibration.fit_until,
            "generations": [{"t": g.t, "epsilon": g.epsilon, "accepted": g.accepted,
                             "simulations": g.simulations} for g in result.generations],
            "scores": result.scores,
            "history_matching": result.history_matching,
            "inference": calibration.inference.model_dump(mode="json"),
            "simulations": result.simulations,
            "seconds": round(result.seconds, 1),
            "parameters": json.loads(result.summary.to_json(orient="index")),
            # Provenance, for 'minders report' (the calibration itself is in calibration.json).
            "calibration_folder": calibration.folder,
            "command": command_line(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "versions": {"minders": __version__, "python": platform.python_version(),
                         "numpy": np.__version__},
        }
        (staging / OUTPUTS["report"]).write_text(json.dumps(report, indent=2) + "\n",
                                                 encoding="utf-8")
        for name in OUTPUTS.values():
            os.replace(staging / name, folder / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {key: folder / name for key, name in OUTPUTS.items()}
