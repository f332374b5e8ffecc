"""History matching: a cheap first stage that narrows the priors before ABC-SMC.

A Latin hypercube of ``history_matching.samples`` points over the priors (in
quantile space, so it follows each prior's mass) is simulated; one Gaussian
process per observed period (scikit-learn, anisotropic RBF plus white noise)
emulates the transformed arrivals. For many candidate points the emulator's
implausibility (Craig et al. 1997; Vernon, Goldstein and Bower 2010)

    I(x) = max over periods |observed - E[f(x)]| / sqrt(Var[f(x)] + tolerance^2)

rules out those above ``cutoff`` (3 by default). The uniform and log-uniform
priors are then narrowed to the range the remaining candidates span;
normal and beta priors are left as they are. ABC-SMC runs on the narrowed
priors; the summary still compares the posterior with the file's priors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minders.experiments.calibration.schema import Prior


def lhs_task(task: tuple[Any, dict[str, float], int]) -> tuple[int, np.ndarray]:
    """Transformed arrivals of the fitted periods at one design point (runs on a worker)."""
    from minders.experiments.calibration.abc import TRANSFORMS
    from minders.experiments.runner import _numba_threads

    index, (model, values, seed) = task
    with _numba_threads(model.threads):
        series = model.arrivals(values, seed=seed)
    return index, TRANSFORMS[model.transform](np.maximum(series[model.fit], 0.0))


def history_match(model: Any, priors: list[Prior], target: np.ndarray, settings: Any,
                  executor: Any, seed: int) -> dict[str, Any]:
    """Run the design, fit the emulators and narrow the priors.

    Returns
    -------
    dict
        ``priors``: the narrowed priors (as dicts, in order), ``kept``: the
        share of candidates not ruled out, ``ranges``: per parameter the
        [low, high] they span, ``samples``: simulations run.

    Examples
    --------
    >>> from minders.experiments.calibration.schema import Prior
    >>> narrow(Prior(prior="uniform", low=0, high=10), 0.2, 0.5).describe()
    'uniform(2, 5)'
    """
    import warnings

    from scipy.stats import qmc
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    k = len(priors)
    rng = np.random.default_rng([seed, 13])
    design = qmc.LatinHypercube(d=k, seed=rng).random(settings.samples)
    tasks = []
    for i, unit in enumerate(design):
        raw = {f"p{j}": float(to_value(prior, unit[j])) for j, prior in enumerate(priors)}
        run_seed = int(np.random.SeedSequence([seed, 17, i]).generate_state(1, np.uint64)[0])
        tasks.append((i, (model, model.values(raw), run_seed >> 1)))
    found = dict(executor.map(lhs_task, tasks))
    outputs = np.vstack([found[i] for i in range(len(tasks))])
    candidates = qmc.LatinHypercube(d=k, seed=rng).random(settings.candidates)
    worst = np.zeros(len(candidates))
    for column in range(outputs.shape[1]):
        kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(k, 0.3), (1e-2, 1e2))
                  + WhiteKernel(1e-2, (1e-6, 1e1)))
        gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
        with warnings.catch_warnings():
            # a length scale at its bound is an input the period ignores: nothing to fix
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(design, outputs[:, column])
        mean, sd = gp.predict(candidates, return_std=True)
        implausibility = np.abs(target[column] - mean) / np.sqrt(sd**2 + settings.tolerance**2)
        worst = np.maximum(worst, implausibility)
    kept = worst < settings.cutoff
    if not kept.any():  # nothing plausible: keep the least implausible 1% rather than none
        kept = worst <= np.quantile(worst, 0.01)
    low, high = candidates[kept].min(axis=0), candidates[kept].max(axis=0)
    # widen by one stratum of the hypercube: the emulator's edge is no sharper than its design
    pad = 1.0 / settings.samples
    low, high = np.clip(low - pad, 0, 1), np.clip(high + pad, 0, 1)
    narrowed = [narrow(prior, low[j], high[j]) for j, prior in enumerate(priors)]
    return {
        "priors": [p.model_dump(mode="json", exclude_none=True) for p in narrowed],
        "kept": float(kept.mean()),
        "ranges": [[float(to_value(p, low[j])), float(to_value(p, high[j]))]
                   for j, p in enumerate(priors)],
        "samples": len(tasks),
    }


def to_value(prior: Prior, unit: float) -> float:
    """The prior's quantile ``unit`` (inside the range checked against the bounds)."""
    low, high = prior.support()
    return float(np.clip(prior.rv().ppf(np.clip(unit, 1e-6, 1 - 1e-6)), low, high))


def narrow(prior: Prior, low: float, high: float) -> Prior:
    """A uniform or log-uniform prior cut to the quantiles [low, high]; others unchanged."""
    if prior.prior not in ("uniform", "loguniform") or high <= low:
        return prior
    return prior.model_copy(update={"low": to_value(prior, low), "high": to_value(prior, high)})
