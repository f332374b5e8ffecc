"""minders export: each format opens in pandas with the same values and keeps the metadata."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from minders.cli.commands import app
from minders.experiments.store import load_records, load_results
from minders.report.export import metadata_rows, read_parquet_metadata

runner = CliRunner()


def export(folder, to, out):
    result = runner.invoke(app, ["export", str(folder), "--to", to, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return result


def same(actual: pd.DataFrame, expected: pd.DataFrame, exact: bool = True) -> None:
    """Equal values; a categorical comes back from CSV or Excel as its labels.

    Excel's reader gives floats back to within one unit in the last place
    (``exact=False``: a relative 1e-15).
    """
    expected = expected.reset_index(drop=True).copy()
    for column in expected.columns:
        if isinstance(expected[column].dtype, pd.CategoricalDtype):
            expected[column] = expected[column].astype(str)
    actual = actual.reset_index(drop=True)
    assert list(actual.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, check_exact=exact,
                                  rtol=1e-15, atol=0)


@pytest.fixture(scope="module")
def records(run_dir):
    return pd.read_parquet(run_dir / "records.parquet")


def test_csv_of_a_run_with_its_metadata_beside_it(run_dir, records, tmp_path):
    export(run_dir, "csv", tmp_path)
    same(pd.read_csv(tmp_path / "records.csv"), records)
    sidecar = json.loads((tmp_path / "records.metadata.json").read_text())
    assert sidecar == json.loads((run_dir / "run.json").read_text())


def test_excel_of_a_run_has_a_metadata_sheet(run_dir, records, tmp_path):
    export(run_dir, "xlsx", tmp_path)
    sheets = pd.read_excel(tmp_path / "run.xlsx", sheet_name=None)
    assert list(sheets) == ["records", "metadata"]
    same(sheets["records"], records, exact=False)
    meta = dict(zip(sheets["metadata"]["key"], sheets["metadata"]["value"], strict=True))
    saved = json.loads((run_dir / "run.json").read_text())
    assert meta["scenario_hash"] == saved["scenario_hash"]
    assert meta["seed"] == 5 and meta["scenario.name"] == "pyongyang"
    assert meta["scenario.tiers.residents.size"] == 2000


def test_parquet_of_a_run_keeps_the_metadata_in_its_schema(run_dir, records, tmp_path):
    export(run_dir, "parquet", tmp_path)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "records.parquet"), records)
    saved = json.loads((run_dir / "run.json").read_text())
    assert read_parquet_metadata(tmp_path / "records.parquet") == saved


@pytest.mark.parametrize("to", ["csv", "xlsx", "parquet"])
def test_a_sweep_exports_its_runs_and_records(sweep_dir, tmp_path, to):
    export(sweep_dir, to, tmp_path)
    runs, records = load_results(sweep_dir), load_records(sweep_dir)
    manifest = json.loads((sweep_dir / "manifest.json").read_text())
    if to == "csv":
        same(pd.read_csv(tmp_path / "runs.csv"), runs)
        same(pd.read_csv(tmp_path / "records.csv"), records)
        assert json.loads((tmp_path / "runs.metadata.json").read_text()) == manifest
    elif to == "xlsx":
        sheets = pd.read_excel(tmp_path / "sweep.xlsx", sheet_name=None)
        assert list(sheets) == ["runs", "records", "metadata"]
        same(sheets["runs"], runs, exact=False)
        same(sheets["records"], records, exact=False)
        assert sheets["metadata"]["key"].tolist() == metadata_rows(manifest)["key"].tolist()
    else:
        same(pd.read_parquet(tmp_path / "runs.parquet"), runs)
        same(pd.read_parquet(tmp_path / "records.parquet"), records)
        assert read_parquet_metadata(tmp_path / "runs.parquet") == manifest


def test_export_defaults_to_an_export_folder_inside(run_dir):
    result = runner.invoke(app, ["export", str(run_dir), "--to", "csv"])
    assert result.exit_code == 0, result.output
    assert (run_dir / "export" / "records.csv").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["export", "{missing}", "--to", "csv"], "results: expected a results folder of 'minders run'"),
    (["export", "{run}", "--to", "ods"], "--to: expected one of csv, xlsx, parquet, got 'ods'"),
    (["export", "{run}", "--to", "csv", "--out", "{file}"],
     "--out: expected a folder for the exports, not a file"),
    (["report", "{missing}"], "results: expected a results folder of 'minders run'"),
    (["report", "{run}", "--out", "{run}"], "--out: expected a file name for the report"),
])
def test_bad_inputs_give_one_line_and_status_2(run_dir, tmp_path, args, message):
    a_file = tmp_path / "a.txt"
    a_file.write_text("x")
    args = [arg.format(missing=tmp_path / "nothing", run=run_dir, file=a_file) for arg in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
