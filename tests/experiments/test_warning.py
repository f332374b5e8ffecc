"""Early warning (issue 12): indicators on a model with a known answer, a world without a
tipping point, the observable-only rule, the defector survey and the command."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError
from scipy.stats import norm
from typer.testing import CliRunner

import minders
from minders.cli import app
from minders.errors import ScenarioError
from minders.experiments.warning import HIDDEN, OBSERVABLE, ObservableRecords, WarningSpec
from minders.experiments.warning.analysis import analyze
from minders.experiments.warning.indicators import rolling_statistics
from minders.experiments.warning.scores import auc
from minders.experiments.warning.survey import survey, survey_tallies
from minders.scenario import Scenario

runner = CliRunner()

#: 400 workers at home with a way out; a legitimacy shock at step 20 whose depth decides
#: whether they cascade (at 0.6 most runs do, at 0.9 none: probed by hand).
TINY = {
    "name": "tiny_tip", "run": {"steps": 40, "seed": 1, "burn_in": 10},
    "tiers": {"w": {"size": 400, "minded_by": "m", "span": 20, "border_chance": 0.01},
              "m": {"size": "auto"}},
    "shocks": [{"kind": "legitimacy", "start": 20, "end": 40, "value": 0.5, "tiers": ["w"]}],
}


# ----------------------------------------------------------------------------- helpers
def granovetter_records(mean_threshold: np.ndarray, seed: int, size: int = 2000,
                        spread: float = 0.1, background: float = 0.02) -> pd.DataFrame:
    """Records of a Granovetter crowd: each step everyone whose threshold lies below last
    step's share active acts (thresholds ~ Normal(mean_t, spread)), plus a few at random.

    ``mean_threshold`` is (runs x steps). The share active follows
    x' ~ Binomial(N, b + (1 - b) Phi((x - mean) / spread)) / N: a fold bifurcation where
    the low equilibrium disappears (mean ~ 0.23 for these numbers).
    """
    rng = np.random.default_rng(seed)
    runs, steps = mean_threshold.shape
    active = np.zeros((runs, steps), dtype=np.int64)
    share = np.full(runs, background)
    for t in range(steps):
        p = background + (1 - background) * norm.cdf((share - mean_threshold[:, t]) / spread)
        active[:, t] = rng.binomial(size, p)
        share = active[:, t] / size
    rows = {
        "run_id": np.repeat(np.arange(runs), steps), "step": np.tile(np.arange(steps), runs),
        "tier": "people", "active": active.reshape(-1), "in_post": size, "defected": 0,
        "jailed": 0, "purged": 0, "repatriated": 0,
        "measured_discontent": active.reshape(-1) / size,
        # hidden columns, which no indicator may read
        "aggrieved": size // 2, "true_discontent": 0.5, "loyal": size - active.reshape(-1),
    }
    return pd.DataFrame(rows)


def spec_for(**warning) -> WarningSpec:
    base = {"cascade": {"share": 0.5, "start": 40}, "window": 20, "detrend": "gaussian",
            "bandwidth": 10, "leads": [5, 10], "benchmark": False,
            "indicators": [{"column": "measured_discontent"}],
            "statistics": ["level", "variance", "ac1"]}
    base.update(warning)
    return WarningSpec.model_validate(base)


def row(report, statistic: str, lead: int) -> pd.Series:
    scores = report.scores
    return scores[(scores["statistic"] == statistic) & (scores["lead"] == lead)].iloc[0]


# ----------------------------------------------------------------------------- known answer
def test_slow_drift_to_a_fold_raises_variance_and_autocorrelation_before_the_cascade():
    runs, steps = 40, 200
    mean = np.full((runs, steps), 0.45)
    mean[:20] = np.linspace(0.45, 0.15, steps)  # half drift through the fold (~ step 146)
    report = analyze(granovetter_records(mean, seed=5), spec_for())
    labels = report.labels
    assert labels["cascade"].tolist() == [True] * 20 + [False] * 20
    for statistic in ("variance", "ac1"):
        score = row(report, statistic, 10)
        assert score["auc"] > 0.8 and score["auc_low"] > 0.5, score
        # ... and it rose in the runs that tipped: late (10 steps before) over early.
        values = report.values[("measured_discontent", statistic)][:20]
        late = values[np.arange(20), labels["reference_step"].to_numpy()[:20] - 10]
        assert np.median(late) > np.median(values[:, 40]), statistic


def test_best_at_a_lead_that_was_not_scored_says_which_were():
    mean = np.full((20, 120), 0.45)
    mean[:10] = np.linspace(0.45, 0.15, 120)
    report = analyze(granovetter_records(mean, seed=5), spec_for())
    assert not report.best().empty
    missing = max(report.spec.leads) + 1
    expected = f"lead: expected one of the scored leads .*, got {missing}"
    with pytest.raises(ScenarioError, match=expected):
        report.best(missing)


def test_alarms_calibrated_on_half_the_quiet_runs_are_counted_on_the_other_half():
    runs, steps = 40, 200
    mean = np.full((runs, steps), 0.45)
    mean[:20] = np.linspace(0.45, 0.15, steps)
    spec = spec_for(calibrate="quiet", quantile=0.9, cascade={"share": 0.5, "start": 100})
    alarms = analyze(granovetter_records(mean, seed=5), spec).alarms.set_index("statistic")
    ac1 = alarms.loc["ac1"]
    assert ac1["quiet"] == 10 and ac1["cascades"] == 20  # the held-out half of 20 quiet runs
    assert ac1["hit_rate"] >= 0.9 and ac1["false_alarm_rate"] <= 0.3
    assert 0 < ac1["median_lead"] < 100


def test_without_a_tipping_point_the_auc_is_one_half_within_its_interval():
    # Every run is the same stationary crowd; in half of them, at a step nobody could
    # foresee, the mean threshold jumps to zero (an outside shock, not an approach to a fold).
    runs, steps = 60, 160
    mean = np.full((runs, steps), 0.45)
    jump = np.random.default_rng(2).integers(100, 140, size=30)
    for r, at in enumerate(jump):
        mean[r, at:] = 0.0
    report = analyze(granovetter_records(mean, seed=9), spec_for())
    assert report.labels["cascade"].sum() == 30
    for statistic in ("level", "variance", "ac1"):
        score = row(report, statistic, 10)
        assert score["auc_low"] < 0.5 < score["auc_high"], score
        assert abs(score["auc"] - 0.5) < 0.2


def test_auc_interval_covers_its_value_and_ties_count_half():
    value, low, high = auc(np.arange(10.0), np.arange(10.0) + 0.5)
    assert low < value < high and value == pytest.approx(0.45)
    assert auc([1.0, 1.0], [1.0, 1.0])[0] == 0.5
    assert np.isnan(auc([], [1.0])[0])


def test_auc_and_delong_interval_match_the_pairwise_definition():
    rng = np.random.default_rng(4)
    x, y = rng.integers(0, 6, 25).astype(float), rng.integers(0, 5, 30).astype(float)  # ties
    psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)  # DeLong et al. (1988), structural components
    se = np.sqrt(v10.var(ddof=1) / x.size + v01.var(ddof=1) / y.size)
    value, low, high = auc(x, y)
    assert value == pytest.approx(psi.mean())
    assert (low, high) == pytest.approx((value - norm.ppf(0.975) * se,
                                         value + norm.ppf(0.975) * se))


def test_rolling_statistics_are_causal():
    x = np.random.default_rng(0).normal(size=(2, 60))
    changed = x.copy()
    changed[:, 40:] += 100.0  # the future changes ...
    for detrend in ("none", "linear", "gaussian"):
        before = rolling_statistics(x, 10, detrend, 5.0)
        after = rolling_statistics(changed, 10, detrend, 5.0)
        for name in before:  # ... and no value up to step 39 moves
            np.testing.assert_array_equal(before[name][:, :40], after[name][:, :40])


# ----------------------------------------------------------------------------- observables
def tiny_records(runs: int = 2) -> pd.DataFrame:
    scenario = Scenario.model_validate(TINY)
    frames = []
    for seed in range(runs):
        records = minders.simulate(scenario, seed=seed).records
        frames.append(records.assign(run_id=seed, tier=records["tier"].astype(str)))
    return pd.concat(frames, ignore_index=True)


def test_every_record_column_is_either_observable_or_hidden():
    columns = set(tiny_records(1).columns) - {"run_id", "step", "tier"}
    assert not set(OBSERVABLE) & set(HIDDEN)
    assert columns == set(OBSERVABLE) | set(HIDDEN)


def test_no_indicator_can_read_an_unobservable_column():
    records = tiny_records()
    view = ObservableRecords(records)
    assert not set(view.columns) & set(HIDDEN)
    for column in HIDDEN:
        with pytest.raises(ScenarioError, match="an observable column"):
            view.pooled(column)
        with pytest.raises((ScenarioError, ValidationError), match="observable column"):
            WarningSpec.model_validate({"indicators": [{"column": column}]})
    # Scrambling every hidden column changes no observable indicator's score.
    spec = WarningSpec.model_validate({
        "cascade": {"share": 0.3, "start": 20}, "window": 5, "leads": [0, 3],
        "benchmark": False})
    scrambled = records.copy()
    rng = np.random.default_rng(1)
    for column in HIDDEN:
        scrambled[column] = rng.permutation(scrambled[column].to_numpy())
    first, second = analyze(records, spec), analyze(scrambled, spec)
    pd.testing.assert_frame_equal(first.scores, second.scores)
    pd.testing.assert_frame_equal(first.alarms, second.alarms)


# ----------------------------------------------------------------------------- survey
def test_survey_bias_has_the_right_sign_in_a_hand_worked_case():
    # Step 0: 100 stayed, 20 discontented (truth 0.2); 10 left, 9 discontented.
    # Step 1: nobody left; 100 stayed, 50 discontented (truth 0.5).
    # With a recall of 2 steps the survey at step 1 still reaches step 0's leavers: 0.9.
    tallies = pd.DataFrame({"run_id": 0, "step": [0, 1], "left": [10, 0],
                            "left_aggrieved": [9, 0], "stayed": [100, 100],
                            "stayed_aggrieved": [20, 50]})
    out = survey(tallies, recall=2, sample=10, seed=0)
    assert out["survey"].tolist() == pytest.approx([0.9, 0.9])
    assert out["bias"].tolist() == pytest.approx([0.7, 0.4])  # positive, shrinking
    # Fewer interviews than leavers: each estimate is a share of those interviewed.
    small = survey(tallies, recall=2, sample=4, seed=0)
    assert (small["interviewed"] == 4).all()
    assert set(np.round(small["survey"] * 4, 9)) <= {3.0, 4.0}  # 9 of 10 said yes


def test_survey_tallies_agree_with_the_records_of_the_same_run():
    scenario = Scenario.model_validate(TINY)
    records = minders.simulate(scenario, seed=3).records
    tallies = survey_tallies(scenario, seed=3)
    by_step = records.groupby("step", observed=True)[["defections", "in_post", "aggrieved"]].sum()
    np.testing.assert_array_equal(tallies["left"], by_step["defections"])
    np.testing.assert_array_equal(tallies["stayed"], by_step["in_post"])
    np.testing.assert_array_equal(tallies["stayed_aggrieved"], by_step["aggrieved"])
    assert tallies["left"].sum() > 0
    # Those who left were more often discontented than those who stayed.
    assert tallies["left_aggrieved"].sum() / tallies["left"].sum() > \
        tallies["stayed_aggrieved"].sum() / tallies["stayed"].sum()


# ----------------------------------------------------------------------------- command
def write_experiment(tmp_path, warning: dict | None) -> str:
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(TINY, sort_keys=False))
    data = {"name": "tiny_warning", "scenario": "tiny.yaml", "seed": 4, "replicates": 4,
            "parameters": {"shocks.0.value": {"values": [0.6, 0.9]}},
            "output": {"records": True}}
    if warning is not None:
        data["warning"] = warning
    path = tmp_path / "warning.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


WARNING = {"cascade": {"tiers": ["w"], "share": 0.3, "start": 20}, "window": 5,
           "bandwidth": 3, "leads": [0, 2], "survey": {"runs": 2, "sample": 20},
           "align": "shock"}


def test_warning_command_runs_scores_and_saves(tmp_path):
    path = write_experiment(tmp_path, copy.deepcopy(WARNING))
    out = tmp_path / "out"
    result = runner.invoke(app, ["warning", path, "--out", str(out), "--executor", "serial"])
    assert result.exit_code == 0, result.output
    assert "runs cascade" in result.output
    folder = out / "warning"
    for name in ("scores.csv", "alarms.csv", "labels.csv", "survey.csv", "survey_summary.csv",
                 "warning.png", "trajectories.png"):
        assert (folder / name).stat().st_size > 0, name
    scores = pd.read_csv(folder / "scores.csv")
    assert set(scores["lead"]) == {0, 2} and scores["hidden"].any()
    labels = pd.read_csv(folder / "labels.csv")
    assert 0 < labels["cascade"].sum() < len(labels)  # both outcomes in this ensemble


@pytest.mark.parametrize(("warning", "message"), [
    (None, "error: warning: expected a [warning] table"),
    ({"align": "shock", "shock": 3}, "error: warning.shock: expected the index of one of"),
    ({"indicators": [{"column": "true_discontent"}]},
     "error: warning.indicators.0.column: expected an observable column"),
    ({"cascade": {"share": 1.5}}, "error: warning.cascade.share"),
    ({"indicators": [{"column": "arrests", "tiers": ["police"]}]},
     "error: warning.indicators.0.tiers: expected a tier of the scenario (w, m), got 'police'"),
])
def test_warning_command_refuses_bad_files_in_one_line(tmp_path, warning, message):
    path = write_experiment(tmp_path, warning)
    result = runner.invoke(app, ["warning", path, "--out", str(tmp_path / "o"),
                                 "--executor", "serial"])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_the_warning_table_is_not_part_of_the_experiment_hash():
    from minders.experiments import build_sweep, validate_experiment

    base = {"scenario": "overseas_workers", "set": {"run.steps": 8}, "output": {"records": True}}
    plain = build_sweep(validate_experiment(base))
    analysed = build_sweep(validate_experiment({**base, "warning": {"window": 4}}))
    assert plain.hash == analysed.hash  # a sweep's folder is re-scored, not re-run
