"""Epstein's civil violence Model I, side by side with Mesa's bundled example.

Run ``python benchmarks/vs_mesa.py`` (with the project's environment; not part of
``make test``). The script

1. finds Python 3.12 or newer (``python3.12``/``python3.13`` on PATH, or a pyenv
   version) and makes ``.venv-mesa`` at the repository root with
   ``mesa[network]>=3.5`` (Mesa 3.5 needs Python 3.12 and, for its imports,
   networkx), unless it is there already;
2. runs Mesa's own example, ``mesa.examples.advanced.epstein_civil_violence``, in
   that environment, and ``minders``' ``epstein`` kind here, on the same
   parameters and grid sizes, for several seeds each;
3. compares the distributions of the time-averaged active and jailed shares
   (two-sample Kolmogorov-Smirnov and Mann-Whitney U tests), and the time per
   step measured in this same run;
4. writes ``benchmarks/results/vs_mesa.json``.

Parameters: the paper's, as in NetLogo and Mesa's UI (citizen density 0.7, cop
density 0.04, vision 7, legitimacy 0.82, J_max 30, k 2.3, T 0.1). Mesa's headless
defaults (cop density 0.074, legitimacy 0.8, J_max 1000) are nearly quiet, so they
would compare little.

Conventions matched to Mesa's example: C/A rounded half to even with the citizen
counted in A (``arrest_ratio = "mesa"``), a von Neumann vision of radius 7 on a
torus for both kinds (Mesa ignores ``citizen_vision``), random sequential
activation (``shuffle_do``), citizens decide then move and cops arrest then move
(``order = "act_then_move"``), jailed citizens keep their cell, each cell is a
citizen, a cop or empty independently (``placement = "per_cell"``), jail terms
uniform on 0..J_max, everyone quiet at step 0.

Speed: Mesa's time is its ``model.step()`` calls (data collection included, as
shipped; model construction excluded); ours is the whole ``simulate`` call
(construction of the world and the records table included) after the Numba
kernels are loaded. Both divided by the steps run; both as wall time and as the
process's CPU time (the fairer measure on a machine shared with other work).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-mesa"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "vs_mesa.json"
MESA_REQUIREMENT = "mesa[network]>=3.5"

PARAMETERS = {
    "citizen_density": 0.7, "cop_density": 0.04, "vision": 7, "legitimacy": 0.82,
    "max_jail": 30, "arrest_constant": 2.3, "threshold": 0.1,
}
#: (side, Mesa seeds, our seeds, steps, burn-in): Mesa's runs are sized to finish in minutes.
PLAN = {
    "full": [(40, 16, 200, 150, 20), (100, 6, 60, 50, 10), (200, 3, 20, 12, 2)],
    "quick": [(40, 4, 40, 60, 10), (100, 2, 10, 10, 2), (200, 1, 4, 3, 1)],
}

MESA_RUNNER = textwrap.dedent('''
    import json, sys, time
    import mesa
    from mesa.examples.advanced.epstein_civil_violence.model import (
        EpsteinCivilViolence, EpsteinScenario)

    job = json.loads(sys.argv[1])
    p = job["parameters"]
    runs = []
    for seed in job["seeds"]:
        scenario = EpsteinScenario(
            citizen_density=p["citizen_density"], cop_density=p["cop_density"],
            citizen_vision=p["vision"], cop_vision=p["vision"], legitimacy=p["legitimacy"],
            max_jail_term=p["max_jail"], active_threshold=p["threshold"],
            arrest_prob_constant=p["arrest_constant"], movement=True,
            activation_order="Random", grid_type="Von Neumann", rng=seed)
        start = time.perf_counter()
        model = EpsteinCivilViolence(width=job["side"], height=job["side"], scenario=scenario)
        built, built_cpu = time.perf_counter(), time.process_time()
        active, quiet, jailed = [model.ACTIVE], [model.QUIET], [model.ARRESTED]
        for _ in range(job["steps"]):
            model.step()
            active.append(model.ACTIVE)
            quiet.append(model.QUIET)
            jailed.append(model.ARRESTED)
        done, done_cpu = time.perf_counter(), time.process_time()
        runs.append({"seed": seed, "build_s": built - start, "run_s": done - built,
                     "cpu_s": done_cpu - built_cpu,
                     "active": active, "quiet": quiet, "jailed": jailed})
    print(json.dumps({"mesa_version": mesa.__version__, "runs": runs}))
''')


# --------------------------------------------------------------------------- Mesa's environment
def find_python312() -> str:
    """A Python >= 3.12 interpreter: on PATH, or under pyenv's versions."""
    for name in ("python3.13", "python3.12"):
        found = shutil.which(name)
        if found and _version_ok(found):
            return found
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        for candidate in sorted(glob.glob(f"{root}/versions/3.1[2-9]*/bin/python3.1[2-9]"),
                                reverse=True):
            if _version_ok(candidate):
                return candidate
    sys.exit("vs_mesa: Mesa 3.5 needs Python >= 3.12; put python3.12 on PATH (or install it "
             "with pyenv) and run again")


def _version_ok(python: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.stdout.strip() == "True"


def mesa_python() -> Path:
    """The interpreter of ``.venv-mesa``, made (and Mesa installed) on first use."""
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import mesa.examples.advanced.epstein_civil_violence.model"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"vs_mesa: making {VENV} with {MESA_REQUIREMENT} ...", file=sys.stderr)
    subprocess.run([find_python312(), "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", MESA_REQUIREMENT],
                   check=True)
    subprocess.run(check, check=True)
    return python


def run_mesa(python: Path, side: int, seeds: list[int], steps: int) -> dict:
    job = {"side": side, "seeds": seeds, "steps": steps, "parameters": PARAMETERS}
    out = subprocess.run([str(python), "-c", MESA_RUNNER, json.dumps(job)], check=True,
                         capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


# --------------------------------------------------------------------------- ours
def our_scenario(side: int, steps: int):
    from minders.classic.epstein import EpsteinScenario

    p = PARAMETERS
    return EpsteinScenario.model_validate({
        "name": f"vs-mesa-{side}",
        "run": {"steps": steps},
        "grid": {"width": side, "height": side},
        "citizens": {"density": p["citizen_density"], "vision": p["vision"],
                     "threshold": p["threshold"], "arrest_constant": p["arrest_constant"]},
        "cops": {"density": p["cop_density"], "vision": p["vision"], "max_jail": p["max_jail"]},
        "legitimacy": {"initial": p["legitimacy"]},
        "conventions": {"arrest_ratio": "mesa", "activation": "random",
                        "order": "act_then_move", "neighbourhood": "von_neumann",
                        "jail_holds_cell": True, "placement": "per_cell", "movement": True},
    })


def run_ours(side: int, seeds: list[int], steps: int) -> list[dict]:
    from minders.classic.epstein import simulate

    scenario = our_scenario(side, steps)
    simulate(scenario, seed=10**6, steps=2)  # load (or compile) the kernels first
    runs = []
    for seed in seeds:
        start, start_cpu = time.perf_counter(), time.process_time()
        rec = simulate(scenario, seed=seed).records
        runs.append({"seed": seed, "run_s": time.perf_counter() - start,
                     "cpu_s": time.process_time() - start_cpu,
                     "active": rec["active"].tolist(), "quiet": rec["quiet"].tolist(),
                     "jailed": rec["jailed"].tolist()})
    return runs


# --------------------------------------------------------------------------- comparison
def shares(runs: list[dict], burn_in: int) -> dict[str, np.ndarray]:
    """Per run: the active and jailed shares of the citizens, averaged over steps > burn_in."""
    out: dict[str, list[float]] = {"active": [], "jailed": []}
    for run in runs:
        citizens = run["active"][0] + run["quiet"][0] + run["jailed"][0]
        for key in out:
            out[key].append(float(np.mean(run[key][burn_in + 1:])) / citizens)
    return {k: np.array(v) for k, v in out.items()}


def compare(mesa: np.ndarray, ours: np.ndarray) -> dict:
    from scipy.stats import ks_2samp, mannwhitneyu

    ks = ks_2samp(mesa, ours)
    mw = mannwhitneyu(mesa, ours, alternative="two-sided")
    return {
        "mesa_mean": float(mesa.mean()), "mesa_sd": float(mesa.std(ddof=1)) if mesa.size > 1
        else None, "ours_mean": float(ours.mean()), "ours_sd": float(ours.std(ddof=1)),
        "ks_statistic": float(ks.statistic), "ks_pvalue": float(ks.pvalue),
        "mannwhitney_u": float(mw.statistic), "mannwhitney_pvalue": float(mw.pvalue),
    }


def machine() -> dict:
    import numba

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(), "cpu_count": os.cpu_count(),
        "python": platform.python_version(), "numpy": np.__version__,
        "numba": numba.__version__, "git_commit": commit or None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", choices=sorted(PLAN), default="full",
                        help="'full' (a few minutes) or 'quick' (a smoke test).")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    python = mesa_python()
    load_at_start = os.getloadavg()[0]
    results = []
    mesa_version = None
    for side, mesa_seeds, our_seeds, steps, burn_in in PLAN[args.plan]:
        print(f"vs_mesa: {side}x{side}, {steps} steps: Mesa {mesa_seeds} seeds ...",
              file=sys.stderr, flush=True)
        mesa = run_mesa(python, side, list(range(mesa_seeds)), steps)
        mesa_version = mesa["mesa_version"]
        print(f"vs_mesa: {side}x{side}: minders {our_seeds} seeds ...", file=sys.stderr,
              flush=True)
        ours = run_ours(side, list(range(1000, 1000 + our_seeds)), steps)
        mesa_shares, our_shares = shares(mesa["runs"], burn_in), shares(ours, burn_in)
        mesa_step = sum(r["run_s"] for r in mesa["runs"]) / (steps * mesa_seeds)
        our_step = sum(r["run_s"] for r in ours) / (steps * our_seeds)
        mesa_cpu = sum(r["cpu_s"] for r in mesa["runs"]) / (steps * mesa_seeds)
        our_cpu = sum(r["cpu_s"] for r in ours) / (steps * our_seeds)
        entry = {
            "grid": f"{side}x{side}", "steps": steps, "burn_in": burn_in,
            "mesa_seeds": mesa_seeds, "our_seeds": our_seeds,
            "active_share": compare(mesa_shares["active"], our_shares["active"]),
            "jailed_share": compare(mesa_shares["jailed"], our_shares["jailed"]),
            "mesa_ms_per_step": 1e3 * mesa_step,
            "mesa_build_s": float(np.mean([r["build_s"] for r in mesa["runs"]])),
            "ours_ms_per_step": 1e3 * our_step,
            "speed_ratio": mesa_step / our_step,
            "mesa_cpu_ms_per_step": 1e3 * mesa_cpu,
            "ours_cpu_ms_per_step": 1e3 * our_cpu,
            "speed_ratio_cpu": mesa_cpu / our_cpu,
        }
        results.append(entry)
        a, j = entry["active_share"], entry["jailed_share"]
        print(f"  active share: Mesa {a['mesa_mean']:.4f}, ours {a['ours_mean']:.4f} "
              f"(KS p = {a['ks_pvalue']:.3f}, MW p = {a['mannwhitney_pvalue']:.3f}); "
              f"jailed share: Mesa {j['mesa_mean']:.4f}, ours {j['ours_mean']:.4f} "
              f"(KS p = {j['ks_pvalue']:.3f}, MW p = {j['mannwhitney_pvalue']:.3f})",
              file=sys.stderr)
        print(f"  per step: Mesa {entry['mesa_ms_per_step']:.2f} ms, ours "
              f"{entry['ours_ms_per_step']:.3f} ms: {entry['speed_ratio']:.0f}x wall, "
              f"{entry['speed_ratio_cpu']:.0f}x CPU", file=sys.stderr)
    report = {
        "benchmark": "epstein_vs_mesa",
        "plan": args.plan,
        # Mesa slows down far more than minders when other jobs share the cores: a loaded
        # machine inflates the ratios; the load averages say how quiet the run was
        "machine": {**machine(), "mesa": mesa_version, "load_average_start": load_at_start,
                    "load_average_end": os.getloadavg()[0]},
        "parameters": PARAMETERS,
        "conventions": "Mesa's example: round-half-even C/A with the citizen in A; von Neumann "
                       "vision 7 (both kinds); random sequential activation; decide/arrest then "
                       "move; jailed keep their cell; per-cell placement; terms U{0..J_max}",
        "timing": "Mesa: model.step() calls (as shipped, data collection included), "
                  "construction excluded; minders: whole simulate() call after kernel load; "
                  "wall time (perf_counter) and CPU time of the process (process_time), "
                  "the latter less sensitive to other load on the machine",
        "statistic": "per-run mean active (jailed) share of citizens over steps > burn_in; "
                     "two-sample Kolmogorov-Smirnov and two-sided Mann-Whitney U",
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"vs_mesa: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
