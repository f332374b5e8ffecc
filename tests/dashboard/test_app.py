"""The page's wiring, driven from Python (no browser): events reach the controller and back."""

from __future__ import annotations

import html
import json
import re
import tomllib
from types import SimpleNamespace

import pandas as pd
import pytest

import minders
from minders.codes import STATUS_NAMES
from minders.dashboard.state import NETWORK_SAMPLE, records_digest
from minders.scenario import Scenario

from ..conftest import ROOT
from .conftest import SMALL

pn = pytest.importorskip("panel", reason="the dashboard extra: pip install 'minders[dashboard]'")
from minders.dashboard.app import DashboardApp, card_class, free_port  # noqa: E402

CATALOG = {"pyongyang": ROOT / "scenarios" / "pyongyang.toml",
           "overseas_workers": ROOT / "scenarios" / "overseas_workers.toml"}


@pytest.fixture
def page(tmp_path):
    return DashboardApp(Scenario.model_validate(SMALL), "small", CATALOG)


def shown_state(page) -> dict:
    """The JSON the page shows in ``<pre id="minders-state">``."""
    match = re.search(r'<pre id="minders-state">(.*?)</pre>', page.numbers.object, re.S)
    return json.loads(html.unescape(match.group(1)))


def test_a_small_world_is_built_at_once_and_shown(page):
    assert page.state.sim is not None  # small: built eagerly, so the views show step 0
    assert 'data-status="ready"' in page.status_pane.object
    assert shown_state(page)["step"] == 0
    assert page.network.count == NETWORK_SAMPLE < page.state.positions
    assert len(page.hierarchy.bars.data["left"]) == 3 * len(STATUS_NAMES)  # tiers x statuses
    assert card_class("Tier: residents") == "mf-card-tier-residents"


def test_run_streams_into_the_charts_until_done(page):
    page._on_run(None)
    assert page.state.playing and page.ticker.running
    while page.state.playing:
        page._tick()
    assert not page.ticker.running
    state = shown_state(page)
    assert state["status"] == "done" and state["step"] == 12
    expected = minders.simulate(Scenario.model_validate(SMALL)).records
    assert state["records_digest"] == records_digest(expected)
    assert page.charts.source.data["step"] == list(range(12))
    assert 'data-testid="defected-residents"' in page.numbers.object


def test_step_reset_and_seed(page):
    page._on_step(None)
    page._on_step(None)
    assert shown_state(page)["step"] == 2 and len(page.charts.source.data["step"]) == 2
    page.seed.value = 42
    assert page.state.scenario.run.seed == 42 and page.state.t == 0
    assert page.charts.source.data["step"] == []  # a new world clears the charts
    page._on_step(None)
    page._on_reset(None)
    assert shown_state(page)["step"] == 0 and page.charts.source.data["step"] == []


def test_an_invalid_edit_shows_the_cli_message_and_blocks_running(page):
    page._on_edit("model.watch_capacity", 0.0)
    assert page.error_box.visible
    assert ("model.watch_capacity: expected a value greater than 0, got 0.0"
            in page.error_box.object)
    assert page.run_button.disabled and page.step_button.disabled
    page._on_edit("model.watch_capacity", 10.0)
    assert not page.error_box.visible and not page.run_button.disabled


def test_a_failed_build_is_shown_and_the_page_recovers(page):
    page._on_edit("run.max_memory_gb", 1e-9)
    page._on_reset(None)
    assert page.failure_box.visible and "fits in" in page.failure_box.object
    page._on_edit("run.max_memory_gb", None)
    assert not page.failure_box.visible and page.state.sim is not None


def test_an_unexpected_error_in_a_callback_is_shown_not_raised(page, monkeypatch):
    def broken():
        raise RuntimeError("chart exploded")

    monkeypatch.setattr(page.state, "hierarchy", broken)
    page._guard(page._refresh)(force=True)
    assert "RuntimeError: chart exploded" in page.failure_box.object


def test_compare_mode_in_the_page(page):
    page._on_pin(None)
    assert page.state.comparing and page.compare_body.visible
    page._on_edit("tiers.residents.span", 40)
    for _ in range(3):
        page._on_step(None)
    assert "tiers.residents.span=40" in page.compare_note.object
    assert 'id="minders-comparison"' in page.compare_table.object
    assert len(page.compare_charts.source.data["step"]) == 3
    assert shown_state(page)["baseline"]["overrides"] == ["tiers.residents.span=40"]
    page._on_pin(None)
    assert not page.state.comparing and not page.compare_body.visible


def test_compare_mode_runs_replicate_pairs_with_a_paired_interval(page):
    page._on_pin(None)
    page._on_edit("tiers.residents.span", 40)
    page.pairs_input.value = 3
    page._on_pairs(None)
    table = page.pairs_table.object
    assert 'id="minders-pairs"' in table and "3 replicate pairs" in table
    assert "95% interval" in table and "cascade" in table
    page._on_pin(None)
    assert page.pairs_table.object == ""


def test_paired_replicates_share_seeds_so_no_change_gives_exactly_zero():
    from minders.dashboard.compare import paired_replicates

    scenario = Scenario.model_validate(SMALL)
    table = paired_replicates(scenario, scenario, 3, seed=5)
    assert (table["difference"] == 0).all() and (table["low"] == 0).all()
    assert (table["baseline"] == table["variant"]).all()


def test_shock_table_edits_validate_and_redraw_the_timeline(page):
    table = page.shocks.table.value.copy()
    table.loc[0, "end"] = 2.0  # before its start
    page.shocks.table.value = table
    assert page.state.error == "shocks.0.end: expected a step after start (4), got 2"
    table.loc[0, "end"] = 9.0
    page.shocks.table.value = table
    assert page.state.valid and page.state.scenario.shocks[0].end == 9
    page.shocks.add()
    assert len(page.state.scenario.shocks) == 2
    assert len(page.shocks.timeline.source.data["left"]) == 2
    page.shocks.table.selection = [0]
    page.shocks.remove_selected()
    assert [s.label for s in page.state.scenario.shocks] == ["new shock"]


def test_picking_and_uploading_scenarios(page):
    page.picker.value = "overseas_workers"
    assert page.state.scenario.name == "overseas_workers"
    assert [t for t in page.charts.tiers] == list(page.state.scenario.tiers)
    page.upload.filename = "bad.toml"
    page._on_upload(SimpleNamespace(new=b"[model]\nshirk = 3\n"))
    assert page.upload_note.visible and "Upload of bad.toml refused" in page.upload_note.object
    assert page.state.scenario.name == "overseas_workers"  # unchanged
    page.upload.filename = "empty.toml"
    page._on_upload(SimpleNamespace(new=b""))  # its own message, not the last file's
    assert "Upload of empty.toml refused" in page.upload_note.object
    assert "bad.toml" not in page.upload_note.object and "non-empty" in page.upload_note.object
    page.upload.filename = "mine.toml"
    page._on_upload(SimpleNamespace(new=(ROOT / "scenarios" / "pyongyang.toml").read_bytes()))
    assert page.state.scenario.name == "pyongyang" and page.state.source == "mine.toml (uploaded)"
    assert "Opened mine.toml." in page.upload_note.object  # a confirmation
    assert page.upload.filename is None  # the chooser forgets the file
    assert page.picker.value is None
    page.picker.value = "pyongyang"
    page._on_pick(SimpleNamespace(new="../../etc/passwd"))  # not in the list: ignored
    assert page.state.source == "pyongyang"


def test_downloads(page):
    assert page.parquet_download.disabled  # nothing run yet
    text = page._toml_file().read()
    assert minders.Scenario.model_validate(tomllib.loads(text)).name == "small"
    for _ in range(4):
        page._on_step(None)
    records = pd.read_parquet(page._parquet_file())
    assert records_digest(records) == records_digest(page.state.records())
    assert page._png_file().read()[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.toml_download.filename == "small.toml"
    assert page.parquet_download.filename == "small-seed3-records.parquet"
    page._on_pin(None)
    page._on_step(None)
    assert page.baseline_download.visible
    assert len(pd.read_parquet(page._baseline_file())) == 3


def test_experiments_tab_shows_heatmaps(tmp_path):
    runs = tmp_path / "sweep" / "runs"
    runs.mkdir(parents=True)
    frame = pd.DataFrame({"run_id": range(8), "seed": range(8),
                          "tiers.residents.span": [10, 10, 20, 20] * 2,
                          "model.fear_per_event": [0.0, 0.1] * 4, "defections": range(8)})
    frame.to_parquet(runs / "part-0.parquet")
    page = DashboardApp(Scenario.model_validate(SMALL), "small", CATALOG,
                        results_dir=tmp_path / "sweep")
    assert page.tab_names == ["Cascade", "Shocks", "Hierarchy & network", "Compare",
                              "Experiments"]
    tab = page.experiments
    assert tab.x.value == "tiers.residents.span" and tab.y.value == "model.fear_per_event"
    assert tab.outcome.value == "defections"
    assert len(tab.heatmap.source.data["value"]) == 4
    tab.statistic.value = "max"
    assert max(tab.heatmap.source.data["value"]) == 7
    assert "8 runs from 1 files" in tab.note.object


def test_no_experiments_tab_without_a_results_folder(page):
    assert "Experiments" not in page.tab_names


def test_messages_in_the_page_are_text_not_html(page):
    page.upload.filename = "<img src=x onerror=alert(1)>.toml"
    page._on_upload(SimpleNamespace(new=b"name = "))
    assert "<img" not in page.upload_note.object and "&lt;img" in page.upload_note.object
    page._on_edit("name", "<script>alert(1)</script>")
    page._on_edit("model.watch_capacity", 0.0)
    assert "<script>" not in page.numbers.object + page.error_box.object


def test_a_served_session_opens_the_scenario_its_address_names():
    from minders.dashboard.server import Sessions

    sessions = Sessions(Scenario.model_validate(SMALL), "small", CATALOG)
    page = sessions.page({"scenario": [b"overseas_workers"]})
    assert page.state.scenario.name == "overseas_workers" and page.sessions is sessions
    token = sessions.keep(Scenario.model_validate(SMALL), "mine.toml")
    page = sessions.page({"upload": [token.encode()]})
    assert page.state.source == "mine.toml (uploaded)"
    assert "Opened mine.toml." in page.upload_note.object and page.upload_note.visible
    assert sessions.page({}).state.source == "small"


def test_free_port_is_free():
    import socket

    port = free_port("127.0.0.1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
