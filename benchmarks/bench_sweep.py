"""Benchmark of the experiment layer: runs per second and the cost of Dask.

Run ``python benchmarks/bench_sweep.py``. It measures

1. **Throughput**: an ensemble of ``--runs`` (1,000) runs of the engine
   benchmark's scenario at ``--agents`` (10,000) positions x ``--steps`` (100)
   steps, on the local executor (``--workers`` processes, default 2), written to
   a results folder as ``minders sweep`` does. Reported as runs per second of
   wall time, executor start-up included, and per second of the sweep itself.
2. **Dask overhead**: the same ensemble on a Dask LocalCluster with as many
   single-threaded worker processes. The overhead per run is the difference of
   the two wall times divided by the number of runs, with and without the time
   it takes to start each executor.
3. **Per-task overhead**: ``--tiny-runs`` runs of a 300-agent, 20-step scenario in
   chunks of one run each, on both executors: nearly all of the time is
   scheduling, pickling and writing parts, not simulating.
4. A single-thread, in-process baseline of the same runs (no executor, no
   files), for the efficiency of the process pool.

Each executor measurement is repeated ``--repeat`` times; the best (shortest)
is reported as well as every value. The figures go to
``benchmarks/results/sweep.json``. Nothing is asserted: speed lives here, not
in the tests.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "sweep.json"
sys.path.insert(0, str(HERE))

from bench_engine import machine_info, scenario_dict  # noqa: E402

METRICS = [
    {"kind": "defections"},
    {"kind": "defection_rate", "tier": ["residents", "workers"]},
    {"kind": "peak_surprise_gap"},
    {"kind": "cascade_size"},
    {"kind": "surveillance_headcount"},
]


def ensemble(agents: int, steps: int, runs: int, name: str):
    """A sweep without parameters: ``runs`` replicates of one scenario."""
    from minders.experiments import Experiment, build_sweep
    from minders.scenario import Scenario

    base = Scenario.model_validate(scenario_dict(agents, steps))
    experiment = Experiment.model_validate({
        "name": name, "scenario": "(built in code)", "seed": 1, "replicates": runs,
        "metrics": METRICS,
    })
    return build_sweep(experiment, base=base)


def cpu_pressure() -> str | None:
    """Linux pressure-stall line for the CPU: how much other work competed with the benchmark."""
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return None


def timed_sweeps(sweep, factories: dict, chunk: int | None, repeat: int) -> dict:
    """Run the sweep ``repeat`` times on each executor, interleaved, into fresh folders.

    Interleaving (local, dask, local, dask, ...) exposes both executors to the
    same background load; the best of each is reported. Start-up is timed
    apart: start every worker, run nothing, shut down.
    """
    from minders.experiments import load_results, run_sweep

    raw: dict[str, dict[str, list]] = {
        name: {"wall": [], "startup": [], "reports": []} for name in factories
    }
    reference = None
    for _ in range(repeat):
        for name, factory in factories.items():
            folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
            try:
                start = time.perf_counter()
                with factory() as executor:
                    list(executor.map(abs, range(-executor.workers, 0)))
                raw[name]["startup"].append(time.perf_counter() - start)
                start = time.perf_counter()
                report = run_sweep(sweep, folder / "out", factory(), chunk=chunk)
                raw[name]["wall"].append(time.perf_counter() - start)
                raw[name]["reports"].append(report)
                table = load_results(folder / "out")
                if reference is None:
                    reference = table
                # every repeat on every executor gives the same table
                assert table.equals(reference), f"{name} gave another table"
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    rows = {}
    for name, values in raw.items():
        walls, startups = values["wall"], values["startup"]
        best = min(range(repeat), key=walls.__getitem__)
        runs = sweep.n_runs
        rows[name] = {
            "runs": runs,
            "workers": values["reports"][best].workers,
            "chunk_size": values["reports"][best].chunk_size,
            "wall_s": walls,
            "startup_s": startups,
            "best_wall_s": walls[best],
            "best_startup_s": min(startups),
            "runs_per_s": runs / walls[best],
            "runs_per_s_after_startup": runs / max(1e-9, walls[best] - min(startups)),
        }
    return rows


def serial_baseline(sweep, runs: int) -> dict:
    """Runs in this process, one Numba thread, no files: the pure cost of a run."""
    import numpy as np

    from minders.experiments.runner import run_chunk
    from minders.experiments.sweep import chunk_task

    run_chunk(chunk_task(sweep, np.arange(1), threads=1))  # load the kernels
    start = time.perf_counter()
    run_chunk(chunk_task(sweep, np.arange(runs), threads=1))
    seconds = time.perf_counter() - start
    return {"runs": runs, "seconds": seconds, "runs_per_s": runs / seconds,
            "seconds_per_run": seconds / runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=10_000, help="positions per run")
    parser.add_argument("--steps", type=int, default=100, help="steps per run")
    parser.add_argument("--runs", type=int, default=1000, help="runs in the ensemble")
    parser.add_argument("--workers", type=int, default=2, help="processes / Dask workers")
    parser.add_argument("--tiny-runs", type=int, default=400,
                        help="runs of the per-task overhead test (0 skips it)")
    parser.add_argument("--baseline-runs", type=int, default=100,
                        help="runs of the in-process baseline")
    parser.add_argument("--repeat", type=int, default=3, help="repeats of each measurement")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON file")
    args = parser.parse_args(argv)

    from minders.experiments.executors import DaskExecutor, LocalExecutor

    def local():
        return LocalExecutor(workers=args.workers)

    def dask():
        return DaskExecutor(workers=args.workers)

    pressure = {"before": cpu_pressure()}
    sweep = ensemble(args.agents, args.steps, args.runs, "bench-sweep")
    positions = sum(sweep_sizes(sweep).values())
    print(f"ensemble: {args.runs:,} runs of {positions:,} agents x {args.steps} steps, "
          f"{args.workers} workers", flush=True)
    baseline = serial_baseline(sweep, args.baseline_runs)
    print(f"  in-process, 1 thread: {baseline['runs_per_s']:.1f} runs/s", flush=True)
    results = {"baseline_in_process_one_thread": baseline}
    factories = {"local": local, "dask": dask}
    results.update(timed_sweeps(sweep, factories, None, args.repeat))
    for name in factories:
        row = results[name]
        print(f"  {name:>5}: {row['best_wall_s']:.1f} s, {row['runs_per_s']:.1f} runs/s "
              f"(start-up {row['best_startup_s']:.1f} s; "
              f"{row['runs_per_s_after_startup']:.1f} runs/s after it), chunks of "
              f"{row['chunk_size']}; all: {', '.join(f'{w:.1f}' for w in row['wall_s'])} s",
              flush=True)
    local_row, dask_row = results["local"], results["dask"]
    overhead = {
        "per_run_ms": 1e3 * (dask_row["best_wall_s"] - local_row["best_wall_s"]) / args.runs,
        "per_run_ms_after_startup": 1e3 * (
            (dask_row["best_wall_s"] - dask_row["best_startup_s"])
            - (local_row["best_wall_s"] - local_row["best_startup_s"])) / args.runs,
        "startup_s": dask_row["best_startup_s"] - local_row["best_startup_s"],
    }
    results["dask_overhead"] = overhead
    print(f"  Dask overhead: {overhead['per_run_ms']:.2f} ms per run "
          f"({overhead['per_run_ms_after_startup']:.2f} ms after start-up)", flush=True)
    efficiency = local_row["runs_per_s_after_startup"] / (
        args.workers * baseline["runs_per_s"])
    results["local_efficiency_vs_in_process"] = efficiency

    if args.tiny_runs:
        tiny = ensemble(300, 20, args.tiny_runs, "bench-tiny")
        rows = timed_sweeps(tiny, factories, 1, args.repeat)
        for name in factories:
            row = rows[name]
            row["ms_per_task_after_startup"] = 1e3 / row["runs_per_s_after_startup"]
            print(f"  tiny runs, one per task, {name:>5}: "
                  f"{row['ms_per_task_after_startup']:.1f} ms per task", flush=True)
        rows["dask_minus_local_ms_per_task"] = (
            rows["dask"]["ms_per_task_after_startup"] - rows["local"]["ms_per_task_after_startup"])
        results["per_task_overhead"] = rows
    pressure["after"] = cpu_pressure()

    report = {
        "benchmark": "sweep",
        "machine": machine_info(),
        "settings": {
            "agents": positions, "steps": args.steps, "runs": args.runs,
            "workers": args.workers, "repeat": args.repeat,
            "scenario": "bench_engine.scenario_dict",
            "metrics": METRICS, "numba_threads_per_worker": "cores // workers",
        },
        "cpu_pressure": pressure,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def sweep_sizes(sweep) -> dict[str, int]:
    from minders.kinds import validate_scenario

    return validate_scenario(dict(sweep.base)).tier_sizes()


if __name__ == "__main__":
    sys.exit(main())
