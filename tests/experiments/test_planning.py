"""Planning: bounds, hierarchies with minders of minders, monotone answers, the command."""

from __future__ import annotations

import sys

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


class StopsOnTheSecondRound:
    """A serial executor hit by Ctrl-C as the plan's second round starts.

    The first round's runs are then in the cache, and the rounds after it are not.
    """

    def __init__(self):
        from minders.experiments.executors import SerialExecutor

        self.inner, self.rounds = SerialExecutor(), 0
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


#: A target between the bounds at spans 1 and 24 of the tiny scenario: several rounds.
SEVERAL_ROUNDS = dict(targets=[0.12], confidence=0.9, replicates=3, max_span=24,
                      upper_spans=[5])


def test_an_interrupted_plan_keeps_its_finished_rounds(tiny, tmp_path):
    """Cut short after its first round, a plan's cache holds that round; the rerun reuses it."""
    cache = tmp_path / "runs.parquet"
    settings = SEVERAL_ROUNDS
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


def test_a_resumed_plan_starts_its_progress_at_the_runs_its_cache_gave(tiny, tmp_path):
    """Progress counts the cached runs as done from the first update (not 0 of the total),
    so the count and the time left are right; the last update gives the plan's real total."""
    cache = tmp_path / "runs.parquet"
    scenario = minders.load_scenario(tiny)
    fresh: list[tuple[int, int]] = []
    result = plan(scenario, executor="serial", progress=lambda *a: fresh.append(a),
                  **SEVERAL_ROUNDS)
    runs = result.settings["runs"]
    estimate = fresh[0][1]
    assert fresh[0] == (0, estimate) and fresh[-1] == (runs, runs)

    with pytest.raises(KeyboardInterrupt):
        plan(scenario, executor=StopsOnTheSecondRound(), cache=cache, **SEVERAL_ROUNDS)
    kept = len(pd.read_parquet(cache))
    resumed: list[tuple[int, int]] = []
    plan(scenario, executor="serial", cache=cache, progress=lambda *a: resumed.append(a),
         **SEVERAL_ROUNDS)
    assert 0 < kept < runs
    assert resumed[0] == (kept, estimate), resumed  # it starts where the first one stopped
    done = [d for d, _ in resumed]
    assert done == sorted(done) and resumed[-1] == (runs, runs)

    again: list[tuple[int, int]] = []  # all in the cache: nothing to run, all done at once
    plan(scenario, executor="serial", cache=cache, progress=lambda *a: again.append(a),
         **SEVERAL_ROUNDS)
    assert again == [(runs, runs)]


def test_the_rerun_of_a_stopped_plan_command_shows_the_saved_runs_as_done(tiny, tmp_path,
                                                                          monkeypatch):
    """Stopped on its second round, 'minders plan' says what it kept; its rerun's progress
    starts at those runs (it showed 0/total, and the time left of all the runs)."""
    import signal

    from minders.cli import _console
    from minders.experiments import executors

    out = tmp_path / "plan"
    args = ["plan", str(tiny), "--target", "0.12", "--confidence", "0.9", "--replicates", "3",
            "--max-span", "24", "--upper-spans", "5", "--out", str(out), "--executor", "serial"]
    monkeypatch.setattr(executors, "make_executor", lambda *a, **k: StopsOnTheSecondRound())
    monkeypatch.setattr(_console, "interrupt_reported", False)
    handler = signal.getsignal(signal.SIGINT)
    try:
        stopped = runner.invoke(app, args, env={"COLUMNS": "200"})
    finally:
        signal.signal(signal.SIGINT, handler)  # the command ignores Ctrl-C once it has one
    assert stopped.exit_code == 130, stopped.output
    cache = out / "plan_runs.parquet"
    assert (f"interrupted: the plan was not finished; its finished rounds are kept in {cache}: "
            "run the same command again to go on") in stopped.output
    kept = len(pd.read_parquet(cache))
    assert kept > 0 and kept % 3 == 0

    monkeypatch.undo()
    rerun = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert rerun.exit_code == 0, rerun.output
    lines = [line for line in rerun.output.splitlines() if line.startswith("plan tiny:")]
    runs = len(pd.read_parquet(cache))
    assert lines[0].startswith(f"plan tiny: {kept}/"), rerun.output  # not 0/...
    assert lines[-1].startswith(f"plan tiny: {runs}/{runs} runs"), rerun.output


def test_a_plan_imports_what_its_rounds_use_before_its_first_run(tiny):
    """SciPy's statistics were first imported at the end of round one: a Ctrl-C or SIGTERM
    that cut that import short made `python -m minders plan` end by SIGINT (status -2) after
    its one line. Imported before the first run, nothing is imported between the rounds."""
    import subprocess

    code = f"""
import sys
import minders
from minders.experiments.executors import SerialExecutor
from minders.experiments.planning import plan

class Looks(SerialExecutor):
    def map(self, fn, items):
        wanted = ("scipy.stats", "pyarrow.parquet", "minders.experiments.store")
        print([name for name in wanted if name not in sys.modules])
        raise SystemExit(0)

plan(minders.load_scenario({str(tiny)!r}), [0.1], executor=Looks())
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("to", ["process", "group"])
def test_sigterm_after_the_first_round_stops_the_plan_as_ctrl_c_does(tmp_path, to):
    """SIGTERM sent to the command (kill PID) or to its process group (timeout, a batch
    scheduler), on worker processes, just after the first round: one line saying what is kept
    and how to go on, status 143, the first round's runs kept. It came as SciPy's first import
    ran, which left `python -m` ending by SIGINT (status -2) after that line."""
    import os
    import signal
    import subprocess
    import time

    out = tmp_path / "plan"
    cache = out / "plan_runs.parquet"
    # One bisection line of the bundled scenario, short runs: the first round (spans 1 and
    # 64, 2 runs each) ends after the workers start; 6 rounds of 2 runs would follow it.
    command = [sys.executable, "-m", "minders.cli", "plan", "overseas_workers",
               "--target", "0.0005", "--confidence", "0.9", "--replicates", "2",
               "--set", "run.steps=156", "--set", "run.burn_in=0", "--extra-tiers", "0",
               "--upper-spans", "15", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + 120
        while not cache.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        if to == "group":
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 143, err
    said = [line for line in err.splitlines() if line.startswith("interrupted:")]
    assert said == [f"interrupted: the plan was not finished; its finished rounds are kept in "
                    f"{cache}: run the same command again to go on"], err
    assert "Traceback" not in err and "error:" not in err, err
    assert "leaked" not in err, err  # workers end as cleanly as the command (executors)
    assert len(pd.read_parquet(cache)) == 4 and not (out / "plan.parquet").exists()


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
