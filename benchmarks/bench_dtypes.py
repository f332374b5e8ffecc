"""Would float32 columns make the step faster? The step's kernels on float64 and float32 columns.

Run ``python benchmarks/bench_dtypes.py``. Issue 14 asked to narrow the dtypes
("float32 wherever the tests show no change in results"). The integer columns
are narrow already (int8 statuses and tiers, int32 positions); this benchmark
measures what narrowing the float ones would buy before anyone pays for it in
changed records. For each size it builds the engine benchmark's world
(``bench_engine.scenario_dict``), runs it into the shock, then times the kernels
that read the float columns, on the world's own columns (float64) and on float32
copies of the eleven float columns of :class:`~minders.kernels.Agents` and
:class:`~minders.kernels.StepValues`, the two alternating for ``--rounds`` rounds
(best time of each). The serial builds run at every size; at sizes that use them,
the parallel builds too.

Reading the results: a kernel limited by memory traffic runs faster per position
on a world that fits in the cache than on one that does not, and faster still
on narrower columns. A kernel limited by its arithmetic and its chains of
dependent loads costs the same per position at both sizes and on both dtypes.

It also counts how many positions' intentions (:attr:`StepValues.intent`) come
out different after grievance, surveillance and intention on float32 columns:
the results float32 would change. Results go to ``benchmarks/results/dtypes.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engine import machine_info, scenario_dict  # noqa: E402

from minders import kernels  # noqa: E402
from minders.engine import Simulation  # noqa: E402
from minders.scenario import Scenario  # noqa: E402

DEFAULT_OUT = HERE / "results" / "dtypes.json"
AGENT_FLOATS = ("hardship", "risk_aversion", "threshold", "fear", "seen_success",
                "seen_failure", "exposure")
VALUE_FLOATS = ("grievance", "detection", "attention", "signal")
FADED = ("fear", "seen_success", "seen_failure", "exposure")  # what fade updates in place
STEPS = 60  # the shock comes at step 30 and ramps over 5; the kernels are timed at step 55


def narrowed(columns, names):
    """A copy of ``columns`` (a named tuple of arrays), the fields ``names`` as float32."""
    return type(columns)(*(
        column.astype(np.float32) if name in names else column.copy()
        for name, column in zip(columns._fields, columns, strict=True)
    ))


def best_ms(call, repeat: int, reset=None) -> float:
    """Fastest mean time of ``call`` over 3 batches of ``repeat`` calls, in ms.

    ``reset``, if given, runs before each batch, untimed: it puts back the
    columns a kernel updates in place, which would otherwise fade towards zero
    (and float32 into subnormal numbers) over the repeated calls.
    """
    call()
    best = float("inf")
    for _ in range(3):
        if reset is not None:
            reset()
        start = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter() - start) / repeat * 1e3)
    return best


def restorer(agents, names):
    """A call that puts back the fields ``names`` of ``agents`` as they are now."""
    saved = {name: getattr(agents, name).copy() for name in names}

    def reset() -> None:
        for name, column in saved.items():
            getattr(agents, name)[:] = column

    return reset


def kernel_calls(sim: Simulation, agents, values, parallel: bool) -> dict:
    """The kernels that read float columns, as calls on ``agents`` and ``values``."""
    layout, params = sim.layout, sim.step_params(sim.clock)
    surveil = kernels.surveil_parallel if parallel else kernels.surveil
    intend = kernels.intend_parallel if parallel else kernels.intend
    fade = kernels.fade_parallel if parallel else kernels.fade
    return {
        "grievance": lambda: kernels.grievance(layout, agents, params.legitimacy, values.grievance),
        "surveil": lambda: surveil(layout, agents, params, values),
        "intend": lambda: intend(layout, agents, params, values),
        "fade": lambda: fade(agents, params),
    }


def changed_intents(sim: Simulation, agents32, values32) -> int:
    """Positions whose intent bits differ after one pass of stages 4.1-4.3a on float32 columns."""
    agents64, values64 = sim.agents, sim.values
    calls64 = kernel_calls(sim, agents64, values64, parallel=False)
    calls32 = kernel_calls(sim, agents32, values32, parallel=False)
    for stage in ("grievance", "surveil", "intend"):
        calls64[stage]()
        calls32[stage]()
    return int(np.count_nonzero(values64.intent != values32.intent))


def measure(agents: int, rounds: int) -> dict:
    """Kernel times per position on float64 and float32 columns of one world of ``agents``."""
    sim = Simulation(Scenario.model_validate(scenario_dict(agents, STEPS)))
    for _ in range(sim.burn_in + STEPS - 5):
        sim._advance()
    n = sim.agents.status.size
    agents32 = narrowed(sim.agents, AGENT_FLOATS)
    values32 = narrowed(sim.values, VALUE_FLOATS)
    changed = changed_intents(sim, agents32, values32)  # before fade's timing updates memories
    builds = [False] + ([True] if n >= kernels.PARALLEL_MIN_AGENTS else [])
    repeat = max(3, 2_000_000 // n)
    rows = []
    for parallel in builds:
        best: dict[tuple[str, str], float] = {}
        for _ in range(rounds):
            for dtype, (a, v) in (("float64", (sim.agents, sim.values)),
                                  ("float32", (agents32, values32))):
                for kernel, call in kernel_calls(sim, a, v, parallel).items():
                    reset = restorer(a, FADED) if kernel == "fade" else None
                    ms = best_ms(call, repeat, reset)
                    best[dtype, kernel] = min(best.get((dtype, kernel), ms), ms)
        for (dtype, kernel), ms in best.items():
            rows.append({"positions": n, "build": "parallel" if parallel else "serial",
                         "dtype": dtype, "kernel": kernel, "ms": ms,
                         "ns_per_position": ms * 1e6 / n})
    return {"agents": agents, "positions": n, "changed_intents": changed,
            "load_average_1min": os.getloadavg()[0], "kernels": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[10_001, 1_000_001])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    sizes = []
    for n in args.agents:
        sizes.append(measure(n, args.rounds))
        print(f"{n:>12,} agents: {sizes[-1]['changed_intents']:,} intents changed by float32",
              flush=True)
        for row in sizes[-1]["kernels"]:
            print(f"  {row['build']:8s} {row['dtype']} {row['kernel']:10s} "
                  f"{row['ms']:8.3f} ms  {row['ns_per_position']:6.2f} ns/position", flush=True)
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": machine_info(), "rounds": args.rounds, "sizes": sizes}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
