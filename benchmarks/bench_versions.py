"""Side-by-side speed of two versions of the engine: a baseline commit and this checkout.

Run ``python benchmarks/bench_versions.py`` (default baseline: ``ef7fd5e``, the last
commit of model v1). The baseline's ``src/`` and ``benchmarks/`` are exported with
``git archive`` into a temporary folder; each version then runs its own
``benchmarks/bench_engine.py`` (its own scenario of the same shape: 1,000,000
agents, mean degree ~10, 100 steps, a legitimacy shock halfway) in a fresh
process, the two alternating for ``--rounds`` rounds so that a busy machine slows
both alike. The figure of merit is each version's fastest median step over the
rounds. Results go to ``benchmarks/results/engine_versions.json``;
``docs/examples/model_v2_speed.py`` turns them into the table of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_OUT = HERE / "results" / "engine_versions.json"
BASELINE = "ef7fd5e"  # model v1, before the model v2 rules


def export(ref: str, target: Path) -> Path:
    """Write ``src/`` and ``benchmarks/`` of commit ``ref`` into ``target``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src", "benchmarks"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def measure(tree: Path, agents: int, steps: int) -> dict:
    """One run of ``tree``'s engine benchmark in a fresh process, importing ``tree``'s code."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "bench.json"
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        subprocess.run([sys.executable, str(tree / "benchmarks" / "bench_engine.py"),
                        "--agents", str(agents), "--small", "0", "--steps", str(steps),
                        "--out", str(out)], check=True, env=env, cwd=tree,
                       stdout=subprocess.DEVNULL)
        report = json.loads(out.read_text())
    return {"machine": report["machine"], "load_average_1min": os.getloadavg()[0],
            **report["results"][0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=BASELINE, help="baseline commit (default: model v1)")
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    runs: dict[str, list[dict]] = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory() as folder:
        trees = {"baseline": export(args.baseline, Path(folder)), "current": ROOT}
        for k in range(args.rounds):
            for label, tree in trees.items():
                print(f"round {k + 1}/{args.rounds}: {label} ...", flush=True)
                runs[label].append(measure(tree, args.agents, args.steps))
    best = {label: min(r["step_s_median"] for r in rs) for label, rs in runs.items()}
    report = {
        "benchmark": "engine, two versions side by side",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "baseline": args.baseline, "current": commit,
        "settings": {"agents": args.agents, "steps": args.steps, "rounds": args.rounds},
        "best_step_s_median": best,
        "ratio": best["current"] / best["baseline"],
        "runs": runs,
    }
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"median step: baseline {1000 * best['baseline']:.1f} ms, current "
          f"{1000 * best['current']:.1f} ms ({report['ratio']:.2f}x); wrote {args.out}")


if __name__ == "__main__":
    main()
