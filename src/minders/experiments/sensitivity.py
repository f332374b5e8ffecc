"""Global sensitivity: Sobol and Morris indices of a finished sweep, with SALib.

The sweep's design must be ``sobol`` (Saltelli's sampling scheme) or
``morris`` (trajectories). The model output at a point is the mean of the
metric over the point's replicates, which averages out the run-to-run noise
that would otherwise show up as spurious sensitivity (set
``common_random_numbers = true`` to remove it at its source).

- **Sobol** (Saltelli 2002; Saltelli et al. 2010): ``S1`` is the share of the
  output's variance explained by a parameter alone, ``ST`` the share it
  explains with all its interactions; ``ST`` near zero means the parameter
  can be fixed anywhere in its range. Intervals are bootstrap intervals
  (``conf`` is their half-width).
- **Morris** (Morris 1991; Campolongo et al. 2007): ``mu_star`` is the mean
  absolute elementary effect (overall influence), ``sigma`` its standard
  deviation (non-linearity or interactions). A cheap screening method.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from minders.errors import ScenarioError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Where the indices, their table and figure go inside the results folder.
FOLDER = "sensitivity"


@dataclass
class Sensitivity:
    """Indices of every metric.

    Attributes
    ----------
    method : str
        ``sobol`` or ``morris``.
    indices : pandas.DataFrame
        One row per (metric, parameter). Sobol: ``S1``, ``S1_conf``, ``ST``,
        ``ST_conf``; Morris: ``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``.
    second_order : pandas.DataFrame or None
        Sobol with ``second_order``: ``S2`` and ``S2_conf`` per pair.
    confidence : float
        Level of the intervals.

    Examples
    --------
    >>> s = analyze("results/sensitivity")  # doctest: +SKIP
    >>> s.save("results/sensitivity")["csv"]  # doctest: +SKIP
    PosixPath('results/sensitivity/sensitivity/indices.csv')
    """

    method: str
    indices: pd.DataFrame
    second_order: pd.DataFrame | None
    confidence: float
    samples: int | None = None

    def too_few_samples(self) -> pd.DataFrame:
        """Sobol rows that need a larger design, with the samples that would do.

        A row needs more when ``ST > 1`` or ``S1 < 0`` (shares of variance lie in
        ``[0, 1]``), or when an interval is wider than its index (``2 conf >
        index``: the sign and size are not known). Bootstrap half-widths shrink
        as ``1 / sqrt(samples)``, so ``needed_samples`` is the power of two that
        brings the widest half-width to ``max(index / 2, 0.05)`` (Saltelli et
        al. 2010). Empty for Morris.

        Examples
        --------
        >>> table = pd.DataFrame({"metric": ["m", "m"], "parameter": ["a", "b"],
        ...     "S1": [0.5, 0.2], "S1_conf": [0.05, 0.05],
        ...     "ST": [0.6, 1.29], "ST_conf": [0.05, 1.6]})
        >>> Sensitivity("sobol", table, None, 0.95, samples=64).too_few_samples()[
        ...     ["parameter", "needed_samples"]].values.tolist()
        [['b', 1024]]
        """
        columns = ["metric", "parameter", "S1", "S1_conf", "ST", "ST_conf", "needed_samples"]
        if self.method != "sobol":
            return pd.DataFrame(columns=columns)
        table = self.indices.copy()
        need = np.zeros(len(table), dtype=bool)
        ratio = np.ones(len(table))
        for value, conf in (("S1", "S1_conf"), ("ST", "ST_conf")):
            index = table[value].to_numpy(dtype=float)
            half = np.nan_to_num(table[conf].to_numpy(dtype=float), nan=np.inf)
            need |= (2 * half > np.abs(index)) | (index > 1) | (index < 0)
            target = np.maximum(np.minimum(np.abs(index), 1.0) / 2, 0.05)
            ratio = np.maximum(ratio, (half / target) ** 2)
        if self.samples:
            wanted = np.where(np.isfinite(ratio), self.samples * ratio, np.nan)
            table["needed_samples"] = [
                int(2 ** math.ceil(math.log2(w))) if math.isfinite(w) else None for w in wanted]
        else:
            table["needed_samples"] = None
        return table.loc[need, columns]

    def out_of_range(self) -> pd.DataFrame:
        """Sobol rows whose ``S1`` or ``ST`` lies outside ``[0, 1]`` beyond its interval.

        True indices are shares of variance, in ``[0, 1]``; an estimate outside
        it by more than its half-width is sampling noise of too small a design
        (increase ``design.samples``). Empty for Morris.

        Examples
        --------
        >>> table = pd.DataFrame({"metric": ["m", "m"], "parameter": ["a", "b"],
        ...     "S1": [-0.4, 0.2], "S1_conf": [0.1, 0.1], "ST": [0.5, 1.3], "ST_conf": [0.1, 0.5]})
        >>> Sensitivity("sobol", table, None, 0.95).out_of_range()["parameter"].tolist()
        ['a']
        """
        if self.method != "sobol":
            return self.indices.iloc[0:0]
        table = self.indices
        outside = np.zeros(len(table), dtype=bool)
        for value, conf in (("S1", "S1_conf"), ("ST", "ST_conf")):
            half = table[conf].fillna(0.0).abs()
            outside |= ((table[value] + half < 0) | (table[value] - half > 1)).to_numpy()
        return table[outside]

    def figure(self) -> Figure:
        """Bars per metric: S1 and ST (Sobol) or mu* and sigma (Morris), with intervals."""
        return sensitivity_figure(self)

    def save(self, directory: str | Path) -> dict[str, Path]:
        """Write ``indices.parquet``, ``indices.csv`` (and ``second_order.*``) and the figure."""
        import matplotlib.pyplot as plt

        from minders.experiments.store import _write_parquet
        from minders.result import atomic_path

        folder = Path(directory) / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"parquet": folder / "indices.parquet", "csv": folder / "indices.csv",
                 "figure": folder / "sensitivity.png"}
        _write_parquet(self.indices, paths["parquet"])
        with atomic_path(paths["csv"]) as tmp:
            self.indices.to_csv(tmp, index=False)
        if self.second_order is not None:
            paths["second_order"] = folder / "second_order.csv"
            with atomic_path(paths["second_order"]) as tmp:
                self.second_order.to_csv(tmp, index=False)
        fig = self.figure()
        with atomic_path(paths["figure"]) as tmp:
            fig.savefig(tmp, dpi=120, format="png")
        plt.close(fig)
        return paths


def analyze(
    directory: str | Path, confidence: float = 0.95, resamples: int = 1000, seed: int = 0
) -> Sensitivity:
    """Sobol or Morris indices of every metric of a complete sweep.

    Parameters
    ----------
    directory : str or Path
        Results folder of a sweep with a ``sobol`` or ``morris`` design.
    confidence : float
        Level of the bootstrap confidence intervals.
    resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    Sensitivity

    Raises
    ------
    ScenarioError
        If the design is not sobol or morris, or runs are missing.

    Examples
    --------
    >>> s = analyze("results/sensitivity")  # doctest: +SKIP
    >>> s.indices[["metric", "parameter", "ST", "ST_conf"]]  # doctest: +SKIP
    """
    from minders.experiments.store import POINTS, load_results, read_manifest

    manifest = read_manifest(directory)
    method = manifest["method"]
    if method not in ("sobol", "morris"):
        raise ScenarioError("design.method", method, "'sobol' or 'morris' for a sensitivity "
                            "analysis (a grid or lhs design has no index estimator)")
    if not 0.0 < confidence < 1.0:
        raise ScenarioError("--confidence", confidence, "a level in (0, 1)")
    runs = load_results(directory)
    if len(runs) < manifest["runs"]:
        raise ScenarioError("results", str(directory),
                            f"all {manifest['runs']} runs (found {len(runs)}); rerun the sweep "
                            "to finish it")
    problem = dict(manifest["problem"])
    problem["bounds"] = [list(b) for b in problem["bounds"]]
    points = pd.read_parquet(Path(directory) / POINTS).sort_values("point")
    means = runs.groupby("point", sort=True)[manifest["metrics"]].mean()
    rows, pairs = [], []
    second = bool(manifest["experiment"]["design"]["second_order"])
    for metric in manifest["metrics"]:
        output = means[metric].to_numpy(dtype=float)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a constant output gives NaN indices: reported so
            if method == "sobol":
                result = _sobol(problem, output, second, confidence, resamples, seed)
            else:
                sample = points[[f"sample:{n}" for n in problem["names"]]].to_numpy()
                result = _morris(problem, sample, output, manifest, confidence, resamples, seed)
        for k, name in enumerate(problem["names"]):
            rows.append({"metric": metric, "parameter": name,
                         **{key: float(np.asarray(values)[k]) for key, values in result.items()
                            if key != "S2" and key != "S2_conf"}})
        if method == "sobol" and second:
            names = problem["names"]
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    pairs.append({"metric": metric, "parameter_a": names[i],
                                  "parameter_b": names[j], "S2": float(result["S2"][i, j]),
                                  "S2_conf": float(result["S2_conf"][i, j])})
    return Sensitivity(
        method=method, indices=pd.DataFrame(rows),
        second_order=pd.DataFrame(pairs) if pairs else None, confidence=confidence,
        samples=manifest["experiment"]["design"].get("samples"),
    )


def _sobol(problem: dict[str, Any], output: np.ndarray, second: bool, confidence: float,
           resamples: int, seed: int) -> dict[str, Any]:
    from SALib.analyze import sobol

    result = sobol.analyze(problem, output, calc_second_order=second, num_resamples=resamples,
                           conf_level=confidence, seed=seed)
    keys = ["S1", "S1_conf", "ST", "ST_conf"] + (["S2", "S2_conf"] if second else [])
    return {key: result[key] for key in keys}


def _morris(problem: dict[str, Any], sample: np.ndarray, output: np.ndarray,
            manifest: dict[str, Any], confidence: float, resamples: int,
            seed: int) -> dict[str, Any]:
    from SALib.analyze import morris

    # The raw (unrounded) sample: elementary effects divide by its steps, which
    # rounding an integer parameter could make zero.
    levels = int(manifest["experiment"]["design"]["levels"])
    result = morris.analyze(problem, sample, output, num_resamples=resamples,
                            conf_level=confidence, num_levels=levels, seed=seed)
    return {key: result[key] for key in ("mu", "mu_star", "mu_star_conf", "sigma")}


def sensitivity_figure(sensitivity: Sensitivity) -> Figure:
    """One panel per metric: the indices of every parameter with their intervals.

    Examples
    --------
    >>> fig = analyze("results/sensitivity").figure()  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    table = sensitivity.indices
    metrics = list(dict.fromkeys(table["metric"]))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 1.2 + 0.5 * max(
        1, table["parameter"].nunique()) * len(metrics) + 0.6 * len(metrics)),
        squeeze=False, constrained_layout=True)
    if sensitivity.method == "sobol":
        bars = (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST"))
    else:
        bars = (("mu_star", "mu_star_conf", "mu* (mean |effect|)"), ("sigma", None, "sigma"))
    level = round(100 * sensitivity.confidence)
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        rows = table[table["metric"] == metric]
        y = np.arange(len(rows))
        for k, (value, conf, label) in enumerate(bars):
            err = None if conf is None else np.nan_to_num(rows[conf].to_numpy())
            ax.barh(y + (k - 0.5) * 0.38, rows[value].to_numpy(), height=0.36, xerr=err,
                    capsize=2, label=label)
        ax.set_yticks(y, rows["parameter"].tolist(), fontsize=8)
        ax.invert_yaxis()
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_title(f"{metric} ({sensitivity.method}; bars: {level}% intervals)", fontsize=10)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig
