"""Benchmark of the minders engine: build time, step time and peak memory.

Run ``make bench`` (or ``python benchmarks/bench_engine.py``). Each size runs in
a fresh Python subprocess so that its peak resident memory (``ru_maxrss``)
belongs to that run alone. Inside the subprocess the Numba kernels are first
warmed up on a tiny scenario, so that loading (or compiling) them is reported
separately from the build and run times. The run is timed per stage of the
loop as well (``Simulation(..., timings=True)``, see ``Simulation.timings``).

The scenario is built in code: residents (~94% of positions) and workers
posted abroad, both minded by ``minders`` at a span of 20; minders minded by
``security`` at a span of 20; ``security`` unsupervised. Vacated posts are
refilled after a delay, and one legitimacy shock halfway through the run sets
off acts, arrests, defections, purges and refills, so every part of the step
does real work (only the info_ops branch of surveil stays off).

The project's targets: 1,000,000 agents (mean degree ~10) for 100 steps in
under 20 s on a 2-core machine, with a peak memory under 1 GiB. They are
reported, not enforced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "engine.json"
TARGET_SECONDS = 20.0
TARGET_BYTES = 2**30
TARGET_AGENTS = 1_000_000
SPAN = 20
WORKER_SHARE = 0.008  # of all positions: workers posted abroad


# --------------------------------------------------------------------------- the scenario
def scenario_dict(agents: int, steps: int, seed: int = 1) -> dict:
    """A four-tier scenario of about ``agents`` positions in all.

    With spans of 20 at both levels, the positions are wards * (1 + 1/20 + 1/400)
    up to rounding, so the ward count is solved from the total.
    """
    wards = round(agents / (1.0 + 1.0 / SPAN + 1.0 / SPAN**2))
    workers = max(SPAN, round(agents * WORKER_SHARE))
    residents = max(SPAN, wards - workers)
    return {
        "name": f"bench-{agents}",
        "run": {"steps": steps, "seed": seed},
        "network": {"unit_ties": 4, "family_size": 3, "random_ties": 1},
        "tiers": {
            "residents": {
                "size": residents, "minded_by": "minders", "span": SPAN,
                "legitimacy": 0.8, "replace_delay": 8,
            },
            "workers": {
                "size": workers, "minded_by": "minders", "span": SPAN, "abroad": 1.0,
                "abroad_chance": 0.02, "legitimacy": 0.7, "replace_delay": 8,
            },
            "minders": {
                "size": "auto", "minded_by": "security", "span": SPAN,
                "legitimacy": 0.9, "replace_delay": 4,
            },
            "security": {"size": "auto", "legitimacy": 0.95, "replace_delay": 2},
        },
        "shocks": [
            {
                "kind": "legitimacy", "start": steps // 2, "value": 0.3, "ramp": 5,
                "tiers": ["residents", "workers"], "label": "crisis",
            }
        ],
    }


# --------------------------------------------------------------------------- memory
def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def current_rss_bytes() -> int | None:
    """Current resident set size from /proc (None where there is no /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------- one size (child)
def run_child(agents: int, steps: int, seed: int) -> dict:
    """Measure one size in this (fresh) process and return the figures."""
    import numpy as np

    from minders.engine import Simulation
    from minders.scenario import Scenario

    baseline = {"peak_rss_bytes": peak_rss_bytes(), "rss_bytes": current_rss_bytes()}

    # Warm-up: load (or compile) every kernel on a tiny scenario.
    start = time.perf_counter()
    tiny = Scenario.model_validate(scenario_dict(2_000, 10, seed))
    Simulation(tiny).run()
    warmup_s = time.perf_counter() - start
    after_warmup = {"peak_rss_bytes": peak_rss_bytes(), "rss_bytes": current_rss_bytes()}

    scenario = Scenario.model_validate(scenario_dict(agents, steps, seed))
    start = time.perf_counter()
    sim = Simulation(scenario, timings=True)  # a few perf_counter calls per step
    build_s = time.perf_counter() - start
    after_build = {"peak_rss_bytes": peak_rss_bytes(), "rss_bytes": current_rss_bytes()}

    marks = [time.perf_counter()]
    cpu_start = time.process_time()  # every thread of the process
    result = sim.run(progress=lambda done, total: marks.append(time.perf_counter()))
    run_cpu_s = time.process_time() - cpu_start
    run_s = marks[-1] - marks[0]
    step_s = np.diff(np.array(marks))
    end = {"peak_rss_bytes": peak_rss_bytes(), "rss_bytes": current_rss_bytes()}

    degree = sim.graph.degree
    ward = ~sim.population.is_minder
    records = result.records
    flows = {
        name: int(records[name].sum())
        for name in ("attempts", "defections", "interceptions", "arrests", "purges")
    }
    last = records[records["step"] == records["step"].max()]
    stocks = {
        name: int(last[name].sum())
        for name in ("loyal", "falsifying", "active", "jailed", "purged", "defected")
    }
    n = sim.population.size
    return {
        "agents": n,
        "stage_seconds": dict(zip(*(sim.timings()[c].tolist() for c in ("stage", "seconds")),
                                  strict=True)),
        "tier_sizes": scenario.tier_sizes(),
        "steps": steps,
        "edges_undirected": int(sim.graph.indices.size // 2),
        "mean_degree": float(degree.mean()),
        "mean_degree_wards": float(degree[ward].mean()),
        "mean_degree_minders": float(degree[~ward].mean()),
        "max_degree": int(degree.max()),
        "warmup_s": warmup_s,
        "build_s": build_s,
        "run_s": run_s,
        "run_cpu_s": run_cpu_s,
        "total_s": build_s + run_s,
        "step_s_median": float(np.median(step_s)),
        "step_s_min": float(step_s.min()),
        "step_s_max": float(step_s.max()),
        "agent_steps_per_s": n * steps / run_s,
        "rss": {
            "after_imports": baseline,
            "after_warmup": after_warmup,
            "after_build": after_build,
            "end": end,
        },
        "peak_rss_bytes": end["peak_rss_bytes"],
        "flows": flows,
        "final_stocks": stocks,
    }


# --------------------------------------------------------------------------- the parent
def measure(agents: int, steps: int, seed: int) -> dict:
    """Run one size in a fresh interpreter and return its figures."""
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--child",
        "--agents", str(agents), "--steps", str(steps), "--seed", str(seed),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"the benchmark of {agents:,} agents failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine_info() -> dict:
    """Where the figures come from."""
    import numba
    import numpy

    cpu = platform.processor() or None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            cwd=HERE, check=False,
        ).stdout.strip() or None
    except OSError:
        commit = None
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity) if affinity is not None else None,
        "memory_bytes": memory,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "git_commit": commit,
    }


def verdict(row: dict) -> dict:
    """The project's targets, checked against the run of ``--agents`` positions."""
    scale = TARGET_AGENTS / row["agents"]
    base = row["rss"]["after_warmup"]["peak_rss_bytes"]  # interpreter, libraries, kernels
    return {
        "agents": row["agents"],
        "target_seconds": TARGET_SECONDS,
        "target_peak_bytes": TARGET_BYTES,
        "at_target_size": math.isclose(row["agents"], TARGET_AGENTS, rel_tol=0.01),
        "time_met": row["total_s"] * scale <= TARGET_SECONDS,
        "run_only_met": row["run_s"] * scale <= TARGET_SECONDS,
        "memory_met": base + (row["peak_rss_bytes"] - base) * scale <= TARGET_BYTES,
    }


def print_table(rows: list[dict], check: dict) -> None:
    mib = 2**20
    head = (
        f"{'agents':>10} {'degree':>6} {'warmup s':>8} {'build s':>8} {'run s':>8} "
        f"{'total s':>8} {'ms/step':>8} {'Magent-steps/s':>14} {'base MiB':>9} {'peak MiB':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        base = r["rss"]["after_imports"]["rss_bytes"] or r["rss"]["after_imports"]["peak_rss_bytes"]
        print(
            f"{r['agents']:>10,} {r['mean_degree']:>6.2f} {r['warmup_s']:>8.2f} "
            f"{r['build_s']:>8.2f} {r['run_s']:>8.2f} {r['total_s']:>8.2f} "
            f"{1e3 * r['step_s_median']:>8.1f} {r['agent_steps_per_s'] / 1e6:>14.2f} "
            f"{base / mib:>9.0f} {r['peak_rss_bytes'] / mib:>9.0f}"
        )
    for r in rows:
        total = sum(r["stage_seconds"].values()) or 1.0
        shares = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in r["stage_seconds"].items())
        print(f"{r['agents']:>10,} agents, time per stage of the loop: {shares}")
    yes = {True: "met", False: "NOT met"}
    note = "" if check["at_target_size"] else f" (scaled linearly from {check['agents']:,} agents)"
    print(
        f"\ntargets{note}: time <= {TARGET_SECONDS:.0f} s (build + run): {yes[check['time_met']]}"
        f"; run alone: {yes[check['run_only_met']]}"
        f"; peak memory < 1 GiB: {yes[check['memory_met']]}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=TARGET_AGENTS,
                        help="positions in the large run (default: %(default)s)")
    parser.add_argument("--small", default="10000,100000,10000000",
                        help="positions of the other runs, comma-separated, for the cost per "
                        "agent-step from 1e4 to 1e7; 0 to skip (default: %(default)s)")
    parser.add_argument("--steps", type=int, default=100, help="steps (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1, help="base seed (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="JSON file for the results (default: benchmarks/results/engine.json)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(run_child(args.agents, args.steps, args.seed)))
        return 0

    others = [int(size) for size in str(args.small).split(",") if size.strip()]
    sizes = sorted({s for s in (*others, args.agents) if s > 0})
    rows = []
    for agents in sizes:
        print(f"benchmarking {agents:,} agents x {args.steps} steps ...", flush=True)
        rows.append(measure(agents, args.steps, args.seed))
    check = verdict(next(r for size, r in zip(sizes, rows, strict=True) if size == args.agents))
    print()
    print_table(rows, check)

    report = {
        "benchmark": "engine",
        "machine": machine_info(),
        "settings": {"steps": args.steps, "seed": args.seed, "scenario": "see scenario_dict()"},
        "results": rows,
        "targets": check,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
