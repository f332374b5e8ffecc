"""The early-warning analysis: label cascades, compute indicators, score them, save.

:func:`analyze` works on the records of many runs (any source: a sweep with
``output.records = true``, or a table built by hand); :func:`run_warning`
runs (or resumes) the experiment of a file with a ``[warning]`` table, then
analyses it and, if asked, runs the defector survey.

Only :class:`~minders.experiments.warning.observables.ObservableRecords`
reaches the indicator code. True discontent enters in one place,
:func:`hidden_benchmark`, whose scores are marked ``hidden = True``: the
warning an observer would have had if the regime's measure showed the truth.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from minders.errors import ScenarioError
from minders.experiments.warning.indicators import rolling_statistics
from minders.experiments.warning.observables import ObservableRecords
from minders.experiments.warning.scores import alarm_rates, auc
from minders.experiments.warning.spec import WarningSpec

#: Label of the hidden benchmark in the tables.
BENCHMARK = "true_discontent (hidden)"


@dataclass
class WarningReport:
    """What :func:`analyze` found.

    Attributes
    ----------
    spec : WarningSpec
        The settings used.
    labels : pandas.DataFrame
        Per run: ``run_id``, ``cascade``, ``cascade_step`` (-1: none),
        ``reference_step`` (the cascade step; for a quiet run, a quantile of the
        cascade steps, see :func:`label_cascades`), ``peak_share``.
    scores : pandas.DataFrame
        Per indicator, statistic and lead: ``auc``, ``auc_low``, ``auc_high``,
        ``n_cascade``, ``n_quiet``, ``hidden``.
    alarms : pandas.DataFrame
        Per indicator and statistic: ``threshold`` and the hit and false-alarm
        rates and median lead (:class:`~minders.experiments.warning.scores.Alarms`).
    values : dict
        ``(indicator, statistic)`` -> (runs x steps) array, for the figures.
    survey : pandas.DataFrame or None
        The defector survey per run and step (:func:`~.survey.survey`), with ``cascade``.
    shock_step : int or None
        Start of the shock the figures align on (``align = "shock"``).
    """

    spec: WarningSpec
    labels: pd.DataFrame
    scores: pd.DataFrame
    alarms: pd.DataFrame
    values: dict[tuple[str, str], np.ndarray] = field(repr=False)
    survey: pd.DataFrame | None = None
    shock_step: int | None = None

    def best(self, lead: int | None = None, count: int = 5,
             hidden: bool = False) -> pd.DataFrame:
        """The ``count`` highest-AUC rows at ``lead`` (default: the middle lead).

        Raises
        ------
        ScenarioError
            If ``lead`` is not one of the leads the indicators were scored at.
        """
        lead = self.middle_lead() if lead is None else lead
        if lead not in self.spec.leads:
            from minders.errors import ScenarioError

            raise ScenarioError("lead", lead, "one of the scored leads "
                                + ", ".join(str(k) for k in sorted(self.spec.leads)))
        rows = self.scores[(self.scores["lead"] == lead) & (self.scores["hidden"] == hidden)]
        return rows.sort_values("auc", ascending=False, na_position="last").head(count)

    def middle_lead(self) -> int:
        """The median of the spec's leads (the lead the summaries quote)."""
        leads = sorted(self.spec.leads)
        return leads[(len(leads) - 1) // 2]

    def survey_summary(self) -> pd.DataFrame:
        """Mean survey estimate, truth and bias by group, at leads before the reference step."""
        if self.survey is None or self.survey.empty:
            return pd.DataFrame()
        merged = self.survey.merge(self.labels[["run_id", "reference_step"]],
                                   on="run_id")
        merged["lead"] = merged["reference_step"] - merged["step"]
        rows = merged[merged["lead"].isin(self.spec.leads)]
        table = rows.groupby(["cascade", "lead"])[
            ["survey", "leavers_discontent", "truth", "bias"]].mean()
        table["runs"] = rows.groupby(["cascade", "lead"])["run_id"].nunique()
        return table.reset_index()

    def save(self, directory: str | Path) -> dict[str, Path]:
        """Write the tables (CSV) and figures (PNG) into ``directory``; return their paths."""
        from minders.experiments.warning.figures import save_figures
        from minders.result import atomic_path

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = {}
        tables = {"labels": self.labels, "scores": self.scores, "alarms": self.alarms}
        if self.survey is not None:
            tables["survey"] = self.survey
            tables["survey_summary"] = self.survey_summary()
        for name, table in tables.items():
            paths[name] = directory / f"{name}.csv"
            with atomic_path(paths[name]) as tmp:
                table.to_csv(tmp, index=False)
        paths.update(save_figures(self, directory))
        return paths


def label_cascades(view: ObservableRecords, spec: WarningSpec) -> pd.DataFrame:
    """Which runs cascade, and when: the share active or gone crosses the threshold.

    Examples
    --------
    >>> frame = pd.DataFrame({"run_id": [0, 0, 1, 1], "step": [0, 1, 0, 1], "tier": "a",
    ...     "active": [0, 5, 0, 1], "in_post": [10, 5, 10, 9], "defected": [0, 0, 0, 0]})
    >>> spec = WarningSpec.model_validate({"cascade": {"share": 0.3}})
    >>> label_cascades(ObservableRecords(frame), spec)[["cascade", "cascade_step"]].values.tolist()
    [[True, 1], [False, -1]]
    """
    cascade = spec.cascade
    present = [c for c in ("in_post", "jailed", "purged", "repatriated", "defected")
               if c in view.columns]
    positions = sum(view.pooled(c, cascade.tiers) for c in present)
    counted = sum(view.pooled(c, cascade.tiers) for c in cascade.count if c in view.columns)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(positions > 0, counted / np.where(positions > 0, positions, 1), 0.0)
    steps = view.steps
    inside = (steps >= cascade.start) & (steps < (cascade.end if cascade.end is not None
                                                   else steps.max() + 1))
    crossed = (share >= cascade.share) & inside
    hit = crossed.any(axis=1)
    first = np.where(hit, steps[crossed.argmax(axis=1)], -1)
    # A quiet run is scored at a time drawn from the cascades' times: the j-th of n quiet
    # runs at the (j + 1/2)/n quantile of the cascade steps, so both groups are compared at
    # the same times in distribution (a shock at a fixed step affects both alike).
    reference = np.full(hit.size, cascade.start, dtype=np.int64)
    reference[hit] = first[hit]
    quiet = np.flatnonzero(~hit)
    if hit.any() and quiet.size:
        levels = (np.arange(quiet.size) + 0.5) / quiet.size
        reference[quiet] = np.quantile(first[hit], levels, method="inverted_cdf")
    return pd.DataFrame({
        "run_id": view.run_ids, "cascade": hit, "cascade_step": first.astype(np.int64),
        "reference_step": reference,
        "peak_share": np.where(inside, share, np.nan).max(axis=1, initial=-np.inf),
    })


def hidden_benchmark(records: pd.DataFrame, tiers: list[str] | None,
                     run_ids: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """True discontent (aggrieved / in post, pooled over ``tiers``) as a (runs x steps) array.

    The one place the analysis reads a hidden column: the benchmark against
    which the observable indicators are measured, never an indicator itself.
    """
    frame = records.assign(tier=records["tier"].astype(str))
    if tiers:
        frame = frame[frame["tier"].isin(tiers)]
    pooled = frame.groupby(["run_id", "step"])[["aggrieved", "in_post"]].sum()
    ratio = (pooled["aggrieved"] / pooled["in_post"].where(pooled["in_post"] > 0)).fillna(0.0)
    return ratio.unstack("step").reindex(index=run_ids, columns=steps).to_numpy(float)


def analyze(records: pd.DataFrame, spec: WarningSpec, *, shock_step: int | None = None,
            survey: pd.DataFrame | None = None) -> WarningReport:
    """Label the runs, compute every indicator and score it at every lead.

    Parameters
    ----------
    records : pandas.DataFrame
        Records of many runs (``run_id``, ``step``, ``tier`` and the record columns),
        e.g. :func:`minders.experiments.load_records` of a sweep.
    spec : WarningSpec
        The ``[warning]`` settings.
    shock_step : int, optional
        Start of the shock the trajectory figure aligns on (``align = "shock"``).
    survey : pandas.DataFrame, optional
        Output of :func:`minders.experiments.warning.survey.survey` for some runs.

    Returns
    -------
    WarningReport

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rows = [{"run_id": r, "step": t, "tier": "a", "in_post": 100,
    ...          "active": int(rng.poisson(5 + (40 if r < 4 and t > 30 else 0))),
    ...          "defected": 0} for r in range(8) for t in range(40)]
    >>> spec = WarningSpec.model_validate({"cascade": {"share": 0.3, "start": 20},
    ...     "window": 5, "leads": [0], "benchmark": False,
    ...     "indicators": [{"column": "active"}], "statistics": ["level"]})
    >>> report = analyze(pd.DataFrame(rows), spec)
    >>> int(report.labels["cascade"].sum()), report.scores["auc"].round(2).tolist()
    (4, [1.0])
    """
    view = ObservableRecords(records)
    steps = view.steps
    if not np.array_equal(steps, np.arange(steps.size)):
        raise ScenarioError("records.step", f"{steps.min()}..{steps.max()}",
                            "every step from 0, once per run and tier")
    labels = label_cascades(view, spec)
    cascade = labels["cascade"].to_numpy()
    reference = labels["reference_step"].to_numpy()
    series: list[tuple[str, np.ndarray, bool]] = []
    for indicator in spec.indicator_list():
        x = view.pooled(indicator.column, indicator.tiers)
        if np.isnan(x).all():  # e.g. jail occupancy without jails
            continue
        series.append((indicator.label, np.nan_to_num(x, nan=0.0), False))
    if spec.benchmark and {"aggrieved", "in_post"} <= set(records.columns):
        series.append((BENCHMARK, hidden_benchmark(records, spec.cascade.tiers, view.run_ids,
                                                   steps), True))
    low, high = spec.baseline_steps()
    if spec.calibrate == "baseline" and min(high, steps.size) <= max(low, 0):
        raise ScenarioError(
            "warning.baseline", [low, high], "steps before the cascade window to set the alarm "
            "thresholds: a later cascade.start, a baseline [start, end), or calibrate = 'quiet'")
    # The steps watched for alarms: from the cascade window's start to the reference step.
    watch = (steps[None, :] >= spec.cascade.start) & (steps[None, :] < reference[:, None])
    values: dict[tuple[str, str], np.ndarray] = {}
    score_rows, alarm_rows = [], []
    for label, x, hidden in series:
        stats = rolling_statistics(x, spec.window, spec.detrend, spec.bandwidth,
                                   spec.statistics)
        for statistic, v in stats.items():
            values[(label, statistic)] = v
            for lead in spec.leads:
                at = reference - lead
                ok = at >= 0
                score = np.full(at.size, np.nan)
                score[ok] = v[np.flatnonzero(ok), at[ok]]
                value, lo, hi = auc(score[cascade], score[~cascade], spec.confidence)
                score_rows.append({
                    "indicator": label, "statistic": statistic, "lead": lead, "auc": value,
                    "auc_low": lo, "auc_high": hi,
                    "n_cascade": int(np.isfinite(score[cascade]).sum()),
                    "n_quiet": int(np.isfinite(score[~cascade]).sum()), "hidden": hidden})
            scored = np.arange(cascade.size)
            if spec.calibrate == "quiet":
                # Every other quiet run sets the threshold (the quantile of its highest value
                # while watched); the false alarms are counted on the other half.
                quiet = np.flatnonzero(~cascade)
                calibration = quiet[0::2]
                base = np.where(watch[calibration], v[calibration], -np.inf).max(axis=1)
                scored = np.setdiff1d(scored, calibration)
            else:
                base = v[:, max(0, low):max(0, min(high, steps.size))]
            base = base[np.isfinite(base)]
            threshold = float(np.quantile(base, spec.quantile)) if base.size else float("nan")
            rates = alarm_rates(v[scored], cascade[scored], spec.cascade.start,
                                reference[scored], threshold)
            alarm_rows.append({"indicator": label, "statistic": statistic, "hidden": hidden,
                               **rates.__dict__})
    survey_table = None
    if survey is not None:
        survey_table = survey.merge(labels[["run_id", "cascade"]], on="run_id", how="left")
    return WarningReport(spec=spec, labels=labels, scores=pd.DataFrame(score_rows),
                         alarms=pd.DataFrame(alarm_rows), values=values, survey=survey_table,
                         shock_step=shock_step)


def run_warning(
    experiment: Any,
    out: str | Path | None = None,
    executor: str = "local",
    *,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[WarningReport, Path]:
    """Run (or resume) an early-warning experiment and analyse it.

    Parameters
    ----------
    experiment : str, Path or Experiment
        An experiment file with a ``[warning]`` table (or its bundled name).
    out : str or Path, optional
        Results folder of the sweep (default ``results/NAME``); the analysis goes
        into its ``warning/`` subfolder.
    executor : str
        ``local``, ``dask`` or ``serial``.
    workers : int, optional
        Processes.
    progress : callable, optional
        ``progress(done, total)``: the sweep's runs, then the survey's re-runs.

    Returns
    -------
    (WarningReport, Path)
        The report and the results folder.

    Examples
    --------
    >>> report, folder = run_warning("early_warning", tmp)  # doctest: +SKIP
    """
    from minders.experiments.design import build_sweep
    from minders.experiments.schema import Experiment, Output, load_experiment
    from minders.experiments.store import load_records
    from minders.experiments.sweep import run_sweep

    spec_file = experiment if isinstance(experiment, Experiment) else load_experiment(experiment)
    if spec_file.warning is None:
        raise ScenarioError("warning", None,
                            "a [warning] table (cascade definition, indicators; docs/warning.md)")
    # The analysis needs every run's per-step records.
    spec_file = spec_file.model_copy(update={"output": Output(records=True)})
    spec = spec_file.warning
    sweep = build_sweep(spec_file)
    shock_step = None
    if spec.align == "shock":
        shocks = sweep.base.get("shocks") or []
        if spec.shock >= len(shocks):
            raise ScenarioError("warning.shock", spec.shock,
                                f"the index of one of the scenario's {len(shocks)} shocks")
        shock_step = int(shocks[spec.shock]["start"])
    _check_before_running(spec, sweep)
    folder = Path(out) if out is not None else Path("results") / spec_file.name
    # The survey's re-runs count as runs of the progress display, after the sweep's.
    extra = min(spec.survey.runs, sweep.n_runs)
    sweep_progress = None if progress is None else (
        lambda done, total: progress(done, total + extra))
    run_sweep(sweep, folder, executor, workers=workers, progress=sweep_progress)
    records = load_records(folder)
    survey_table = None
    if spec.survey.runs:
        survey_table = run_survey(sweep, spec, progress=None if progress is None else (
            lambda done: progress(sweep.n_runs + done, sweep.n_runs + extra)))
    report = analyze(records, spec, shock_step=shock_step, survey=survey_table)
    return report, folder


def _check_before_running(spec: WarningSpec, sweep: Any) -> None:
    """Refuse, before any run, tiers the scenario lacks and a survey it cannot do."""
    if spec.survey.runs and sweep.kind != "minders":
        raise ScenarioError("warning.survey.runs", spec.survey.runs,
                            f"0: the survey needs a scenario of the minders kind, not "
                            f"{sweep.kind}")
    tiers = sweep.base.get("tiers")
    if not isinstance(tiers, dict):
        return
    named = [("warning.cascade.tiers", spec.cascade.tiers),
             ("warning.survey.tiers", spec.survey.tiers)]
    named += [(f"warning.indicators.{k}.tiers", indicator.tiers)
              for k, indicator in enumerate(spec.indicators or [])]
    for field_name, chosen in named:
        for tier in chosen or []:
            if tier not in tiers:
                raise ScenarioError(field_name, tier, f"a tier of the scenario "
                                    f"({', '.join(tiers)})")


def run_survey(sweep: Any, spec: WarningSpec,
               progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Re-run ``spec.survey.runs`` runs of a sweep step by step and survey their leavers.

    ``progress(done)`` is called after each re-run.
    """
    from minders.experiments.warning.survey import survey, survey_tallies
    from minders.kinds import validate_scenario
    from minders.spec import apply_overrides

    if sweep.kind != "minders":
        raise ScenarioError("warning.survey.runs", spec.survey.runs,
                            f"0: the survey needs a scenario of the minders kind, not "
                            f"{sweep.kind}")
    count = min(spec.survey.runs, sweep.n_runs)
    run_ids = np.unique(np.linspace(0, sweep.n_runs - 1, count).round().astype(np.int64))
    frames = []
    for run_id in run_ids.tolist():
        point, _ = sweep.locate(run_id)
        data = apply_overrides(copy.deepcopy(sweep.base), sweep.overrides_of(point))
        tallies = survey_tallies(validate_scenario(data), sweep.seed_of(run_id),
                                 spec.survey.tiers)
        tallies.insert(0, "run_id", np.int64(run_id))
        frames.append(tallies)
        if progress is not None:
            progress(len(frames))
    return survey(pd.concat(frames, ignore_index=True), spec.survey.recall, spec.survey.sample,
                  sweep.experiment.seed)
