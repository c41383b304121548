"""Optional online fallback: ask a geopy geocoder about places the gazetteer could not place.

Off unless ``GEONEWS_GEOCODER`` names a geopy backend (``nominatim``, ``photon``, ...).
Only places the offline geoparser left ``kind == "unresolved"`` are asked about.

The lookup is a plain callable ``name -> Answer | None`` built from wrappers, each
doing one job (as geopy's own ``RateLimiter`` does)::

    Cached(                       # answers (and "nothing found") kept in the store
      CircuitBreaker(             # after a failure, fail fast until it cools down
        typed_errors(             # geopy errors -> geonews.errors.Geocoder*; Location -> Answer
          RateLimiter(            # min delay between requests, bounded retries
            no_retry_on_429(      # a 429 is not retried: its Retry-After is honoured
              geolocator.geocode with a timeout)))))

A failure (timeout, 429, 5xx, connection refused, malformed reply) is never
cached and never breaks analysis: the place stays unresolved, its reason says
what happened, and the typed error is in the :class:`FallbackReport`.

    fallback = geocoder.from_settings(cache=geocoder.StoreCache(store))  # None when off
    report = fallback.resolve(analysis)
    report.analysis, report.failures        # {"Name": GeocoderTimeout(...)}
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from geonews import settings
from geonews.errors import (
    GeocoderConfigError,
    GeocoderError,
    GeocoderRateLimited,
    GeocoderResponseError,
    GeocoderTimeout,
    GeocoderUnavailable,
)
from geonews.models import Analysis, Place

# Nominatim's place types -> our place kinds.
_KINDS = {
    "country": "country",
    "continent": "continent",
    "state": "admin",
    "province": "admin",
    "region": "admin",
    "state_district": "admin",
    "county": "admin",
    "district": "admin",
    "municipality": "city",
    "city": "city",
    "town": "city",
    "village": "city",
    "hamlet": "city",
    "suburb": "city",
    "quarter": "city",
    "neighbourhood": "city",
    "borough": "city",
    "isolated_dwelling": "city",
    "water": "water",
    "sea": "water",
    "ocean": "water",
    "bay": "water",
    "strait": "water",
    "river": "water",
    "lake": "water",
}
ONLINE_CONFIDENCE = 0.5


@dataclass(frozen=True)
class Answer:
    """What the online geocoder said about one name."""

    name: str
    lat: float
    lon: float
    kind: str
    country_code: str | None
    id: str
    display_name: str = ""

    def to_place(self, base: Place, provider: str) -> Place:
        """``base`` (the unresolved place) placed at this answer."""
        return Place(
            name=self.name,
            lat=self.lat,
            lon=self.lon,
            country_code=self.country_code,
            kind=self.kind,
            confidence=ONLINE_CONFIDENCE,
            mentions=list(base.mentions),
            id=self.id,
            reason=f"Found by the online geocoder ({provider}): {self.display_name or self.name}.",
            candidates=list(base.candidates),
        )


# --------------------------------------------------------------------------- parsing


def parse_location(location, *, provider: str, query: str = "") -> Answer | None:
    """A geopy ``Location`` as an :class:`Answer`; None for "nothing found".

    Raises GeocoderResponseError for a reply without usable coordinates.
    """
    if location is None:
        return None
    raw = getattr(location, "raw", None)
    raw = raw if isinstance(raw, dict) else {}
    try:
        lat, lon = float(location.latitude), float(location.longitude)
    except (AttributeError, TypeError, ValueError) as exc:
        raise GeocoderResponseError(f"online geocoder sent no usable coordinates: {exc}") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or lat != lat or lon != lon:
        raise GeocoderResponseError(f"online geocoder sent impossible coordinates {lat}, {lon}")
    display = str(getattr(location, "address", None) or raw.get("display_name") or "")
    name = str(raw.get("name") or display.split(",")[0].strip() or query)
    address = raw.get("address") if isinstance(raw.get("address"), dict) else {}
    cc = address.get("country_code")
    kind = _KINDS.get(str(raw.get("addresstype") or raw.get("type") or ""))
    if kind is None:
        kind = "water" if raw.get("class") == "waterway" else "feature"
        if raw.get("class") in ("place", "boundary"):
            kind = "city" if raw.get("class") == "place" else "admin"
    if raw.get("osm_type") and raw.get("osm_id"):
        pid = f"osm:{raw['osm_type']}:{raw['osm_id']}"
    else:
        pid = f"{provider.split('@')[0]}:{lat:.5f},{lon:.5f}"
    return Answer(name, lat, lon, kind, cc.upper() if cc else None, pid, display)


# --------------------------------------------------------------------------- wrappers


def no_retry_on_429(func: Callable) -> Callable:
    """A 429 leaves the retry loop at once (as GeocoderRateLimited, which carries Retry-After)."""
    from geopy import exc as gexc

    @functools.wraps(func)
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except gexc.GeocoderRateLimited as exc:
            raise _rate_limited(exc) from exc

    return call


def _rate_limited(exc) -> GeocoderRateLimited:
    after = getattr(exc, "retry_after", None)
    when = f", retry after {after:g} s" if after else ""
    return GeocoderRateLimited(
        f"online geocoder rate-limited the requests (HTTP 429{when})", retry_after=after
    )


def _typed(exc: Exception, timeout: float | None) -> GeocoderError:
    """A geopy error as the matching geonews error."""
    from geopy import exc as gexc

    if isinstance(exc, gexc.GeocoderRateLimited):
        return _rate_limited(exc)
    if isinstance(exc, gexc.GeocoderTimedOut):
        after = f" after {timeout:g} s" if timeout else ""
        return GeocoderTimeout(f"online geocoder timed out{after} ({exc})")
    if isinstance(exc, gexc.GeocoderUnavailable):
        return GeocoderUnavailable(f"online geocoder unreachable ({exc})")
    if isinstance(exc, gexc.GeocoderParseError):
        return GeocoderResponseError(f"online geocoder sent a malformed reply ({exc})")
    if isinstance(exc, gexc.GeocoderServiceError):
        return GeocoderUnavailable(f"online geocoder failed ({exc})")
    return GeocoderResponseError(f"online geocoder sent an unexpected reply ({exc!r})")


def typed_errors(
    func: Callable, *, provider: str, timeout: float | None = None
) -> Callable[[str], Answer | None]:
    """``func`` (returning geopy Locations) as ``name -> Answer | None`` raising only GeocoderError."""
    from geopy import exc as gexc

    @functools.wraps(func)
    def call(query: str) -> Answer | None:
        try:
            location = func(query)
        except GeocoderError:
            raise
        except (gexc.GeopyError, ValueError, TypeError, KeyError, IndexError) as exc:
            raise _typed(exc, timeout) from exc
        return parse_location(location, provider=provider, query=query)

    return call


class CircuitBreaker:
    """After a failure, fail fast (the same kind of error) for ``cooldown`` seconds.

    A 429's Retry-After, when given, is the cooldown. A down or slow server then
    costs one round of retries per run, not one per name.
    """

    def __init__(self, func: Callable, *, cooldown: float = 60.0, clock=time.monotonic):
        self.func = func
        self.cooldown = cooldown
        self.clock = clock
        self._open_until = 0.0
        self._last: GeocoderError | None = None
        self._lock = threading.Lock()

    def __call__(self, query: str):
        with self._lock:
            last, now = self._last, self.clock()
            if last is not None and now < self._open_until:
                exc = copy.copy(last)
                exc.args = (f"{last.args[0]}; not asked again for "
                            f"{self._open_until - now:.0f} s",)  # fmt: skip
                raise exc
        try:
            result = self.func(query)
        except GeocoderError as exc:
            wait = self.cooldown
            if isinstance(exc, GeocoderRateLimited) and exc.retry_after:
                wait = max(wait, exc.retry_after)
            with self._lock:
                self._last, self._open_until = exc, self.clock() + wait
            raise
        with self._lock:
            self._last = None
        return result


class MemoryCache:
    """Answers kept for the process (``analyze`` without a store)."""

    def __init__(self):
        self._data: dict[tuple[str, str], str] = {}

    def get(self, provider: str, query: str) -> str | None:
        return self._data.get((provider, query))

    def put(self, provider: str, query: str, answer: Answer | None) -> None:
        self._data[(provider, query)] = _dump(answer)


class StoreCache:
    """Answers kept in the store's ``geocode_cache`` table, across runs."""

    def __init__(self, store):
        self.store = store

    def get(self, provider: str, query: str) -> str | None:
        return self.store.geocode_cache_get(provider, query)

    def put(self, provider: str, query: str, answer: Answer | None) -> None:
        lat, lon = (answer.lat, answer.lon) if answer else (None, None)
        self.store.geocode_cache_put(provider, query, lat, lon, _dump(answer))


def _dump(answer: Answer | None) -> str:
    return json.dumps(asdict(answer) if answer else None)


def _load(text: str) -> Answer | None:
    data = json.loads(text)
    return Answer(**data) if data else None


def cache_key(name: str) -> str:
    from geonews.gazetteer import normalize

    return normalize(name) or name.strip().casefold()


class Cached:
    """Answers (including "nothing found") from ``cache`` first; the network only on a miss.

    Failures raise through and are not stored. ``hits`` and ``misses`` count calls.
    """

    def __init__(self, func: Callable, cache, *, provider: str):
        self.func = func
        self.cache = cache
        self.provider = provider
        self.hits = self.misses = 0

    def cached(self, query: str) -> tuple[bool, Answer | None]:
        text = self.cache.get(self.provider, cache_key(query))
        if text is None:
            return False, None
        try:
            return True, _load(text)
        except (ValueError, TypeError):  # a damaged row: ask again
            return False, None

    def __call__(self, query: str) -> Answer | None:
        hit, answer = self.cached(query)
        if hit:
            self.hits += 1
            return answer
        self.misses += 1
        answer = self.func(query)
        self.cache.put(self.provider, cache_key(query), answer)
        return answer


# --------------------------------------------------------------------------- building


def services() -> list[str]:
    """Names of the geopy backends."""
    from geopy.geocoders import SERVICE_TO_GEOCODER

    return sorted(SERVICE_TO_GEOCODER)


def build_geolocator(
    service: str,
    *,
    domain: str | None = None,
    scheme: str | None = None,
    user_agent: str = "geonews",
    timeout: float = 5.0,
):
    """The geopy geocoder for ``service``, without retries of its own (ours wrap it)."""
    from geopy.adapters import RequestsAdapter
    from geopy.exc import GeocoderNotFound
    from geopy.geocoders import get_geocoder_for_service

    try:
        cls = get_geocoder_for_service(service)
    except GeocoderNotFound:
        raise GeocoderConfigError(
            f"Unknown online geocoder {service!r} (GEONEWS_GEOCODER); valid ones: "
            f"{', '.join(services())}."
        ) from None

    def adapter(*, proxies, ssl_context):
        return RequestsAdapter(proxies=proxies, ssl_context=ssl_context, max_retries=0)

    options = {
        "domain": domain or None,
        "scheme": scheme or None,
        "user_agent": user_agent,
        "timeout": timeout,
        "adapter_factory": adapter,
    }
    params = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in options.items() if k in params and v is not None}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise GeocoderConfigError(
            f"The online geocoder {service!r} needs options geonews does not set ({exc}); "
            f"use nominatim, photon or pelias with GEONEWS_GEOCODER_DOMAIN."
        ) from None
    except ValueError as exc:  # geopy's ConfigurationError
        raise GeocoderConfigError(
            f"The online geocoder {service!r} is misconfigured: {exc}"
        ) from None


def _geocode_call(geolocator) -> Callable[[str], object]:
    """``geolocator.geocode`` for one best answer, with address details where supported."""
    params = inspect.signature(geolocator.geocode).parameters
    extra = {"exactly_one": True}
    if "addressdetails" in params:
        extra["addressdetails"] = True
    if "language" in params:
        extra["language"] = "en"
    return functools.partial(geolocator.geocode, **extra)


@dataclass
class FallbackReport:
    """What one :meth:`OnlineFallback.resolve` did."""

    analysis: Analysis
    asked: list[str] = field(default_factory=list)  # names looked up (cache or network)
    found: list[str] = field(default_factory=list)  # names that got coordinates
    failures: dict[str, GeocoderError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


class OnlineFallback:
    """Places the offline geoparser left unresolved, asked of an online geocoder."""

    def __init__(self, lookup: Callable[[str], Answer | None], *, provider: str):
        self.lookup = lookup
        self.provider = provider
        self.failures: list[tuple[str, GeocoderError]] = []  # over the fallback's life
        self.found = 0

    def resolve(self, analysis: Analysis) -> FallbackReport:
        """A copy of ``analysis`` with unresolved places placed when the geocoder knows them."""
        report = FallbackReport(analysis=analysis)
        places: list[Place] = []
        changed = False
        for place in analysis.places:
            if place.kind != "unresolved" or place.lat is not None:
                places.append(place)
                continue
            report.asked.append(place.name)
            try:
                answer = self.lookup(place.name)
            except GeocoderError as exc:
                report.failures[place.name] = exc
                self.failures.append((place.name, exc))
                place = copy.copy(place)
                place.reason = _join(place.reason, f"{exc.args[0] if exc.args else exc}.")
                places.append(place)
                changed = True
                continue
            if answer is None:
                place = copy.copy(place)
                place.reason = _join(
                    place.reason, f"Not found by the online geocoder ({self.provider})."
                )
                places.append(place)
                changed = True
                continue
            report.found.append(place.name)
            self.found += 1
            places.append(answer.to_place(place, self.provider))
            changed = True
        if changed:
            report.analysis = Analysis(
                article=analysis.article,
                entities=analysis.entities,
                places=_merge(places),
                dates=analysis.dates,
            )
        return report

    def __call__(self, analysis: Analysis) -> Analysis:
        return self.resolve(analysis).analysis


def _join(reason: str, more: str) -> str:
    reason = (reason or "").strip()
    if reason and not reason.endswith("."):
        reason += "."
    return f"{reason} {more[0].upper()}{more[1:]}".strip()


def _merge(places: list[Place]) -> list[Place]:
    """One Place per id: an online answer may be a place the article already has."""
    out: dict[str, Place] = {}
    rest: list[Place] = []
    for p in places:
        if p.id is None:
            rest.append(p)
        elif p.id in out:
            kept = out[p.id]
            kept.mentions = sorted([*kept.mentions, *p.mentions], key=lambda s: s.start)
        else:
            out[p.id] = p
    merged = [*out.values(), *rest]
    merged.sort(key=lambda p: p.mentions[0].start if p.mentions else 1 << 30)
    return merged


def build(
    service: str,
    *,
    cache=None,
    domain: str | None = None,
    scheme: str | None = None,
    user_agent: str = "geonews",
    timeout: float = 5.0,
    min_delay: float = 1.0,
    max_retries: int = 2,
    error_wait: float | None = None,
    cooldown: float = 60.0,
) -> OnlineFallback:
    """The online fallback for a geopy backend, with every wrapper in place."""
    from geopy.extra.rate_limiter import RateLimiter

    # Its retries log a traceback at WARNING; our report says what happened instead
    # (a NullHandler keeps Python's last-resort handler quiet; configured logging still sees it).
    quiet = logging.getLogger("geopy")
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    geolocator = build_geolocator(
        service, domain=domain, scheme=scheme, user_agent=user_agent, timeout=timeout
    )
    provider = f"{service}@{domain}" if domain else service
    limited = RateLimiter(
        no_retry_on_429(_geocode_call(geolocator)),
        min_delay_seconds=min_delay,
        max_retries=max_retries,
        error_wait_seconds=max(min_delay, error_wait if error_wait is not None else 1.0),
        swallow_exceptions=False,
    )
    lookup = typed_errors(limited, provider=provider, timeout=timeout)
    lookup = CircuitBreaker(lookup, cooldown=cooldown)
    lookup = Cached(lookup, cache if cache is not None else MemoryCache(), provider=provider)
    return OnlineFallback(lookup, provider=provider)


_WHAT = {
    GeocoderTimeout: "timed out",
    GeocoderRateLimited: "refused more requests for now (rate limit, HTTP 429)",
    GeocoderUnavailable: "could not be reached or failed on its side",
    GeocoderResponseError: "sent a reply that is not a geocoding answer",
}


def describe_failures(failures, *, provider: str = "") -> str | None:
    """One sentence for the user on what went wrong with the online geocoder, or None.

    ``failures``: ``[(name, GeocoderError)]`` (``OnlineFallback.failures``) or a dict.
    """
    items = list(failures.items() if isinstance(failures, dict) else failures)
    if not items:
        return None
    kinds: list[str] = []
    for _, exc in items:
        what = next((w for cls, w in _WHAT.items() if isinstance(exc, cls)), "failed")
        if what not in kinds:
            kinds.append(what)
    names = list(dict.fromkeys(name for name, _ in items))
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    who = f"The online geocoder ({provider})" if provider else "The online geocoder"
    return (
        f"{who} {' / '.join(kinds)}; places come from the offline gazetteer, and "
        f"{len(names)} it could not place stay unplaced ({shown}). Nothing was cached: "
        f"they are asked again next time."
    )


def enabled() -> bool:
    """Whether GEONEWS_GEOCODER names an online geocoder."""
    return bool(settings.get("geocoder").strip())


def from_settings(*, cache=None, **options) -> OnlineFallback | None:
    """The fallback configured by the GEONEWS_GEOCODER* settings; None when it is off."""
    service = settings.get("geocoder").strip().lower()
    if not service:
        return None
    try:
        timeout = settings.get_float("geocoder_timeout")
        min_delay = settings.get_float("geocoder_min_delay")
    except ValueError as exc:
        raise GeocoderConfigError(f"GEONEWS_GEOCODER_TIMEOUT/MIN_DELAY: {exc}") from None
    kwargs = {
        "domain": settings.get("geocoder_domain").strip() or None,
        "scheme": settings.get("geocoder_scheme").strip() or None,
        "user_agent": settings.get("user_agent") or "geonews",
        "timeout": timeout,
        "min_delay": min_delay,
    }
    kwargs.update(options)
    return build(service, cache=cache, **kwargs)
