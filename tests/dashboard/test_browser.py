"""The dashboard end to end, in real Chromium: Debian's package driven by Playwright.

The server is the real command (``minders dashboard --port 0 --no-browser``)
in a subprocess, on 127.0.0.1. Without Chromium these tests are skipped with
the reason and how to install it; in CI (``CI=true``) a missing browser fails
the run instead, so the browser tests cannot silently stop running.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import minders
from minders.dashboard.state import records_digest, totals

from ..conftest import ROOT

CHROMIUM = Path(os.environ.get("MINDERS_CHROMIUM", "/usr/bin/chromium"))
HOW_TO_INSTALL = ("install Debian's browser with 'sudo apt-get install chromium' "
                  "(.ci/run does this in CI); Playwright's own browser download is not used")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PYONGYANG = ROOT / "scenarios" / "pyongyang.toml"
#: A small, quick Pyongyang whose coup (steps 12-20) falls inside a 36-step run.
SERVED = ["tiers.residents.size=2000", "run.steps=36", "shocks.0.start=12", "shocks.0.end=20",
          "shocks.1.start=12", "shocks.1.end=20"]
SCREENSHOT = ROOT / "docs" / "img" / "dashboard.png"


def unavailable(reason: str) -> None:
    """Skip on a developer machine; fail in CI, where the browser tests must run."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason}: the browser tests must run in CI; {HOW_TO_INSTALL}",
                    pytrace=False)
    pytest.skip(f"{reason}; {HOW_TO_INSTALL}")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is missing (pip install 'minders[test]')")
    try:
        import panel  # noqa: F401
    except ImportError:
        unavailable("the dashboard extra is missing (pip install 'minders[dashboard]')")
    if not CHROMIUM.is_file():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh profile
            executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1600, "height": 1000}, accept_downloads=True,
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.fixture(scope="module")
def server(browser):
    """``minders dashboard`` in a subprocess on a free port of 127.0.0.1; its URL."""
    sets = [arg for value in SERVED for arg in ("--set", value)]
    process = subprocess.Popen(
        [sys.executable, "-m", "minders.cli", "dashboard", str(PYONGYANG), *sets,
         "--port", "0", "--no-browser"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    url, output, deadline = None, [], time.monotonic() + 90
    while url is None and time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        output.append(line)
        found = re.search(r"minders dashboard: (http://127\.0\.0\.1:\d+/)", line)
        url = found.group(1) if found else None
    if url is None:
        process.kill()
        pytest.fail("the dashboard did not start:\n" + "".join(output))
    while time.monotonic() < deadline:  # it answers once the server is up
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


class Page:
    """One browser tab on the dashboard, recording every request it makes."""

    def __init__(self, browser, url: str) -> None:
        self.url = url
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)
        self.page.locator("#minders-state").wait_for(state="attached")
        self.wait(lambda s: s["status"] == "ready")
        # Interact only once Bokeh has rendered the page and synced it with the server.
        self.page.wait_for_function(
            "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle")

    def state(self) -> dict:
        """The JSON the page shows."""
        return json.loads(self.page.locator("#minders-state").text_content())

    def wait(self, condition, timeout: float = 30.0) -> dict:
        """Poll the page's JSON until ``condition(state)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if condition(state):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the page shows {state}")
            time.sleep(0.1)

    def open_card(self, title: str) -> None:
        from minders.dashboard.app import card_class

        header = self.page.locator(f".{card_class(title)} .card-header").first
        if header.get_attribute("aria-expanded") != "true":
            header.click()

    def type_number(self, path: str, value: object) -> None:
        """Type into the number input of ``path`` and press Enter, as a user would."""
        from minders.dashboard.widgets import css_class

        box = self.page.locator(f".{css_class(path)} input").first
        box.click()
        box.press("Control+a")
        box.type(str(value))
        box.press("Enter")

    def click(self, css: str) -> None:
        self.page.locator(f"{css} button").first.click()

    def outside_requests(self) -> list[str]:
        origin = self.url.rstrip("/")
        websocket = origin.replace("http://", "ws://")
        return [u for u in self.requests
                if not (u.startswith((origin, websocket)) or u.startswith(("data:", "blob:")))]


@pytest.fixture
def page(browser, server):
    tab = Page(browser, server)
    yield tab
    assert tab.outside_requests() == []  # every test, not only the one that says so
    tab.page.close()


def expected_scenario(*overrides: str):
    return minders.load_scenario(PYONGYANG, [*SERVED, *overrides])


def cli_error(*overrides: str) -> str:
    """The message ``minders validate`` prints for the same scenario and overrides."""
    sets = [arg for value in [*SERVED, *overrides] for arg in ("--set", value)]
    done = subprocess.run([sys.executable, "-m", "minders.cli", "validate", str(PYONGYANG),
                           *sets], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "400"}, timeout=120)
    assert done.returncode == 2
    return done.stderr.strip().removeprefix("error: ")


def test_the_numbers_on_the_page_are_those_of_minders_run(page, tmp_path):
    page.type_number("tiers.residents.span", 40)
    page.type_number("run.seed", 5)
    scenario = expected_scenario("tiers.residents.span=40", "run.seed=5")
    page.wait(lambda s: s["scenario_hash"] == scenario.scenario_hash())
    page.click(".mf-run")
    shown = page.wait(lambda s: s["status"] == "done", timeout=60)
    records = minders.simulate(scenario).records
    assert shown["step"] == 36 and shown["seed"] == 5
    assert shown["records_digest"] == records_digest(records)
    assert shown["tiers"] == totals(records)
    last = records[records["step"] == 35].set_index("tier")
    for column in ("defected", "jailed", "loyal"):
        cell = page.page.locator(f'[data-testid="{column}-residents"]')
        assert cell.text_content() == f"{int(last.loc['residents', column]):,}"
    # The exported scenario is the one that ran: minders run FILE gives these records.
    with page.page.expect_download() as download:
        page.click(".mf-dl-toml")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "pyongyang.toml"
    exported = minders.load_scenario(saved)
    assert exported.scenario_hash() == scenario.scenario_hash()


def test_an_invalid_value_is_refused_with_the_cli_message(page):
    page.open_card("Model")
    page.type_number("model.watch_capacity", 0)
    message = page.page.locator("#minders-error-message")
    message.wait_for()
    assert message.text_content() == cli_error("model.watch_capacity=0.0")
    assert page.wait(lambda s: s["status"] == "invalid")["error"] == message.text_content()
    assert page.page.locator(".mf-run button").is_disabled()
    page.type_number("model.watch_capacity", 8)
    assert page.wait(lambda s: s["status"] == "ready")["error"] is None


def test_an_invalid_upload_is_refused_with_the_cli_message(page, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(PYONGYANG.read_text().replace("shirk = 0.6", "shirk = 1.6"))
    page.page.locator(".mf-upload input[type=file]").set_input_files(str(bad))
    note = page.page.locator("#minders-upload-error .msg")
    note.wait_for()
    cli = subprocess.run([sys.executable, "-m", "minders.cli", "validate", str(bad)],
                         capture_output=True, text=True, env={**os.environ, "COLUMNS": "400"})
    assert note.text_content() == cli.stderr.strip().removeprefix("error: ")
    assert page.state()["scenario"] == "pyongyang"  # the open scenario is kept


def test_compare_runs_the_variant_beside_the_baseline(page):
    page.click(".mf-pin")
    page.wait(lambda s: "baseline" in s)
    page.type_number("tiers.residents.span", 40)
    for _ in range(3):
        page.click(".mf-step")
    shown = page.wait(lambda s: s["step"] == 3)
    assert shown["baseline"]["overrides"] == ["tiers.residents.span=40"]
    base = minders.simulate(expected_scenario(), steps=3).records
    variant = minders.simulate(expected_scenario("tiers.residents.span=40"), steps=3).records
    assert shown["baseline"]["records_digest"] == records_digest(base)
    assert shown["records_digest"] == records_digest(variant)
    page.page.get_by_text("Compare", exact=True).click()
    page.page.locator("#minders-comparison").wait_for(state="visible")  # rendered when opened


def test_the_page_works_offline_and_is_what_the_docs_show(page, tmp_path):
    page.click(".mf-run")
    page.wait(lambda s: s["status"] == "done", timeout=60)
    page.page.wait_for_timeout(500)  # let the last points render
    shot = page.page.screenshot(path=str(tmp_path / "dashboard.png"))
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000  # charts, not a blank
    # The picture in docs/dashboard.md: written when missing or asked for, so that a
    # test run does not leave a changed binary in the working tree every time.
    if not SCREENSHOT.exists() or os.environ.get("MINDERS_UPDATE_SCREENSHOTS"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(shot)
    for tab in ("Shocks", "Hierarchy & network", "Compare", "Cascade"):
        page.page.get_by_text(tab, exact=True).click()
    page.page.wait_for_timeout(300)
    assert page.requests and page.outside_requests() == []
    assert any("/static/js/bokeh" in u for u in page.requests)  # served by the dashboard
    assert page.errors == []


def test_every_input_has_an_accessible_name(page):
    """Every input, select and text area of the page has a label or an aria-label."""
    found = page.page.locator("input, select, textarea").evaluate_all(
        """elements => elements.filter(e => e.type !== "hidden").map(e => ({
            name: e.getAttribute("aria-label") || [...(e.labels || [])]
                .map(l => l.textContent.trim()).join(" "),
            where: (e.getRootNode().host || e).className}))""")
    assert len(found) > 60
    assert [f["where"] for f in found if not f["name"].strip()] == []


def test_switching_scenarios_opens_a_fresh_page(page):
    """A switch loads /?scenario=NAME: the browser keeps no models of the old page."""
    page.page.locator(".mf-picker select").select_option("overseas_workers")
    page.page.wait_for_url("**/?scenario=overseas_workers")
    page.page.locator("#minders-state").wait_for(state="attached")
    shown = page.wait(lambda s: s["scenario"] == "overseas_workers")
    assert shown["status"] in ("ready", "paused")
    page.page.wait_for_function(
        "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle")
    spinners = page.page.evaluate(
        "() => [...Bokeh.documents[0]._all_models.values()]"
        ".filter(m => m.type === 'Spinner').length")
    assert spinners < 120  # one form (about 90); a rebuild in place left 179 behind
