"""Planning: bounds, hierarchies with minders of minders, monotone answers, the command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import minders
from minders.cli import app
from minders.errors import ScenarioError
from minders.experiments.planning import add_overseers, minder_levels, plan, staff, upper_bound

from .conftest import TINY_SCENARIO

runner = CliRunner()


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "base.toml"
    path.write_text(TINY_SCENARIO)
    return path


def test_upper_bound_is_the_larger_of_poisson_and_t():
    zeros = np.zeros(10)
    # no defection seen in 10 x 100 position-years: the exact Poisson bound, about 3 / 1000
    assert upper_bound(zeros, zeros, 100.0, 0.95) == pytest.approx(2.9957 / 1000, rel=1e-4)
    counts = np.array([0, 0, 0, 0, 40.0])  # one cascade: the t bound carries the spread
    rates = counts / 100.0
    bound = upper_bound(counts, rates, 100.0, 0.95)
    assert bound > rates.mean() + rates.std(ddof=1) / np.sqrt(5)
    assert upper_bound(counts, rates, 100.0, 0.99) > bound
    assert upper_bound(counts[:1], rates[:1], 100.0, 0.95) > 0  # one replicate: Poisson only


def test_overseers_watch_the_top_and_spans_set_the_headcount(tiny):
    data = minders.load_scenario(tiny).model_dump(mode="json")
    assert minder_levels(data["tiers"]) == {"minders": 1, "security": 2}
    taller = add_overseers(data, 1)
    assert minder_levels(taller["tiers"]) == {"minders": 1, "security": 2, "overseers": 3}
    assert taller["tiers"]["security"]["minded_by"] == "overseers"
    staffed = staff(taller, {"minders": 10, "security": 5, "overseers": 3})
    sizes = minders.Scenario.model_validate(staffed).tier_sizes()
    assert sizes == {"workers": 300, "minders": 30, "security": 6, "overseers": 2}


def test_a_lower_target_never_needs_fewer_minders(tiny):
    targets = [0.1, 0.3, 0.5, 0.8, 1.2, 2.0]
    result = plan(minders.load_scenario(tiny), targets, confidence=0.9, replicates=4,
                  max_span=48, upper_spans=[5], extra_tiers=(0, 1), executor="serial")
    designs, choices = result.designs, result.choices
    assert set(designs["extra"]) == {0, 1}
    # along each bisection line the decision bound only grows with the span
    for _, line in designs.groupby("line"):
        assert line["ucb_line"].is_monotonic_increasing
    best = [result.cheapest(t) for t in targets]
    costs = [np.inf if row is None else row["headcount"] for row in best]
    assert costs == sorted(costs, reverse=True), costs
    assert any(np.isfinite(costs)) and costs[0] >= costs[-1]
    for target, row in zip(targets, best, strict=True):
        if row is not None:
            assert row["ucb_line"] <= target
            # nothing evaluated and feasible is cheaper
            feasible = designs[designs["ucb_line"] <= target]
            assert row["headcount"] == feasible["headcount"].min()
    assert (choices.groupby("target")["rank"].max() <= 5).all()


def test_plan_command_writes_designs_choices_and_the_cost_curve(tiny, tmp_path):
    out = tmp_path / "plan"
    args = ["plan", str(tiny), "--target", "0.6", "--target", "1.0", "--replicates", "3",
            "--max-span", "24", "--upper-spans", "5", "--out", str(out), "--executor", "serial",
            "--confidence", "0.9"]
    first = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    assert "cheapest designs" in first.output and "headcount" in first.output
    for name in ("plan.parquet", "choices.csv", "plan.json", "plan.png", "plan_runs.parquet"):
        assert (out / name).is_file(), name
    probe = tmp_path / "probe"
    probe.write_text("x")  # temporary files are 0600: what is saved has open()'s usual mode
    for name in ("plan.parquet", "choices.csv", "plan.json", "plan.png", "plan_runs.parquet"):
        assert (out / name).stat().st_mode & 0o777 == probe.stat().st_mode & 0o777, name
    designs = pd.read_parquet(out / "plan.parquet")
    again = runner.invoke(app, args, env={"COLUMNS": "200"})  # reuses the cached runs
    assert again.exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "plan.parquet"), designs)


def test_an_interrupted_plan_keeps_its_finished_rounds(tiny, tmp_path):
    """Cut short after its first round, a plan's cache holds that round; the rerun reuses it."""
    from minders.experiments.executors import make_executor

    class StopsOnTheSecondRound:
        def __init__(self):
            self.inner, self.rounds = make_executor("serial"), 0
            self.workers, self.threads = self.inner.workers, self.inner.threads

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def map(self, fn, items):
            self.rounds += 1
            if self.rounds == 2:
                raise KeyboardInterrupt
            return self.inner.map(fn, items)

    cache = tmp_path / "runs.parquet"
    # A target between the bounds at spans 1 and 24: the bisection takes several rounds.
    settings = dict(targets=[0.12], confidence=0.9, replicates=3, max_span=24, upper_spans=[5])
    scenario = minders.load_scenario(tiny)
    with pytest.raises(KeyboardInterrupt):
        plan(scenario, executor=StopsOnTheSecondRound(), cache=cache, **settings)
    kept = pd.read_parquet(cache)
    assert len(kept) > 0 and len(kept) % 3 == 0  # whole designs of the first round
    full = plan(scenario, executor="serial", cache=cache, **settings)
    fresh = plan(scenario, executor="serial", **settings)
    pd.testing.assert_frame_equal(full.designs, fresh.designs)  # same answer with the cache
    again = pd.read_parquet(cache)
    assert not again.duplicated(["run_key", "staffing", "replicate"]).any()
    assert set(map(tuple, kept[["staffing", "replicate"]].to_numpy())) <= set(
        map(tuple, again[["staffing", "replicate"]].to_numpy()))


@pytest.mark.parametrize(("args", "words"), [
    (["--target", "0.1", "--confidence", "1.5"], "--confidence"),
    (["--target", "0.1", "--tier", "police"], "--tier: expected a tier"),
    (["--target", "0.1", "--upper-spans", "5,x"], "--upper-spans"),
    (["--target", "-1"], "--target"),
])
def test_plan_errors_exit_2(tiny, args, words):
    result = runner.invoke(app, ["plan", str(tiny), "--executor", "serial", *args])
    assert result.exit_code == 2 and words in result.output, result.output


def test_plan_refuses_other_kinds_and_bad_settings(tiny):
    scenario = minders.load_scenario(tiny)
    with pytest.raises(ScenarioError, match="--extra-tiers"):
        plan(scenario, [0.1], extra_tiers=(7,), executor="serial")
    with pytest.raises(ScenarioError, match="--target"):
        plan(scenario, [], executor="serial")
