"""``minders report``: one self-contained HTML file from a results folder.

The page is rendered with Jinja2 from ``templates/report.html.j2`` (package
data). It holds what was asked (every parameter of the scenario with its
value, default and unit), the key figure and summary tables, a few findings
written from templated sentences chosen by the numbers, provenance, and how
to reproduce the results. Figures are the project's own, embedded as base64
PNG; styles are inline. The page requests nothing beyond itself, so it
opens offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import io
import json
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from minders.errors import ScenarioError
from minders.experiments.intervals import statistic
from minders.formatting import (
    format_estimate,
    format_interval,
    format_measure,
    format_number,
    spread_notes,
)
from minders.report.folders import folder_kind, metadata
from minders.result import atomic_path, machine

#: What the report says where the schema cannot tell sourced from assumed values.
SOURCES_NOTE = ("Basis: what the scenario file's comments mark the value as, 'sourced' "
                "([data: ...], see minders.data) or 'assumed' ([assumption]); blank where the "
                "file marks nothing or could not be found (see its comments and docs/model.md).")

#: Level of a sweep's intervals: that of ``minders results`` and ``minders run --replicates``.
CONFIDENCE = 0.95



@dataclass
class Section:
    """What the template shows for one results folder."""

    kind: str
    title: str
    description: str = ""
    parameters: list[dict[str, Any]] = field(default_factory=list)
    varied: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, str]] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    provenance: list[tuple[str, str]] = field(default_factory=list)
    reproduce: list[dict[str, str]] = field(default_factory=list)


def render_report(directory: str | Path) -> str:
    """The report of a results folder, as an HTML text.

    Raises
    ------
    ScenarioError
        If the folder holds no results, or Jinja2 is not installed.

    Examples
    --------
    >>> import minders, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = minders.simulate(minders.load_scenario("granovetter_riot")).save(folder)
    >>> html = render_report(folder)
    >>> html.startswith("<!DOCTYPE html>"), "How to reproduce" in html
    (True, True)
    """
    try:
        import jinja2
    except ImportError:
        raise ScenarioError("report", "jinja2", "an installed Jinja2 (pip install "
                            "'minders[report]')") from None
    directory = Path(directory)
    kind = folder_kind(directory)
    section = {"run": _run_section, "sweep": _sweep_section, "plan": _plan_section,
               "calibration": _calibration_section}[kind](directory)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("minders.report", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    from minders import __version__

    return environment.get_template("report.html.j2").render(
        section=section, sources_note=SOURCES_NOTE, version=__version__,
        generated=datetime.now(UTC).isoformat(timespec="seconds"), machine=machine(),
        folder=str(directory),
    )


def write_report(directory: str | Path, out: str | Path | None = None) -> Path:
    """Write the report of a results folder (default ``DIRECTORY/report.html``); its path.

    Examples
    --------
    >>> import minders, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = minders.simulate(minders.load_scenario("granovetter_riot")).save(folder)
    >>> write_report(folder).name
    'report.html'
    """
    html = render_report(directory)
    target = Path(out) if out is not None else Path(directory) / "report.html"
    if target.is_dir():
        raise ScenarioError("--out", str(target), "a file name for the report, not a folder")
    with atomic_path(target) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return target


# --------------------------------------------------------------------------- a run
def _run_section(directory: Path) -> Section:
    import matplotlib.pyplot as plt

    from minders.result import Result

    result = Result.load(directory)
    info = metadata(directory)
    scenario = result.scenario
    summary = result.summary()
    section = Section(
        kind="run", title=f"Run of '{scenario.name}'",
        description=str(getattr(scenario, "description", "") or ""),
        parameters=parameter_rows(scenario, scenario_marks(
            scenario, str(info.get("command") or "").split())),
    )
    figure = result.plot()
    section.figures.append({"caption": "The run's summary figure (as in summary.png).",
                            "png": png(figure)})
    plt.close(figure)
    section.tables.append({"caption": "Summary of the run (as 'minders run' prints it).",
                           "html": table_html(summary)})
    section.findings = run_findings(result, summary)
    section.provenance = _provenance(info, [
        ("scenario hash", info.get("scenario_hash", "")), ("seed", info.get("seed", "")),
        ("steps", info.get("steps", "")), ("wall time (s)", info.get("wall_time_s", "")),
    ])
    section.reproduce = _reproduce(info, "run", directory, [
        ("From this folder, in Python (the scenario as run is in run.json)",
         "python -c " + shlex.quote(
             f"import minders; r = minders.load({str(directory)!r}); "
             f"minders.simulate(r.scenario, seed={result.seed}, steps={result.steps})"
             f".save({str(directory) + '-again'!r})")),
    ])
    return section


def run_findings(result: Any, summary: pd.DataFrame) -> list[str]:
    """Sentences about a run, each chosen by the numbers of its summary table.

    Examples
    --------
    >>> import minders
    >>> result = minders.simulate(minders.load_scenario("granovetter_riot"))
    >>> run_findings(result, result.summary())[0]  # doctest: +ELLIPSIS
    "The run of 'granovetter_riot' simulated ... steps (seed ...)."
    """
    per_year = result.scenario.steps_per_year()  # None where steps are not in time
    years = result.steps / per_year if per_year else None
    when = (f"{format_number(years)} years at {per_year} steps a year; " if years else "")
    found = [f"The run of '{result.scenario.name}' simulated {result.steps:,} steps "
             f"({when}seed {result.seed})."]
    if {"defections", "positions"} <= set(summary.columns):
        total = int(summary["defections"].sum())
        positions = int(summary["positions"].sum())
        if total == 0:
            found.append(f"No position defected: all {positions:,} stayed.")
        else:
            top = summary["defections"].idxmax()
            share = float(summary.loc[top, "defections"]) / total
            found.append(f"{total:,} of {positions:,} positions defected "
                         f"({format_number(100 * total / positions, 2)}%"
                         f"{_yearly(total, years)}).")
            if share == 1:
                found.append(f"All of them were {top}.")
            elif share > 0.5:
                found.append(f"Most of them ({format_number(100 * share, 3)}%) were {top}.")
            else:
                found.append(f"They were spread over the tiers; the most were {top} "
                             f"({format_number(100 * share, 3)}%).")
    if "peak_surprise_gap" in summary.columns:
        tier = summary["peak_surprise_gap"].idxmax()
        gap = float(summary.loc[tier, "peak_surprise_gap"])
        size = "small" if gap < 0.05 else "moderate" if gap < 0.2 else "large"
        found.append(f"The largest surprise gap (true minus measured discontent) was {size}: "
                     f"{format_number(gap)} among the {tier}, so the minders' reports "
                     f"{'hid little' if size == 'small' else 'understated'} what people felt.")
    if len(summary) == 1:  # a one-row summary (a classic model): say its numbers
        row = summary.iloc[0]
        cells = ", ".join(f"{name.replace('_', ' ')} {format_measure(value)}"
                          for name, value in row.items())
        found.append(f"In numbers: {cells}.")
    return found


# --------------------------------------------------------------------------- a sweep
def _sweep_section(directory: Path) -> Section:
    import matplotlib.pyplot as plt

    from minders.experiments.summary import summarize
    from minders.kinds import validate_scenario

    info = metadata(directory)
    table = summarize(directory, CONFIDENCE)
    parameters = list(info["parameters"])
    metrics = list(info["metrics"])
    done = int(table["n"].sum()) if len(table) else 0
    section = Section(
        kind="sweep", title=f"Sweep '{info['name']}'",
        description=str(info.get("description") or ""),
        parameters=parameter_rows(
            validate_scenario(info["base_scenario"]),
            scenario_marks(validate_scenario(info["base_scenario"]),
                           [info.get("experiment", {}).get("scenario")])),
        varied=[{"name": name, "design": json.dumps(
                     {k: v for k, v in spec.items() if v is not None} if isinstance(spec, dict)
                     else spec)}
                for name, spec in info["experiment"].get("parameters", {}).items()],
    )
    level = round(100 * CONFIDENCE)
    if len(table):
        figure = sweep_figure(table, parameters, metrics)
        section.figures.append({"caption": f"Each metric's estimate per point (as in the table), "
                                f"with its {level}% confidence interval over the replicates.",
                                "png": png(figure)})
        plt.close(figure)
    shown = table.reset_index()
    section.tables.append({
        "caption": f"Per point: the varied parameters, the replicates (n) and each metric's "
                   f"estimate with its {level}% interval; "
                   f"{_statistics(table.attrs.get('intervals', {}), metrics)} "
                   f"({done:,} of {info['runs']:,} runs saved).",
        "html": table_html(_with_intervals(shown, metrics), index=False)})
    section.findings = sweep_findings(table, parameters, metrics, done, int(info["runs"]),
                                      CONFIDENCE)
    section.findings += _analyses(directory, section)
    section.provenance = _provenance(info, [
        ("experiment hash", info.get("hash", "")), ("seed", info["experiment"].get("seed", "")),
        ("design", f"{info.get('method', '')}: {info.get('points', '')} points x "
                   f"{info.get('replicates', '')} replicates"),
    ])
    section.reproduce = _reproduce(info, "sweep", directory, [
        ("From this folder, in Python (the experiment as run is in manifest.json)",
         "python -c " + shlex.quote(
             "import json; from minders.experiments import run_sweep, validate_experiment; "
             f"run_sweep(validate_experiment(json.load(open({str(directory / 'manifest.json')!r}"
             f"))['experiment']), {str(directory) + '-again'!r}, 'local')")),
    ])
    return section


def _analyses(directory: Path, section: Section) -> list[str]:
    """Add what ``minders sensitivity`` and ``minders warning`` saved in a sweep folder.

    Their figures are embedded as saved; the sentences about sensitivity are
    chosen by its indices.
    """
    found: list[str] = []
    indices = directory / "sensitivity" / "indices.csv"
    if indices.is_file():
        frame = pd.read_csv(indices)
        measure = "ST" if "ST" in frame.columns else "mu_star"
        for metric, rows in frame.groupby("metric", sort=False):
            top = rows.loc[rows[measure].idxmax()]
            found.append(f"Sensitivity of {metric}: {top['parameter']} matters most "
                         f"({measure} {format_number(top[measure])}).")
        _attach(section, directory / "sensitivity" / "sensitivity.png",
                f"Sensitivity indices ({measure}) per metric and parameter, as "
                "'minders sensitivity' drew them (sensitivity/sensitivity.png).")
        section.tables.append({"caption": "Sensitivity indices (sensitivity/indices.csv).",
                               "html": table_html(frame, index=False)})
    warning = directory / "warning"
    if warning.is_dir():
        for name in ("warning.png", "trajectories.png"):
            _attach(section, warning / name, f"Early warning, as 'minders warning' drew it "
                    f"(warning/{name}); docs/warning.md explains the panels.")
        survey = warning / "survey_summary.csv"
        survey_table = pd.read_csv(survey) if survey.is_file() else None
        if survey_table is not None:
            section.tables.append({"caption": "The simulated survey of those who left "
                                   "(warning/survey_summary.csv).",
                                   "html": table_html(survey_table, index=False)})
        found.append("The folder holds an early-warning analysis ('minders warning'): its "
                     "figures are below, its tables in warning/.")
        if (warning / "scores.csv").is_file():
            alarms = warning / "alarms.csv"
            found += warning_findings(pd.read_csv(warning / "scores.csv"),
                                      pd.read_csv(alarms) if alarms.is_file() else None,
                                      survey_table)
    return found


def warning_findings(scores: pd.DataFrame, alarms: pd.DataFrame | None = None,
                     survey: pd.DataFrame | None = None) -> list[str]:
    """Sentences about an early-warning analysis, each chosen by its numbers.

    Per lead, the best observable indicator and its AUC with its 95% interval
    (better than chance only where the interval lies above one half); the
    hidden benchmark against it; the alarm rule of the best indicator; and
    the survey's bias.

    Examples
    --------
    >>> scores = pd.DataFrame({"indicator": ["arrivals", "true_discontent (hidden)"],
    ...     "statistic": ["variance", "level"], "lead": [2, 2], "auc": [0.8, 0.9],
    ...     "auc_low": [0.6, 0.7], "auc_high": [1.0, 1.0], "hidden": [False, True]})
    >>> warning_findings(scores)[0]  # doctest: +NORMALIZE_WHITESPACE
    '2 steps before the cascade, the best observable indicator is arrivals (variance): AUC
     0.8, 95% interval [0.6, 1]; it tells cascades from quiet runs better than chance.'
    """
    found: list[str] = []
    hidden = scores["hidden"].astype(bool)
    leads = sorted(scores["lead"].unique())
    best_rows = {}
    for lead in leads:
        rows = scores[(scores["lead"] == lead) & ~hidden].dropna(subset=["auc"])
        if rows.empty:
            found.append(f"{_lead(lead)}, no observable indicator could be scored.")
            continue
        best = best_rows[lead] = rows.loc[rows["auc"].idxmax()]
        low, high = float(best["auc_low"]), float(best["auc_high"])
        verdict = ("it tells cascades from quiet runs better than chance" if low > 0.5 else
                   "it is lower in runs that cascade (its interval lies below one half)"
                   if high < 0.5 else
                   "its interval includes one half, so it does no better than chance")
        found.append(f"{_lead(lead)}, the best observable indicator is {best['indicator']} "
                     f"({best['statistic']}): AUC {format_number(best['auc'], 2)}, 95% "
                     f"interval [{format_number(low, 2)}, {format_number(high, 2)}]; "
                     f"{verdict}.")
    benchmark = scores[hidden].dropna(subset=["auc"])
    if best_rows and not benchmark.empty:
        lead = leads[(len(leads) - 1) // 2] if leads[(len(leads) - 1) // 2] in best_rows \
            else next(iter(best_rows))
        rows = benchmark[benchmark["lead"] == lead]
        if not rows.empty:
            top, seen = rows.loc[rows["auc"].idxmax()], best_rows[lead]
            gap = float(top["auc"]) - float(seen["auc"])
            apart = float(seen["auc_high"]) < float(top["auc_low"])
            compare = ("the best observable indicator falls short of it, beyond the two "
                       "intervals" if apart and gap > 0 else
                       "the best observable indicator does as well" if gap <= 0 else
                       "the best observable indicator is within the intervals of it")
            found.append(f"The hidden benchmark ({top['indicator']}, {top['statistic']}; no "
                         f"observer sees it) reaches AUC {format_number(top['auc'], 2)} "
                         f"{_lead(lead).lower()}: {compare} (difference "
                         f"{format_number(gap, 2)}).")
    if alarms is not None and not alarms.empty and best_rows:
        seen = best_rows[next(iter(best_rows))] if len(best_rows) == 1 else \
            best_rows[sorted(best_rows)[(len(best_rows) - 1) // 2]]
        rows = alarms[(alarms["indicator"] == seen["indicator"])
                      & (alarms["statistic"] == seen["statistic"])]
        if not rows.empty:
            row = rows.iloc[0]
            lead_text = ("" if not np.isfinite(float(row["median_lead"])) else
                         f", a median {format_number(row['median_lead'])} steps ahead")
            found.append(f"An alarm on {row['indicator']} ({row['statistic']}) at "
                         f"{format_number(row['threshold'])} caught {int(row['hits'])} of "
                         f"{int(row['cascades'])} cascades{lead_text}, and went off in "
                         f"{int(row['false_alarms'])} of {int(row['quiet'])} quiet runs.")
    if survey is not None and not survey.empty and "bias" in survey.columns:
        for cascade, rows in survey.groupby("cascade", sort=True):
            bias = float(rows["bias"].mean())
            if not np.isfinite(bias):
                continue
            size = abs(bias)
            way = ("matched" if size < 0.02 else "overstated" if bias > 0 else "understated")
            runs = "runs that cascade" if str(cascade) in ("True", "1") else "quiet runs"
            found.append(
                f"In {runs}, the survey of those who left {way} the discontent of those who "
                f"stayed (survey {format_number(rows['survey'].mean(), 2)} against a true "
                f"{format_number(rows['truth'].mean(), 2)}; bias {format_number(bias, 2)}).")
    return found


def _lead(lead: Any) -> str:
    lead = int(lead)
    return ("At the cascade" if lead == 0 else
            f"{lead} step{'' if lead == 1 else 's'} before the cascade")


def _attach(section: Section, path: Path, caption: str) -> None:
    if path.is_file():
        section.figures.append({"caption": caption,
                                "png": base64.b64encode(path.read_bytes()).decode("ascii")})


# --------------------------------------------------------------------------- a plan
def _plan_section(directory: Path) -> Section:
    from minders.kinds import validate_scenario

    info = metadata(directory)
    choices = pd.read_csv(directory / "choices.csv")
    resolved = info.get("resolved_scenario")
    section = Section(
        kind="plan", title=f"Plan for '{info.get('scenario', '')}'",
        description=str((resolved or {}).get("description") or ""),
        parameters=parameter_rows(validate_scenario(resolved), scenario_marks(
            validate_scenario(resolved), [info.get("scenario")])) if resolved else [],
        varied=[{"name": name, "design": json.dumps(info.get(name))}
                for name in ("targets", "confidence", "tiers", "replicates", "max_span",
                             "upper_spans", "extra_tiers", "steps")],
    )
    _attach(section, directory / "plan.png", "Cost curve: headcount against the yearly "
            "defection rate, per number of tiers (plan.png, as 'minders plan' drew it).")
    section.tables.append({"caption": "Per target, the cheapest designs that keep the yearly "
                           "defection rate below it (rank 1 is the plan; choices.csv).",
                           "html": table_html(choices, index=False)})
    section.findings = plan_findings(choices, info)
    section.provenance = _provenance(info, [
        ("scenario hash", info.get("scenario_hash", "")), ("seed", info.get("seed", "")),
        ("runs", f"{info.get('runs', '')} in {info.get('seconds', '')} s"),
    ])
    section.reproduce = _reproduce(info, "plan", directory, [])
    return section


def plan_findings(choices: pd.DataFrame, settings: dict[str, Any]) -> list[str]:
    """Per target, the cheapest design, in one templated sentence.

    Examples
    --------
    >>> choices = pd.DataFrame({"target": [0.01], "rank": [1], "extra": [0], "spans": ["m=20"],
    ...     "headcount": [500], "share": [0.05], "rate_mean": [0.004], "ucb_line": [0.009]})
    >>> plan_findings(choices, {"targets": [0.01, 0.001], "tiers": ["w"],
    ...                         "confidence": 0.95})[0]  # doctest: +NORMALIZE_WHITESPACE
    'To keep the yearly defection rate of w below 0.01 with 95% confidence, the cheapest design
     adds no tier, with spans m=20: 500 minders (5% of positions); its mean rate is 0.004.'
    """
    tiers = ", ".join(settings.get("tiers") or [])
    level = round(100 * float(settings.get("confidence", 0.95)))
    found = []
    for target in settings.get("targets", []):
        rows = choices[(choices["target"] == target) & (choices["rank"] == 1)]
        if rows.empty:
            found.append(f"No design tried keeps the yearly defection rate of {tiers} below "
                         f"{format_number(target)} with {level}% confidence (try narrower "
                         "spans, more replicates or another tier).")
            continue
        row = rows.iloc[0]
        added = {0: "adds no tier", 1: "adds one tier of minders"}.get(
            int(row["extra"]), f"adds {int(row['extra'])} tiers of minders")
        found.append(
            f"To keep the yearly defection rate of {tiers} below {format_number(target)} with "
            f"{level}% confidence, the cheapest design {added}, with spans {row['spans']}: "
            f"{int(row['headcount']):,} minders ({format_number(100 * row['share'])}% of "
            f"positions); its mean rate is {format_number(row['rate_mean'])}.")
    return found


# --------------------------------------------------------------------------- a calibration
def _calibration_section(directory: Path) -> Section:
    from minders.experiments.calibration.schema import (
        base_scenario_data,
        validate_calibration,
    )
    from minders.kinds import validate_scenario

    info = metadata(directory)
    summary = pd.read_csv(directory / "summary.csv", index_col=0)
    manifest = directory / "calibration.json"
    asked = (json.loads(manifest.read_text(encoding="utf-8")).get("calibration")
             if manifest.is_file() else None)
    calibration = None
    if asked is not None:
        calibration = validate_calibration({**asked, "inference": info.get("inference")
                                            or asked.get("inference", {}),
                                            "folder": info.get("calibration_folder")})
    section = Section(kind="calibration", title=f"Calibration '{info.get('name', '')}'",
                      description=calibration.description if calibration else "")
    if calibration is not None:
        data = calibration.data
        where = f"file {data.file}" if data.file else f"dataset minders.data.{data.dataset}"
        section.varied = [{"name": name, "design": prior.describe()}
                          for name, prior in calibration.parameters.items()]
        section.varied.append({"name": "data", "design": (
            f"{data.value} per {data.period} from {where}"
            + (f" (source: {data.source})" if data.source else "")
            + (f"; fitted until {calibration.fit_until}, the rest held out"
               if calibration.fit_until is not None else ""))})
        try:
            section.parameters = parameter_rows(validate_scenario(
                base_scenario_data(calibration)))
        except (ScenarioError, OSError):  # the base scenario file has moved: say so
            section.description += (f"\n(The base scenario {calibration.scenario} could not "
                                    "be read; calibrated.toml holds the fitted one.)")
    _attach(section, directory / "pairs.png", "The posterior: each fitted parameter's "
            "marginal and each pair's joint density (pairs.png, as 'minders calibrate' drew it).")
    _attach(section, directory / "predictive.png", "Observed series against the posterior "
            "predictive median and its 50% and 90% bands (predictive.png).")
    shown = summary.rename(columns={"low_90": "90% low", "high_90": "90% high",
                                    "status": "identified"})
    section.tables.append({"caption": "Per fitted parameter: its prior, the posterior median "
                           "and 90% interval, the posterior sd over the prior sd (sd_ratio; "
                           "below 0.5 the data identify it) and the verdict (summary.csv).",
                           "html": table_html(shown)})
    scores = info.get("scores") or {}
    if scores:
        section.tables.append({"caption": "Forecast of the held-out periods: band coverage "
                               "and CRPS against the naive forecast (last fitted value "
                               "carried forward); skill above 0 beats it.",
                               "html": table_html(pd.DataFrame([scores]), index=False)})
    section.findings = calibration_findings(summary, scores, info)
    generations = info.get("generations") or []
    section.provenance = _provenance(info, [
        ("seed", info.get("seed", "")),
        ("inference", f"{len(generations)} generations, final epsilon "
                      f"{format_number(generations[-1]['epsilon']) if generations else ''}; "
                      f"{info.get('simulations', '')} simulations in "
                      f"{info.get('seconds', '')} s"),
    ])
    section.reproduce = _reproduce(info, "calibration", directory, [
        ("From this folder, in Python (the calibration as run is in calibration.json, its "
         "stopping rules in report.json)",
         "python -c " + shlex.quote(
             "import json; from minders.experiments.calibration import calibrate; "
             "from minders.experiments.calibration.schema import validate_calibration; "
             f"c = json.load(open({str(directory / 'calibration.json')!r}))['calibration']; "
             f"r = json.load(open({str(directory / 'report.json')!r})); "
             "calibrate(validate_calibration({**c, 'inference': r['inference'], "
             "'folder': r.get('calibration_folder')}), "
             f"{str(directory) + '-again'!r}, 'local')")),
    ] if asked is not None else [])
    return section


def calibration_findings(summary: pd.DataFrame, scores: dict[str, Any],
                         info: dict[str, Any]) -> list[str]:
    """Sentences about a calibration, each chosen by its posterior summary and scores.

    Examples
    --------
    >>> summary = pd.DataFrame({"prior": ["uniform(0, 1)", "uniform(0, 2)"],
    ...     "median": [0.3, 1.1], "low_90": [0.2, 0.1], "high_90": [0.4, 1.9],
    ...     "sd_ratio": [0.2, 0.95], "status": ["identified", "unidentified"]},
    ...     index=pd.Index(["a", "b"], name="parameter"))
    >>> calibration_findings(summary, {}, {})[:2]  # doctest: +NORMALIZE_WHITESPACE
    ['The data identify a (posterior sd at most half the prior sd).',
     'The data say almost nothing about b: its posterior is about as wide as its prior, so
      its calibrated value is in effect assumed.']
    """
    found: list[str] = []
    by = {status: list(summary.index[summary["status"] == status])
          for status in ("identified", "weak", "unidentified")}
    if by["identified"]:
        found.append(f"The data identify {_names(by['identified'])} (posterior sd at most "
                     "half the prior sd).")
    if by["weak"]:
        found.append(f"The data narrow {_names(by['weak'])} only weakly (posterior sd "
                     "between half and 0.8 of the prior sd).")
    if by["unidentified"]:
        verb = "its" if len(by["unidentified"]) == 1 else "their"
        found.append(f"The data say almost nothing about {_names(by['unidentified'])}: "
                     f"{verb} posterior is about as wide as {verb} prior, so {verb} "
                     "calibrated value is in effect assumed.")
    for name, row in summary.iterrows():
        if row["status"] != "unidentified":
            found.append(f"{name}: posterior median {format_number(row['median'])}, 90% "
                         f"interval [{format_number(row['low_90'])}, "
                         f"{format_number(row['high_90'])}] (prior {row['prior']}; sd ratio "
                         f"{format_number(row['sd_ratio'], 2)}).")
    if scores:
        skill = float(scores.get("skill", float("nan")))
        verdict = ("no skill score (the naive forecast was exact)" if not np.isfinite(skill)
                   else f"better than the naive forecast (skill {skill:+.2f})"
                   if skill > 0.05 else
                   f"worse than the naive forecast (skill {skill:+.2f})"
                   if skill < -0.05 else
                   f"about as good as the naive forecast (skill {skill:+.2f})")
        found.append(
            f"On the {int(scores['periods'])} held-out periods the forecast is {verdict}: CRPS "
            f"{format_number(scores['crps'])} against {format_number(scores['crps_naive'])} "
            f"for the last fitted value carried forward; its 90% band covered "
            f"{format_number(100 * scores['coverage_90'])}% of them and its 50% band "
            f"{format_number(100 * scores['coverage_50'])}%.")
    generations = info.get("generations") or []
    if generations:
        found.append(f"ABC-SMC ran {len(generations)} generation"
                     f"{'' if len(generations) == 1 else 's'} ({int(info.get('simulations', 0)):,}"
                     f" simulations); the final tolerance was "
                     f"{format_number(generations[-1]['epsilon'])}.")
    return found


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def sweep_figure(table: pd.DataFrame, parameters: list[str], metrics: list[str]) -> Any:
    """Each metric's mean and interval per point, against the first numeric varied parameter."""
    import matplotlib.pyplot as plt

    numeric = [p for p in parameters if pd.api.types.is_numeric_dtype(table[p])]
    x_name = numeric[0] if numeric else None
    fig, axes = plt.subplots(len(metrics), 1, figsize=(8, 2.6 * len(metrics) + 0.6),
                             squeeze=False, constrained_layout=True)
    x = table[x_name].to_numpy(dtype=float) if x_name else table.index.to_numpy(dtype=float)
    others = [p for p in parameters if p != x_name]
    groups = table.groupby(others, sort=True) if others else [((), table)]
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        for key, rows in groups:
            xs = rows[x_name].to_numpy(dtype=float) if x_name else rows.index.to_numpy(float)
            order = np.argsort(xs)
            mean = rows[metric].to_numpy(dtype=float)[order]
            low = rows[f"{metric}_low"].to_numpy(dtype=float)[order]
            high = rows[f"{metric}_high"].to_numpy(dtype=float)[order]
            label = ", ".join(f"{p}={v}" for p, v in zip(others, np.atleast_1d(key),
                                                          strict=False)) or None
            ax.plot(xs[order], mean, marker="o", label=label)
            ax.fill_between(xs[order], np.where(np.isnan(low), mean, low),
                            np.where(np.isnan(high), mean, high), alpha=0.2)
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        if others and len(others) <= 2 and 1 < len(table) // max(len(set(x)), 1) <= 8:
            ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel(x_name or "point")
    return fig


def sweep_findings(table: pd.DataFrame, parameters: list[str], metrics: list[str],
                   done: int, runs: int, confidence: float = CONFIDENCE) -> list[str]:
    """Sentences about a sweep's summary, each chosen by its numbers.

    Parameters
    ----------
    table : pandas.DataFrame
        Per point, from :func:`minders.experiments.summary.summarize`; its
        ``attrs["intervals"]`` names each metric's method, hence its statistic
        (:func:`minders.experiments.intervals.statistic`; a metric it does not
        name is a mean).
    parameters, metrics : list of str
        Column names.
    done, runs : int
        Runs saved and runs asked for.
    confidence : float
        The level ``table``'s intervals were computed at.

    Returns
    -------
    list of str

    Examples
    --------
    >>> table = pd.DataFrame({"span": [5, 10], "n": [4, 4], "cascade": [0.1, 0.6],
    ...     "cascade_low": [0.0, 0.5], "cascade_high": [0.2, 0.7]})
    >>> sweep_findings(table, ["span"], ["cascade"], 8, 8)[2]
    'cascade rises with span (rank correlation 1 over 2 points).'
    >>> table.attrs["intervals"] = {"cascade": "wilson"}
    >>> sweep_findings(table.iloc[:1], [], ["cascade"], 4, 4)[1]
    'cascade: share 0.1, 95% interval [0, 0.2] (wilson) over 4 replicates.'
    """
    from scipy import stats

    points = len(table)
    level = round(100 * confidence)
    methods = table.attrs.get("intervals", {})
    found = [f"{done:,} of {runs:,} runs are saved ({points:,} point{'' if points == 1 else 's'}); "
             + ("the sweep is complete." if done >= runs else
                "the sweep is incomplete: rerun it to finish.")]
    if points == 0:
        return found
    for metric in metrics:
        means = table[metric]
        if means.isna().all():
            found.append(f"{metric} has no value at any point.")
            continue
        top, bottom = means.idxmax(), means.idxmin()
        if points > 1 and top != bottom:
            apart = table.loc[bottom, f"{metric}_high"] < table.loc[top, f"{metric}_low"]
            found.append(
                f"{metric} is highest at {_point(table, top, parameters)} "
                f"({format_estimate(means[top])}) and lowest at "
                f"{_point(table, bottom, parameters)} ({format_estimate(means[bottom])}); "
                + (f"their {level}% intervals do not overlap." if apart else
                   f"their {level}% intervals overlap, so more replicates are needed to tell "
                   "them apart."))
        elif points == 1:  # replicates of one scenario (minders run --replicates)
            found.append(_replicates_finding(table.iloc[0], metric, methods.get(metric, ""),
                                             level))
        else:
            found.append(f"{metric} is {format_estimate(means.iloc[0])} at every point.")
        numeric = [p for p in parameters if pd.api.types.is_numeric_dtype(table[p])]
        if (len(parameters) == 1 and numeric and points > 1 and table[numeric[0]].nunique() > 1
                and means.nunique() > 1):
            rho = stats.spearmanr(table[numeric[0]], means).statistic
            if np.isfinite(rho) and abs(rho) >= 0.5:
                direction = "rises" if rho > 0 else "falls"
                found.append(f"{metric} {direction} with {numeric[0]} (rank correlation "
                             f"{format_number(rho, 2)} over {points} points).")
            elif np.isfinite(rho):
                found.append(f"{metric} shows no steady trend with {numeric[0]} (rank "
                             f"correlation {format_number(rho, 2)}).")
    return found


def _replicates_finding(row: pd.Series, metric: str, method: str, level: int) -> str:
    """One metric over the replicates of one point, as ``minders run --replicates`` prints it.

    The statistic the method estimates (a share, a Kaplan-Meier median or a
    mean), its interval at ``level`` percent, the method, and the notes that
    read it: for a time, the share of runs that never reach the event (why the
    median can be 'not reached'); for a size, its spread over runs.
    """
    interval = format_interval(row[metric], row[f"{metric}_low"], row[f"{metric}_high"])
    notes = ([method] if method else []) + spread_notes(
        *(row.get(f"{metric}_{part}", np.nan) for part in ("never", "q10", "q50", "q90")))
    return (f"{metric}: {statistic(method)} {format_estimate(row[metric])}"
            + (f", {level}% interval {interval}" if interval else "")
            + (f" ({'; '.join(notes)})" if notes else "")
            + f" over {int(row['n']):,} replicates.")


def _statistics(methods: dict[str, str], metrics: list[str]) -> str:
    """Which statistic and method each metric's estimate is, metrics of the same grouped.

    Examples
    --------
    >>> _statistics({"a": "t", "b": "wilson", "c": "t"}, ["a", "b", "c", "d"])
    'mean (t): a, c; share (wilson): b; mean: d'
    """
    groups: dict[str, list[str]] = {}
    for metric in metrics:
        method = methods.get(metric, "")
        label = statistic(method) + (f" ({method})" if method else "")
        groups.setdefault(label, []).append(metric)
    return "; ".join(f"{label}: {', '.join(names)}" for label, names in groups.items())


def _yearly(count: int, years: float | None) -> str:
    return f", {format_number(count / years)} a year" if years else ""


def _point(table: pd.DataFrame, index: Any, parameters: list[str]) -> str:
    if not parameters:
        return f"point {index}"
    return ", ".join(f"{p} = {format_measure(table.loc[index, p])}" for p in parameters)


def _with_intervals(table: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Each metric as one column ``estimate [low, high]`` (``not reached`` for an infinite time)."""
    shown = table.drop(columns=[c for m in metrics for c in (f"{m}_low", f"{m}_high")])
    for metric in metrics:
        shown[metric] = [
            f"{format_estimate(m)} {format_interval(m, lo, hi)}".rstrip()
            for m, lo, hi in zip(table[metric], table[f"{metric}_low"],
                                 table[f"{metric}_high"], strict=True)]
    return shown


# --------------------------------------------------------------------------- shared
def parameter_rows(scenario: BaseModel,
                   marks: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every leaf of a scenario: path, value, default, unit, basis, description.

    ``basis`` is what the scenario file's comments mark the value as
    (``sourced`` or ``assumed``, :func:`minders.scenarios.markers`; ``marks``
    found by :func:`scenario_marks`), matched by the longest marked prefix of
    its path; empty where the file marks nothing.

    Examples
    --------
    >>> import minders
    >>> rows = parameter_rows(minders.load_scenario("pyongyang"))
    >>> row = next(r for r in rows if r["path"] == "model.memory")
    >>> row["unit"], row["default"]
    ('steps', '4')
    """
    rows: list[dict[str, Any]] = []
    _walk(scenario, "", rows)
    marks = marks or {}
    for row in rows:
        parts = row["path"].split(".")
        row["basis"] = next((marks[".".join(parts[:k])] for k in range(len(parts), 0, -1)
                             if ".".join(parts[:k]) in marks), "")
    return rows


def scenario_marks(scenario: BaseModel, candidates: list[Any] = ()) -> dict[str, str]:
    """The comment markers of the file a scenario came from, where it can be found.

    Tries each candidate (a path, or the words of the recorded command line),
    then the bundled scenario of the same name; {} when none is a scenario file.
    """
    from minders import scenarios

    tried = [Path(str(c)) for c in candidates if c]
    name = str(getattr(scenario, "name", "") or "")
    if name in scenarios.names():
        tried.append(scenarios.path(name))
    for candidate in tried:
        try:
            if candidate.suffix == ".toml" and candidate.is_file():
                return scenarios.markers(candidate)
        except OSError:
            continue
    return {}


def _walk(model: BaseModel, prefix: str, rows: list[dict[str, Any]]) -> None:
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(value, BaseModel):
            _walk(value, path + ".", rows)
        elif isinstance(value, dict) and value and all(
                isinstance(v, BaseModel) for v in value.values()):
            for key, item in value.items():
                _walk(item, f"{path}.{key}.", rows)
        elif isinstance(value, list) and value and all(isinstance(v, BaseModel) for v in value):
            for k, item in enumerate(value):
                _walk(item, f"{path}.{k}.", rows)
        elif path == "description":  # shown as the text above the table
            continue
        else:
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            default = ("(required)" if info.is_required()
                       else _shown(info.get_default(call_default_factory=True)))
            shown = str(value) if name == "seed" else _shown(value)
            rows.append({"path": path, "value": shown, "default": default,
                         "unit": str(extra.get("unit", "")),
                         "changed": not info.is_required() and shown != default,
                         "description": info.description or ""})


def _shown(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str)
    if value is None:
        return "none"
    return format_measure(value) if isinstance(value, int | float) and not isinstance(
        value, bool) else str(value)


def png(figure: Any) -> str:
    """A matplotlib figure as base64 PNG text (for a ``data:`` URL)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def table_html(frame: pd.DataFrame, index: bool = True) -> Any:
    """A DataFrame as an HTML table, numbers formatted as the command line prints them."""
    from markupsafe import Markup

    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_numeric_dtype(shown[column]):
            shown[column] = shown[column].map(format_measure)
    return Markup(shown.to_html(index=index, escape=True, border=0, classes="data",
                                na_rep=""))


def _provenance(info: dict[str, Any], first: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    versions = info.get("versions") or {"minders": info.get("minders_version", ""),
                                         "python": info.get("python", ""),
                                         "numpy": info.get("numpy", "")}
    rows = [*first,
            ("versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v)),
            ("command line", info.get("command") or "not recorded (saved by an older minders)"),
            ("date", info.get("created", "")),
            ("machine", info.get("machine") or "not recorded")]
    return [(name, str(value)) for name, value in rows]


def _reproduce(info: dict[str, Any], kind: str, directory: Path,
               extra: list[tuple[str, str]]) -> list[dict[str, str]]:
    found = []
    if info.get("command"):
        found.append({"how": "The command that made these results, run from the folder it "
                      "was run in", "command": str(info["command"])})
    for how, command in extra:
        found.append({"how": how, "command": command})
    return found
