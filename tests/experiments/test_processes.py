"""A sweep's processes: interrupted with Ctrl-C, or killed, it leaves nothing behind."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import GRID, write_experiment

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: Seconds a test waits for something that takes well under a second when all is well.
PATIENCE = 60.0


def _long_sweep(folder: Path) -> Path:
    """An experiment of a few minutes on two workers: it is always stopped long before."""
    data = copy.deepcopy(GRID)
    data["replicates"] = 400
    data["set"] = {"run.steps": 400}
    data["parameters"] = {"tiers.workers.span": {"values": [5, 20, 40]}}
    return write_experiment(folder, data)


def _restore_sigint() -> None:
    # A suite run in the background (`pytest &`) inherits an ignored SIGINT, and an ignored
    # signal stays ignored across exec: give the child the default, so SIGINT reaches it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(folder: Path) -> subprocess.Popen[str]:
    experiment = _long_sweep(folder)
    command = [sys.executable, "-m", "minders.cli", "sweep", str(experiment),
               "--out", str(folder / "out"), "--workers", "2"]
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_restore_sigint, start_new_session=True, env=env)


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (psutil where installed, else /proc)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with the test extra's dask
        return _children_proc(pid)
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _parents() -> dict[int, int]:
    """The parent of every process, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[1])
    return parents


def _children_proc(pid: int) -> list[int]:
    parents = _parents()
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return not sys.platform.startswith("linux")


def _wait_for_workers(proc: subprocess.Popen[str], count: int) -> list[int]:
    """Descendants of the sweep once its workers run (fork server, tracker, ``count`` workers)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        kids = _children(proc.pid)
        if len(kids) >= count + 2 and (Path(proc.args[-3]) / "runs").is_dir():
            return kids
        time.sleep(0.1)
    raise AssertionError(f"the sweep did not start its workers: {_children(proc.pid)}")


def test_workers_die_with_a_killed_sweep(tmp_path):
    proc = _start(tmp_path)
    kids: list[int] = []
    try:
        kids = _wait_for_workers(proc, 2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=PATIENCE)
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.1)
        assert not [k for k in kids if _alive(k)], "processes of the killed sweep survived"
    finally:
        for pid in [proc.pid, *_children(proc.pid), *kids]:  # survivors hold our pipes open
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=PATIENCE)


@pytest.mark.parametrize(("when", "stop"), [
    ("start-up", "ctrl-c"), ("running", "ctrl-c"), ("start-up", "sigterm"), ("running", "sigterm"),
])
def test_ctrl_c_or_sigterm_says_interrupted_once_and_exits_130_or_143(tmp_path, when, stop):
    proc = _start(tmp_path)
    kids: list[int] = []
    try:
        if when == "running":
            kids = _wait_for_workers(proc, 2)
            time.sleep(1.0)
        else:
            time.sleep(1.5)  # importing, building the sweep or starting the workers
        if stop == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole process group
        else:
            os.kill(proc.pid, signal.SIGTERM)  # as `timeout` or a batch scheduler stops it
        out, err = proc.communicate(timeout=PATIENCE)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == (130 if stop == "ctrl-c" else 143), err
    assert "leaked" not in err, err  # semaphores of the pool released, as on a normal exit
    lines = [line for line in err.splitlines() if line.strip()]
    assert [line for line in lines if line.startswith("interrupted:")] == lines[-1:], err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    deadline = time.monotonic() + 10.0  # workers are stopped, not left to finish their chunks
    while time.monotonic() < deadline and any(_alive(k) for k in kids):
        time.sleep(0.1)
    assert not [k for k in kids if _alive(k)]


def test_a_script_without_a_main_guard_is_told_why_its_workers_died(tmp_path):
    """Workers import the script that started them: an unguarded script gets a clear hint."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import minders\n"
        "scenario = minders.load_scenario('overseas_workers')\n"
        f"minders.simulate(scenario, replicates=2, workers=2, out={str(tmp_path / 'out')!r})\n"
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("minders.experiments.executors.WorkerDied: a worker process ended")
    assert "if __name__ == \"__main__\":" in last and str(script) in last


def test_a_killed_worker_ends_the_sweep_with_one_line_and_keeps_its_runs(tmp_path):
    proc = _start(tmp_path)
    try:
        _wait_for_workers(proc, 2)
        # the sweep's children are the fork server and the resource tracker; theirs, workers
        helpers = [k for k, parent in _parents().items() if parent == proc.pid]
        workers = [k for helper in helpers for k in _children_proc(helper)]
        assert workers, "no worker found"
        os.kill(workers[0], signal.SIGKILL)  # as the kernel's out-of-memory killer would
        _, err = proc.communicate(timeout=PATIENCE)
    finally:
        for pid in [proc.pid, *_children(proc.pid)]:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 1, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith("error: a worker process ended abruptly"), err
    assert "Traceback" not in err  # (the resource tracker may warn of the dead worker's locks)
    assert (tmp_path / "out" / "runs").is_dir()

