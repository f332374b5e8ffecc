"""Results: pandas and polars tables, summary, figure, saved files."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import polars as pl

from minders import simulate


def test_result_tables_summary_and_files(small, tmp_path):
    result = simulate(small, seed=1)
    assert len(result.records) == small.run.steps * len(small.tiers)
    frame = result.to_polars()
    assert isinstance(frame, pl.DataFrame) and frame.height == len(result.records)
    summary = result.summary()
    assert list(summary.index) == list(small.tiers)
    assert summary.loc["residents", "defections"] == result.records.query(
        "tier == 'residents'")["defections"].sum()
    gap = result.records["true_discontent"] - result.records["measured_discontent"]
    assert (result.records["surprise_gap"] - gap).abs().max() < 1e-12
    fig = result.plot()
    assert len(fig.axes) == 2
    plt.close(fig)
    paths = result.save(tmp_path)
    meta = json.loads(paths["run"].read_text())
    assert meta["scenario_hash"] == small.scenario_hash()
    assert meta["tier_sizes"] == small.tier_sizes()


def test_top_level_simulate_runs_every_kind():
    import minders

    from .conftest import ROOT

    riot = minders.load_scenario(ROOT / "scenarios" / "granovetter_riot.toml")
    result = minders.simulate(riot)
    assert result.records["active"].iloc[-1] == 100  # Granovetter (1978): everyone riots
    assert result.summary() is not None
