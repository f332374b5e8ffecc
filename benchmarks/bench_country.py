"""Benchmark of a whole country: ``scenarios/north_korea.toml`` at 1:1 (26.1 million positions).

Run ``python benchmarks/bench_country.py`` on a quiet machine. In a fresh
Python process it

1. loads the kernels on the same scenario at 1:1000 (not timed with the rest);
2. builds the whole country (``Simulation``), and reports the time and the
   memory: resident memory held after the build and the peak during it, per
   position, both above what the process held before;
3. runs ``--steps`` weeks (default 52, one simulated year; the burn-in is
   skipped, since its steps cost the same) and reports the median and total
   step time, seconds per simulated year and agent-steps per second, the
   time per stage of the step, and the peak memory of the whole run.

The figures go to ``benchmarks/results/country.json`` (with the machine and
the git commit) and are summarised in docs/benchmarks.md, 'A whole country'.
The issue's goals (8 GiB, 90 s per simulated year on 2 cores) are reported,
not asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import current_rss_bytes, machine_info, peak_rss_bytes  # noqa: E402

OUT = HERE / "results" / "country.json"
GOAL_BYTES = 8 * 2**30
GOAL_SECONDS_PER_YEAR = 90.0
RESIDENT_TIERS = ("capital", "borderlanders", "interior", "workers", "elites")


def country(scale: int, steps: int):
    """The country with its ward tiers divided by ``scale``, ``steps`` weeks, no burn-in.

    The border closure of year 3 is left out: a benchmark year is an ordinary one.
    """
    from minders import load_scenario
    from minders.kinds import validate_scenario

    data = load_scenario("north_korea").model_dump(mode="json")
    for name in RESIDENT_TIERS:
        data["tiers"][name]["size"] = max(30, data["tiers"][name]["size"] // scale)
    data["run"].update(steps=steps, burn_in=0)
    data["shocks"] = []
    return validate_scenario(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=52, help="weeks to run (default 52)")
    parser.add_argument("--scale", type=int, default=1,
                        help="divide the ward tiers by this (default 1: the whole country)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import numpy as np

    from minders.engine import Simulation

    Simulation(country(1000, 4)).run()  # load the kernels
    scenario = country(args.scale, args.steps)
    before = current_rss_bytes()
    peak_before = peak_rss_bytes()
    start = time.perf_counter()
    sim = Simulation(scenario, timings=True)
    build_s = time.perf_counter() - start
    after_build = current_rss_bytes()
    build_peak = peak_rss_bytes()
    n = sim.population.size
    print(f"built {n:,} positions in {build_s:.1f} s: "
          f"{(after_build - before) / n:.0f} bytes a position held, "
          f"{(build_peak - before) / n:.0f} at the peak", file=sys.stderr, flush=True)

    marks = [time.perf_counter()]

    def tick(done: int, total: int) -> None:
        marks.append(time.perf_counter())
        if done % 4 == 0 or done == total:
            print(f"  step {done}/{total}: {marks[-1] - marks[-2]:.2f} s", file=sys.stderr,
                  flush=True)

    result = sim.run(progress=tick)
    step_s = np.diff(np.array(marks))
    run_s = marks[-1] - marks[0]
    end_rss = current_rss_bytes()
    peak = peak_rss_bytes()
    per_year = float(np.median(step_s)) * scenario.run.steps_per_year
    records = result.records
    figures = {
        "benchmark": "country",
        "machine": machine_info(),
        "scenario": "north_korea" + (f" at 1:{args.scale}" if args.scale > 1 else ""),
        "positions": n,
        "tier_sizes": scenario.tier_sizes(),
        "edges_undirected": int(sim.graph.indices.size // 2),
        "steps": args.steps,
        "build_s": build_s,
        "bytes_per_position_held_after_build": (after_build - before) / n,
        "bytes_per_position_build_peak": (build_peak - before) / n,
        "bytes_per_position_after_run": (end_rss - before) / n,
        "peak_rss_bytes": peak,
        "peak_rss_before_build_bytes": peak_before,
        "run_s": run_s,
        "step_s_median": float(np.median(step_s)),
        "step_s_max": float(step_s.max()),
        "seconds_per_simulated_year": per_year,
        "agent_steps_per_s": n * args.steps / run_s,
        "stage_seconds": dict(zip(*(sim.timings()[c].tolist() for c in ("stage", "seconds")),
                                  strict=True)),
        "defections_per_year": float(records["defections"].sum() / args.steps
                                     * scenario.run.steps_per_year),
        "goals": {"peak_bytes": GOAL_BYTES, "seconds_per_year": GOAL_SECONDS_PER_YEAR,
                  "memory_met": peak <= GOAL_BYTES,
                  "speed_met": per_year <= GOAL_SECONDS_PER_YEAR},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in figures.items() if k not in ("machine", "tier_sizes")},
                     indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
