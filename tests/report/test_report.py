"""minders report: one self-contained HTML file per results folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser

import pandas as pd
from typer.testing import CliRunner

import minders
from minders.cli.commands import app
from minders.report.html import sweep_findings

runner = CliRunner()


class Links(HTMLParser):
    """Every src= and href= of a page, and the sections' ids."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data") and value:
                self.links.append(value)
            if name == "id" and tag == "section":
                self.ids.append(value)


def report(folder, tmp_path) -> tuple[str, Links]:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    parsed = Links()
    parsed.feed(html)
    return html, parsed


def assert_self_contained(html: str, parsed: Links) -> None:
    assert not [link for link in parsed.links if re.match(r"\s*(https?:)?//", link, re.I)]
    assert all(link.startswith("data:image/png;base64,") for link in parsed.links)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", html, re.I)


def test_the_report_of_a_run(run_dir, tmp_path):
    html, parsed = report(run_dir, tmp_path)
    assert_self_contained(html, parsed)
    assert parsed.ids == ["findings", "results", "asked", "provenance", "reproduce"]
    assert len(parsed.links) == 1  # the summary figure
    saved = json.loads((run_dir / "run.json").read_text())
    assert saved["scenario_hash"] in html and saved["command"] in html
    # Each parameter with its value, default and unit; changed values marked.
    assert re.search(r'<tr><td class="path">tiers.residents.size</td>\s*'
                     r'<td class="value">2,000</td><td>\(required\)</td>', html)
    assert re.search(r'<tr class="changed"><td class="path">model.memory</td>\s*'
                     r'<td class="value">8</td><td>4</td><td>steps</td>', html)
    # Sourced or assumed, from the bundled file's comments (the run names it).
    row = r'<td class="path">{}</td>(?:(?!</tr>).)*<td>{}</td>'  # within the parameter's row
    assert re.search(row.format("model.watch_capacity", "assumed"), html, re.S)
    assert re.search(row.format("tiers.residents.border_chance", "sourced"), html, re.S)
    assert not re.search(row.format("run.seed", "(?:sourced|assumed)"), html, re.S)
    summary = minders.load(run_dir).summary()
    total = int(summary["defections"].sum())
    assert (f"{total:,} of {int(summary['positions'].sum()):,} positions defected" in html
            or "No position defected" in html)


def test_the_reproduce_command_of_a_run_reproduces_it(run_dir, tmp_path):
    html, _ = report(run_dir, tmp_path)
    command = re.findall(r"<pre>(python -c .*?)</pre>", html, re.S)[0]
    import html as html_module

    subprocess.run(html_module.unescape(command), shell=True, check=True,
                   executable="/bin/bash", env={"PATH": f"{sys.prefix}/bin:/usr/bin:/bin"})
    again = minders.load(f"{run_dir}-again")
    pd.testing.assert_frame_equal(again.records, minders.load(run_dir).records)


def test_the_report_of_a_classic_run(tmp_path):
    minders.simulate(minders.load_scenario("watts_er"), steps=10).save(tmp_path / "watts")
    html, parsed = report(tmp_path / "watts", tmp_path)
    assert_self_contained(html, parsed)
    assert "In numbers: nodes 10,000" in html


def test_the_report_of_a_sweep(sweep_dir, tmp_path):
    html, parsed = report(sweep_dir, tmp_path)
    assert_self_contained(html, parsed)
    assert len(parsed.links) == 1
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    assert manifest["hash"] in html and "tiers.minders.span" in html
    assert "9 of 9 runs are saved (3 points); the sweep is complete." in html
    for metric in manifest["metrics"]:
        assert f"<th>{metric}</th>" in html


def test_sweep_findings_follow_the_numbers():
    table = pd.DataFrame({"span": [5, 10, 20], "n": [4, 4, 4], "cascade": [0.6, 0.4, 0.1],
                          "cascade_low": [0.5, 0.3, 0.0], "cascade_high": [0.7, 0.5, 0.2]})
    found = sweep_findings(table, ["span"], ["cascade"], 10, 12)
    assert found[0].endswith("incomplete: rerun it to finish.")
    assert found[1] == ("cascade is highest at span = 5 (0.6) and lowest at span = 20 (0.1); "
                        "their 95% intervals do not overlap.")
    assert found[2].startswith("cascade falls with span")
    table["cascade_low"], table["cascade_high"] = 0.0, 1.0
    assert "overlap, so more replicates" in sweep_findings(table, ["span"], ["cascade"], 12,
                                                           12)[1]


def test_replicate_findings_name_the_statistic_its_level_and_method():
    """Each metric as ``minders run --replicates`` states it: a share, a median, a mean."""
    from minders.experiments.summary import summarize_frame

    metrics = ["cascade", "time_to_cascade", "defections", "cascade_size"]
    runs = pd.DataFrame({"point": 0, "cascade": [0.0] * 6 + [1.0] * 2,
                         "time_to_cascade": [52.0] * 6 + [3.0, 5.0],  # 6 of 8 censored
                         "defections": [0, 1, 0, 2, 0, 0, 1, 0.0],
                         "cascade_size": [0.0] * 6 + [4.0, 6.0]})
    table = summarize_frame(runs, [], metrics, 0.9, horizons=52.0, quantities={
        "cascade": "probability", "time_to_cascade": "time", "defections": "count",
        "cascade_size": "size"})
    found = sweep_findings(table, [], metrics, 8, 8, confidence=0.9)
    assert found[1] == ("cascade: share 0.25, 90% interval [0.0865, 0.54] (wilson) "
                        "over 8 replicates.")
    # Not averaged, never 'mean inf': the median is not reached while 75% of runs never cascade.
    assert found[2] == ("time_to_cascade: median not reached, 90% interval [5, not reached] "
                        "(kaplan-meier median; never in 75% of runs) over 8 replicates.")
    assert found[3] == ("defections: mean 0.5, 90% interval [0.155, 1.21] (quasi-poisson) "
                        "over 8 replicates.")
    assert found[4].startswith("cascade_size: mean 1.25, 90% interval [0.251, 3.73] "
                               "(quasi-poisson; runs 10/50/90%: 0/0/4.6)")
    assert not [f for f in found if "inf" in f or "95%" in f]


def test_the_report_of_a_sensitivity_folder_adds_its_indices(tmp_path):
    from minders.experiments import run_sweep
    from minders.experiments.sensitivity import analyze

    from ..experiments.conftest import write_experiment
    from ..experiments.test_sensitivity import experiment

    out = tmp_path / "out"
    run_sweep(write_experiment(tmp_path, experiment("morris", 10)), out, "serial")
    analyze(out, resamples=100).save(out)
    html, parsed = report(out, tmp_path)
    assert_self_contained(html, parsed)
    assert len(parsed.links) == 2  # the sweep's figure and the sensitivity figure
    assert re.search(r"Sensitivity of \S+: tiers.workers.abroad_chance matters most "
                     r"\(mu_star [0-9.,]+\)", html)


def test_the_report_of_a_warning_folder_embeds_its_figures(tmp_path):
    import copy

    from ..experiments.test_warning import WARNING, write_experiment

    path = write_experiment(tmp_path, copy.deepcopy(WARNING))
    out = tmp_path / "out"
    result = runner.invoke(app, ["warning", path, "--out", str(out), "--executor", "serial"])
    assert result.exit_code == 0, result.output
    html, parsed = report(out, tmp_path)
    assert_self_contained(html, parsed)
    assert len(parsed.links) == 3  # the sweep's figure, warning.png, trajectories.png
    assert "early-warning analysis" in html and "warning/survey_summary.csv" in html


def test_the_report_of_a_plan(tmp_path):
    from ..experiments.conftest import TINY_SCENARIO

    scenario = tmp_path / "base.toml"
    scenario.write_text(TINY_SCENARIO)
    out = tmp_path / "plan"
    result = runner.invoke(app, ["plan", str(scenario), "--target", "0.6", "--target", "1e-9",
                                 "--replicates", "3", "--max-span", "24", "--upper-spans", "5",
                                 "--out", str(out), "--executor", "serial"])
    assert result.exit_code == 0, result.output
    html, parsed = report(out, tmp_path)
    assert_self_contained(html, parsed)
    assert len(parsed.links) == 1  # the cost curve
    assert "To keep the yearly defection rate of" in html and "below 0.6" in html
    assert "No design tried keeps the yearly defection rate" in html  # 1e-9 is out of reach
    assert "<td class=\"path\">tiers.workers.span</td>" in html  # the scenario planned for
    export = runner.invoke(app, ["export", str(out), "--to", "csv", "--out", str(tmp_path / "x")])
    assert export.exit_code == 0, export.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "x" / "choices.csv"),
                                  pd.read_csv(out / "choices.csv"))


def test_the_report_of_replicates(tmp_path):
    out = tmp_path / "reps"
    result = runner.invoke(app, ["run", "overseas_workers", "--steps", "10",
                                 "--replicates", "3", "--executor", "serial",
                                 "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html, parsed = report(out, tmp_path)
    assert_self_contained(html, parsed)
    assert "3 of 3 runs are saved (1 point); the sweep is complete." in html
    # Each metric with the statistic, level and method of minders run's table: no 'mean inf'.
    assert re.search(r"defections_per_year: mean [-0-9.,e]+(, 95% interval \[[^]]+\])? "
                     r"\(quasi-poisson\) over 3 replicates\.", html)
    assert re.search(r"cascade: share [0-9.]+, 95% interval \[[^]]+\] \(wilson\) over 3 "
                     r"replicates\.", html)
    assert re.search(r"time_to_cascade: median ([0-9.,]+|not reached)[^<]* \(kaplan-meier "
                     r"median; never in [0-9]+% of runs\) over 3 replicates\.", html)
    assert "mean inf" not in html and "<td>inf</td>" not in html


def test_parameters_say_whether_they_are_sourced_or_assumed():
    from minders.kinds import load_scenario
    from minders.report.html import parameter_rows, scenario_marks

    scenario = load_scenario("pyongyang")
    rows = {r["path"]: r for r in parameter_rows(scenario, scenario_marks(scenario))}
    assert rows["tiers.residents.border_chance"]["basis"] == "sourced"   # [data: MOU table]
    assert rows["model.watch_capacity"]["basis"] == "assumed"
    assert rows["tiers.elites.hardship.a"]["basis"] == "assumed"          # an inline table
    assert rows["run.seed"]["basis"] == ""                                # not marked
