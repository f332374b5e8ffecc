"""Long fuzz run: ``python -m tests.fuzz [--cases N] [--start SEED] [--case ID] [--out FILE]``.

Runs every known regression case and N generated cases (default
``$MINDERS_FUZZ_CASES`` or 10,000) and writes a summary (cases per kind and
category, failures, wall time) as JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import sys
import time
from pathlib import Path

from tests.fuzz.generator import KNOWN, case
from tests.fuzz.harness import (
    MEMORY_LIMIT,
    ROOT,
    TIME_LIMIT,
    Worker,
    blame,
    describe,
    problems,
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz")
    parser.add_argument("--cases", type=int,
                        default=int(os.environ.get("MINDERS_FUZZ_CASES", "10000")))
    parser.add_argument("--start", type=int, default=int(os.environ.get("MINDERS_FUZZ_START", "0")))
    parser.add_argument("--case", action="append", help="run only this case id (repeatable)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "fuzz.json")
    args = parser.parse_args()
    ids = args.case or [f"k:{name}" for name in KNOWN] + [
        f"g:{seed}" for seed in range(args.start, args.start + args.cases)]
    worker = Worker()
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    statuses: collections.Counter = collections.Counter()
    failures, expected = [], []
    slowest = (0.0, "")
    began = time.monotonic()
    try:
        for n, case_id in enumerate(ids, 1):
            c = case(case_id)
            result = worker.run(case_id)
            counts["kind"][c.kind] += 1
            counts["category"][c.category] += 1
            statuses[str(result["status"])] += 1
            slowest = max(slowest, (result["seconds"], case_id))
            found = problems(result)
            if found:
                where = blame(result) if result["status"] != -9 else None
                reason = c.xfail or (f"bug in {where} (another branch)" if where else None)
                entry = {"id": case_id, "kind": c.kind, "category": c.category,
                         "problems": found, "status": result["status"],
                         "stderr": result["stderr"][-600:], "xfail": reason}
                (expected if reason else failures).append(entry)
                if args.case or not reason:
                    print(describe(result), "\n  ->", "; ".join(found), file=sys.stderr)
            if n % 500 == 0:
                print(f"{n:,}/{len(ids):,} cases, {len(failures)} failures, "
                      f"{time.monotonic() - began:.0f} s", file=sys.stderr)
    finally:
        worker.close()
    wall = time.monotonic() - began
    summary = {
        "cases": len(ids), "known_cases": sum(i.startswith("k:") for i in ids),
        "generated_cases": sum(i.startswith("g:") for i in ids),
        "first_seed": args.start, "wall_seconds": round(wall, 1),
        "cases_per_second": round(len(ids) / wall, 1) if wall else None,
        "per_kind": dict(counts["kind"]), "per_category": dict(counts["category"]),
        "exit_status": dict(statuses), "slowest_case": {"id": slowest[1],
                                                        "seconds": round(slowest[0], 2)},
        "limits": {"seconds_per_case": TIME_LIMIT, "address_space_gib": MEMORY_LIMIT / 2**30},
        "failures": failures, "expected_failures": expected,
        "python": platform.python_version(), "machine": platform.machine(),
    }
    if not args.case:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    print(f"{len(ids):,} cases in {wall:.0f} s: {len(failures)} failures, "
          f"{len(expected)} expected failures (xfail)", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
