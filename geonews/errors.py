"""One error tree for the whole package.

Every error geonews raises on purpose derives from :class:`GeonewsError`, and
also from the builtin that fits, so callers may catch either.
"""


class GeonewsError(Exception):
    """Root of every error geonews raises on purpose."""


class InputError(GeonewsError, ValueError):
    """The input cannot be analysed (empty, too large, binary, malformed)."""


class EmptyTextError(InputError):
    """The article has no text to analyse."""


class TextTooLargeError(InputError):
    """The article is larger than the configured limit."""

    def __init__(self, message: str, *, size: int, limit: int):
        super().__init__(message)
        self.size = size
        self.limit = limit


class InvalidTextError(InputError):
    """Text that is not valid Unicode text (unpaired surrogates)."""


class UnsupportedFormatError(InputError):
    """A file whose type geonews does not read (or binary data)."""


class ParseError(InputError):
    """A file of a known format that is malformed.

    ``errors`` lists ``(line_number, message)`` for the records that failed when
    the good records could still be read.
    """

    def __init__(self, message: str, *, errors: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.errors = list(errors or [])


class FetchError(GeonewsError, IOError):
    """A URL or feed could not be fetched."""


class BlockedURLError(FetchError):
    """A URL refused by the fetch policy (scheme, private address, ...)."""


class ModelNotFoundError(GeonewsError, RuntimeError):
    """No installed spaCy model matches the configured name."""


class AnalysisProcessError(GeonewsError, RuntimeError):
    """A process analysing articles for a bulk ingest stopped (killed, out of memory)."""


class GazetteerError(GeonewsError, RuntimeError):
    """The offline gazetteer is missing or cannot be built."""


class StoreError(GeonewsError, RuntimeError):
    """The DuckDB store cannot be opened, migrated or written."""


class StoreLockedError(StoreError):
    """Another process holds the store (DuckDB allows one writing process at a time)."""


class GeocoderError(GeonewsError, IOError):
    """The optional online geocoder failed (timeout, rate limit, HTTP error)."""


class GeocoderConfigError(GeonewsError, ValueError):
    """The online geocoder is misconfigured (unknown backend, missing option)."""


class GeocoderTimeout(GeocoderError, TimeoutError):
    """The online geocoder did not answer in time."""


class GeocoderRateLimited(GeocoderError):
    """The online geocoder refused more requests for now (HTTP 429).

    ``retry_after`` is the number of seconds it asked to wait, when it said.
    """

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class GeocoderUnavailable(GeocoderError):
    """The online geocoder cannot be reached or failed on its side (refused, 5xx)."""


class GeocoderResponseError(GeocoderError):
    """The online geocoder answered something that is not a geocoding reply."""
