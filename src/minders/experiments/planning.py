"""How many minders: the cheapest spans that keep yearly defections below a target.

A *staffing* of a scenario gives every minder tier a span (all wards of a
minder tier get its span) and may add tiers of minders of minders on top
(``overseers``, copied from the top tier, watching it). Minder tiers are
sized ``auto``, so the surveillance headcount (positions in minder tiers)
follows from the spans. The outcome is the *yearly defection rate*:
defections per year in the counted tiers (default: the governed tiers, those
that watch nobody) over their positions.

The search, for each number of extra tiers and each combination of the upper
tiers' spans (a small ladder), bisects on the span of the bottom minder tiers
in ``[1, max_span]``: the largest span whose upper confidence bound on the
yearly rate is within the target. Wider spans mean fewer minders and, the
model being built that way (attention ``min(1, c / wards)``), no fewer
defections, so bisection is sound up to noise. Each design runs
``replicates`` times with the *same* seeds (common random numbers: the
seeds depend on the replicate only), so designs differ by their
consequences, not by luck.

The bound at a design is the larger of two one-sided bounds at the given
confidence: Student's t over the replicates' rates (it carries the
between-run variance that cascades cause) and the exact Poisson bound on
the pooled count over the pooled exposure (it stays honest when few or no
defections are seen, where the t bound collapses to zero). At the end, the
bounds of each bisection line are made monotone (a design counts as
feasible only if every denser design evaluated on its line is too) and, for
each target, the cheapest feasible design among *all* designs evaluated
wins. Done for all targets in one call, on one shared set of evaluations,
this makes the answer monotone: a lower target never gets fewer minders.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from minders import kinds
from minders.errors import ScenarioError
from minders.experiments.hierarchy import (  # re-exported: they lived here before
    OVERSEERS,
    add_overseers,
    minder_levels,
    staff,
)
from minders.experiments.plan_figures import cost_curve
from minders.spec import content_hash

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from minders.experiments.executors import Executor

__all__ = [
    "OVERSEERS", "PlanResult", "Staffing", "add_overseers", "cost_curve", "minder_levels",
    "plan", "staff", "upper_bound",
]


# --------------------------------------------------------------------------- statistics
def upper_bound(
    defections: np.ndarray, rates: np.ndarray, exposure: float, confidence: float
) -> float:
    """One-sided upper confidence bound on the yearly rate (max of t and exact Poisson).

    Parameters
    ----------
    defections : array
        Defections per replicate (counted tiers).
    rates : array
        Yearly rate per replicate.
    exposure : float
        Position-years of one replicate.
    confidence : float
        One-sided level, e.g. 0.95.

    Examples
    --------
    >>> round(upper_bound(np.zeros(10), np.zeros(10), 100.0, 0.95), 6)  # the "3/n" rule
    0.002996
    """
    from scipy import stats

    n = rates.size
    pooled = float(defections.sum())
    poisson = stats.chi2.ppf(confidence, 2 * pooled + 2) / 2 / (exposure * n)
    if n < 2:
        return float(poisson)
    t = stats.t.ppf(confidence, n - 1) * rates.std(ddof=1) / math.sqrt(n)
    return float(max(poisson, rates.mean() + t))


# --------------------------------------------------------------------------- the search
@dataclass(frozen=True)
class Staffing:
    """Spans of every minder tier, with ``extra`` tiers of minders of minders added.

    Examples
    --------
    >>> Staffing(1, (("minders", 12), ("security", 15), ("overseers", 8))).key
    '+1:minders=12,security=15,overseers=8'
    """

    extra: int
    spans: tuple[tuple[str, int], ...]

    @property
    def key(self) -> str:
        """A stable text key."""
        return f"+{self.extra}:" + ",".join(f"{t}={s}" for t, s in self.spans)

    def describe(self) -> str:
        """``minders 12, security 15``."""
        return ", ".join(f"{t} {s}" for t, s in self.spans)


@dataclass
class _Line:
    """One bisection: a hierarchy and upper spans; the bottom span varies."""

    extra: int
    upper: tuple[tuple[str, int], ...]
    bottom: tuple[str, ...]
    target: float
    lo: int = 0   # largest span known feasible (0: none yet)
    hi: int = 0   # smallest span known infeasible (max + 1: none yet)
    done: bool = False

    def staffing(self, span: int) -> Staffing:
        spans = {name: span for name in self.bottom}
        spans.update(dict(self.upper))  # bottom-up: the level-1 minders first
        return Staffing(self.extra, tuple(spans.items()))


@dataclass
class PlanResult:
    """Every design evaluated and the cheapest feasible ones per target.

    Attributes
    ----------
    designs : pandas.DataFrame
        One row per staffing evaluated: ``extra``, ``spans``, ``span:TIER``,
        ``headcount``, ``share``, ``rate_mean``, ``rate_sd``, ``ucb`` and the
        monotone ``ucb_line`` used for decisions.
    choices : pandas.DataFrame
        Per target, the ``show`` cheapest feasible designs (``rank`` 1 is the plan).
    settings : dict
        Targets, confidence, replicates, seed and the rest.

    Examples
    --------
    >>> result = plan(scenario, [0.01])  # doctest: +SKIP
    >>> result.cheapest(0.01)["headcount"], result.save("results/plan")  # doctest: +SKIP
    """

    designs: pd.DataFrame
    choices: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def cheapest(self, target: float) -> pd.Series | None:
        """The cheapest feasible design for ``target`` (None if none is)."""
        rows = self.choices[(self.choices["target"] == target) & (self.choices["rank"] == 1)]
        return rows.iloc[0] if len(rows) else None

    def figure(self) -> Figure:
        """Cost curve: headcount against yearly defection rate, per number of tiers."""
        return cost_curve(self)

    def save(self, directory: str | Path) -> dict[str, Path]:
        """Write ``plan.parquet`` (designs), ``choices.csv``, ``plan.json`` and ``plan.png``."""
        import matplotlib.pyplot as plt

        from minders.experiments.store import _write_parquet, _write_text
        from minders.result import atomic_path

        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"designs": folder / "plan.parquet", "choices": folder / "choices.csv",
                 "settings": folder / "plan.json", "figure": folder / "plan.png"}
        _write_parquet(self.designs, paths["designs"])
        with atomic_path(paths["choices"]) as tmp:
            self.choices.to_csv(tmp, index=False)
        _write_text(paths["settings"], json.dumps(self.settings, indent=2, default=str) + "\n")
        fig = self.figure()
        with atomic_path(paths["figure"]) as tmp:
            fig.savefig(tmp, dpi=120, format="png")
        plt.close(fig)
        return paths


def plan(
    scenario: Any,
    targets: list[float],
    *,
    confidence: float = 0.95,
    tiers: list[str] | None = None,
    replicates: int = 20,
    seed: int | None = None,
    max_span: int | None = None,
    upper_spans: list[int] | None = None,
    extra_tiers: tuple[int, ...] = (0, 1),
    executor: Executor | str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    show: int = 5,
    cache: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PlanResult:
    """Search the cheapest staffing that keeps yearly defections below each target.

    Parameters
    ----------
    scenario : Scenario
        A minders scenario: the population, its tiers and its horizon.
    targets : list of float
        Yearly defection rates not to exceed (share of the counted positions per year).
    confidence : float
        One-sided confidence that the rate is below the target.
    tiers : list of str, optional
        Tiers whose defections count (default: those that watch nobody).
    replicates : int
        Runs per design (same seeds at every design).
    seed : int, optional
        Experiment seed (default: the scenario's ``run.seed``).
    max_span : int, optional
        Widest bottom span tried (default: 64 or 4x the widest current span).
    upper_spans : list of int, optional
        Ladder of spans for the upper minder tiers (default: half, one and two
        times each tier's current span).
    extra_tiers : tuple of int
        Numbers of tiers of minders of minders to add on top (0: as given).
    executor, workers, scheduler
        Where the runs go (see :func:`~minders.experiments.run_sweep`).
    show : int
        Cheapest feasible designs kept per target.
    cache : str or Path, optional
        A file of per-run outcomes: runs found there (same settings) are reused.
        It is rewritten (atomically) after every round of the bisection, so a
        plan that is interrupted or killed loses at most the round under way.
    progress : callable, optional
        ``progress(done, total)`` in runs. Runs reused from ``cache`` count as
        done: the first call gives what the cache gave (a resumed plan starts
        where it stopped), the last one gives the runs of the plan as ``total``
        (until then an estimate).

    Returns
    -------
    PlanResult

    Examples
    --------
    >>> import minders
    >>> s = minders.load_scenario("overseas_workers", ["run.steps=8"])
    >>> result = plan(s, [0.5], replicates=2, max_span=4, extra_tiers=(0,),
    ...               upper_spans=[5], executor="serial")
    >>> int(result.cheapest(0.5)["headcount"])
    4500
    """
    from minders.experiments.design import run_seed
    from minders.experiments.executors import chunk_size, make_executor
    from minders.experiments.runner import ChunkTask, RunSpec, run_chunk
    from minders.kinds import validate_scenario

    _import_what_the_rounds_use()
    kinds.require(scenario, "plan")
    _check_settings(targets, confidence, replicates, show, extra_tiers, upper_spans)
    base = scenario.model_dump(mode="json")
    watching = set(scenario.minder_tiers())
    governed = [n for n in scenario.groups() if n not in watching]
    counted = list(tiers) if tiers else governed
    for tier in counted:
        if tier not in base["tiers"]:
            raise ScenarioError("--tier", tier, f"a tier ({', '.join(base['tiers'])})")
    seed = scenario.run.seed if seed is None else int(seed)
    current = {n: t["span"] for n, t in base["tiers"].items() if t.get("span")}
    widest = max(current.values(), default=16)
    max_span = int(max_span or max(64, 4 * widest))
    if max_span < 1:
        raise ScenarioError("--max-span", max_span, "an integer >= 1")
    targets = sorted(set(float(t) for t in targets))
    settings = {
        "scenario": scenario.name, "scenario_hash": scenario.scenario_hash(),
        "targets": targets, "confidence": confidence, "tiers": counted,
        "replicates": replicates, "seed": seed, "max_span": max_span,
        "upper_spans": upper_spans, "extra_tiers": list(extra_tiers),
        "steps": scenario.run.steps, "steps_per_year": scenario.steps_per_year(),
    }
    # What determines a design's outcomes (not the targets): runs in the cache must match it.
    run_key = content_hash(
        {k: settings[k] for k in ("scenario_hash", "tiers", "replicates", "seed")})

    lines: list[_Line] = []
    structures: dict[int, dict[str, Any]] = {}
    for extra in sorted(set(extra_tiers)):
        data = add_overseers(base, extra)
        structures[extra] = data
        levels = minder_levels(data["tiers"])
        bottom = tuple(n for n, lv in levels.items() if lv == 1)
        upper = [n for n, lv in sorted(levels.items(), key=lambda kv: (kv[1], kv[0])) if lv > 1]
        ladders = [_ladder(data["tiers"], name, upper_spans, current) for name in upper]
        for combo in itertools.product(*ladders):
            for target in targets:
                lines.append(_Line(extra, tuple(zip(upper, combo, strict=True)), bottom, target,
                                   hi=max_span + 1))

    evaluated: dict[Staffing, dict[str, Any]] = {}
    cached = _read_cache(cache, run_key)
    if isinstance(executor, str):
        executor = make_executor(executor, workers=workers, scheduler=scheduler)
    metrics = [{"kind": "defections", "tier": counted}]
    years = scenario.run.steps / scenario.steps_per_year()
    probes_per_line = 2 + math.ceil(math.log2(max(2, max_span)))
    estimate = len({(ln.extra, ln.upper) for ln in lines}) * probes_per_line * replicates
    # Runs done: those reused from the cache count too, so a resumed plan shows where it
    # stands (1,200 of 1,920, not 0) and its time left is that of the runs still to do.
    done_runs = 0
    shown: tuple[int, int] | None = None  # the last (done, total) given to progress

    def report(total: int | None = None) -> None:
        nonlocal shown
        now = (done_runs, max(estimate, done_runs) if total is None else total)
        if progress is not None and now != shown:
            progress(*now)
        shown = now

    def evaluate(staffings: list[Staffing]) -> None:
        nonlocal done_runs
        todo: list[tuple[Staffing, dict[str, Any]]] = []
        for st in staffings:
            if st in evaluated:
                continue
            data = staff(structures[st.extra], dict(st.spans))
            spec = validate_scenario(data)
            sizes = spec.tier_sizes()
            info = {
                "data": spec.model_dump(mode="json"),
                "headcount": sum(sizes[n] for n in spec.minder_tiers()),
                "population": sum(sizes.values()),
                "exposure": sum(sizes[n] for n in counted) * years,
                "defections": np.full(replicates, np.nan),
            }
            evaluated[st] = info
            hits = cached.get(st.key)
            if hits is not None and len(hits) == replicates:
                info["defections"] = np.asarray(hits, dtype=float)
                done_runs += replicates
            else:
                todo.append((st, info))
        if not todo:
            return
        if shown is None:
            # The display starts at what the cache gave (the rounds of an interrupted plan
            # replay from it in an instant, before any run): progress() counts no speed
            # for the work done when it starts.
            report()
        specs = [(st, r) for st, _ in todo for r in range(replicates)]
        size = chunk_size(len(specs), executor.workers)
        tasks, owners = [], []
        for st, info in todo:
            # run id = replicate; the seed depends on the replicate only (common random numbers)
            runs = [RunSpec(r, 0, r, run_seed(seed, 0, r, common=True))
                    for r in range(replicates)]
            for start in range(0, len(runs), size):
                tasks.append(ChunkTask("minders", info["data"], runs[start:start + size],
                                       metrics, threads=executor.threads))
                owners.append(st)
        by_task = {id(t): st for t, st in zip(tasks, owners, strict=True)}
        results = executor.map(_tagged(run_chunk), [(id(t), t) for t in tasks])
        for tag, result in results:
            st = by_task[tag]
            evaluated[st]["defections"][result.run_ids] = result.values[:, 0]
            done_runs += int(result.run_ids.size)
            report()
        rows = [{"run_key": run_key, "staffing": st.key, "replicate": r, "defections": float(d)}
                for st, info in todo for r, d in enumerate(info["defections"])]
        if cache is not None:  # after every round: an interrupted plan keeps what it ran
            _write_cache(cache, run_key, rows)

    def feasible(st: Staffing, target: float) -> bool:
        return _stats(evaluated[st], confidence)["ucb"] <= target

    start = time.perf_counter()
    if not cached:  # nothing to replay: show the display at once, before the workers start
        report()
    with executor:
        # Lockstep bisection: each round evaluates the probes of every open line at once.
        first = [ln.staffing(s) for ln in lines for s in (1, max_span)]
        evaluate(first)
        for ln in lines:
            if feasible(ln.staffing(max_span), ln.target):
                ln.lo, ln.done = max_span, True
            elif not feasible(ln.staffing(1), ln.target):
                ln.hi, ln.done = 1, True
            else:
                ln.lo, ln.hi = 1, max_span
        while True:
            open_lines = [ln for ln in lines if not ln.done and ln.hi - ln.lo > 1]
            if not open_lines:
                break
            probes = {ln.staffing((ln.lo + ln.hi) // 2) for ln in open_lines}
            evaluate(sorted(probes, key=lambda st: st.key))
            for ln in open_lines:
                mid = (ln.lo + ln.hi) // 2
                if feasible(ln.staffing(mid), ln.target):
                    ln.lo = mid
                else:
                    ln.hi = mid
    report(total=done_runs)  # done: the total was an estimate, now it is known
    designs = _designs_table(evaluated, confidence, lines)
    choices = _choices(designs, targets, show)
    settings["seconds"] = round(time.perf_counter() - start, 2)
    settings["runs"] = int(len(evaluated) * replicates)
    # For 'minders report': the scenario planned for, and where and how the plan was made.
    from minders.result import command_line, machine

    settings.update(resolved_scenario=scenario.model_dump(mode="json"), command=command_line(),
                    machine=machine(), created=datetime.now(UTC).isoformat(timespec="seconds"))
    return PlanResult(designs=designs, choices=choices, settings=settings)


def _import_what_the_rounds_use() -> None:
    """Import now, before the first run, what the rounds import on first use.

    SciPy's statistics took half a second to import at the end of the first
    round. A Ctrl-C or SIGTERM (the CLI turns both into KeyboardInterrupt)
    that lands there goes up through an ``exec`` of SciPy's, which leaves
    CPython set to end by SIGINT: ``python -m minders plan`` exited with
    status -2 after its ``interrupted:`` line instead of 130 or 143.
    """
    import pyarrow.parquet  # noqa: F401  (the cache)
    import scipy.stats  # noqa: F401  (upper_bound)

    import minders.experiments.store  # noqa: F401  (_write_cache)
    import minders.result  # noqa: F401  (the settings, at the end)


def _tagged(fn: Callable[[Any], Any]) -> Callable[[tuple[int, Any]], tuple[int, Any]]:
    return _Tagged(fn)


class _Tagged:
    """``fn`` that carries a tag through, so results coming back in any order find their task."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, item: tuple[int, Any]) -> tuple[int, Any]:
        tag, task = item
        return tag, self.fn(task)


def _check_settings(targets: list[float], confidence: float, replicates: int, show: int,
                    extra_tiers: tuple[int, ...], upper_spans: list[int] | None) -> None:
    if not targets:
        raise ScenarioError("--target", None, "at least one yearly defection rate")
    for target in targets:
        if not 0.0 <= target:
            raise ScenarioError("--target", target, "a yearly defection rate >= 0")
    if not 0.5 <= confidence < 1.0:
        raise ScenarioError("--confidence", confidence, "a one-sided level in [0.5, 1)")
    if replicates < 1:
        raise ScenarioError("--replicates", replicates, "an integer >= 1")
    if show < 1:
        raise ScenarioError("--show", show, "an integer >= 1")
    for extra in extra_tiers:
        if not 0 <= extra <= 3:
            raise ScenarioError("--extra-tiers", extra, "0, 1, 2 or 3 added tiers")
    for span in upper_spans or []:
        if span < 1:
            raise ScenarioError("--upper-spans", span, "spans >= 1")


def _ladder(tiers: dict[str, Any], name: str, upper_spans: list[int] | None,
            current: dict[str, int]) -> list[int]:
    """Spans tried for an upper minder tier: the given ladder, or 1/2, 1 and 2x its span now."""
    if upper_spans:
        return sorted(set(int(s) for s in upper_spans))
    spans = [current[w] for w, t in tiers.items() if t.get("minded_by") == name and w in current]
    if not spans:  # an added tier: start from the spans of the upper tiers as they are
        spans = [s for n, s in current.items() if tiers[n].get("minded_by") in tiers
                 and minder_levels(tiers).get(tiers[n]["minded_by"], 0) > 1] or [10]
    span = int(round(float(np.median(spans))))
    return sorted({max(1, round(span / 2)), span, 2 * span})


def _stats(info: dict[str, Any], confidence: float) -> dict[str, float]:
    defections = info["defections"]
    rates = defections / info["exposure"]
    return {
        "rate_mean": float(rates.mean()),
        "rate_sd": float(rates.std(ddof=1)) if rates.size > 1 else float("nan"),
        "ucb": upper_bound(defections, rates, info["exposure"], confidence),
        "defections_mean": float(defections.mean()),
    }


def _designs_table(evaluated: dict[Staffing, dict[str, Any]], confidence: float,
                   lines: list[_Line]) -> pd.DataFrame:
    rows = []
    bottoms = {ln.extra: ln.bottom for ln in lines}
    for st, info in evaluated.items():
        spans = dict(st.spans)
        bottom = bottoms[st.extra]
        upper = tuple((n, s) for n, s in st.spans if n not in bottom)
        rows.append({
            "extra": st.extra, "staffing": st.key, "spans": st.describe(),
            "line": f"+{st.extra}:" + ",".join(f"{n}={s}" for n, s in upper),
            "bottom_span": spans[bottom[0]],
            **{f"span:{n}": s for n, s in spans.items()},
            "headcount": int(info["headcount"]),
            "share": info["headcount"] / info["population"],
            **_stats(info, confidence),
        })
    table = pd.DataFrame(rows).sort_values(["extra", "line", "bottom_span"], kind="stable")
    # Monotone bound along each line: a span is only as safe as every denser span on its line.
    table["ucb_line"] = table.groupby("line", sort=False)["ucb"].cummax()
    return table.reset_index(drop=True)


def _choices(designs: pd.DataFrame, targets: list[float], show: int) -> pd.DataFrame:
    frames = []
    for target in targets:
        ok = designs[designs["ucb_line"] <= target].sort_values(
            ["headcount", "ucb_line", "staffing"], kind="stable")
        # Spans that round to the same headcount are one cost: show the safest of them.
        ok = ok.drop_duplicates(["extra", "headcount"]).head(show)
        frames.append(ok.assign(target=target, rank=np.arange(1, len(ok) + 1)))
    columns = ["target", "rank", *designs.columns]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def _read_cache(path: str | Path | None, run_key: str) -> dict[str, list[float]]:
    if path is None or not Path(path).is_file():
        return {}
    table = pd.read_parquet(path)
    table = table[table["run_key"] == run_key].sort_values(["staffing", "replicate"])
    return {key: rows["defections"].tolist() for key, rows in table.groupby("staffing")}


def _write_cache(path: str | Path, run_key: str, rows: list[dict[str, Any]]) -> None:
    from minders.experiments.store import _write_parquet

    path = Path(path)
    fresh = pd.DataFrame(rows)
    if path.is_file():
        fresh = pd.concat([pd.read_parquet(path), fresh], ignore_index=True)
        fresh = fresh.drop_duplicates(["run_key", "staffing", "replicate"], keep="last")
    _write_parquet(fresh, path)
