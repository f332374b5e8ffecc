"""Compare mode: what turns the pinned baseline into the edited variant, as ``--set`` overrides.

The baseline twin always shares the variant's seed and horizon
(:data:`SHARED_FIELDS`): with the engine's counter-based random streams the
two runs then share every draw the change does not touch (common random
numbers), so their difference is the effect of the change.
"""

from __future__ import annotations

from typing import Any

#: Fields the baseline twin always takes from the variant (common random numbers, one horizon).
SHARED_FIELDS = ("run.seed", "run.steps")


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to the leaves of nested dicts and lists (``shocks.0.value``).

    Distributions are leaves: changing ``hardship`` from beta to uniform is one change.

    Examples
    --------
    >>> flatten({"run": {"seed": 1}, "shocks": [{"value": 0.5}]})
    {'run.seed': 1, 'shocks.0.value': 0.5}
    """
    if isinstance(data, dict) and "kind" in data and prefix.rsplit(".", 1)[-1] in (
        "hardship", "risk_aversion", "threshold"
    ):
        return {prefix: data}
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        out = {}
        for k, value in enumerate(data):
            out.update(flatten(value, f"{prefix}.{k}"))
        return out
    return {prefix: data}


def diff_overrides(base: dict[str, Any], variant: dict[str, Any]) -> list[str]:
    """What turns ``base`` into ``variant``, as ``--set`` overrides.

    Seed and horizon are left out: the twin always shares them (see
    :data:`SHARED_FIELDS`). Tiers or shocks that exist in only one of the two
    are listed whole, as ``shocks.1: added`` or ``tiers.elites: removed``.

    Examples
    --------
    >>> diff_overrides({"run": {"seed": 1}, "model": {"fear": 0.02}},
    ...                {"run": {"seed": 2}, "model": {"fear": 0.05}})
    ['model.fear=0.05']
    """
    from minders.dashboard.export import toml_value

    before, after = flatten(base), flatten(variant)
    changes: list[str] = []
    for path in [*before, *(p for p in after if p not in before)]:
        if path in SHARED_FIELDS:
            continue
        if path in before and path in after:
            if before[path] != after[path]:
                value = after[path]
                changes.append(f"{path}={'none' if value is None else toml_value(value)}")
            continue
        word, other = ("removed", after) if path in before else ("added", before)
        change = f"{_missing_prefix(path, other)}: {word}"  # the whole tier or shock
        if change not in changes:
            changes.append(change)
    return changes


def _missing_prefix(path: str, other: dict[str, Any]) -> str:
    """The shortest prefix of ``path`` under which ``other`` has nothing."""
    parts = path.split(".")
    for n in range(1, len(parts) + 1):
        prefix = ".".join(parts[:n])
        if not any(key == prefix or key.startswith(prefix + ".") for key in other):
            return prefix
    return path


#: Most replicate pairs one click runs (each pair is two full runs).
MAX_PAIRS = 200


def paired_replicates(baseline: Any, variant: Any, pairs: int, seed: int,
                      steps: int | None = None, confidence: float = 0.95,
                      executor: str = "serial") -> Any:
    """Run ``pairs`` replicates of baseline and variant with common random numbers; compare.

    Pair ``r`` runs both scenarios with the same seed (``SeedSequence(seed,
    spawn_key=(0, r))``, as ``minders run --replicates``), so each pair differs
    only by the consequences of the change. Per outcome: the two means, the
    mean paired difference and its Student-t interval over pairs
    (:func:`scipy.stats.ttest_1samp`), which holds for differences of any
    sign. Times to an event are left out (a difference of censored times is
    not a time); the cascade probability is a difference of shares.

    Returns
    -------
    pandas.DataFrame
        ``outcome``, ``baseline``, ``variant``, ``difference``, ``low``, ``high``, ``pairs``.

    Examples
    --------
    >>> import minders
    >>> base = minders.load_scenario("overseas_workers", ["run.steps=6"])
    >>> variant = base.with_overrides(["model.purge_rate=0.9"])
    >>> table = paired_replicates(base, variant, 2, seed=1)
    >>> list(table.columns)
    ['outcome', 'baseline', 'variant', 'difference', 'low', 'high', 'pairs']
    """
    import tempfile

    import numpy as np
    import pandas as pd
    from scipy import stats

    from minders.errors import ScenarioError
    from minders.experiments.replicates import run_replicates

    if not 2 <= int(pairs) <= MAX_PAIRS:
        raise ScenarioError("replicates", pairs, f"an integer in [2, {MAX_PAIRS}]")
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_replicates(scenario, int(pairs), seed, steps, out=f"{folder}/{name}",
                               executor=executor)
                for name, scenario in (("baseline", baseline), ("variant", variant))]
    before, after = runs
    rows = []
    for metric in before.metrics:
        if metric not in after.metrics or before.quantities.get(metric) == "time":
            continue
        b = before.runs[metric].to_numpy(dtype=float)
        v = after.runs[metric].to_numpy(dtype=float)
        diff = v - b
        if np.ptp(diff) == 0:  # every pair moved alike: no spread to estimate
            low = high = float(diff[0])
        else:
            low, high = stats.ttest_1samp(diff, 0.0).confidence_interval(confidence)
        rows.append({"outcome": metric, "baseline": float(b.mean()), "variant": float(v.mean()),
                     "difference": float(diff.mean()), "low": float(low), "high": float(high),
                     "pairs": int(pairs)})
    return pd.DataFrame(rows, columns=["outcome", "baseline", "variant", "difference", "low",
                                       "high", "pairs"])
