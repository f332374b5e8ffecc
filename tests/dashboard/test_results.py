"""Experiment results folders read for heatmaps: loosely coupled, defensive, confined."""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from minders.dashboard.results import guess_parameters, heatmap_table, load_results


def write_sweep(folder, manifest=True):
    runs = folder / "runs"
    runs.mkdir(parents=True)
    frame = pd.DataFrame({
        "run_id": range(12), "point": [k // 2 for k in range(12)], "replicate": [0, 1] * 6,
        "seed": range(12), "scenario_hash": ["h"] * 12,
        "tiers.residents.span": [10, 10, 20, 20, 30, 30] * 2,
        "model.purge_rate": [0.1] * 6 + [0.5] * 6,
        "defections": range(12), "peak_surprise_gap": [0.1 * k for k in range(12)],
    })
    frame.iloc[:6].to_parquet(runs / "part-0000000000-00006-a.parquet")
    frame.iloc[6:].to_parquet(runs / "part-0000000006-00006-b.parquet")
    (folder / "records").mkdir()
    pd.DataFrame({"step": [0], "tier": ["x"]}).to_parquet(folder / "records" / "part-0.parquet")
    pd.DataFrame({"point": [0]}).to_parquet(folder / "points.parquet")
    if manifest:
        (folder / "manifest.json").write_text(json.dumps({
            "parameters": {"tiers.residents.span": "tiers.residents.span",
                           "model.purge_rate": "model.purge_rate"},
            "metrics": ["defections", "peak_surprise_gap"]}))
    return frame


def test_runs_parts_and_the_manifest_are_read(tmp_path):
    frame = write_sweep(tmp_path)
    results = load_results(tmp_path)
    assert results.files == 2 and len(results.runs) == 12 and not results.skipped
    assert results.parameters == ["tiers.residents.span", "model.purge_rate"]
    assert results.outcomes == ["defections", "peak_surprise_gap"]
    assert set(results.runs.columns) == set(frame.columns)  # no records, no points


def test_without_a_manifest_parameters_and_outcomes_are_guessed(tmp_path):
    write_sweep(tmp_path, manifest=False)
    (tmp_path / "manifest.json").write_text("{ not json")
    results = load_results(tmp_path)
    assert results.parameters == ["tiers.residents.span", "model.purge_rate"]
    assert results.outcomes == ["defections", "peak_surprise_gap"]


def test_broken_parts_are_skipped_and_named(tmp_path):
    write_sweep(tmp_path)
    (tmp_path / "runs" / "part-broken.parquet").write_bytes(b"PAR1 nope")
    results = load_results(tmp_path)
    assert len(results.runs) == 12
    assert results.skipped == ["runs/part-broken.parquet (ArrowInvalid)"] or (
        len(results.skipped) == 1 and results.skipped[0].startswith("runs/part-broken.parquet"))


def test_nothing_outside_the_folder_is_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    pd.DataFrame({"secret": [1]}).to_parquet(outside / "secret.parquet")
    inside = tmp_path / "results"
    inside.mkdir()
    pd.DataFrame({"a.b": [1, 2], "y": [3, 4]}).to_parquet(inside / "runs.parquet")
    os.symlink(outside / "secret.parquet", inside / "link.parquet")
    os.symlink(outside, inside / "linked_dir")
    results = load_results(inside)
    assert "secret" not in results.runs.columns and results.files == 1


def test_an_empty_or_foreign_folder_gives_an_empty_table(tmp_path):
    results = load_results(tmp_path)
    assert results.runs.empty and results.parameters == [] and results.files == 0
    assert heatmap_table(results.runs, "a", "b", "c").empty


def test_heatmap_cells_summarise_the_replicates(tmp_path):
    frame = write_sweep(tmp_path)
    table = heatmap_table(frame, "tiers.residents.span", "model.purge_rate", "defections")
    assert len(table) == 6 and set(table["n"]) == {2}
    cell = table[(table["tiers.residents.span"] == 20) & (table["model.purge_rate"] == 0.5)]
    assert cell["value"].item() == (8 + 9) / 2
    with pytest.raises(ValueError, match="statistic"):
        heatmap_table(frame, "tiers.residents.span", "model.purge_rate", "defections", "sum")
    assert heatmap_table(frame, "seed", "seed", "defections").empty  # one axis twice


def test_guess_prefers_dotted_paths_then_few_valued_numbers():
    frame = pd.DataFrame({"span": [1, 1, 2, 2, 3, 3], "seed": range(6),
                          "out": [0.1, 0.5, 0.2, 0.9, 0.3, 0.7]})
    assert guess_parameters(frame) == ["span"]


def test_heatmap_cells_carry_the_interval_that_fits_the_outcome():
    frame = pd.DataFrame({"a": [1] * 12 + [2] * 12, "b": [0] * 24,
                          "cascade": [0] * 12 + [1] * 3 + [0] * 9,
                          "defections": [0] * 12 + [2, 3, 1, 0, 4, 2, 3, 1, 0, 2, 3, 2]})
    cascades = heatmap_table(frame, "a", "b", "cascade", quantity="probability")
    none = cascades[cascades["a"] == 1].iloc[0]
    assert none["value"] == 0 and none["low"] == 0 and 0.2 < none["high"] < 0.3  # Wilson, 0/12
    counts = heatmap_table(frame, "a", "b", "defections", quantity="count")
    assert counts[counts["a"] == 1]["low"].item() == 0.0  # never below zero
    assert (counts["high"] > counts["value"]).all()
    spread = heatmap_table(frame, "a", "b", "defections", "std")
    assert spread["low"].isna().all()  # only a mean gets an interval


def test_outcomes_know_what_they_measure(tmp_path):
    import json

    (tmp_path / "runs").mkdir()
    pd.DataFrame({"model.fear": [0.1, 0.2], "cascade": [0.0, 1.0]}).to_parquet(
        tmp_path / "runs" / "part-0.parquet")
    (tmp_path / "manifest.json").write_text(json.dumps({
        "parameters": {"model.fear": ["model.fear"]}, "metrics": ["cascade"],
        "experiment": {"metrics": [{"kind": "cascade", "name": "cascade"}]}}))
    assert load_results(tmp_path).quantities == {"cascade": "probability"}
