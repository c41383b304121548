"""The command line: ``python -m geonews COMMAND ...``.

    analyze INPUT [--output OUT.jsonl] [--published YYYY-MM-DD] [--explain]
    ingest PATHS... [--db PATH] [--batch-size N] [--workers N] [--feeds FILE] [--quiet]
        [--engine dask [--scheduler ADDRESS] [--partition-size N] [--parquet-dir DIR]]
    stats [--db PATH] [--json]
    pin NAME (--place ID | --lat LAT --lon LON) [--article ID] [--name N] [--kind K]
        [--country CC] [--db PATH]
    pins [--db PATH] [--json]
    unpin NAME [--article ID] [--db PATH]
    serve [--port N] [--db PATH]
    eval ARGS...            (geonews.eval_geo)
    eval-ner ARGS...        (geonews.eval_ner)
    build-gazetteer [--output PATH]

Exit codes: 0 success; 1 partial failure (some records or articles failed,
the rest were done); 2 error (nothing done; message on stderr, no traceback).
``--db`` defaults to $GEONEWS_DB, else the data directory.

``analyze`` is offline unless GEONEWS_GEOCODER names an online geocoder;
``ingest`` applies the user's pins and, when GEONEWS_GEOCODER is set, asks the
online geocoder (cached in the store) about the places the gazetteer left unresolved.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import geonews
from geonews import settings, sources
from geonews.errors import GeonewsError, InputError
from geonews.models import Article

PASSTHROUGH = {"eval": "geonews.eval_geo", "eval-ner": "geonews.eval_ner"}


class _Failures:
    """Problems met while the good records carry on: (where, message)."""

    def __init__(self):
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, message: str) -> None:
        self.items.append((where, message))

    def __len__(self) -> int:
        return len(self.items)

    def report(self, stream, limit: int = 20) -> None:
        for where, message in self.items[:limit]:
            print(f"  {where}: {message}" if where else f"  {message}", file=stream)
        if len(self.items) > limit:
            print(f"  ... and {len(self.items) - limit} more", file=stream)


def _date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def _db_path(args) -> Path:
    db = getattr(args, "db", None)
    return Path(db).expanduser() if db else settings.db_path()


# -- reading input -------------------------------------------------------------


def _record_errors(errors: list, failures: _Failures) -> None:
    for line, message in errors:
        failures.add(f"line {line}" if line else "", message)


def _analyze_inputs(source: str, published: dt.date | None, failures: _Failures) -> list[Article]:
    """Articles of the analyze INPUT: a .txt (id = stem), stdin ``-`` or any readable file."""
    if source == "-":
        data = sys.stdin.buffer.read()
        text = sources.decode(data, name="stdin")
        article = sources.read_text(text, title=sources._first_line(text), id="stdin")
        return [_with_date(article, published, override=True)]
    path = Path(source)
    if not path.exists():
        raise InputError(f"{source}: no such file")
    errors: list = []
    articles = list(sources.read_path(path, errors=errors))
    for line, message in errors:
        failures.add(f"{path.name} line {line}", message)
    if path.suffix.lower() in sources.TEXT_SUFFIXES:
        articles = [_replace(a, id=path.stem) for a in articles]
        return [_with_date(a, published, override=True) for a in articles]
    return [_with_date(a, published, override=False) for a in articles]


def _replace(article: Article, **changes) -> Article:
    fields = {
        "text": article.text,
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "source": article.source,
        "published": article.published,
    }
    fields.update(changes)
    return Article(**fields)


def _with_date(article: Article, published: dt.date | None, *, override: bool) -> Article:
    if published is None or (article.published is not None and not override):
        return article
    return _replace(article, published=published)


def _valid(articles: Iterable[Article], failures: _Failures) -> Iterator[Article]:
    from geonews import pipeline

    for a in articles:
        try:
            pipeline.validate(a)
        except InputError as exc:
            failures.add(a.title or a.id, str(exc))
            continue
        yield a


def _resources() -> dict:
    """The spaCy pipeline and the gazetteer, loaded before any progress is timed."""
    from geonews import geo, nlp

    return {"nlp_model": nlp.load_pipeline(), "gazetteer": geo.load_gazetteer()}


def _analyze_batch(
    articles: list[Article],
    failures: _Failures,
    resources: dict,
    *,
    explain: bool = False,
    **steps,
):
    """Analyse a batch with nlp.pipe; if that fails, one by one to isolate the culprit.

    ``steps``: ``pins`` and ``fallback`` for ``pipeline.enrich``.
    """
    from geonews import pipeline

    analyses, failed = pipeline.analyze_batch(articles, explain=explain, **resources, **steps)
    for where, message in failed:
        failures.add(where, message)
    return analyses


# -- commands ------------------------------------------------------------------


def _fallback(cache=None):
    """The online geocoder fallback when GEONEWS_GEOCODER is set, else None."""
    from geonews import geocoder

    return geocoder.from_settings(cache=cache)


def _report_geocoder(fallback, stream) -> None:
    """One line on what the online geocoder did, and its failures by kind."""
    if fallback is None:
        return
    lookup = fallback.lookup
    hits = getattr(lookup, "hits", 0)
    misses = getattr(lookup, "misses", 0)
    if not (hits or misses):
        return
    print(
        f"online geocoder ({fallback.provider}): {fallback.found} place(s) found, "
        f"{hits} answer(s) from the cache, {len(fallback.failures)} failure(s)",
        file=stream,
    )
    kinds: dict[str, list[str]] = {}
    for name, exc in fallback.failures:
        kinds.setdefault(type(exc).__name__, []).append(name)
    for kind, names in kinds.items():
        first = next(exc for _, exc in fallback.failures if type(exc).__name__ == kind)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        print(f"  {first}: {shown}", file=stream)


def cmd_analyze(args) -> int:
    failures = _Failures()
    articles = list(_valid(_analyze_inputs(args.input, args.published, failures), failures))
    resources = _resources() if articles else {}
    fallback = _fallback() if articles else None
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        for i in range(0, len(articles), 32):
            batch = articles[i : i + 32]
            for analysis in _analyze_batch(
                batch, failures, resources, explain=args.explain, fallback=fallback
            ):
                out.write(json.dumps(analysis.to_json(explain=args.explain), ensure_ascii=False))
                out.write("\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    _report_geocoder(fallback, sys.stderr)
    if failures:
        print(f"geonews: {len(failures)} record(s) not analysed:", file=sys.stderr)
        failures.report(sys.stderr)
        return 1
    return 0


FEED_SCHEMES = ("http://", "https://")
STREAMED_SUFFIXES = (".jsonl", ".ndjson")


def _stream_jsonl(path: Path, errors: list) -> Iterator[Article]:
    """One article a line, read line by line: a JSONL file of any size."""
    with path.open("rb") as fh:
        yield from sources.jsonl_articles(fh, errors, where=f"{path}: ")


def _feed_urls(path: str) -> list[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [u.strip() for u in lines if u.strip() and not u.lstrip().startswith("#")]


def _ingest_inputs(args) -> tuple[list[str], list[Path]]:
    """(feed URLs, files) named by the ingest arguments; missing paths raise at once."""
    urls = [p for p in args.paths if p.startswith(FEED_SCHEMES)]
    for f in args.feeds or []:
        urls.extend(_feed_urls(f))
    files = sources.expand_paths(p for p in args.paths if not p.startswith(FEED_SCHEMES))
    if not urls and not files:
        raise InputError("ingest needs files, directories, globs, feed URLs or --feeds FILE.")
    return urls, files


def _stream_articles(urls: list[str], files: list[Path], errors: list) -> Iterator[Article]:
    """Every article of the inputs, file by file; JSONL streamed line by line.

    Problems go to ``errors`` as (line, "where: message") and never stop the others.
    """
    for url in urls:
        try:
            feed = sources.read_feed(url)
        except GeonewsError as exc:
            errors.append((0, f"{url}: {exc}"))
            continue
        yield from feed
        errors.extend((n, f"{url}: {m}") for n, m in feed.errors)
    for path in files:
        if path.suffix.lower() in STREAMED_SUFFIXES:
            try:
                yield from _stream_jsonl(path, errors)
            except OSError as exc:
                errors.append((0, f"{path}: cannot read: {exc.strerror or exc}"))
            continue
        yield from sources.read_paths([path], errors=errors)


def _count_articles(files: list[Path]) -> int | None:
    """How many articles the files hold (cheap: lines of JSONL), for the progress ETA."""
    total = 0
    for path in files:
        suffix = path.suffix.lower()
        if suffix in STREAMED_SUFFIXES:
            try:
                with path.open("rb") as fh:
                    total += sum(1 for line in fh if line.strip())
            except OSError:
                pass
        elif suffix in (".json", ".csv"):
            total += sum(1 for _ in sources.read_paths([path], errors=[]))
        else:
            total += 1
    return total


class _Progress:
    """A tqdm bar over the articles (rate and ETA), with added/skipped/failed after it."""

    def __init__(self, total: int | None, *, disable: bool):
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            unit="article",
            file=sys.stderr,
            disable=disable,
            dynamic_ncols=True,
            smoothing=0.1,
        )

    def __call__(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def cmd_ingest(args) -> int:
    from geonews import pipeline
    from geonews.geocoder import StoreCache
    from geonews.store import Store

    failures = _Failures()
    errors: list = []
    urls, files = _ingest_inputs(args)
    total = None if urls else _count_articles(files)
    articles = _stream_articles(urls, files, errors)
    with Store.open(_db_path(args)) as store:
        fallback = None if args.engine == "dask" else _fallback(StoreCache(store))
        progress = _Progress(total, disable=args.quiet)
        try:
            if args.engine == "dask":
                from geonews import distributed

                result = distributed.ingest(
                    articles,
                    store,
                    scheduler=args.scheduler,
                    workers=args.workers,
                    partition_size=args.partition_size,
                    parquet_dir=args.parquet_dir,
                    pins=store.pins(),
                    progress=progress,
                )
            else:
                result = pipeline.ingest(
                    articles,
                    store,
                    workers=args.workers,
                    batch_size=args.batch_size,
                    pins=store.pins(),
                    fallback=fallback,
                    progress=progress,
                )
        finally:
            progress.close()
        stats = store.stats()
    for line, message in errors:
        where, _, msg = message.partition(": ")
        failures.add(f"{where} line {line}" if line else where, msg or message)
    for where, message in result.failures:
        failures.add(where, message)
    _report_geocoder(fallback, sys.stderr)
    print(
        f"added {result.added}, skipped {result.skipped} (already stored), "
        f"failed {len(failures)}; the corpus has {stats['articles']} articles, "
        f"{stats['entities']} entities, {stats['places']} places ({_db_path(args)})"
    )
    if result.interrupted:
        print("geonews: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    if failures:
        print(f"geonews: {len(failures)} failure(s):", file=sys.stderr)
        failures.report(sys.stderr)
        return 1
    return 0


def cmd_stats(args) -> int:
    from geonews.store import Store

    with Store.open(_db_path(args)) as store:
        stats = store.stats()
    if args.json:
        print(json.dumps(stats))
    else:
        width = max(len(k) for k in stats)
        for key, value in stats.items():
            print(f"{key:<{width}}  {value:,}")
    return 0


def cmd_pin(args) -> int:
    from geonews.store import Store

    if args.place is None and (args.lat is None or args.lon is None):
        raise InputError("pin needs --place ID, or both --lat and --lon.")
    if args.place is not None and (args.lat is not None or args.lon is not None):
        raise InputError("pin takes --place ID or --lat/--lon, not both.")
    with Store.open(_db_path(args)) as store:
        pin = store.pin(
            args.name,
            place_id=args.place,
            lat=args.lat,
            lon=args.lon,
            article_id=args.article,
            place_name=args.place_name,
            kind=args.kind,
            country_code=args.country,
        )
        n = int(
            store.cursor()
            .execute(
                "SELECT count(*) FROM mention_places WHERE place_id = ? AND reason = ?",
                [pin.place_id, pin.reason],
            )
            .fetchone()[0]
        )
    where = f" in article {args.article}" if args.article else " everywhere"
    print(
        f"pinned {pin.name!r}{where} to {pin.place_name} ({pin.place_id}, "
        f"{pin.lat:.4f}, {pin.lon:.4f}); {n} stored mention(s) updated"
    )
    return 0


def cmd_pins(args) -> int:
    from geonews.store import Store

    with Store.open(_db_path(args)) as store:
        pins = store.pins()
    if args.json:
        for p in pins:
            print(json.dumps(p.to_json(), ensure_ascii=False))
        return 0
    if not pins:
        print("no pins")
        return 0
    for p in pins:
        scope = f"article {p.article_id}" if p.article_id else "everywhere"
        print(
            f"{p.name}\t{p.place_name} ({p.place_id}, {p.lat:.4f}, {p.lon:.4f}, {p.kind})\t{scope}"
        )
    return 0


def cmd_unpin(args) -> int:
    from geonews import pipeline
    from geonews.geocoder import StoreCache
    from geonews.store import Store

    with Store.open(_db_path(args)) as store:
        stale = store.unpin(args.name, article_id=args.article)
        n = 0
        if stale:
            n = pipeline.reanalyze(
                store, stale, fallback=_fallback(StoreCache(store)), **_resources()
            )
    where = f" in article {args.article}" if args.article else ""
    print(f"unpinned {args.name!r}{where}; {n} article(s) re-analysed")
    return 0


def cmd_serve(args) -> int:
    app = Path(geonews.__file__).resolve().parent.parent / "app.py"
    if not app.exists():
        raise GeonewsError(f"The dashboard is not here: {app} does not exist.")
    env = dict(os.environ)
    if getattr(args, "db", None):
        env["GEONEWS_DB"] = str(Path(args.db).expanduser().resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true"]
    if args.port:
        cmd += ["--server.port", str(args.port)]
    try:
        return subprocess.call(cmd, env=env, cwd=app.parent)
    except KeyboardInterrupt:
        return 0
    except OSError as exc:
        raise GeonewsError(f"Cannot start streamlit: {exc}") from exc


def cmd_build_gazetteer(args) -> int:
    mod = _load("geonews.gazetteer", "build-gazetteer")
    result = mod.build(args.output) if args.output else mod.build()
    print(f"gazetteer built{f': {result}' if result is not None else ''}")
    return 0


def _load(module: str, command: str):
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise GeonewsError(
                f"'{command}' is not available: {module} is not part of this install yet."
            ) from None
        raise


def _passthrough(command: str, rest: list[str]) -> int:
    mod = _load(PASSTHROUGH[command], command)
    code = mod.main(rest)
    return int(code or 0)


# -- parser --------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    db_help = "DuckDB file of the corpus (default: $GEONEWS_DB, else the data directory)"
    parser = argparse.ArgumentParser(
        prog="geonews",
        description="Extract, geocode and explore the people, places and dates in news.",
    )
    parser.add_argument("--version", action="version", version=f"geonews {geonews.__version__}")
    parser.add_argument("--db", help=db_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # A subcommand's --db overrides the global one without resetting it when absent.
    db_parent = argparse.ArgumentParser(add_help=False)
    db_parent.add_argument("--db", default=argparse.SUPPRESS, help=db_help)

    p = sub.add_parser(
        "analyze",
        help="analyse articles without storing them; JSON lines out",
        description="Analyse a .txt file (one article), a .jsonl file (one per line) or "
        "'-' (stdin text); write one JSON object per article.",
    )
    p.add_argument("input", help=".txt, .jsonl (also .json, .csv, .html) file, or - for stdin")
    p.add_argument("--output", "-o", help="write JSON lines here instead of stdout")
    p.add_argument(
        "--published",
        type=_date_arg,
        help="publication date YYYY-MM-DD (sets it for text; fills missing ones in JSONL)",
    )
    p.add_argument("--explain", action="store_true", help="include the candidates of each place")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser(
        "ingest",
        parents=[db_parent],
        help="analyse files and store them",
        description="Analyse articles (files, directories, globs, RSS/Atom feed URLs) and "
        "store them. Articles already stored are skipped before analysis, and every batch "
        "is its own transaction: an interrupted run resumes when run again.",
    )
    p.add_argument(
        "paths", nargs="*", help="files, directories, glob patterns or http(s) feed URLs"
    )
    p.add_argument("--feeds", action="append", metavar="FILE", help="file of feed URLs, one a line")
    p.add_argument("--batch-size", type=_positive, default=32, help="articles per transaction")
    p.add_argument(
        "--workers", type=_positive, default=1, help="analysis processes (each loads the model)"
    )
    p.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="local processes (default) or a Dask cluster",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler (tcp://HOST:8786); default: a LocalCluster of --workers",
    )
    p.add_argument(
        "--partition-size", type=_positive, default=200, help="articles per Dask partition"
    )
    p.add_argument(
        "--parquet-dir",
        metavar="DIR",
        help="keep the Dask run's Parquet partitions here (default: beside the DB, removed "
        "once loaded)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("stats", parents=[db_parent], help="counts of the stored corpus")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "pin",
        parents=[db_parent],
        help="pin a place name to a gazetteer entry or coordinates",
        description="Pin NAME (everywhere, or in one article) to a place; applied to the "
        "stored articles now and to every article ingested later.",
    )
    p.add_argument("name", help="the place name as written in the articles")
    p.add_argument("--place", help="gazetteer id (gn:524901, cc:RU, cur:jordan-valley)")
    p.add_argument("--lat", type=float, help="latitude (with --lon)")
    p.add_argument("--lon", type=float, help="longitude (with --lat)")
    p.add_argument("--article", help="only in this stored article (its id or content hash)")
    p.add_argument("--name", dest="place_name", help="name to show for coordinates")
    p.add_argument("--kind", help="kind of place for coordinates (default city)")
    p.add_argument("--country", help="ISO country code for coordinates")
    p.set_defaults(func=cmd_pin)

    p = sub.add_parser("pins", parents=[db_parent], help="list the pinned place names")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.set_defaults(func=cmd_pins)

    p = sub.add_parser(
        "unpin", parents=[db_parent], help="remove a pin; affected articles are re-analysed"
    )
    p.add_argument("name", help="the pinned name")
    p.add_argument("--article", help="remove the pin of this article (default: corpus-wide)")
    p.set_defaults(func=cmd_unpin)

    p = sub.add_parser("serve", parents=[db_parent], help="run the Streamlit dashboard")
    p.add_argument("--port", type=int, help="port (default: streamlit's, 8501)")
    p.set_defaults(func=cmd_serve)

    for name, module in PASSTHROUGH.items():
        sub.add_parser(name, add_help=False, help=f"evaluation ({module}); see '{name} -h'")

    p = sub.add_parser("build-gazetteer", help="build the offline gazetteer index")
    p.add_argument("--output", help="where to write it (default: the cache directory)")
    p.set_defaults(func=cmd_build_gazetteer)
    return parser


def _split_passthrough(argv: list[str]) -> tuple[list[str], str, list[str]] | None:
    """(global options, command, its arguments) when the command is eval or eval-ner."""
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--db":
            i += 2
        elif tok.startswith("-"):
            i += 1
        else:
            return (argv[:i], tok, argv[i + 1 :]) if tok in PASSTHROUGH else None
    return None


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        split = _split_passthrough(argv)
        if split is not None:
            head, command, rest = split
            args = build_parser().parse_args([*head, "stats"])  # validates global options
            if args.db:
                os.environ["GEONEWS_DB"] = args.db
            return _passthrough(command, rest)
        args = build_parser().parse_args(argv)
        return args.func(args)
    except GeonewsError as exc:
        print(f"geonews: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("geonews: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            # Point stdout at devnull so the interpreter's final flush is silent.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 1
