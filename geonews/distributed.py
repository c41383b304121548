"""The same enrichment on a Dask cluster: ``geonews ingest --engine dask``.

    articles -> plan (valid, not stored: checked before analysis, as the local path does)
             -> partitions of ``partition_size`` articles, submitted to the cluster
                (a bounded window of them in flight: the input is streamed)
             -> each worker: the model and gazetteer loaded once (``LoadModel``, a
                WorkerPlugin), ``pipeline.analyze_batch``, ``store.analysis_tables``,
                one Parquet file per store table, sent back as bytes
             -> the client writes them under the Parquet directory
             -> ``Store.add_tables`` loads them all into DuckDB in ONE transaction.

The scheduler and the workers need geonews importable (Dask unpickles the tasks on
the scheduler too) and the workers its gazetteer built (``python -m geonews
build-gazetteer``); they share no file system with the client. Without a scheduler
address a ``LocalCluster`` of ``workers`` processes (one thread each) runs on
127.0.0.1. Dask is the one engine: no scheduling of our own beyond the window.

Results equal the local path's: entities and places keep the first name seen in
input order (the client keeps the first row of each id in partition order).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import logging
import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from geonews import pipeline
from geonews.errors import GeonewsError
from geonews.models import Article

#: Store tables keyed by id whose first row (in input order) wins.
KEYED = ("entities", "places")


def _imports():
    try:
        import distributed
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - both are in requirements.txt
        raise GeonewsError(f"--engine dask needs dask and distributed installed: {exc}") from exc
    return distributed, pa, pq


def _resources(model: str | None) -> dict:
    """The worker's model and gazetteer: loaded once per process (both are cached)."""
    from geonews import geo, nlp

    return {"nlp_model": nlp.load_pipeline(model), "gazetteer": geo.load_gazetteer()}


def _plugin_class():
    distributed, _, _ = _imports()

    class LoadModel(distributed.WorkerPlugin):
        """Loads the spaCy model and the gazetteer once, when a worker starts."""

        name = "geonews-load-model"

        def __init__(self, model: str | None):
            self.model = model

        def setup(self, worker) -> None:
            _resources(self.model)

    return LoadModel


def analyze_partition(
    index: int, articles: list[Article], model: str | None = None, pins=None
) -> dict:
    """Run on a worker: analyse one partition; its store tables as Parquet bytes.

    Returns ``{"index", "count", "parquet": {table: bytes}, "failures": [(where, msg)]}``.
    """
    _, _, pq = _imports()
    from geonews import store

    analyses, failures = pipeline.analyze_batch(articles, pins=pins, **_resources(model))
    out = {}
    for table, data in store.analysis_tables(analyses).items():
        buf = io.BytesIO()
        pq.write_table(data, buf)
        out[table] = buf.getvalue()
    return {"index": index, "count": len(articles), "parquet": out, "failures": failures}


def start_client(scheduler: str | None = None, *, workers: int = 2):
    """A Client of the cluster at ``scheduler``, else of a new loopback LocalCluster of
    ``workers`` processes with one thread each. Closing the client closes that cluster.
    """
    distributed, _, _ = _imports()
    if scheduler:
        try:
            return distributed.Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise GeonewsError(f"Cannot reach the Dask scheduler {scheduler}: {exc}") from exc
    with warnings.catch_warnings():  # its health endpoint moves off a taken port: fine
        warnings.filterwarnings("ignore", message=r"Port \d+ is already in use")
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,  # not "worker still alive after 4 s, killing" at close
        )
    client = distributed.Client(cluster)
    client._geonews_cluster = cluster  # closed with the client (see close_client)
    return client


def close_client(client) -> None:
    cluster = getattr(client, "_geonews_cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


def _run_dir(store, parquet_dir) -> tuple[Path, bool]:
    """(where this run's Parquet goes, whether to keep it after loading)."""
    stamp = f"run-{dt.datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}"
    if parquet_dir:
        return Path(parquet_dir).expanduser() / stamp, True
    if store.path is None:
        return Path(tempfile.mkdtemp(prefix="geonews-parquet-")) / stamp, False
    return store.path.parent / f"{store.path.name}.parquet" / stamp, False


class _Sink:
    """Writes partitions' Parquet as they arrive; keyed tables (entities, places) are
    kept and written once at the end, first row of each id in partition order."""

    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, list[Path]] = {}
        self.keyed: dict[str, dict[int, bytes]] = {t: {} for t in KEYED}
        self.count = 0

    def add(self, part: dict) -> None:
        i = part["index"]
        for table, data in part["parquet"].items():
            if table in self.keyed:
                self.keyed[table][i] = data
                continue
            path = self.root / table / f"part-{i:06d}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            self.files.setdefault(table, []).append(path)
        self.count += 1

    def tables(self) -> dict[str, list[Path]]:
        from geonews import store

        _, pa, pq = _imports()
        out = {t: sorted(self.files.get(t, [])) for t in store.TABLES}
        for table, parts in self.keyed.items():
            if not parts:
                continue
            data = pa.concat_tables(
                [pq.read_table(io.BytesIO(parts[i])) for i in sorted(parts)]
            ).cast(store.TABLES[table])
            first: dict[str, int] = {}
            for row, key in enumerate(data.column("id").to_pylist()):
                first.setdefault(key, row)
            path = self.root / table / "all.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(data.take(sorted(first.values())), path)
            out[table] = [path]
        return out


def ingest(
    articles: Iterable[Article],
    store,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    partition_size: int = 200,
    parquet_dir=None,
    pins=None,
    model: str | None = None,
    progress: Callable[[int], None] | None = None,
    client=None,
) -> pipeline.IngestResult:
    """Analyse ``articles`` on a Dask cluster and store them (see the module docstring).

    ``client``: an existing ``distributed.Client`` to use (left open); otherwise one
    is made from ``scheduler`` (or a LocalCluster of ``workers``) and closed at the
    end. Ctrl-C stops submitting, and the partitions already analysed are loaded, so
    a re-run resumes.
    """
    _imports()  # fail early when Dask is missing
    from geonews import nlp

    result = pipeline.IngestResult()
    pins = list(pins) if pins else None
    model = model or nlp.model_name()
    partitions = pipeline.plan(
        articles,
        store.existing,
        batch_size=partition_size,
        result=result,
        on_skip=progress,
    )
    first = next(partitions, None)
    if first is None:  # everything stored already (or invalid): no cluster to start
        return result
    partitions = itertools.chain([first], partitions)
    own = client is None
    root, keep = _run_dir(store, parquet_dir)
    sink = _Sink(root)
    try:
        client = start_client(scheduler, workers=workers) if own else client
        try:
            client.register_plugin(_plugin_class()(model))
            _run(client, partitions, sink, result, model=model, pins=pins, progress=progress)
        except KeyboardInterrupt:
            result.interrupted = True
        finally:
            if own:
                close_client(client)
        if sink.count:
            added, skipped = store.add_tables(sink.tables())
            result.added += added
            result.skipped += skipped
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
            try:
                root.parent.rmdir()  # the default folder beside the DB, when empty
            except OSError:
                pass
    return result


def _run(client, partitions, sink: _Sink, result, *, model, pins, progress) -> None:
    """Submit partitions with at most two per worker in flight; collect as they finish."""
    distributed, _, _ = _imports()
    window = max(2, 2 * len(client.nthreads()))
    run = uuid.uuid4().hex[:8]
    done = distributed.as_completed()
    batches: dict = {}
    in_flight = 0

    def collect(fut) -> None:
        batch = batches.pop(fut.key)
        n = len(batch)
        try:
            part = fut.result()
        except GeonewsError:
            raise
        except Exception as exc:  # noqa: BLE001 - a worker died or the task broke
            why = " ".join(str(exc).strip().split("\n\n")[0].split()) or repr(exc)
            message = f"not analysed (Dask partition {fut.key}): {why}"
            result.failures.extend((a.title or a.id, message) for a in batch)
        else:
            result.failures.extend(part["failures"])
            sink.add(part)
        if progress is not None:
            progress(n)

    for index, batch in enumerate(partitions):
        fut = client.submit(
            analyze_partition, index, batch, model, pins, key=f"geonews-{run}-{index}"
        )
        batches[fut.key] = batch
        done.add(fut)
        in_flight += 1
        while in_flight >= window:
            collect(next(done))
            in_flight -= 1
    for fut in done:
        collect(fut)
