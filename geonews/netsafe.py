"""Fetch URLs that users give us without letting them reach inside the network.

    result = netsafe.fetch("https://example.org/a", accept=("text/html",))
    result.body, result.url, result.mime, result.charset

The policy (every refusal is a :class:`~geonews.errors.BlockedURLError`, raised
before any connection is made to the refused address):

- only ``http`` and ``https``, no credentials in the URL;
- the host is resolved once and EVERY address it resolves to must be public:
  loopback, private (RFC 1918, ULA), link-local, shared/CGNAT (100.64/10),
  multicast, reserved, unspecified and benchmarking addresses are refused, as
  are IPv4 addresses hidden in IPv6 ones (``::ffff:127.0.0.1``, 6to4, NAT64);
- cloud metadata addresses (169.254.169.254, fd00:ec2::254, ...) are always
  refused, even when an allow-list would let them through;
- ``GEONEWS_FETCH_ALLOW`` (comma-separated hosts, IP addresses or CIDR networks)
  lets self-hosted setups reach private addresses on purpose;
- the connection goes to the address that was vetted (no second DNS lookup, so
  DNS rebinding cannot swap it); TLS still checks the certificate against the
  host name;
- redirects are followed by hand, at most ``MAX_REDIRECTS``, each hop vetted
  again; a loop is an error;
- a connect timeout and a total deadline (``fetch_connect_timeout``,
  ``fetch_timeout``) that a slow-drip server cannot stretch; the body is read
  in chunks and abandoned past ``fetch_max_bytes`` (also after gzip decoding);
- the content type must be one the caller accepts.

Other failures (refused connection, TLS, HTTP >= 400, timeout, too large, wrong
type) raise :class:`~geonews.errors.FetchError`.
"""

from __future__ import annotations

import email.message
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from geonews import settings
from geonews.errors import BlockedURLError, FetchError

MAX_REDIRECTS = 5
REDIRECT_CODES = (301, 302, 303, 307, 308)
CHUNK = 65536

# host, port -> the IP addresses (strings) it resolves to
Resolver = Callable[[str, int], Iterable[str]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.123",  # AWS time sync
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # CGNAT
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_BENCHMARK = ipaddress.ip_network("198.18.0.0/15")


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


@dataclass
class FetchResult:
    """A fetched body, the URL it finally came from, its media type and charset."""

    body: bytes
    url: str
    mime: str
    charset: str | None
    status: int = 200
    redirects: list[str] = field(default_factory=list)


# -- the address policy ----------------------------------------------------------


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why fetching from this address is refused (None: it is a public address)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if ip.version == 6 and ip.scope_id:
        ip = ipaddress.ip_address(str(ip).split("%", 1)[0])
    inner = _embedded_v4(ip)
    if inner is not None:
        reason = blocked_reason(inner)
        return f"{reason} (inside {ip})" if reason else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.version == 4 and ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip.is_multicast, "a multicast address"),
        (ip.version == 4 and ip in _BENCHMARK, "a benchmarking address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def _allow_list(value: str | None = None) -> tuple[set[str], list]:
    """(host names, networks) of ``GEONEWS_FETCH_ALLOW``."""
    raw = settings.get("fetch_allow") if value is None else value
    hosts: set[str] = set()
    nets: list = []
    for item in raw.replace(";", ",").split(","):
        item = item.strip().lower()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            hosts.add(item.rstrip("."))
    return hosts, nets


def is_allowed(host: str, ip: IPAddress, *, allow: str | None = None) -> bool:
    """Whether the allow-list lets ``host`` (resolved to ``ip``) through although private."""
    if ip in METADATA_ADDRESSES or (_embedded_v4(ip) in METADATA_ADDRESSES):
        return False
    hosts, nets = _allow_list(allow)
    if host.lower().rstrip(".") in hosts:
        return True
    return any(ip.version == n.version and ip in n for n in nets)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (numeric forms included)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"Cannot resolve {host!r}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _host_ascii(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise BlockedURLError(f"The host {host!r} is not a valid host name.") from exc
    if not ascii_host or any(c in ascii_host for c in "\\/ @%\x00\r\n\t"):
        raise BlockedURLError(f"The host {host!r} is not a valid host name.")
    return ascii_host.lower()


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, ascii host, port, path+query) of an http(s) URL, or BlockedURLError."""
    if not isinstance(url, str) or not url.strip():
        raise BlockedURLError("No URL given.")
    url = url.strip()
    if any(ord(c) < 32 or c == "\x7f" for c in url):
        raise BlockedURLError("The URL contains control characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = url if len(url) <= 80 else url[:77] + "..."
        raise BlockedURLError(f"Only http and https URLs can be fetched, not {shown!r}.")
    if parts.username is not None or parts.password is not None:
        raise BlockedURLError("URLs with a user name or password are not fetched.")
    if not parts.hostname:
        raise BlockedURLError(f"The URL {url!r} has no host.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise BlockedURLError(f"The URL {url!r} has an invalid port.") from exc
    if not 0 < port < 65536:
        raise BlockedURLError(f"The URL {url!r} has an invalid port.")
    host = _host_ascii(parts.hostname)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port, path


def vet(url: str, *, resolver: Resolver | None = None, allow: str | None = None) -> Target:
    """Check a URL against the policy; the addresses it may be fetched from.

    Raises BlockedURLError (before any connection) when the scheme, host or any
    address the host resolves to is refused.
    """
    scheme, host, port, path = check_url(url)
    if host.rstrip(".") in METADATA_HOSTS:
        raise BlockedURLError(f"{url}: {host} is a cloud metadata host; it is never fetched.")
    bare = host.rstrip(".")
    if (bare == "localhost" or bare.endswith(".localhost")) and bare not in _allow_list(allow)[0]:
        raise BlockedURLError(
            f"{url.strip()}: {host} is the local machine; geonews does not fetch from inside "
            f"the network (add it to GEONEWS_FETCH_ALLOW for a self-hosted source)."
        )
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        addresses = list((resolver or system_resolver)(host, port))
    if not addresses:
        raise FetchError(f"Cannot resolve {host!r}: no addresses.")
    vetted: list[str] = []
    for address in addresses:
        try:
            ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        except ValueError as exc:
            raise BlockedURLError(f"{url}: {host} resolved to {address!r}, not an address") from exc
        reason = blocked_reason(ip)
        if reason and not is_allowed(host, ip, allow=allow):
            where = str(ip) if literal is not None else f"{host} resolves to {ip}, which"
            hint = (
                "it is never fetched"
                if reason.startswith("a cloud metadata")
                else "add it to GEONEWS_FETCH_ALLOW for a self-hosted source"
            )
            raise BlockedURLError(
                f"{url.strip()}: {where} is {reason}; geonews does not fetch from inside "
                f"the network ({hint})."
            )
        vetted.append(str(ip))
    return Target(url.strip(), scheme, host, port, path, tuple(dict.fromkeys(vetted)))


# -- connections to a vetted address ----------------------------------------------


class _Pinned:
    """Mixin: connect to the vetted address instead of resolving the host again."""

    _address: str

    def _open_socket(self):
        family = socket.AF_INET6 if ":" in self._address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect((self._address, self.port))
        except BaseException:
            sock.close()
            raise
        return sock


class _HTTPConnection(_Pinned, http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = self._open_socket()


class _HTTPSConnection(_Pinned, http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = self._open_socket()
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class _Deadline:
    """The total time budget; past it, the open socket is shut so no read can hang."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._timer: threading.Timer | None = None
        self.expired = False

    def left(self) -> float:
        return self.end - time.monotonic()

    def watch(self, conn) -> None:
        self.cancel()

        def fire():
            self.expired = True
            sock = getattr(conn, "sock", None)
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        self._timer = threading.Timer(max(self.left(), 0.0), fire)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _media_type(ctype: str) -> tuple[str, str | None]:
    msg = email.message.Message()
    msg["content-type"] = ctype or "application/octet-stream"
    mime = msg.get_content_type().lower() if ctype else ""
    return mime, msg.get_content_charset()


def _connect(target: Target, deadline: _Deadline, connect_timeout: float):
    cls = _HTTPSConnection if target.scheme == "https" else _HTTPConnection
    last: Exception | None = None
    for address in target.addresses:
        left = deadline.left()
        if left <= 0:
            break
        conn = cls(target.host, target.port, address, min(connect_timeout, left))
        try:
            conn.connect()
            return conn
        except (OSError, ssl.SSLError) as exc:
            conn.close()
            last = exc
    if isinstance(last, socket.timeout | TimeoutError) or last is None:
        raise FetchError(f"{target.url}: could not connect within {connect_timeout:g}s")
    if isinstance(last, ssl.SSLError):
        raise FetchError(f"{target.url}: TLS failed: {last}") from last
    raise FetchError(f"{target.url}: cannot connect: {last}") from last


def _read_body(resp, url: str, limit: int, deadline: _Deadline) -> bytes:
    encoding = (resp.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(wbits=47 if encoding != "deflate" else 15)
    elif encoding in ("identity", ""):
        inflater = None
    else:
        raise FetchError(f"{url}: unsupported content encoding {encoding!r}")
    chunks: list[bytes] = []
    size = 0
    while True:
        if deadline.left() <= 0:
            raise TimeoutError
        chunk = resp.read1(CHUNK)
        if deadline.expired:
            raise TimeoutError
        if not chunk:
            break
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk, limit + 1 - size)
            except zlib.error as exc:
                raise FetchError(f"{url}: broken {encoding} data: {exc}") from exc
        size += len(chunk)
        if size > limit:
            raise FetchError(f"{url}: larger than the limit of {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _one_request(target: Target, headers: dict, accept, limit, deadline, connect_timeout):
    """(status, location or None, FetchResult or None) of one GET."""
    conn = _connect(target, deadline, connect_timeout)
    deadline.watch(conn)
    try:
        left = deadline.left()
        if left <= 0:
            raise TimeoutError
        conn.sock.settimeout(left)
        conn.putrequest("GET", target.path, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        if deadline.expired:
            raise TimeoutError
        if resp.status in REDIRECT_CODES:
            return resp.status, resp.getheader("Location") or "", None
        if resp.status >= 400:
            raise FetchError(f"{target.url}: HTTP {resp.status} {resp.reason or ''}".strip())
        mime, charset = _media_type(resp.getheader("Content-Type") or "")
        if mime and accept and mime not in accept:
            raise FetchError(
                f"{target.url}: unsupported content type {mime!r} (expected {', '.join(accept)})"
            )
        length = resp.getheader("Content-Length")
        if length and length.strip().isdigit() and int(length) > limit:
            raise FetchError(f"{target.url}: {int(length):,} bytes; the limit is {limit:,}")
        body = _read_body(resp, target.url, limit, deadline)
        return resp.status, None, FetchResult(body, target.url, mime, charset, resp.status)
    except TimeoutError as exc:
        raise FetchError(f"{target.url}: timed out after {deadline.seconds:g}s") from exc
    except (http.client.HTTPException, OSError) as exc:
        if deadline.expired:
            raise FetchError(f"{target.url}: timed out after {deadline.seconds:g}s") from exc
        if isinstance(exc, FetchError):
            raise
        raise FetchError(f"{target.url}: {exc.__class__.__name__}: {exc}") from exc
    finally:
        deadline.cancel()
        conn.close()


def fetch(
    url: str,
    *,
    accept: tuple[str, ...] = (),
    resolver: Resolver | None = None,
    timeout: float | None = None,
    connect_timeout: float | None = None,
    max_bytes: int | None = None,
    max_redirects: int = MAX_REDIRECTS,
    allow: str | None = None,
) -> FetchResult:
    """GET ``url`` under the policy above; the body and where it came from.

    ``accept``: media types accepted (empty: any). ``timeout`` (total seconds),
    ``connect_timeout``, ``max_bytes`` and ``allow`` default to the settings
    ``fetch_timeout``, ``fetch_connect_timeout``, ``fetch_max_bytes``, ``fetch_allow``.
    ``resolver(host, port) -> [ip, ...]`` replaces DNS (tests, custom resolvers).
    """
    total = settings.get_float("fetch_timeout") if timeout is None else float(timeout)
    connect = min(
        settings.get_float("fetch_connect_timeout") if connect_timeout is None else connect_timeout,
        total,
    )
    limit = settings.get_int("fetch_max_bytes") if max_bytes is None else int(max_bytes)
    deadline = _Deadline(total)
    headers = {
        "User-Agent": settings.get("user_agent"),
        "Accept": (", ".join(accept) + ", */*;q=0.1") if accept else "*/*",
        "Accept-Encoding": "gzip, identity",
        "Connection": "close",
    }
    seen: list[str] = []
    current = url
    for _hop in range(max_redirects + 1):
        target = vet(current, resolver=resolver, allow=allow)
        seen.append(target.url)
        status, location, result = _one_request(target, headers, accept, limit, deadline, connect)
        if result is not None:
            result.redirects = seen[:-1]
            return result
        if not location:
            raise FetchError(f"{target.url}: HTTP {status} redirect without a Location")
        current = urljoin(target.url, location.strip())
        if current in seen:
            raise FetchError(f"{url}: redirect loop ({' -> '.join([*seen, current])})")
    raise FetchError(f"{url}: more than {max_redirects} redirects")
