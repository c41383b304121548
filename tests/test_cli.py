"""``python -m geonews``: analyze, ingest, stats and errors, run as a user would."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geonews import cli

ROOT = Path(__file__).resolve().parent.parent

TEXT = (
    "Putin meets Netanyahu\n\n"
    "Israeli Prime Minister Benjamin Netanyahu visited Russia on Thursday to meet "
    "President Vladimir Putin in Sochi."
)
JSON_KEYS = {"id", "title", "url", "source", "published", "entities", "places", "dates"}


def run(*args, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "GEONEWS_DB"}
    full_env.update({"PYTHONIOENCODING": "utf-8", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "geonews", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=full_env,
        timeout=300,
    )


def lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check_shape(record: dict, text: str) -> None:
    assert JSON_KEYS <= set(record)
    for m in record["entities"]:
        assert text[m["start"] : m["end"]] == m["text"]
        assert set(m) >= {"text", "label", "start", "end", "entity"}
    for p in record["places"]:
        for s in p["mentions"]:
            assert text[s["start"] : s["end"]] == s["text"]


def test_analyze_txt_with_published(tmp_path: Path):
    path = tmp_path / "sochi-talks.txt"
    path.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run("analyze", path, "--published", "2019-09-12", "--output", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    (record,) = lines(out.read_text(encoding="utf-8"))
    check_shape(record, TEXT)
    assert record["id"] == "sochi-talks"
    assert record["title"] == "Putin meets Netanyahu"
    assert record["published"] == "2019-09-12"
    assert "Vladimir Putin" in {m["entity"] for m in record["entities"]}
    dates = {d["text"]: d for d in record["dates"]}
    assert "Thursday" in dates


def test_analyze_stdin_and_explain():
    proc = run("analyze", "-", "--explain", stdin=TEXT)
    assert proc.returncode == 0, proc.stderr
    (record,) = lines(proc.stdout)
    check_shape(record, TEXT)
    assert record["id"] == "stdin"
    assert record["published"] is None
    for place in record["places"]:
        assert "candidates" in place


def test_analyze_jsonl_fills_published_and_reports_bad_lines(tmp_path: Path):
    path = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "text": TEXT, "title": "A", "published": "2020-01-02", "url": "http://e/a"},
        {"id": "b", "text": "Talks in Kyiv ended.", "source": "Example"},
    ]
    path.write_text(
        json.dumps(rows[0])
        + "\n{broken\n"
        + json.dumps(rows[1])
        + "\n"
        + '{"id": "c", "text": " "}\n',
        encoding="utf-8",
    )
    proc = run("analyze", path, "--published", "2021-03-04")
    assert proc.returncode == 1  # partial: good ones out, bad ones reported
    records = lines(proc.stdout)
    assert [r["id"] for r in records] == ["a", "b"]
    assert records[0]["published"] == "2020-01-02"  # kept
    assert records[1]["published"] == "2021-03-04"  # filled
    assert (records[0]["url"], records[1]["source"]) == ("http://e/a", "Example")
    check_shape(records[0], TEXT)
    assert "line 2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ingest_twice_same_stats(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.txt").write_text(TEXT, encoding="utf-8")
    (corpus / "more.jsonl").write_text(
        json.dumps({"id": "k", "text": "Talks in Kyiv ended on Monday.", "published": "2022-03-01"})
        + "\nnot json\n",
        encoding="utf-8",
    )
    (corpus / "bad.txt").write_bytes(b"\x00\x01\x02\x03")
    db = tmp_path / "db" / "corpus.duckdb"

    first = run("ingest", corpus, "--db", db, "--batch-size", "1")
    assert first.returncode == 1, first.stderr  # two bad inputs, the good ones stored
    assert "added 2, skipped 0" in first.stdout
    assert "more.jsonl line 2" in first.stderr and "bad.txt" in first.stderr
    assert "Traceback" not in first.stderr

    stats1 = run("stats", "--json", env={"GEONEWS_DB": str(db)})
    assert stats1.returncode == 0, stats1.stderr
    s1 = json.loads(stats1.stdout)
    assert {"articles", "mentions", "entities", "places"} <= set(s1)
    assert s1["articles"] == 2 and s1["mentions"] > 0 and s1["entities"] > 0

    second = run("--db", db, "ingest", corpus / "one.txt", corpus / "more.jsonl")
    assert "added 0, skipped 2" in second.stdout
    s2 = json.loads(run("--db", db, "stats", "--json").stdout)
    assert s2 == s1

    plain = run("stats", "--db", db)
    assert plain.returncode == 0 and "articles" in plain.stdout


@pytest.mark.parametrize(
    "argv, code, message",
    [
        (["analyze", "/no/such/file.txt"], 2, "no such file"),
        (["analyze", "-"], 2, "no text"),
        (["ingest", "/no/such/dir"], 2, "no such file"),
        (["analyze", "x.txt", "--published", "12/09/2019"], 2, "not a date"),
    ],
)
def test_errors_exit_codes(argv, code, message, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8"))
    try:
        rc = cli.main(argv)
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == code
    assert message in err
    assert "Traceback" not in err


def test_missing_module_message(capsys, monkeypatch):
    monkeypatch.setitem(cli.PASSTHROUGH, "eval-ner", "geonews.no_such_module")
    assert cli.main(["eval-ner", "--json"]) == 2
    assert "not part of this install" in capsys.readouterr().err


def test_split_passthrough():
    assert cli._split_passthrough(["--db", "x", "eval", "-h", "gold"]) == (
        ["--db", "x"],
        "eval",
        ["-h", "gold"],
    )
    assert cli._split_passthrough(["stats", "--json"]) is None


@pytest.mark.slow
def test_serve_starts_the_dashboard(tmp_path: Path):
    """``serve`` runs streamlit headless on the port asked for; /_stcore/health answers."""
    import signal
    import socket
    import time
    import urllib.request

    if not (ROOT / "app.py").exists():
        pytest.skip("app.py is not written yet")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "GEONEWS_DB"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "geonews", "serve", "--port", str(port), "--db", tmp_path / "s.db"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        body = b""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    body = r.read()
                    break
            except OSError:
                time.sleep(0.5)
        assert body == b"ok", proc.stderr.read().decode() if proc.poll() is not None else body
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


PIN_TEXT = (
    "Protesters gathered in Springfield on Monday while officials in Damascus met. "
    "Later they marched to Richmond."
)
RICHMOND = {
    "lat": "37.5385",
    "lon": "-77.4343",
    "osm_type": "relation",
    "osm_id": 206859,
    "addresstype": "city",
    "name": "Richmond",
    "display_name": "Richmond, Virginia, United States",
    "address": {"country_code": "us"},
}


def geocoder_env(port: int) -> dict:
    return {
        "GEONEWS_GEOCODER": "nominatim",
        "GEONEWS_GEOCODER_DOMAIN": f"127.0.0.1:{port}",
        "GEONEWS_GEOCODER_SCHEME": "http",
        "GEONEWS_GEOCODER_MIN_DELAY": "0",
        "GEONEWS_GEOCODER_TIMEOUT": "1",
    }


def test_analyze_stays_offline_unless_a_geocoder_is_set(tmp_path: Path):
    from test_geocoder import Nominatim, closed_port

    path = tmp_path / "a.txt"
    path.write_text(PIN_TEXT, encoding="utf-8")
    with Nominatim(answers={"richmond": RICHMOND}) as server:
        env = geocoder_env(server.port)
        offline = run("analyze", path, env={**env, "GEONEWS_GEOCODER": ""})
        assert offline.returncode == 0, offline.stderr
        assert server.requests == []
        (record,) = lines(offline.stdout)
        assert {p["name"]: p["lat"] for p in record["places"]}["Richmond"] is None

        online = run("analyze", path, env=env)
        assert online.returncode == 0, online.stderr
        (record,) = lines(online.stdout)
        check_shape(record, PIN_TEXT)
        got = {p["mentions"][0]["text"]: p for p in record["places"]}
        assert got["Richmond"]["lat"] == 37.5385
        assert [r["q"] for r in server.requests] == ["Springfield", "Richmond"]
        assert "online geocoder" in online.stderr

    down = run("analyze", path, env=geocoder_env(closed_port()))
    assert down.returncode == 0, down.stderr  # a dead geocoder never breaks analysis
    (record,) = lines(down.stdout)
    assert JSON_KEYS <= set(record)
    reasons = {p["name"]: p["reason"] for p in record["places"]}
    assert "unreachable" in reasons["Richmond"]
    assert "unreachable" in down.stderr and "Traceback" not in down.stderr


def test_pin_pins_unpin_and_ingest_with_the_geocoder(tmp_path: Path):
    from test_geocoder import Nominatim

    corpus = tmp_path / "one.txt"
    corpus.write_text(PIN_TEXT, encoding="utf-8")
    db = tmp_path / "c.duckdb"
    with Nominatim(answers={"richmond": RICHMOND}) as server:
        env = geocoder_env(server.port)
        first = run("ingest", corpus, "--db", db, env=env)
        assert first.returncode == 0, first.stderr
        assert "1 place(s) found" in first.stderr
        asked = len(server.requests)
        assert asked == 2  # Springfield (not found) and Richmond

        pinned = run("pin", "Springfield", "--place", "gn:4250542", "--db", db)
        assert pinned.returncode == 0, pinned.stderr
        assert "1 stored mention(s) updated" in pinned.stdout
        listed = run("pins", "--json", "--db", db)
        (pin,) = lines(listed.stdout)
        assert (pin["name"], pin["place_id"], pin["article_id"]) == (
            "Springfield",
            "gn:4250542",
            None,
        )

        from geonews.store import Store

        with Store.open(db, read_only=True) as store:
            (article,) = store.articles()["id"]
            got = {p.name: p for p in store.get_analysis(article).places}
        assert got["Springfield"].reason.startswith("pinned by user")
        assert got["Richmond"].lat == 37.5385

        # unpin: the article is re-analysed; the geocoder's answers come from the cache
        gone = run("unpin", "Springfield", "--db", db, env=env)
        assert gone.returncode == 0, gone.stderr
        assert "1 article(s) re-analysed" in gone.stdout
        assert len(server.requests) == asked
        assert lines(run("pins", "--json", "--db", db).stdout) == []

    bad = run("pin", "Springfield", "--lat", "95", "--lon", "0", "--db", db)
    assert bad.returncode == 2 and "out of range" in bad.stderr
    bad = run("pin", "Springfield", "--place", "gn:nope", "--db", db)
    assert bad.returncode == 2 and "Unknown place id" in bad.stderr
    bad = run("unpin", "Nowhere", "--db", db)
    assert bad.returncode == 2 and "No pin" in bad.stderr
