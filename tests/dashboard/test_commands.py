"""``minders dashboard``: arguments, errors (exit status 2) and what it prints."""

from __future__ import annotations

import importlib.util

import pytest
from typer.testing import CliRunner

from minders.cli import app

from ..conftest import ROOT

runner = CliRunner()
PYONGYANG = ROOT / "scenarios" / "pyongyang.toml"


class FakeServer:
    """Stands in for the Bokeh server: records what the command does with it."""

    port = 54321

    def __init__(self):
        self.started = self.stopped = False
        self.io_loop = self

    def start(self):
        self.started = True

    def stop(self):
        self.stopped = True

    def add_callback(self, *args):
        self.callback = args


@pytest.fixture
def fake_server(monkeypatch):
    pytest.importorskip("panel")
    import minders.dashboard.server as app_module

    made = {}

    def make_server(scenario, source, catalog, **options):
        made.update(scenario=scenario, source=source, catalog=catalog, **options)
        made["server"] = FakeServer()
        return made["server"]

    monkeypatch.setattr(app_module, "make_server", make_server)
    return made


def test_help_lists_the_options():
    result = runner.invoke(app, ["dashboard", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--host", "--port", "--results", "--no-browser", "--show", "--set"):
        assert option in result.output


def test_serves_the_scenario_on_loopback_and_prints_the_url(fake_server):
    result = runner.invoke(app, ["dashboard", str(PYONGYANG), "--set", "run.seed=4",
                                 "--no-browser"])
    assert result.exit_code == 0, result.output
    assert "minders dashboard: http://127.0.0.1:54321/" in result.output
    assert "warning" not in result.output
    assert fake_server["host"] == "127.0.0.1" and fake_server["port"] == 0
    assert fake_server["scenario"].run.seed == 4 and fake_server["source"] == "pyongyang"
    assert {"pyongyang", "overseas_workers"} <= set(fake_server["catalog"])
    server = fake_server["server"]
    assert server.started and server.stopped and not hasattr(server, "callback")


def test_opens_a_browser_unless_told_not_to(fake_server):
    result = runner.invoke(app, ["dashboard", "--port", "8123"])
    assert result.exit_code == 0, result.output
    opener, url = fake_server["server"].callback
    assert url == "http://127.0.0.1:54321/" and opener.__name__ == "open"
    assert fake_server["source"] == "pyongyang"  # a bundled default


def test_another_host_is_served_with_a_warning(fake_server):
    result = runner.invoke(app, ["dashboard", "--host", "0.0.0.0", "--no-browser"],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert "warning: listening on 0.0.0.0" in result.output and "no login" in result.output


def test_a_results_folder_is_passed_on(fake_server, tmp_path):
    result = runner.invoke(app, ["dashboard", "--results", str(tmp_path), "--no-browser"])
    assert result.exit_code == 0, result.output
    assert fake_server["results_dir"] == tmp_path.resolve()


@pytest.mark.parametrize(("args", "message"), [
    (["missing.toml"], "scenario: expected an existing scenario file"),
    ([str(PYONGYANG), "--set", "model.shirk=2"], "model.shirk: expected a value less than"),
    ([str(ROOT / "scenarios" / "granovetter_riot.toml")], "kind: expected 'minders'"),
    (["--results", "no/such/folder"], "--results: expected an existing folder"),
])
def test_user_errors_exit_with_status_2(args, message):
    result = runner.invoke(app, ["dashboard", *args, "--no-browser"], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_extra_is_a_clear_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "panel" else real(name, *a))
    result = runner.invoke(app, ["dashboard", "--no-browser"], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "pip install 'minders[dashboard]'" in result.output


def test_a_taken_port_is_a_clear_error():
    pytest.importorskip("panel")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["dashboard", "--port", str(port), "--no-browser"],
                               env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert f"--port: cannot listen on 127.0.0.1:{port}" in result.output
