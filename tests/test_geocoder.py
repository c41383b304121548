"""The online fallback against a local Nominatim-like server: answers, cache, every failure."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from geonews import geocoder
from geonews.errors import (
    GeocoderConfigError,
    GeocoderError,
    GeocoderRateLimited,
    GeocoderResponseError,
    GeocoderTimeout,
    GeocoderUnavailable,
    GeonewsError,
)
from geonews.models import Analysis, Article, Place, Span
from geonews.store import Store

ZEBDANI = {
    "place_id": 1,
    "osm_type": "relation",
    "osm_id": 5512,
    "lat": "33.7248",
    "lon": "36.1012",
    "class": "place",
    "type": "town",
    "addresstype": "town",
    "name": "Zabadani",
    "display_name": "Zabadani, Rif Dimashq, Syria",
    "address": {"town": "Zabadani", "country": "Syria", "country_code": "sy"},
}


class Nominatim:
    """A /search endpoint in Nominatim's JSON format; ``mode`` picks how it answers."""

    def __init__(self, mode: str = "ok", answers: dict[str, dict] | None = None):
        self.mode = mode
        self.answers = answers if answers is not None else {"zabadani": ZEBDANI}
        self.requests: list[dict] = []
        server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        server.daemon_threads = True
        self.server = server
        self.port = server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                outer.requests.append({"path": url.path, **query})
                mode = outer.mode
                if mode == "slow":
                    time.sleep(1.5)
                if mode == "500":
                    return self._send(500, b"internal error")
                if mode == "429":
                    return self._send(429, b"slow down", {"Retry-After": "30"})
                if mode == "garbage":
                    return self._send(200, b"<html>not json{", {"Content-Type": "text/html"})
                hit = outer.answers.get(query.get("q", "").lower())
                body = [hit] if hit else []
                self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})

            def _send(self, code, body, headers=None):
                try:
                    self.send_response(code)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up (timeout test)
                    pass

        return Handler

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def env(monkeypatch):
    """Settings for a fast local geocoder; returns a function to point it at a port."""
    monkeypatch.setenv("GEONEWS_GEOCODER", "nominatim")
    monkeypatch.setenv("GEONEWS_GEOCODER_SCHEME", "http")
    monkeypatch.setenv("GEONEWS_GEOCODER_TIMEOUT", "0.5")
    monkeypatch.setenv("GEONEWS_GEOCODER_MIN_DELAY", "0")

    def point(port: int) -> None:
        monkeypatch.setenv("GEONEWS_GEOCODER_DOMAIN", f"127.0.0.1:{port}")

    return point


def unresolved_analysis(*names: str) -> Analysis:
    """An analysis whose places the offline geoparser could not place (as geo returns them)."""
    text = " and ".join(f"fighting near {n}" for n in names) + ". Damascus was calm."
    places = []
    for n in names:
        s = text.find(n)
        places.append(
            Place(n, None, None, None, "unresolved", 0.0, [Span(s, s + len(n), n)], None,
                  "Not in the offline gazetteer.")
        )  # fmt: skip
    d = text.find("Damascus")
    places.append(
        Place("Damascus", 33.51, 36.29, "SY", "city", 0.9, [Span(d, d + 8, "Damascus")],
              "gn:170654", "capital")
    )  # fmt: skip
    return Analysis(article=Article(text), places=places)


def fast(**kw):
    return geocoder.from_settings(error_wait=0.05, max_retries=1, **kw)


def test_off_by_default(monkeypatch):
    monkeypatch.delenv("GEONEWS_GEOCODER", raising=False)
    assert geocoder.from_settings() is None
    assert not geocoder.enabled()


def test_unknown_backend_lists_valid_ones(monkeypatch):
    monkeypatch.setenv("GEONEWS_GEOCODER", "nominatimm")
    with pytest.raises(GeocoderConfigError, match="valid ones: .*nominatim.*photon") as info:
        geocoder.from_settings()
    assert isinstance(info.value, GeonewsError) and isinstance(info.value, ValueError)
    monkeypatch.setenv("GEONEWS_GEOCODER", "google")  # needs an API key
    with pytest.raises(GeocoderConfigError, match="google"):
        geocoder.from_settings()


def test_answer_places_the_name_and_is_cached_in_the_store(env, db_path: Path):
    with Nominatim() as server, Store.open(db_path) as store:
        env(server.port)
        fallback = fast(cache=geocoder.StoreCache(store))
        report = fallback.resolve(unresolved_analysis("Zabadani", "Qaryat al-Nowhere"))
        assert report.ok and report.found == ["Zabadani"]
        assert report.asked == ["Zabadani", "Qaryat al-Nowhere"]
        zab, nowhere, damascus = report.analysis.places
        assert (zab.lat, zab.lon, zab.country_code, zab.kind) == (33.7248, 36.1012, "SY", "city")
        assert zab.id == "osm:relation:5512" and zab.name == "Zabadani"
        assert "online geocoder (nominatim@127.0.0.1" in zab.reason
        assert zab.mentions[0].text == "Zabadani"
        assert nowhere.lat is None and "Not found by the online geocoder" in nowhere.reason
        assert damascus.id == "gn:170654"  # resolved places are never asked about
        assert len(server.requests) == 2
        assert server.requests[0]["path"] == "/search"
        assert server.requests[0]["q"] == "Zabadani"
        first = len(server.requests)

    # a new process (new fallback) with the same store: answers and "not found" from the cache
    with Store.open(db_path) as store:
        # same geocoder, server stopped (its port closed): the cache still answers
        again = fast(cache=geocoder.StoreCache(store))
        report = again.resolve(unresolved_analysis("Zabadani", "Qaryat al-Nowhere"))
        assert report.ok and report.found == ["Zabadani"]
        assert again.lookup.hits == 2 and again.lookup.misses == 0
    assert len(server.requests) == first


@pytest.mark.parametrize(
    "mode, error, words, max_requests",
    [
        ("slow", GeocoderTimeout, "timed out", 2),  # tried, retried once, then the breaker
        ("500", GeocoderUnavailable, "failed", 2),
        ("429", GeocoderRateLimited, "rate-limited", 1),  # never retried: Retry-After honoured
        ("garbage", GeocoderResponseError, "malformed", 2),
    ],
)
def test_failures_keep_the_place_unresolved_and_are_not_cached(
    env, db_path: Path, mode, error, words, max_requests
):
    with Nominatim(mode) as server, Store.open(db_path) as store:
        env(server.port)
        fallback = fast(cache=geocoder.StoreCache(store))
        analysis = unresolved_analysis("Zabadani", "Madaya")
        report = fallback.resolve(analysis)
        assert set(report.failures) == {"Zabadani", "Madaya"}
        exc = report.failures["Zabadani"]
        assert isinstance(exc, error) and isinstance(exc, GeocoderError)
        assert isinstance(exc, GeonewsError) and isinstance(exc, IOError)
        if mode == "429":
            assert exc.retry_after == 30
        for place in report.analysis.places[:2]:
            assert place.lat is None and place.kind == "unresolved"
            assert words in place.reason and "Not in the offline gazetteer" in place.reason
        assert report.analysis.places[2].id == "gn:170654"
        assert analysis.places[0].reason == "Not in the offline gazetteer."  # input untouched
        # the first name used up the retries; the second failed fast (circuit open)
        assert len(server.requests) == max_requests
        assert store.query("SELECT * FROM geocode_cache").empty
        assert [n for n, _ in fallback.failures] == ["Zabadani", "Madaya"]

    # the server is fixed: a new run asks again (the failure was not cached) and succeeds
    with Nominatim("ok") as good, Store.open(db_path) as store:
        env(good.port)
        report = fast(cache=geocoder.StoreCache(store)).resolve(unresolved_analysis("Zabadani"))
        assert report.ok and report.analysis.places[0].lat == 33.7248
        assert len(good.requests) == 1


def test_closed_port_never_breaks_analysis(env):
    env(closed_port())
    fallback = fast()
    report = fallback.resolve(unresolved_analysis("Zabadani"))
    exc = report.failures["Zabadani"]
    assert isinstance(exc, GeocoderUnavailable)
    assert "unreachable" in report.analysis.places[0].reason
    # the pipeline's way of calling it: just an Analysis back
    assert fallback(unresolved_analysis("Zabadani")).places[0].lat is None


def test_timeout_is_bounded(env):
    with Nominatim("slow") as server:
        env(server.port)
        started = time.monotonic()
        report = fast().resolve(unresolved_analysis("Zabadani", "Madaya", "Bloudan"))
        elapsed = time.monotonic() - started
    assert len(report.failures) == 3
    assert elapsed < 3.0  # two 0.5 s attempts, then fail fast; never 3 names x retries


def test_rate_limiter_spaces_requests(env):
    with Nominatim() as server:
        env(server.port)
        fallback = geocoder.from_settings(min_delay=0.3)
        started = time.monotonic()
        fallback.resolve(unresolved_analysis("Zabadani", "Madaya", "Bloudan"))
        elapsed = time.monotonic() - started
    assert len(server.requests) == 3
    assert elapsed >= 0.55  # three requests, at least 0.3 s apart


def test_parse_location_rejects_impossible_coordinates():
    class Loc:
        latitude, longitude, address, raw = 123.0, 0.0, "x", {}

    with pytest.raises(GeocoderResponseError):
        geocoder.parse_location(Loc(), provider="nominatim")
    assert geocoder.parse_location(None, provider="nominatim") is None


# -- the dashboard says what happened ---------------------------------------------------

PASTED = "Protesters gathered in Springfield on Monday while officials in Damascus met."
SPRINGFIELD = {**ZEBDANI, "lat": "39.7990", "lon": "-89.6440", "name": "Springfield",
               "osm_id": 123, "display_name": "Springfield, Illinois, United States",
               "address": {"city": "Springfield", "country_code": "us"}}  # fmt: skip


@pytest.fixture
def analyze_page(env, db_path, monkeypatch):
    """An Analyze page session (AppTest) with the online geocoder on; returns a function
    that analyses the pasted text and returns the page."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    from components import resources

    init = PagesManager.__init__

    def patched(self, *args, **kwargs):  # as in test_app: app.py runs on every rerun
        init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", patched)
    monkeypatch.setenv("GEONEWS_DB", str(db_path))
    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    resources._open_store.clear()
    at = AppTest.from_file(str(root / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception

    def analyze(text: str = PASTED) -> AppTest:
        at.text_area(key="analyze_text").input(text)
        next(b for b in at.button if b.label == "Analyze").click()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield analyze
    resources.get_store().close()
    resources._open_store.clear()


def places_table(at) -> dict:
    frame = next(df.value for df in at.dataframe if "confidence" in df.value.columns)
    return {row["name"]: row for _, row in frame.iterrows()}


@pytest.mark.parametrize(
    "mode, words",
    [
        ("500", "could not be reached or failed on its side"),
        ("429", "refused more requests for now (rate limit, HTTP 429)"),
        ("slow", "timed out"),
        ("down", "could not be reached or failed on its side"),  # nothing listening
    ],
    ids=["http-500", "http-429", "timeout", "no-network"],
)
def test_analyze_page_says_when_the_online_geocoder_failed(env, analyze_page, mode, words):
    with Nominatim(mode, answers={"springfield": SPRINGFIELD}) as server:
        env(closed_port() if mode == "down" else server.port)
        at = analyze_page()
        (warning,) = [w.value for w in at.warning]
        assert warning.startswith("The online geocoder (nominatim@127.0.0.1:")
        assert f") {words}; places come from the offline gazetteer" in warning
        assert "offline gazetteer" in warning and "(Springfield)" in warning
        assert "Nothing was cached" in warning
        assert not at.error
        places = places_table(at)  # the offline answers are all still there
        assert places["Damascus"]["country"] == "SY" and places["Damascus"]["lat"] > 33
        assert places["Springfield"]["kind"] == "unresolved"
        from components import resources

        assert resources.get_store().query("SELECT * FROM geocode_cache").empty

    with Nominatim("ok", answers={"springfield": SPRINGFIELD}) as good:  # fixed: asked again
        env(good.port)
        at = analyze_page()
        assert not at.warning and not at.error
        places = places_table(at)
        assert places["Springfield"]["country"] == "US" and places["Damascus"]["country"] == "SY"
        assert [r["q"] for r in good.requests] == ["Springfield"]
