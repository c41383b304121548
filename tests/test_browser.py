"""The dashboard in a real browser: `streamlit run app.py` driven by Debian's chromium.

The server runs on a copy of a store holding 20 analysed sample articles. Checks
what only a browser shows: a click on a map point filters the other pages; a
shared link reproduces its view; an export downloads the filtered rows; the map
draws its country outlines from the topojson we serve ourselves
(static/world_110m.json, no CDN); a pasted article's places appear on the page.
Screenshots of every page (light, and dark for some) go to artifacts/screenshots/.
The tests run in file order: the ones that only read come before the one that adds
an article.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest
from browserkit import SHOTS, chromium, dashboard, require_chromium, shot_on_failure

RESULT_TIMEOUT = 180_000  # ms: the first analysis loads the model and the gazetteer

ARTICLE = """Netanyahu meets Putin in Sochi

Israeli Prime Minister Benjamin Netanyahu flew to Sochi on Thursday to meet Russian President
Vladimir Putin. Moscow criticised his promise to annex the Jordan Valley, saying it would raise
tensions between Israel and the Palestinians. The two leaders also discussed Iran and Syria.
"""
PLACES = ["Sochi", "Moscow", "Israel", "Jordan Valley"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory, sample_db_file):
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    shutil.copyfile(sample_db_file, tmp / "corpus.duckdb")
    with dashboard(tmp / "corpus.duckdb", tmp / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_topojson_is_served_locally(server):
    with urllib.request.urlopen(f"{server}/app/static/world_110m.json", timeout=10) as r:
        assert r.status == 200
        assert b'"countries"' in r.read(4096 * 64)


@pytest.fixture(scope="module")
def sample(sample_db_file):
    """The seeded store as the server started with it, to know what pages should show."""
    from geonews.store import Store

    with Store.open(sample_db_file, read_only=True) as store:
        yield store


def new_page(browser, *, dark: bool = False):
    return browser.new_page(
        viewport={"width": 1400, "height": 1000},
        color_scheme="dark" if dark else "light",
        accept_downloads=True,
    )


@pytest.fixture
def page(browser, request):
    """A fresh page that must make no request outside the machine (CDNs, fonts)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(browser)
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


def settle(page, timeout: int = 60_000) -> None:
    """Wait until the app has finished its run (no running indicator) and drawn."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget], [data-testid=stSkeleton]')",
        timeout=timeout,
    )
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.all_inner_texts()


def open_page(page, url: str, heading: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
    settle(page)


def go_to(page, name: str) -> None:
    """Follow the sidebar's navigation link to a page (the session and filters stay)."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=name).first.click()
    page.get_by_role("heading", name=name).first.wait_for(timeout=60_000)
    settle(page)


def caption_number(page, pattern: str) -> int:
    """The number in the first caption matching ``pattern`` (a regex with one group)."""
    text = page.locator('[data-testid="stCaptionContainer"]').filter(has_text=re.compile(pattern))
    text.first.wait_for(timeout=30_000)
    return int(re.search(pattern, text.first.inner_text()).group(1))


def query(url: str) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(url).query))


def test_clicking_a_place_on_the_map_filters_the_other_pages(server, page, sample):
    from geonews import analysis
    from geonews.filters import Filters

    with shot_on_failure(page, "map-click"):
        open_page(page, f"{server}/map", "Map")
        points = page.locator(".js-plotly-plot .scattergeo path.point")
        points.first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        # the biggest point is the most mentioned place
        boxes = [b for b in (p.bounding_box() for p in points.all()) if b]
        box = max(boxes, key=lambda b: b["width"])
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.wait_for_timeout(500)
        page.mouse.click(x, y)
        page.wait_for_function("() => location.search.includes('place=')", timeout=30_000)
        settle(page)
        place = query(page.url)["place"]
        f = Filters(places=(place,))
        name = analysis.options(sample)["places"].set_index("place_id").loc[place, "name"]
        page.get_by_text(f"Filtered to {name}").first.wait_for(timeout=30_000)
        n_articles = len(analysis.articles(sample, f))
        assert 0 < n_articles < 20

        go_to(page, "Corpus")
        assert query(page.url) == {"place": place}
        assert caption_number(page, r"(\d+) article\(s\) match the filters") == n_articles
        go_to(page, "Timeline")
        assert caption_number(page, r"(\d+) article\(s\) by publication date") == n_articles
        go_to(page, "Entities")
        n_entities = len(analysis.entity_table(sample, f))
        assert caption_number(page, r"(\d+) entit\(y/ies\)") == n_entities
        go_to(page, "Network")
        assert query(page.url) == {"place": place}
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)


def test_a_shared_link_opens_the_filtered_view(server, page, sample):
    from geonews import analysis
    from geonews.filters import from_query_params

    params = {"source": "Atlas Desk,Meridian Wire", "from": "2024-08-01", "type": "PERSON"}
    f = from_query_params(params)
    n = len(analysis.articles(sample, f))
    assert 0 < n < 20
    with shot_on_failure(page, "shared-link"):
        open_page(page, f"{server}/corpus?source=Atlas+Desk,Meridian+Wire&from=2024-08-01"
                  "&type=PERSON", "Corpus")  # fmt: skip
        assert caption_number(page, r"(\d+) article\(s\) match the filters") == n
        sidebar = page.locator('[data-testid="stSidebar"]')
        for chip in ("Atlas Desk", "Meridian Wire", "PERSON"):
            sidebar.get_by_text(chip, exact=True).first.wait_for(timeout=30_000)
        assert query(page.url) == {
            "source": "Atlas Desk,Meridian Wire",
            "from": "2024-08-01",
            "type": "PERSON",
        }
        # the same link on another page, and a bad parameter is noted, not fatal
        open_page(page, f"{server}/entities?type=PERSON&from=2024-08-01&source=Atlas+Desk,"
                  "Meridian+Wire&to=someday", "Entities")  # fmt: skip
        page.get_by_text("ignored to='someday'").first.wait_for(timeout=30_000)
        assert caption_number(page, r"(\d+) entit\(y/ies\)") == len(
            analysis.entity_table(sample, f)
        )


def test_download_an_export_of_the_filtered_view(server, page, sample):
    from geonews import analysis
    from geonews.filters import Filters

    with shot_on_failure(page, "export"):
        open_page(page, f"{server}/map?country=IN", "Map")
        page.get_by_text("Export this view").click()
        button = page.get_by_role("button", name="places.geojson")
        button.wait_for(timeout=30_000)
        with page.expect_download(timeout=60_000) as info:
            button.click()
        download = info.value
        assert download.suggested_filename == "geonews-places.geojson"
        data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
        want = analysis.place_counts(sample, Filters(countries=("IN",)))
        assert data["type"] == "FeatureCollection"
        assert [x["id"] for x in data["features"]] == list(want["place_id"])
        assert [x["properties"]["mentions"] for x in data["features"]] == list(want["mentions"])

        with page.expect_download(timeout=60_000) as info:
            page.get_by_role("button", name="places.csv").click()
        rows = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
        assert rows[0].startswith('"place_id"') or rows[0].startswith("place_id")
        assert len(rows) == 1 + len(want)

        # the figure as PNG: the camera button of the chart's toolbar, drawn by the browser
        plot = page.locator(".js-plotly-plot").first
        plot.hover()
        camera = plot.locator('.modebar-btn[data-title^="Download plot"]')
        camera.wait_for(timeout=30_000)
        with page.expect_download(timeout=60_000) as info:
            camera.click()
        assert info.value.suggested_filename == "geonews-map_chart.png"
        png = Path(info.value.path()).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_a_filter_change_redraws_the_map_in_place(server, page):
    """After a filter change the same map is redrawn with the new places (not a new
    chart element): zoom state and toolbar stay, and plotly.js draws once."""
    with shot_on_failure(page, "map-in-place"):
        open_page(page, f"{server}/map", "Map")
        points = page.locator(".js-plotly-plot .scattergeo path.point")
        points.first.wait_for(timeout=60_000)
        before = points.count()
        page.evaluate(
            "() => { const d = document.querySelector('.js-plotly-plot');"
            " window.__map = d; window.__draws = 0;"
            " d.on('plotly_afterplot', () => { window.__draws += 1; }); }"
        )
        box = page.locator('[data-testid="stSidebar"]').get_by_label("Search text")
        box.fill("Moscow")
        box.press("Enter")
        page.wait_for_function("() => location.search.includes('q=Moscow')", timeout=30_000)
        settle(page)
        page.wait_for_function("() => window.__draws > 0", timeout=30_000)
        assert page.evaluate("() => document.querySelector('.js-plotly-plot') === window.__map")
        assert page.evaluate("() => window.__draws") == 1
        assert 0 < points.count() < before


def test_the_map_follows_the_pages_width(server, page):
    """The chart fills its column when the sidebar is closed or the window narrowed."""
    width = (
        "() => document.querySelector('.js-plotly-plot .main-svg').getBoundingClientRect().width"
    )
    with shot_on_failure(page, "map-resize"):
        open_page(page, f"{server}/map", "Map")
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        start = page.evaluate(width)
        page.locator('[data-testid="stSidebar"]').hover()
        page.locator('[data-testid="stSidebarCollapseButton"] button').first.click()
        page.wait_for_function(f"() => ({width})() > {start + 150}", timeout=30_000)
        page.set_viewport_size({"width": 900, "height": 1000})
        page.wait_for_function(f"() => ({width})() < {start - 150}", timeout=30_000)
        assert (
            page.evaluate(width) <= page.locator('[data-testid="stMain"]').bounding_box()["width"]
        )


def test_download_a_chart_the_page_does_not_draw(server, page):
    # Network draws the open tab only; the heatmap's export is built when clicked
    with shot_on_failure(page, "export-heatmap"):
        open_page(page, f"{server}/network?scope=article", "Network")
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        assert page.locator(".js-plotly-plot").count() == 1, "the graph tab alone is drawn"
        page.get_by_text("Export this view").click()
        button = page.get_by_role("button", name="heatmap chart.html")
        button.wait_for(timeout=30_000)
        with page.expect_download(timeout=60_000) as info:
            button.click()
        assert info.value.suggested_filename == "geonews-heatmap.html"
        html = Path(info.value.path()).read_text(encoding="utf-8")
        assert '"type":"heatmap"' in html.replace(" ", "") and "Plotly" in html


PAGE_SHOTS = [
    ("map", "Map", False),
    ("timeline", "Timeline", False),
    ("network", "Network", False),
    ("entities", "Entities", False),
    ("corpus", "Corpus", False),
    ("map", "Map", True),
    ("timeline", "Timeline", True),
    ("network", "Network", True),
    ("", "Analyze", True),
]
SHOT_VIEWPORT = {"width": 1400, "height": 1000}


@pytest.mark.parametrize(("path", "title", "dark"), PAGE_SHOTS)
def test_screenshot_of_each_page(server, browser, path, title, dark):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(browser, dark=dark)
    name = (path or "analyze") + ("-dark" if dark else "")
    try:
        with shot_on_failure(page, name):
            open_page(page, f"{server}/{path}", title)
            if path in ("map", "timeline", "network"):
                page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            if path == "map":
                page.locator(".js-plotly-plot .layer.countries path").first.wait_for(
                    state="attached", timeout=60_000
                )
            if path == "entities":  # select an entity to show the curation tools
                table = page.locator('[data-testid="stDataFrame"]').first
                table.wait_for(timeout=30_000)
                page.wait_for_timeout(1000)
                box = table.bounding_box()
                page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # first row's checkbox
                page.get_by_role("tab", name="Merge into…").wait_for(timeout=30_000)
                settle(page)
            page.wait_for_timeout(1500)
            page.set_viewport_size(SHOT_VIEWPORT)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(SHOTS / f"{name}.png"))
            background = page.evaluate(
                "() => getComputedStyle(document.querySelector('.stApp')).backgroundColor"
            )
            rgb = [int(v) for v in re.findall(r"\d+", background)[:3]]
            assert (sum(rgb) < 200) if dark else (sum(rgb) > 600), background
    finally:
        page.close()


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
        # the results: the article's map, then its text with the entities highlighted
        page.set_viewport_size(SHOT_VIEWPORT)
        page.get_by_role("heading", name=ARTICLE.splitlines()[0], exact=True).first.evaluate(
            "el => el.scrollIntoView({block: 'start'})"
        )
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "analyze.png"))
        # Streamlit scrolls an inner container, so a tall viewport shows the whole page
        page.set_viewport_size({"width": 1400, "height": 3200})
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "analyze-full.png"))

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
        articles.filter(has_text="21").wait_for(timeout=30_000)


def test_corpus_page_lists_the_stored_article(server, page):
    with shot_on_failure(page, "corpus"):
        page.set_viewport_size(SHOT_VIEWPORT)
        page.goto(f"{server}/corpus", wait_until="domcontentloaded")
        page.get_by_role("heading", name="Corpus").first.wait_for(timeout=60_000)
        page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(SHOTS / "corpus.png"))
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.locator('[data-testid="stMetric"]').filter(has_text="Articles").count() == 1
