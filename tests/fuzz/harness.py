"""Runs fuzz cases in a memory-limited worker process and judges the outcome.

Every case must end with status 0 or 2, print no traceback, and on status 2
print only ``error: FIELD: expected WHAT, got VALUE`` lines (several for a
:class:`~minders.errors.ScenarioErrors`, each naming a field), within
:data:`TIME_LIMIT` seconds and :data:`MEMORY_LIMIT` bytes of address space.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fuzz.generator import case as make_case

ROOT = Path(__file__).resolve().parents[2]
#: Seconds one case may take (the whole CLI command, in the worker).
TIME_LIMIT = float(os.environ.get("MINDERS_FUZZ_TIMEOUT", "20"))
#: Address space of the worker process (bytes).
MEMORY_LIMIT = int(float(os.environ.get("MINDERS_FUZZ_MEMORY_GB", "3")) * 2**30)
#: Seconds the worker may take to start (imports NumPy, Numba, pydantic, Rich).
START_LIMIT = 120.0
#: Extra seconds for the first run of a kind in a worker: Numba compiles its kernels (or loads
#: them from its cache) then; a fresh checkout compiles them all.
COMPILE_ALLOWANCE = 180.0

ERROR_LINE = re.compile(r"^(error: )?.+: expected .+, got .*$")
#: Usage errors of Click (unknown flag, missing argument or option value) are one
#: ``error:`` line too, naming the option or argument.
USAGE_LINE = re.compile(r"^error: (.+ \(see '.+ --help'\)|Option '--[a-z-]+' requires .+)$")


class Worker:
    """A worker process serving case ids; restarted after a crash or a timeout."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.warm: set[str] = set()
        self.buffer = b""

    def _start(self) -> None:
        self.warm = set()
        self.buffer = b""
        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

        env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_NUM_THREADS="1", COLUMNS="100",
                   PYTHONFAULTHANDLER="")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.worker"], cwd=ROOT, env=env, bufsize=0,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            preexec_fn=limit, start_new_session=True,
        )

    def close(self) -> None:
        """Stop the worker."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def _readline(self, deadline: float) -> str | None:
        """The worker's next line, or None at the deadline (unbuffered: select sees all)."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:  # the worker exited
                    line, self.buffer = self.buffer, b""
                    return line.decode(errors="replace")
                self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode(errors="replace") + "\n"

    def run(self, case_id: str) -> dict:
        """Run one case; a crash or timeout becomes a result with status -9."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((case_id + "\n").encode())
        self.proc.stdin.flush()
        start = time.monotonic()
        line = self._readline(start + START_LIMIT + TIME_LIMIT)
        if not line or not line.startswith("START"):
            return self._died(case_id, "worker died before starting the case", start)
        begun = time.monotonic()
        case = make_case(case_id)
        runs = bool(case.argv) and case.argv[0] in ("run", "sweep")
        allowance = COMPILE_ALLOWANCE if runs and case.kind not in self.warm else 0.0
        line = self._readline(begun + TIME_LIMIT + allowance)
        if line is None:
            self.close()
            return self._died(case_id, f"timeout: more than {TIME_LIMIT:.0f} s", begun)
        if not line.startswith("RESULT "):
            code = self.proc.poll()
            self.close()
            return self._died(case_id, f"worker died (exit {code}; memory limit?)", begun)
        result = json.loads(line[len("RESULT "):])
        if runs and case.kind not in self.warm:
            self.warm.add(case.kind)
            result["seconds_limit"] = TIME_LIMIT + allowance
        return result

    def _died(self, case_id: str, why: str, start: float) -> dict:
        return {"id": case_id, "status": -9, "stdout": "", "stderr": why,
                "seconds": time.monotonic() - start, "max_rss_mib": 0.0}


def problems(result: dict) -> list[str]:
    """What is wrong with a case's result (empty: it passed)."""
    found = []
    status, err, out = result["status"], result["stderr"], result["stdout"]
    if status not in (0, 2):
        found.append(f"exit status {status}")
    if "Traceback" in err or "Traceback" in out:
        found.append("traceback printed")
    lines = [line for line in err.splitlines() if line.strip()]
    if status == 2:
        if not lines:
            found.append("status 2 without a message")
        elif not lines[0].startswith("error: "):
            found.append(f"first line is not 'error: ...': {lines[0][:120]!r}")
        elif len(lines) == 1 and USAGE_LINE.match(lines[0]):
            pass
        else:
            for line in lines:
                if not ERROR_LINE.match(line):
                    found.append(f"line does not name a field: {line[:160]!r}")
                    break
    if status == 0 and any(line.startswith("error") for line in lines):
        found.append("status 0 but an error was printed")
    if result["seconds"] > result.get("seconds_limit", TIME_LIMIT):
        found.append(f"took {result['seconds']:.1f} s")
    return found


def describe(result: dict) -> str:
    """A failure report: the case, how to rerun it, what was seen."""
    c = make_case(result["id"])
    return (f"case {result['id']} ({c.kind}/{c.category}); rerun: python -m tests.fuzz "
            f"--case {result['id']}\nargv: {c.argv or c.target}\nstatus {result['status']}, "
            f"{result['seconds']:.2f} s\nstderr: {result['stderr'][-1500:]}")


#: Source files of minders whose bugs this branch does not fix (other engineers own them):
#: a failure whose traceback ends in one of them is reported as an expected failure.
#: Source files a failure may be blamed on without failing the suite: none (all merged).
OTHERS: tuple[str, ...] = ()
#: Messages of known bugs in those files that print no traceback.
OTHER_SIGNATURES: dict[str, str] = {}
FRAME = re.compile(r'File "[^"]*?src/(minders/[^"]+)", line (\d+)')


def blame(result: dict) -> str | None:
    """The other engineer's file a failure comes from, or None (a bug this branch must fix)."""
    frames = FRAME.findall(result["stderr"])
    if frames:
        module, line = frames[-1]
        if module.startswith(OTHERS):
            return f"{module}:{line}"
        return None
    for signature, where in OTHER_SIGNATURES.items():
        if signature in result["stderr"]:
            return where
    return None
