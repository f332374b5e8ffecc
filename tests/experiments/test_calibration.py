"""minders calibrate: parameter recovery, resume after SIGKILL, bad input, observation model.

The world is tiny (400 residents, 20 half-year steps: a few hundredths of a
second a run) and the ABC-SMC short (16-20 particles, 3 generations), so
the whole file takes about a minute. Synthetic data come from the model
itself, from known parameters.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyabc")

from typer.testing import CliRunner  # noqa: E402

from minders.cli import app  # noqa: E402
from minders.errors import ScenarioError  # noqa: E402
from minders.experiments.calibration import calibrate, load_calibration, prepare  # noqa: E402
from minders.experiments.calibration.observation import (  # noqa: E402
    Calendar,
    ObservationModel,
)
from minders.experiments.calibration.schema import Observation  # noqa: E402

# 400 residents who mostly want out, half-year steps for ten years; the border opens less
# from step 10 (shocks.0). shocks.1 multiplies the minders' opportunity, but minders have
# none (border_chance 0): no data can identify it.
SCENARIO = """\
name = "tiny_border"
[run]
steps = 20
seed = 1
steps_per_year = 2
burn_in = 2
[tiers.residents]
size = 400
minded_by = "minders"
span = 20
hardship = { kind = "beta", a = 6, b = 2 }
legitimacy = 0.4
border_chance = 0.01
[tiers.minders]
size = "auto"
border_chance = 0.0
[[shocks]]
kind = "opportunity"
start = 10
value = 0.3
[[shocks]]
kind = "opportunity"
start = 0
value = 1.0
tiers = ["minders"]
"""

CALIBRATION = """\
name = "tiny_fit"
scenario = "scenario.toml"
seed = {seed}
start_year = 2000
[parameters."tiers.residents.border_chance"]
prior = "loguniform"
low = 0.002
high = 0.05
[parameters."shocks.0.value"]
prior = "uniform"
low = 0.0
high = 1.0
[parameters."shocks.1.value"]
prior = "uniform"
low = 0.0
high = 2.0
[data]
file = "observed.csv"
time = "year"
value = "arrivals"
source = "synthetic"
[observation]
scale = 1.0
tiers = ["residents"]
delay = {{ kind = "none" }}
[inference]
population = {population}
generations = 3
quantile = 0.25
predictive = 8
"""

IDENTIFIABLE = ("tiers.residents.border_chance", "shocks.0.value")


def write_case(folder: Path, truth: dict[str, float] | None = None, seed: int = 1,
               population: int = 16) -> Path:
    """A calibration of the tiny scenario, its data simulated from ``truth`` (None: ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(SCENARIO)
    path = folder / "calibration.toml"
    path.write_text(CALIBRATION.format(seed=seed, population=population))
    years = range(2000, 2010)
    pd.DataFrame({"year": years, "arrivals": 1.0}).to_csv(folder / "observed.csv", index=False)
    if truth is not None:
        series = prepare(path).model.arrivals(truth, seed=1000 + seed)
        pd.DataFrame({"year": years, "arrivals": series}).to_csv(folder / "observed.csv",
                                                                 index=False)
    return path


def test_parameter_recovery_over_five_synthetic_datasets(tmp_path):
    truths = [
        {"tiers.residents.border_chance": 0.010, "shocks.0.value": 0.30},
        {"tiers.residents.border_chance": 0.020, "shocks.0.value": 0.60},
        {"tiers.residents.border_chance": 0.006, "shocks.0.value": 0.50},
        {"tiers.residents.border_chance": 0.015, "shocks.0.value": 0.20},
        {"tiers.residents.border_chance": 0.030, "shocks.0.value": 0.75},
    ]
    covered = dict.fromkeys(IDENTIFIABLE, 0)
    narrow = dict.fromkeys(IDENTIFIABLE, 0)
    flagged = 0
    for k, truth in enumerate(truths):
        truth = {**truth, "shocks.1.value": 1.0}
        path = write_case(tmp_path / f"case{k}", truth, seed=k + 1)
        result = calibrate(path, tmp_path / f"out{k}", "serial")
        summary = result.summary
        for name in IDENTIFIABLE:
            row = summary.loc[name]
            covered[name] += bool(row["low_90"] <= truth[name] <= row["high_90"])
            narrow[name] += bool(row["sd_ratio"] < 0.5)
        flagged += summary.loc["shocks.1.value", "status"] != "identified"
    assert all(n >= 4 for n in covered.values()), covered
    assert all(n >= 4 for n in narrow.values()), narrow
    assert flagged == len(truths)  # the parameter the data cannot see is never called identified


def test_outputs_and_the_calibrated_scenario(tmp_path):
    path = write_case(tmp_path / "case", {"tiers.residents.border_chance": 0.01,
                                           "shocks.0.value": 0.3, "shocks.1.value": 1.0})
    result = calibrate(path, tmp_path / "out", "serial", generations=1, fit_until=2007)
    for file in result.paths.values():
        assert file.is_file() and file.stat().st_size > 0
    posterior = pd.read_parquet(result.paths["posterior"])
    assert list(posterior.columns) == [*IDENTIFIABLE, "shocks.1.value", "weight"]
    assert posterior["weight"].sum() == pytest.approx(1.0)
    predictive = pd.read_parquet(result.paths["predictive"])
    assert (predictive["q05"] <= predictive["median"]).all()
    assert predictive["fitted"].tolist() == [True] * 8 + [False] * 2
    assert set(result.scores) >= {"coverage_50", "coverage_90", "crps", "crps_naive", "skill"}
    import minders

    calibrated = minders.load_scenario(result.paths["scenario"])
    median = result.summary.loc["shocks.0.value", "median"]
    assert calibrated.shocks[0].value == pytest.approx(median)
    assert not list(result.paths["posterior"].parent.glob(".staging-*"))


def test_resume_after_sigkill_gives_the_same_posterior(tmp_path):
    path = write_case(tmp_path / "case", {"tiers.residents.border_chance": 0.01,
                                           "shocks.0.value": 0.3, "shocks.1.value": 1.0},
                      population=12)
    killed = tmp_path / "killed"
    code = ("import sys; from minders.experiments.calibration import calibrate; "
            f"calibrate({str(path)!r}, {str(killed)!r}, 'serial')")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    from minders.experiments.calibration.abc import generations

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(generations(killed / "abc.db")) >= 1:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(generations(killed / "abc.db")) < 3
    assert not (killed / "posterior.parquet").exists()
    resumed = calibrate(path, killed, "serial")
    whole = calibrate(path, tmp_path / "whole", "serial")
    pd.testing.assert_frame_equal(resumed.posterior, whole.posterior)
    assert [g.epsilon for g in resumed.generations] == [g.epsilon for g in whole.generations]


# --------------------------------------------------------------------------- bad input
runner = CliRunner()


def _bad(tmp_path: Path, edit) -> tuple[int, str, Path]:
    path = write_case(tmp_path / "case")
    edit(path.parent)
    out = tmp_path / "out"
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(out), "--executor",
                                 "serial", "--quiet"])
    return result.exit_code, result.output, out


def _replace(name: str, old: str, new: str):
    def edit(folder: Path) -> None:
        file = folder / name
        file.write_text(file.read_text().replace(old, new))
    return edit


@pytest.mark.parametrize("edit, message", [
    (_replace("calibration.toml", '"shocks.0.value"', '"shocks.7.value"'),
     "parameters.shocks.7.value: expected the dotted path of a number"),
    (_replace("calibration.toml", '"shocks.0.value"', '"tiers.residents.border_chanse"'),
     "parameters.tiers.residents.border_chanse"),
    (_replace("calibration.toml", "low = 0.002\nhigh = 0.05", "low = 0.002\nhigh = 5.0"),
     "a prior inside the parameter's bounds"),
    (_replace("calibration.toml", "scale = 1.0", ""),
     "exactly one of observation.scale or observation.represents"),
    (_replace("observed.csv", "2004,1.0\n", ""), "every year from 2000 to 2009"),
    (_replace("observed.csv", "2004,1.0\n", "2004,many\n"), "a number in column 'arrivals'"),
    (_replace("calibration.toml", 'value = "arrivals"', 'value = "total"'),
     "data.value: expected a column of observed.csv"),
    (_replace("calibration.toml", "start_year = 2000", "start_year = 2003"),
     "a horizon covering the data"),
], ids=["unknown-path", "misspelt-field", "prior-outside-bounds", "no-scale",
        "missing-year", "non-numeric", "missing-column", "short-horizon"])
def test_bad_calibration_gets_one_line_exit_2_and_writes_nothing(tmp_path, edit, message):
    code, output, out = _bad(tmp_path, edit)
    assert code == 2, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert message in " ".join(output.split()), output
    assert not out.exists()


def test_another_calibrations_folder_is_refused(tmp_path):
    path = write_case(tmp_path / "case")
    out = tmp_path / "out"
    out.mkdir()
    (out / "calibration.json").write_text('{"hash": "something else"}')
    with pytest.raises(ScenarioError, match="--out"):
        calibrate(path, out, "serial")


# --------------------------------------------------------------------------- observation model
def test_gamma_delay_moves_arrivals_by_its_mean_and_keeps_them():
    spec = Observation(scale=1.0, delay={"kind": "gamma", "mean": 1.5, "shape": 4.0})
    calendar = Calendar(2000.0, 52, 52 * 10, "year")
    model = ObservationModel(spec, calendar, list(range(2000, 2010)), 100)
    pmf = model.delay_pmf()
    assert pmf.sum() == pytest.approx(1.0, abs=1e-3)
    assert (np.arange(pmf.size) + 0.5) @ pmf / 52 == pytest.approx(1.5, abs=0.02)
    pulse = np.zeros(520)
    pulse[52] = 100.0  # everyone leaves in the first week of 2001
    arrivals = model.arrivals(pulse)
    assert arrivals.sum() == pytest.approx(100.0, rel=1e-3)
    # 28% arrive within the year they left (gamma(4, 0.375) below 1), most the next year
    assert arrivals[0] == 0 and arrivals[1] == pytest.approx(28, abs=1)
    assert arrivals[2] > arrivals[1]
    # a steady flow is steady on arrival too: departures before the records are in transit
    assert model.arrivals(np.ones(520)) == pytest.approx(np.full(10, 52.0), rel=1e-3)


def test_quarters_months_events_and_represents():
    spec = Observation(represents=200.0, delay={"kind": "none"},
                       events=[{"period": "2001Q2", "count": 5.0}])
    calendar = Calendar(2001.0, 12, 24, "quarter")
    codes = list(range(2001 * 4, 2001 * 4 + 8))
    model = ObservationModel(spec, calendar, codes, positions=100)
    arrivals = model.arrivals(np.ones(24))  # one departure a month
    assert model.scale() == 0.5
    assert arrivals.tolist() == [6.0, 11.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0]


def test_bundled_calibration_loads_and_checks_by_name():
    calibration = load_calibration("north_korea_arrivals")
    assert set(calibration.parameters) >= {"tiers.borderlanders.border_chance",
                                           "shocks.0.value", "shocks.1.value",
                                           "shocks.2.value", "observation.delay.mean"}
    problem = prepare(calibration)
    assert problem.observed.index.tolist() == list(range(2008, 2026))
    assert problem.observed.loc[2021] == 63


def test_a_normal_prior_is_checked_at_its_tails_and_clipped_there(tmp_path):
    path = write_case(tmp_path / "case")
    text = path.read_text().replace('prior = "uniform"\nlow = 0.0\nhigh = 1.0',
                                    'prior = "normal"\nmean = 0.5\nsd = 0.2')
    path.write_text(text)
    with pytest.raises(ScenarioError, match="a prior inside the parameter's bounds"):
        prepare(path)  # its 0.01% tail reaches below 0, an impossible multiplier
    path.write_text(text.replace("sd = 0.2", "sd = 0.1"))
    model = prepare(path).model
    low, high = model.bounds[1]
    assert 0 < low < 0.2 and 0.8 < high < 1
    assert model.values({"p0": 0.01, "p1": -3.0, "p2": 1.0})["shocks.0.value"] == low


def test_history_matching_narrows_the_priors_around_the_truth(tmp_path):
    truth = {"tiers.residents.border_chance": 0.01, "shocks.0.value": 0.3, "shocks.1.value": 1.0}
    path = write_case(tmp_path / "case", truth)
    path.write_text(path.read_text() + "[history_matching]\nsamples = 40\ncandidates = 4000\n")
    result = calibrate(path, tmp_path / "out", "serial", generations=1, population=8)
    matching = result.history_matching
    assert 0 < matching["kept"] < 0.5
    (chance_low, chance_high), (shock_low, shock_high), _ = matching["ranges"]
    assert chance_low <= truth["tiers.residents.border_chance"] <= chance_high
    assert shock_low <= truth["shocks.0.value"] <= shock_high
    assert shock_high - shock_low < 0.7  # from the prior's width of 1
    assert (tmp_path / "out" / "history_matching.json").is_file()
    # the posterior is compared with the file's priors, not the narrowed ones
    assert result.summary.loc["shocks.0.value", "prior"] == "uniform(0, 1)"


def test_generated_calibration_docs_are_fresh():
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location(
        "calibration_readme", root / "docs" / "examples" / "calibration_readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for target in module.TARGETS:
        text = target.read_text(encoding="utf-8")
        assert module.START in text
        assert module.rewrite(text) == text, (
            f"{target.name} is out of date: run python docs/examples/calibration_readme.py")
