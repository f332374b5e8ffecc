"""Worker process of the fuzz harness: runs cases in-process, one JSON line per case.

Reads case ids on stdin; for each writes ``START id`` then ``RESULT {json}`` on
stdout (flushed). The parent enforces the time limit and restarts the worker
when it dies; the memory limit is the worker's RLIMIT_AS (set by the parent).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

from tests.fuzz.generator import case as make_case


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    from minders.cli import main

    out, err = io.StringIO(), io.StringIO()
    old_argv, old_sigint = sys.argv, signal.getsignal(signal.SIGINT)
    sys.argv = ["minders", *argv]
    status: int = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code
                status = code if isinstance(code, int) else (0 if code is None else 1)
    except Exception:  # an uncaught exception is exactly what the fuzzer looks for
        status = -1
        err.write(traceback.format_exc())
    finally:  # main() ignores Ctrl-C once a command is done; this process goes on
        sys.argv = old_argv
        signal.signal(signal.SIGINT, old_sigint)
    return status, out.getvalue(), err.getvalue()


def _run_experiment(path: Path) -> tuple[int, str, str]:
    from minders.errors import ScenarioError
    from minders.experiments.design import build_sweep, load_experiment

    try:
        build_sweep(load_experiment(path))
    except ScenarioError as exc:
        return 2, "", f"error: {exc}\n"
    except Exception:
        return -1, "", traceback.format_exc()
    return 0, "", ""


def run_one(case_id: str) -> dict:
    """Run one case in a fresh temporary folder; return what happened."""
    case = make_case(case_id)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        for name, body in case.files.items():
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        start = time.perf_counter()
        if case.target == "experiment":
            status, out, err = _run_experiment(Path(tmp) / next(iter(case.files)))
        else:
            argv = [a.replace("{dir}", tmp) for a in case.argv]
            status, out, err = _run_cli(argv)
        seconds = time.perf_counter() - start
        err = err.replace(tmp, "{dir}")
        out = out.replace(tmp, "{dir}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
    if len(err) > 8000:  # keep whole lines: the first and the last (the checks read both)
        lines = err.splitlines()
        err = "\n".join(lines[:20] + lines[-20:]) + "\n"
    return {"id": case_id, "status": status, "stdout": out[-2000:], "stderr": err,
            "seconds": seconds, "max_rss_mib": rss}


def main() -> None:
    """Serve case ids from stdin until it closes."""
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    import minders.cli.commands  # noqa: F401  (import once, outside the timed cases)

    for line in sys.stdin:
        case_id = line.strip()
        if not case_id:
            continue
        sys.stdout.write(f"START {case_id}\n")
        sys.stdout.flush()
        try:
            result = run_one(case_id)
        except MemoryError:
            result = {"id": case_id, "status": -1, "stdout": "", "seconds": 0.0,
                      "stderr": "MemoryError (RLIMIT_AS reached)", "max_rss_mib": 0.0}
        sys.stdout.write("RESULT " + json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
