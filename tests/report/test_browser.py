"""The report in real Chromium (Debian's package, driven by Playwright), opened from a file.

Skipped without Chromium, with the reason and how to install it; in CI a
missing browser fails the run, as for the dashboard's browser tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from minders.cli.commands import app

from ..conftest import ROOT
from ..dashboard.test_browser import ARGS, CHROMIUM, unavailable

#: The picture in docs/report.md (written when missing, or with MINDERS_UPDATE_SCREENSHOTS).
SCREENSHOT = ROOT / "docs" / "img" / "report.png"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the Python package playwright is missing (pip install 'minders[test]')")
    if not CHROMIUM.is_file():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 1100, "height": 1400},
        )
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.mark.parametrize("folder", ["run_dir", "sweep_dir"])
def test_the_report_renders_offline_without_errors(browser, request, tmp_path, folder):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", str(request.getfixturevalue(folder)),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = browser.new_page()
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning")
            else None)
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate(
        "() => [...document.images].map(i => [i.complete, i.naturalWidth, i.width])")
    assert images and all(done and natural > 400 and width > 400
                          for done, natural, width in images)
    headings = page.locator("h2").all_inner_texts()
    assert headings == ["Main findings", "Results", "What was asked", "Provenance",
                        "How to reproduce"]
    # Nothing but the file itself and its embedded images is requested.
    assert [u for u in requests if not u.startswith(("file://", "data:"))] == []
    assert problems == []
    # The page fits its width: no table spills out sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1100
    shot = page.screenshot(path=str(tmp_path / "report.png"))
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 50_000
    if folder == "run_dir" and (not SCREENSHOT.exists()
                                or os.environ.get("MINDERS_UPDATE_SCREENSHOTS")):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.write_bytes(shot)
    elif folder == "run_dir":
        assert looks_like(tmp_path / "report.png", SCREENSHOT)
    page.close()


def looks_like(shot: Path, reference: Path, least: float = 0.9) -> bool:
    """Whether a screenshot shows the reference's layout, at a coarse scale.

    Both are reduced to grey 8 x 8 pixel blocks over their common height, and
    the blocks must correlate at ``least``. Text that differs (a temporary path,
    a date) barely moves it (0.995 measured); another report (0.31), a page
    whose lower two thirds are lost (0.68) or one shifted by 40 pixels (0.12)
    fall far below.
    """
    from matplotlib import image

    def blocks(path: Path, height: int) -> np.ndarray:
        grey = image.imread(path)[:height, :, :3].mean(axis=2)
        h, w = (grey.shape[0] // 8) * 8, (grey.shape[1] // 8) * 8
        return grey[:h, :w].reshape(h // 8, 8, w // 8, 8).mean(axis=(1, 3))

    height = min(image.imread(shot).shape[0], image.imread(reference).shape[0])
    a, b = blocks(shot, height), blocks(reference, height)
    return a.shape == b.shape and float(np.corrcoef(a.ravel(), b.ravel())[0, 1]) >= least
