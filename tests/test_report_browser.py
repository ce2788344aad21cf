"""The report in a real browser (headless Chromium) and its PDF as images (poppler).

The HTML must load with no console errors and no request other than the file itself
(``data:`` URIs are inline content, not requests to anywhere); the PDF must have a
plausible number of pages, none of them blank. Skipped, with the reason, where Chromium,
chromedriver, selenium or poppler-utils are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_report import build_store

from jobimpact.report import ReportResult, build_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Flags that keep a headless Chromium off the network and free of first-run chores.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,1000",
)
EXPECTED_PAGES = range(6, 17)
NETWORK_SCHEMES = {"http", "https", "ws", "wss", "ftp"}

pytestmark = pytest.mark.slow  # a real browser and PDF rasterising: run by make test


def _missing(*programs: str) -> list[str]:
    return [p for p in programs if not Path(p).is_file() and shutil.which(p) is None]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    db = build_store(tmp_path_factory.mktemp("store"))
    return build_report(db, out_dir=tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module")
def page_logs(built: ReportResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Open the HTML in headless Chromium; return its logs and a few facts about the page."""
    missing = _missing(CHROMIUM, CHROMEDRIVER)
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (Debian packages chromium, chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (dev extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        url = built.paths["html"].resolve().as_uri()
        driver.get(url)
        facts = driver.execute_script(
            "return {ready: document.readyState, svgs: document.querySelectorAll('svg').length,"
            " font: document.fonts.check(\"10pt 'DejaVu Sans Report'\"),"
            " overflow: document.documentElement.scrollWidth > window.innerWidth,"
            " title: document.title}"
        )
        return {
            "url": url,
            "facts": facts,
            "console": driver.get_log("browser"),
            "performance": driver.get_log("performance"),
        }
    finally:
        driver.quit()


def test_html_loads_without_console_errors(page_logs: dict[str, Any]) -> None:
    facts = page_logs["facts"]
    assert facts["ready"] == "complete"
    assert facts["svgs"] >= 5
    assert facts["font"], "the embedded font should be available to the page"
    assert not facts["overflow"], "nothing should stick out of the page sideways"
    severe = [entry for entry in page_logs["console"] if entry["level"] == "SEVERE"]
    assert severe == []


def test_html_makes_no_request_but_for_itself(page_logs: dict[str, Any]) -> None:
    url = page_logs["url"]
    requests = []
    for entry in page_logs["performance"]:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            params = message["params"]
            requests.append((params["request"]["url"], params.get("documentURL")))
    assert (url, url) in requests
    # What the page itself asked for (the browser's own start page also logs requests).
    from_page = [r for r, document in requests if document == url and r != url]
    assert [r for r in from_page if not r.startswith("data:")] == []
    assert [r for r, _ in requests if r.split(":")[0] in NETWORK_SCHEMES] == []


def test_pdf_pages_are_all_there_and_none_is_blank(built: ReportResult, tmp_path: Path) -> None:
    missing = _missing("pdftoppm", "pdfinfo")
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (Debian package poppler-utils)")
    from PIL import Image

    pdf = built.paths["pdf"]
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    pages = int(
        next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages:"))
    )
    assert pages == built.n_pages
    assert pages in EXPECTED_PAGES
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        grey = np.asarray(Image.open(image).convert("L"), dtype=float)
        inked = (grey < 200).mean()
        assert grey.std() > 5 and inked > 0.005, f"{image.name} looks blank"
