"""Safe URL fetching (geonews.netsafe, used by sources.fetch_url and read_feed).

Every server here listens on 127.0.0.1 and is reached through the allow-list
(GEONEWS_FETCH_ALLOW), as a self-hosted source would be. Host names are
resolved by an injected resolver, never by real DNS. A socket audit hook
records every connection attempt, so "refused before any connection" is
checked, not assumed.
"""

from __future__ import annotations

import gzip
import http.server
import socket
import sys
import threading
import time

import pytest

from geonews import netsafe, sources
from geonews.errors import BlockedURLError, FetchError

PAGE = (
    b"<html><head><title>Kyiv talks</title></head><body><article>"
    b"<p>Talks in Kyiv between Ukraine and Poland ended on Tuesday without a deal on grain."
    b"</p></article></body></html>"
)

# -- connection log (a real audit hook, not a mock) ----------------------------------

_CONNECTS: list = []
_RECORDING = threading.local()


def _audit(event, args):
    if event == "socket.connect" and getattr(_RECORDING, "on", False):
        _CONNECTS.append(args[1])


sys.addaudithook(_audit)


class record_connections:  # noqa: N801 - used like a function
    """Collect the addresses this thread connects to inside the block."""

    def __enter__(self):
        _CONNECTS.clear()
        _RECORDING.on = True
        return _CONNECTS

    def __exit__(self, *exc):
        _RECORDING.on = False


# -- a local server with hostile routes ------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, status, headers=(), body=b""):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.hits.append(self.path)
        path = self.path
        if path == "/article":
            self._send(
                200,
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", len(PAGE))],
                PAGE,
            )
        elif path.startswith("/to?"):
            self._send(302, [("Location", path[4:]), ("Content-Length", "0")])
        elif path == "/loop":
            self._send(301, [("Location", "/loop"), ("Content-Length", "0")])
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            target = "/article" if n == 0 else f"/chain/{n - 1}"
            self._send(307, [("Location", target), ("Content-Length", "0")])
        elif path == "/stall":  # accepts, then never answers
            self.server.stop.wait(30)
        elif path == "/drip":  # headers, then one byte every 0.2 s forever
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self._drip(b"x")
        elif path == "/drip-headers":  # the status line, then a header byte every 0.2 s
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self._drip(b"X-Slow: y\r\n")
        elif path == "/huge":  # 50 MB with no Content-Length
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            chunk = b"<p>" + b"a" * 65530 + b"</p>"
            try:
                for _ in range(800):
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
        elif path == "/declared-huge":
            self._send(200, [("Content-Type", "text/html"), ("Content-Length", "999999999")])
            self.close_connection = True
        elif path == "/gzip-bomb":
            self._send(
                200,
                [
                    ("Content-Type", "text/html"),
                    ("Content-Encoding", "gzip"),
                    ("Content-Length", len(BOMB)),
                ],
                BOMB,
            )
        elif path in TYPES:
            body = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
            self._send(200, [("Content-Type", TYPES[path]), ("Content-Length", len(body))], body)
        else:
            self._send(404, [("Content-Length", "0")])

    def _drip(self, piece: bytes):
        try:
            while not self.server.stop.wait(0.2):
                self.wfile.write(piece)
                self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def log_message(self, *args):
        pass


BOMB = gzip.compress(b"<p>" + b"0" * 50_000_000 + b"</p>", compresslevel=9)
TYPES = {
    "/png": "image/png",
    "/octet": "application/octet-stream",
    "/js": "application/javascript",
    "/pdf": "application/pdf",
}


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.hits = []
    httpd.stop = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def allow_local(monkeypatch):
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", "127.0.0.1")
    monkeypatch.setenv("GEONEWS_FETCH_TIMEOUT", "3")


def resolver_for(table: dict[str, list[str]], calls: list | None = None):
    def resolve(host, port):
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise FetchError(f"Cannot resolve {host!r}")
        return table[host]

    return resolve


# -- the address policy ----------------------------------------------------------------


@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.7", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade"),
        ("100.127.255.254", "carrier-grade"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", ""),
        ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "private"),  # documentation
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "metadata"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ],
)
def test_blocked_addresses(address, reason):
    got = netsafe.blocked_reason(address)
    assert got is not None and reason in got, got


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses_pass(address):
    assert netsafe.blocked_reason(address) is None


# -- refused before any connection, without the allow-list ------------------------------


BLOCKED_URLS = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8501/_stcore/health",
    "http://10.0.0.5/admin",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::]/",
    "http://0.0.0.0/",
    "http://127.1/",
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://0x7f.0.0.1/",
    "http://017700000001/",  # octal
    "http://100.64.1.1/",
    "http://224.0.0.251/",
    "https://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost:8080/",
    "http://metadata.google.internal/computeMetadata/v1/",
]


@pytest.mark.parametrize("url", BLOCKED_URLS)
def test_internal_urls_are_refused_before_connecting(url, monkeypatch):
    monkeypatch.delenv("GEONEWS_FETCH_ALLOW", raising=False)
    with record_connections() as connects:
        with pytest.raises(BlockedURLError) as info:
            sources.fetch_url(url)
        with pytest.raises(BlockedURLError):
            sources.read_feed(url)
    assert connects == []
    assert "GEONEWS_FETCH_ALLOW" in str(info.value) or "metadata" in str(info.value)
    assert isinstance(info.value, FetchError) and isinstance(info.value, OSError)


@pytest.mark.parametrize(
    "addresses",
    [
        ["10.0.0.7"],
        ["192.168.1.20"],
        ["169.254.169.254"],
        ["fd00::1"],
        ["93.184.216.34", "10.0.0.7"],
    ],
    ids=["10/8", "192.168/16", "metadata", "ula", "public+private"],
)
def test_hostname_resolving_inside_is_refused(addresses):
    calls: list = []
    resolve = resolver_for({"news.example": addresses}, calls)
    with record_connections() as connects:
        with pytest.raises(BlockedURLError, match="news.example resolves to"):
            sources.fetch_url("https://news.example/story", resolver=resolve)
    assert connects == [] and calls == ["news.example"]


def test_local_server_is_refused_without_allow_list(server, monkeypatch):
    base, httpd = server
    monkeypatch.delenv("GEONEWS_FETCH_ALLOW", raising=False)
    with pytest.raises(BlockedURLError, match="loopback"):
        sources.fetch_url(f"{base}/article")
    assert httpd.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/",
        "gopher://127.0.0.1:11211/_stats",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://user:pass@example.org/",
        "http://example.org:99999/",
        "http://exa mple.org/",
        "http://example.org/\r\nX-Injected: 1",
        "",
        "   ",
    ],
)
def test_bad_urls_are_refused(url):
    with record_connections() as connects:
        with pytest.raises(BlockedURLError):
            netsafe.fetch(url, resolver=resolver_for({}))
    assert connects == []


def test_metadata_stays_refused_even_when_allow_listed(monkeypatch):
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", "169.254.0.0/16, 0.0.0.0/0, ::/0, metadata")
    for url in ("http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://metadata/"):
        with pytest.raises(BlockedURLError, match="metadata"):
            sources.fetch_url(url)


# -- the allow-list ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "allow", ["127.0.0.1", "127.0.0.0/8", " 10.0.0.0/8 , 127.0.0.1/32 ", "news.internal"]
)
def test_allow_list_lets_a_self_hosted_source_through(server, monkeypatch, allow):
    base, _ = server
    port = base.rsplit(":", 1)[1]
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", allow)
    resolve = resolver_for({"news.internal": ["127.0.0.1"]})
    a = sources.fetch_url(f"http://news.internal:{port}/article", resolver=resolve)
    assert "Kyiv" in a.text and a.url == f"http://news.internal:{port}/article"
    if allow != "news.internal":
        assert "Kyiv" in sources.fetch_url(f"{base}/article").text


def test_connects_to_the_vetted_address_only(server, monkeypatch):
    """DNS rebinding: a second lookup would say 10.0.0.1; there is no second lookup."""
    base, httpd = server
    port = int(base.rsplit(":", 1)[1])
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", "127.0.0.1")
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    calls: list = []

    def rebinding(host, port):
        calls.append(host)
        return next(answers)

    with record_connections() as connects:
        a = sources.fetch_url(f"http://news.example:{port}/article", resolver=rebinding)
    assert "Kyiv" in a.text
    assert calls == ["news.example"]
    assert connects == [("127.0.0.1", port)]


# -- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://inside.example/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
    ],
)
def test_redirect_to_inside_is_refused(server, monkeypatch, location):
    base, httpd = server
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", "127.0.0.1")
    resolve = resolver_for({"inside.example": ["192.168.10.10"]})
    with record_connections() as connects:
        with pytest.raises(BlockedURLError):
            sources.fetch_url(f"{base}/to?{location}", resolver=resolve)
    port = int(base.rsplit(":", 1)[1])
    assert connects == [("127.0.0.1", port)]  # only the first hop was contacted
    assert httpd.hits == [f"/to?{location}"]


def test_redirect_from_public_name_back_to_loopback(server, monkeypatch):
    """A hop allowed by host name does not carry the permission to the next host."""
    base, _ = server
    port = base.rsplit(":", 1)[1]
    monkeypatch.setenv("GEONEWS_FETCH_ALLOW", "feeds.internal")
    resolve = resolver_for({"feeds.internal": ["127.0.0.1"]})
    with pytest.raises(BlockedURLError, match="127.0.0.1"):
        sources.fetch_url(
            f"http://feeds.internal:{port}/to?http://127.0.0.1:{port}/article", resolver=resolve
        )


def test_redirects_are_followed_and_rechecked(server, allow_local):
    base, httpd = server
    a = sources.fetch_url(f"{base}/chain/4")  # five redirects: the most followed
    assert a.url == f"{base}/article" and "Kyiv" in a.text
    assert httpd.hits == [f"/chain/{n}" for n in range(4, -1, -1)] + ["/article"]


def test_too_many_redirects(server, allow_local):
    base, httpd = server
    with pytest.raises(FetchError, match="more than 5 redirects"):
        sources.fetch_url(f"{base}/chain/5")
    assert len(httpd.hits) == 6


def test_redirect_loop(server, allow_local):
    base, httpd = server
    with pytest.raises(FetchError, match="redirect loop"):
        sources.fetch_url(f"{base}/loop")
    assert len(httpd.hits) == 1


# -- timeouts, size, type --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/stall", "/drip", "/drip-headers"])
def test_slow_servers_time_out(server, allow_local, monkeypatch, path):
    base, _ = server
    monkeypatch.setenv("GEONEWS_FETCH_TIMEOUT", "1")
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        sources.fetch_url(f"{base}{path}")
    assert time.monotonic() - t0 < 3


def test_connect_timeout(allow_local):
    """A server whose accept queue is full never completes the handshake."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue; later SYNs are dropped
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        time.sleep(0.2)
        t0 = time.monotonic()
        with pytest.raises(FetchError, match="connect"):
            netsafe.fetch(f"http://127.0.0.1:{port}/", timeout=5, connect_timeout=0.5)
        assert time.monotonic() - t0 < 2.5
    finally:
        for s in fillers:
            s.close()
        listener.close()


@pytest.mark.parametrize("path", ["/huge", "/declared-huge", "/gzip-bomb"])
def test_size_cap(server, allow_local, monkeypatch, path):
    base, _ = server
    monkeypatch.setenv("GEONEWS_FETCH_MAX_BYTES", "100000")
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="limit"):
        sources.fetch_url(f"{base}{path}")
    assert time.monotonic() - t0 < 3


@pytest.mark.parametrize("path", sorted(TYPES))
def test_wrong_content_type_is_refused(server, allow_local, path):
    base, _ = server
    with pytest.raises(FetchError, match="content type"):
        sources.fetch_url(f"{base}{path}")
    with pytest.raises(FetchError, match="content type"):
        sources.read_feed(f"{base}{path}")


def test_https_to_a_plain_server_fails_cleanly(server, allow_local):
    base, _ = server
    with pytest.raises(FetchError) as info:
        sources.fetch_url(base.replace("http://", "https://") + "/article")
    assert not isinstance(info.value, BlockedURLError)


def test_http_errors(server, allow_local):
    base, _ = server
    with pytest.raises(FetchError, match="404"):
        sources.fetch_url(f"{base}/nothing-here")
