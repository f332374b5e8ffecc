"""Tables shared by the benchmark doc generators."""

from __future__ import annotations

#: The stages of a step, in the order of ``minders.engine.Simulation.LOOP``.
STAGES = ("release_refill", "grievance", "surveil", "decide", "respond", "measure")


def versions_table(report: dict, labels: dict[str, str]) -> list[str]:
    """Rows of a ``benchmarks/bench_versions.py`` report: each version's rounds, stage by stage.

    ``labels`` names the report's ``baseline`` and ``current`` runs.
    """
    rows = ["| version | round | ms/step (median) | agent-steps/s | "
            + " | ".join(f"{stage} s" for stage in STAGES) + " |",
            "|---|---|---:|---:|" + "---:|" * len(STAGES)]
    for label, runs in report["runs"].items():
        for k, run in enumerate(runs, 1):
            stages = " | ".join(f"{run['stage_seconds'][stage]:.2f}" for stage in STAGES)
            rows.append(f"| {labels[label]} | {k} | {1000 * run['step_s_median']:.1f} | "
                        f"{run['agent_steps_per_s'] / 1e6:.1f} M | {stages} |")
    return rows
