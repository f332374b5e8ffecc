"""Reports of calibration and warning folders: they build, load nothing, say the numbers."""

from __future__ import annotations

import html as html_module
import json

import pandas as pd

from minders.report.html import calibration_findings, warning_findings
from tests.report.test_report import assert_self_contained, report


def sentences(html: str) -> list[str]:
    import re

    block = re.search(r'<ul class="findings">(.*?)</ul>', html, re.S).group(1)
    return [html_module.unescape(s).strip() for s in re.findall(r"<li>(.*?)</li>", block, re.S)]


def test_the_report_of_a_calibration(calibration_dir, tmp_path):
    html, parsed = report(calibration_dir, tmp_path)
    assert_self_contained(html, parsed)
    assert parsed.ids == ["findings", "results", "asked", "provenance", "reproduce"]
    assert len(parsed.links) == 2  # the pair plot and the predictive figure
    info = json.loads((calibration_dir / "report.json").read_text())
    summary = pd.read_csv(calibration_dir / "summary.csv", index_col=0)
    # What was asked: the fitted parameters with their priors, the data, the base scenario.
    assert "loguniform(0.002, 0.05)" in html and "arrivals per year from file observed.csv" in html
    assert '<td class="path">tiers.residents.size</td>' in html
    assert info["command"] in html_module.unescape(html)
    found = sentences(html)
    identified = list(summary.index[summary["status"] == "identified"])
    unidentified = list(summary.index[summary["status"] == "unidentified"])
    for name in identified:
        assert any(s.startswith("The data identify") and name in s for s in found), found
    for name in unidentified:
        assert any(s.startswith("The data say almost nothing about") and name in s
                   for s in found), found
    skill = info["scores"]["skill"]
    forecast = next(s for s in found if "held-out periods" in s)
    assert ("better than" in forecast) == (skill > 0.05)
    assert ("worse than" in forecast) == (skill < -0.05)
    assert f"{info['scores']['periods']} held-out" in forecast


def test_calibration_sentences_follow_the_verdicts():
    summary = pd.DataFrame({"prior": ["uniform(0, 1)"] * 3, "median": [0.3, 0.5, 0.5],
                            "low_90": [0.2, 0.2, 0.05], "high_90": [0.4, 0.8, 0.95],
                            "sd_ratio": [0.2, 0.6, 0.95],
                            "status": ["identified", "weak", "unidentified"]},
                           index=pd.Index(["a", "b", "c"], name="parameter"))
    scores = {"periods": 3, "coverage_50": 2 / 3, "coverage_90": 1.0, "crps": 4.0,
              "crps_naive": 2.0, "skill": -1.0}
    found = calibration_findings(summary, scores, {})
    assert found[:3] == [
        "The data identify a (posterior sd at most half the prior sd).",
        "The data narrow b only weakly (posterior sd between half and 0.8 of the prior sd).",
        "The data say almost nothing about c: its posterior is about as wide as its prior, so "
        "its calibrated value is in effect assumed."]
    assert "a: posterior median 0.3, 90% interval [0.2, 0.4]" in found[3]
    assert not any(s.startswith("c:") for s in found)
    assert "worse than the naive forecast (skill -1.00)" in found[-1]
    assert "90% band covered 100%" in found[-1]
    better = calibration_findings(summary, {**scores, "crps": 1.0, "skill": 0.5}, {})
    assert "better than the naive forecast (skill +0.50)" in better[-1]


def test_the_report_of_a_warning_folder(warning_dir, tmp_path):
    html, parsed = report(warning_dir, tmp_path)
    assert_self_contained(html, parsed)
    found = sentences(html)
    scores = pd.read_csv(warning_dir / "warning" / "scores.csv")
    for lead in sorted(scores["lead"].unique()):
        rows = scores[(scores["lead"] == lead) & ~scores["hidden"]].dropna(subset=["auc"])
        best = rows.loc[rows["auc"].idxmax()]
        start = "At the cascade" if lead == 0 else f"{lead} steps before the cascade"
        sentence = next(s for s in found if s.startswith(f"{start}, the best observable"))
        assert f"{best['indicator']} ({best['statistic']})" in sentence
    assert any(s.startswith("The hidden benchmark") for s in found)
    assert any("of those who left" in s for s in found)  # the survey
    assert any(s.startswith("An alarm on") for s in found)


def test_warning_sentences_follow_the_numbers():
    scores = pd.DataFrame({
        "indicator": ["arrivals", "arrivals", "exits", "true_discontent (hidden)"],
        "statistic": ["variance", "variance", "level", "level"], "lead": [0, 4, 4, 4],
        "auc": [0.9, 0.55, 0.6, 0.95], "auc_low": [0.8, 0.3, 0.45, 0.9],
        "auc_high": [1.0, 0.8, 0.75, 1.0], "hidden": [False, False, False, True]})
    alarms = pd.DataFrame({"indicator": ["arrivals"], "statistic": ["variance"], "threshold": [3.0],
                           "hit_rate": [0.5], "false_alarm_rate": [0.25], "median_lead": [6.0],
                           "hits": [2], "cascades": [4], "false_alarms": [1], "quiet": [4]})
    survey = pd.DataFrame({"cascade": [True, False], "lead": [4, 4], "survey": [0.7, 0.5],
                           "leavers_discontent": [0.7, 0.5], "truth": [0.4, 0.49],
                           "bias": [0.3, 0.01], "runs": [2, 2]})
    found = warning_findings(scores, alarms, survey)
    assert found[0].startswith("At the cascade, the best observable indicator is arrivals "
                               "(variance): AUC 0.9") and "better than chance" in found[0]
    assert found[1].startswith("4 steps before the cascade, the best observable indicator is "
                               "exits (level): AUC 0.6") and "no better than chance" in found[1]
    # The benchmark and the alarm are quoted at the middle lead (0 of [0, 4]), where no hidden
    # row exists: no benchmark sentence. At lead 4 alone there is one.
    assert not any(s.startswith("The hidden benchmark") for s in found)
    alone = warning_findings(scores[scores["lead"] == 4])
    assert alone[1].startswith("The hidden benchmark (true_discontent (hidden), level; no "
                               "observer sees it) reaches AUC 0.95 4 steps before the cascade: "
                               "the best observable indicator falls short of it")
    assert ("An alarm on arrivals (variance) at 3 caught 2 of 4 cascades, a median 6 steps ahead, "
            "and went off in 1 of 4 quiet runs.") in found
    assert any(s.startswith("In runs that cascade, the survey of those who left overstated")
               for s in found)
    assert any(s.startswith("In quiet runs, the survey of those who left matched") for s in found)
