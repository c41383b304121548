"""No script injection, in a real browser: `streamlit run app.py` driven by Debian's chromium.

The store starts with hostile data at rest (as an imported corpus could bring it): a title,
a URL and an entity name carrying payloads. Then the test pastes an article full of payloads
into Analyze, analyses it and adds it to the corpus, and visits every page. Nothing may run
(``window.__xss`` stays undefined, no dialog opens) and nothing may be injected into the page
(no ``img[src=x]``, no ``on*=`` handler, no ``javascript:`` link, no element from markup).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from browserkit import SHOTS, chromium, dashboard, require_chromium, shot_on_failure

from geonews import curation, pipeline
from geonews.models import Article
from geonews.store import Store

RESULT_TIMEOUT = 180_000  # ms: the first analysis loads the model and the gazetteer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SET = "window.__xss=1"
PAYLOADS = [
    f"<script>{SET}</script>",
    f'<img src=x onerror="{SET};alert(1)">',
    f'<svg onload="{SET};alert(2)"><circle r=5></circle></svg>',
    f'<a href="javascript:{SET}">click me</a>',
    f"[markdown link](javascript:{SET})",
    f'<iframe srcdoc="<script>parent.{SET}</script>"></iframe>',
    f'<div style="background:url(javascript:{SET})">styled</div>',
    f'"><img src=x onerror={SET}>',
    f"'><svg/onload={SET}>",
    f"<details open ontoggle={SET}>",
    "<b>Ivan</b> Petrov",
    "![pixel](http://203.0.113.9/pixel.png)",
    f":red[coloured] $\\alert{{1}}$ <style>body{{display:none}}</style>{SET}",
]
ARTICLE = (
    "Russian President Vladimir Putin met Israeli Prime Minister Benjamin Netanyahu in Sochi "
    "on Thursday, and Moscow spoke of Syria.\n\n"
    + "\n".join(f"Payload {i}: {p} said Sergei Lavrov in Kyiv." for i, p in enumerate(PAYLOADS))
)
TITLE = f'<img src=x onerror="{SET};alert(3)"> **Sochi** <script>{SET}</script>'
STORED_TITLE = f'<svg onload="{SET}"> [Stored](javascript:{SET}) <b>talks</b>'
ENTITY_NAME = f'<b>Ivan</b> Petrov<img src=x onerror="{SET};alert(4)">'

INJECTED = """() => {
  const found = [];
  const q = (sel) => document.querySelectorAll(sel).length;
  if (q('img[src="x"]')) found.push('img[src=x]');
  if (q('iframe[srcdoc]')) found.push('iframe[srcdoc]');
  if (q('a[href^="javascript:" i]')) found.push('javascript: link');
  if (q('[style*="javascript:" i]')) found.push('javascript: style');
  if (q('details[ontoggle]')) found.push('details ontoggle');
  if (q('img[src*="203.0.113.9"]')) found.push('markdown image');
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on') && a.value.includes('__xss')) found.push(el.tagName + ' ' + a.name);
      if (a.value.includes('javascript:') && ['href', 'src', 'action', 'xlink:href'].includes(a.name))
        found.push(el.tagName + ' ' + a.name);
    }
  }
  for (const el of document.querySelectorAll('.geonews-article b, .geonews-article svg, '
      + '.geonews-article script, .geonews-article img, .geonews-article a, '
      + '.geonews-article iframe, .geonews-article style, .geonews-article details'))
    found.push('markup inside the article: ' + el.tagName);
  return found;
}"""


def hostile_store(path: Path) -> None:
    """A store holding payloads at rest: title, URL and a curated entity name."""
    article = Article(
        "Vladimir Putin met Recep Tayyip Erdogan in Ankara on Monday to discuss Syria.",
        id="hostile-1",
        title=STORED_TITLE,
        url=f"javascript:{SET}",
        source=f"<script>{SET}</script>",
    )
    with Store.open(path) as store:
        store.add(pipeline.analyze(article))
        putin = store.query("SELECT id FROM entities WHERE name = 'Vladimir Putin'")["id"][0]
        curation.rename(store, putin, ENTITY_NAME)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("xss")
    db = tmp / "corpus.duckdb"
    hostile_store(db)
    with dashboard(db, tmp / "streamlit.log", GEONEWS_GEOCODER=None) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


class Watch:
    """Dialogs opened and requests that left the machine, on one page."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        with contextlib.suppress(Exception):
            dialog.dismiss()

    def _request(self, request) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            self.outside.append(request.url)


@pytest.fixture(scope="module")
def page(browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.watch = Watch(page)
    yield page
    page.close()


def assert_clean(page, where: str) -> None:
    page.wait_for_timeout(800)  # let any injected handler (onload, onerror) fire
    for frame in page.frames:
        with contextlib.suppress(Exception):  # a frame may be detached meanwhile
            assert frame.evaluate("() => window.__xss") is None, f"{where}: script ran"
    assert not page.watch.dialogs, f"{where}: dialogs {page.watch.dialogs}"
    injected = page.evaluate(INJECTED)
    assert not injected, f"{where}: injected {injected}"
    assert not page.watch.outside, f"{where}: requests left the machine {page.watch.outside}"


def test_paste_analyse_and_store_payloads(server, page):
    with shot_on_failure(page, "xss-analyze"):
        page.goto(server, wait_until="domcontentloaded")
        area = page.get_by_label("Article text")
        area.wait_for(timeout=60_000)
        area.fill(ARTICLE)
        page.get_by_label("Title (optional)").fill(TITLE)
        page.get_by_role("button", name="Analyze").click()
        done = page.locator('.geonews-article mark, [data-testid="stException"]')
        done.first.wait_for(timeout=RESULT_TIMEOUT)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert_clean(page, "Analyze")
        article = page.locator(".geonews-article").inner_text()
        for payload in (PAYLOADS[0], PAYLOADS[1], "<b>Ivan</b> Petrov"):
            assert payload in article  # shown as text, not dropped
        headings = " ".join(page.locator("h3").all_inner_texts())
        assert "<img src=x" in headings, headings  # the title, as text
        marks = page.locator(".geonews-article mark")
        assert marks.count() >= 3

        page.get_by_role("button", name="Add to corpus").click()
        page.get_by_text("Added to the corpus.").wait_for(timeout=60_000)
        assert_clean(page, "Analyze after adding")


@pytest.mark.parametrize("path", ["corpus", "entities", "map", "timeline", "network", ""])
def test_every_page_shows_stored_payloads_inertly(server, page, path):
    with shot_on_failure(page, f"xss-{path or 'home'}"):
        page.goto(f"{server}/{path}", wait_until="domcontentloaded")
        page.locator('[data-testid="stSidebar"]').first.wait_for(timeout=60_000)
        page.locator("h1").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        assert page.locator('[data-testid="stException"]').count() == 0
        assert_clean(page, path or "home")


def test_opening_a_stored_article_keeps_its_payloads_inert(server, page):
    """Corpus -> select the hostile article's row: its title (a heading) and text render."""
    with shot_on_failure(page, "xss-corpus-open"):
        page.goto(f"{server}/corpus", wait_until="domcontentloaded")
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        box = grid.bounding_box()
        for row in range(2):  # click each row's selection cell (the grid is a canvas)
            page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * row + 17)
            page.wait_for_timeout(2000)
            assert_clean(page, f"Corpus row {row}")
        headings = " ".join(page.locator("h3").all_inner_texts())
        assert "<svg onload" in headings or "<img src=x" in headings, headings
