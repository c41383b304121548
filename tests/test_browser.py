"""The dashboard in a real browser: `streamlit run app.py` driven by Debian's chromium.

Checks what only a browser shows: the map draws its country outlines from the
topojson we serve ourselves (static/world_110m.json, no CDN), and the analysed
article's places appear on the page. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
BOOT_TIMEOUT = 90
RESULT_TIMEOUT = 180_000  # ms: the first analysis loads the model and the gazetteer

ARTICLE = """Netanyahu meets Putin in Sochi

Israeli Prime Minister Benjamin Netanyahu flew to Sochi on Thursday to meet Russian President
Vladimir Putin. Moscow criticised his promise to annex the Jordan Valley, saying it would raise
tensions between Israel and the Palestinians. The two leaders also discussed Iran and Syria.
"""
PLACES = ["Sochi", "Moscow", "Israel", "Jordan Valley"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"streamlit did not become healthy:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed: run `make test` as root or apt-get install chromium")
    tmp = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = dict(os.environ, GEONEWS_DB=str(tmp / "corpus.duckdb"))
    log = tmp / "streamlit.log"
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def test_topojson_is_served_locally(server):
    with urllib.request.urlopen(f"{server}/app/static/world_110m.json", timeout=10) as r:
        assert r.status == 200
        assert b'"countries"' in r.read(4096 * 64)


@pytest.fixture
def page(browser, request):
    """A fresh page that must make no request outside the machine (CDNs, fonts)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else outside.append(r.url)
        ),
    )
    yield page
    page.close()
    assert not outside, f"the dashboard reached outside the machine: {outside}"


@contextlib.contextmanager
def shot_on_failure(page, name: str):
    """Save a screenshot as <name>-failure.png when the block fails."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(SHOTS / f"{name}-failure.png"), full_page=True)
        raise


def test_analyze_draws_places_on_an_offline_map(server, page):
    with shot_on_failure(page, "analyze"):
        topojson: list[tuple[str, int]] = []
        failed: list[str] = []
        page.on(
            "response",
            lambda r: topojson.append((r.url, r.status)) if r.url.endswith(".json") else None,
        )
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(server, wait_until="domcontentloaded")

        area = page.get_by_label("Article text")
        area.wait_for(timeout=60_000)
        area.fill(ARTICLE)
        page.get_by_role("button", name="Analyze").click()

        done = page.locator('.geonews-article mark, [data-testid="stException"]')
        done.first.wait_for(timeout=RESULT_TIMEOUT)
        errors = page.locator('[data-testid="stException"]')
        assert errors.count() == 0, errors.all_inner_texts()
        plot = page.locator(".js-plotly-plot").first
        plot.wait_for(timeout=60_000)
        # countries drawn from the topojson: one path per country in the countries layer
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot .layer.countries path').length > 0"
            " || document.querySelectorAll('.js-plotly-plot .choroplethlocation').length > 0",
            timeout=60_000,
        )
        page.wait_for_timeout(1000)
        plot.scroll_into_view_if_needed()
        plot.screenshot(path=str(SHOTS / "analyze-map.png"))
        # Streamlit scrolls an inner container, so a tall viewport shows the whole page
        page.set_viewport_size({"width": 1400, "height": 3200})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "analyze.png"))

        assert any(
            url.endswith("/app/static/world_110m.json") and status == 200
            for url, status in topojson
        ), topojson
        assert not [u for u in failed if "cdn.plot.ly" in u or "topojson" in u], failed
        outlines = page.locator(
            ".js-plotly-plot .layer.countries path, .js-plotly-plot .countries path"
        )
        assert outlines.count() > 0
        assert page.locator(".js-plotly-plot .scattergeo path.point").count() >= 1

        marked = page.locator(".geonews-article mark").all_inner_texts()
        body = page.locator("body").inner_text()
        for name in PLACES:
            assert name in body, name
        assert any("Sochi" in m for m in marked), marked
        assert page.locator(".geonews-legend").count() == 1

        page.get_by_role("button", name="Add to corpus").click()
        page.get_by_text("Added to the corpus.").wait_for(timeout=60_000)
        sidebar = page.locator('[data-testid="stSidebar"]')
        articles = sidebar.locator('[data-testid="stMetric"]').filter(has_text="Articles")
        articles.filter(has_text="1").wait_for(timeout=30_000)


def test_corpus_page_lists_the_stored_article(server, page):
    with shot_on_failure(page, "corpus"):
        page.set_viewport_size({"width": 1400, "height": 2000})
        page.goto(f"{server}/corpus", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Corpus").first.wait_for(timeout=60_000)
        page.locator(".js-plotly-plot .layer.countries path").first.wait_for(
            state="attached", timeout=60_000
        )
        page.wait_for_timeout(1000)
        page.screenshot(path=str(SHOTS / "corpus.png"))
        assert page.locator('[data-testid="stDataFrame"]').count() >= 1
