"""Benchmark of ``minders calibrate``: simulations per second, and the bundled calibration's time.

Run ``python benchmarks/bench_calibrate.py``. It measures

1. **Simulation cost**: ``--sims`` (10) runs of the bundled calibration's
   model (``calibrations/north_korea_arrivals.toml``: 5,000 border positions,
   18 years of weeks plus burn-in) at its hand-set values, in this process,
   one Numba thread: seconds per simulation.
2. **Calibration throughput**: the bundled calibration on the local executor
   with ``--workers`` (2) processes, at ``--population`` and ``--generations``
   (default: the file's own, which takes up to an hour on 2 cores; pass
   smaller values for a quick look). Reported as ABC-SMC simulations per
   second of wall time (executor start-up, pyabc and the predictive draws
   included) and the wall time of the whole calibration.

The figures go to ``benchmarks/results/calibrate.json``. Nothing is
asserted: speed lives here, not in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "calibrate.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--population", type=int)
    parser.add_argument("--generations", type=int)
    args = parser.parse_args()

    import numba

    import minders
    from minders.experiments.calibration import prepare

    problem = prepare("north_korea_arrivals")
    values = {"tiers.borderlanders.border_chance": 0.002, "shocks.0.value": 0.55,
              "shocks.1.value": 0.06, "shocks.2.value": 1.5, "observation.delay.mean": 0.5}
    numba.set_num_threads(1)
    problem.model.arrivals(values, seed=0)  # compile / load the kernels
    start = time.perf_counter()
    for k in range(args.sims):
        problem.model.arrivals(values, seed=k + 1)
    per_sim = (time.perf_counter() - start) / args.sims
    print(f"one simulation: {per_sim:.2f} s (one thread)", flush=True)

    folder = Path(tempfile.mkdtemp(prefix="bench-calibrate-"))
    try:
        start = time.perf_counter()
        result = minders.calibrate("north_korea_arrivals", folder, "local",
                                   workers=args.workers, population=args.population,
                                   generations=args.generations)
        wall = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    inference = result.calibration.inference
    figures = {
        "seconds_per_simulation_one_thread": round(per_sim, 3),
        "workers": args.workers,
        "population": inference.population,
        "generations_run": len(result.generations),
        "simulations": result.simulations,
        "wall_seconds": round(wall, 1),
        "simulations_per_second": round(result.simulations / wall, 2),
        "reduced_budget": bool(args.population or args.generations),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "minders": minders.__version__,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
