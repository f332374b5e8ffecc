"""Fuzz the command line with mutated scenario, experiment and graph files, and flags.

The fast subset (every named regression case and ``MINDERS_FUZZ_FAST`` generated
cases, default 250) runs with the test suite; ``make fuzz`` runs 10,000+
(``python -m tests.fuzz``). Every case runs in one memory-limited worker
process (see :mod:`tests.fuzz.harness`).
"""

from __future__ import annotations

import os

import pytest

from tests.fuzz.generator import KNOWN, case
from tests.fuzz.harness import Worker, blame, describe, problems

FAST = int(os.environ.get("MINDERS_FUZZ_FAST", "250"))
#: Generated cases of the fast subset start here (change it to explore new cases).
FIRST_SEED = int(os.environ.get("MINDERS_FUZZ_START", "0"))


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


def _check(worker: Worker, case_id: str) -> None:
    result = worker.run(case_id)
    found = problems(result)
    if not found:
        return
    reason = case(case_id).xfail
    if reason is None and result["status"] != -9:
        where = blame(result)
        reason = f"bug in {where} (another branch fixes it)" if where else None
    message = describe(result) + "\n-> " + "; ".join(found)
    if reason is not None:
        pytest.xfail(f"{reason}: {'; '.join(found)}")
    pytest.fail(message, pytrace=False)


@pytest.mark.parametrize("name", list(KNOWN))
def test_known_case(worker, name):
    _check(worker, f"k:{name}")


@pytest.mark.parametrize("seed", range(FIRST_SEED, FIRST_SEED + FAST))
def test_generated_case(worker, seed):
    _check(worker, f"g:{seed}")
