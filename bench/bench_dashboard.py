"""Dashboard start-up, and re-render after a filter change, on the sample corpus.

Start-up: time from `streamlit run` to a healthy server, and to the Analyze page
drawn in a real browser. Re-render: on a running server, in headless Chromium, for
each page: type a word in the sidebar's "Search text" and press Enter (a filter the
page has not computed before, so its queries miss the cache), then press "Clear
filters" (back to a view computed before); the time is from the key press or click
to the run finished and the page painted (Streamlit's script state back to
`notRunning`, the address bar holding the new filters, two animation frames). That is
what a user waits for. Each page is left 3 s after it opens before the first change
(as a user reads it; its charts are drawn by then). Needs /usr/bin/chromium for the
browser figures.

    .venv/bin/python bench/bench_dashboard.py [--runs 3] [--words 3] [--no-report]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import report

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SETTLE_MS = 3000  # after opening a page, before the first filter change


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError("the dashboard did not become healthy")


def one_run(db: Path) -> tuple[float, float | None]:
    port = free_port()
    env = {**os.environ, "GEONEWS_DB": str(db)}
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port)
        healthy = time.monotonic() - t0
        drawn = None
        if Path(CHROMIUM).exists():
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_role("button", name="Analyze").first.wait_for(timeout=120_000)
                drawn = time.monotonic() - t0
                browser.close()
        return healthy, drawn
    finally:
        proc.terminate()
        proc.wait(timeout=20)


PAGES = [("map", "Map"), ("timeline", "Timeline"), ("network", "Network"),
         ("entities", "Entities"), ("corpus", "Corpus")]  # fmt: skip
# words of the sample corpus: each one a new filter (a cache miss) on every page
WORDS = ["Moscow", "ceasefire", "Lebanon", "election", "Ukraine", "drought", "Beijing"]
DONE_JS = """(want) => {
    const app = document.querySelector('[data-testid=stApp]');
    return app && app.dataset.testScriptState === 'notRunning'
        && new URLSearchParams(location.search).get('q') === want
        && !document.querySelector('[data-testid=stStatusWidget]');
}"""
PAINT_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
# records when the script run starts and ends, as the browser sees it (the server's share)
WATCH_JS = """() => {
    const app = document.querySelector('[data-testid=stApp]');
    const run = window.__geonewsRun = {start: null, end: null};
    if (window.__geonewsObserver) window.__geonewsObserver.disconnect();
    window.__geonewsObserver = new MutationObserver(() => {
        const state = app.dataset.testScriptState;
        if (state === 'running' && run.start === null) run.start = performance.now();
        if (state === 'notRunning' && run.start !== null) run.end = performance.now();
    });
    window.__geonewsObserver.observe(app, {attributes: true,
                                           attributeFilter: ['data-test-script-state']});
}"""


def start_server(db: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "GEONEWS_DB": str(db)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_healthy(port)
    return proc, port


def _timed(page, act, want: str | None) -> tuple[float, float | None]:
    """Seconds from ``act()`` to the run finished with ``q=want`` and the page painted,
    and the script run's own share (running -> notRunning), when the browser saw it."""
    page.evaluate(WATCH_JS)
    t0 = time.monotonic()
    act()
    page.wait_for_function(DONE_JS, arg=want, timeout=120_000, polling=10)
    page.evaluate(PAINT_JS)
    elapsed = time.monotonic() - t0
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        raise RuntimeError(f"the page failed: {errors.all_inner_texts()}")
    run = page.evaluate("() => window.__geonewsRun")
    script = (run["end"] - run["start"]) / 1000 if run["start"] and run["end"] else None
    return elapsed, script


def rerender(db: Path, words: int) -> dict[str, tuple[list, list, list]]:
    """{page: (new-filter times, clear-filter times, script-run times)} in seconds."""
    from playwright.sync_api import sync_playwright

    proc, port = start_server(db)
    out: dict[str, tuple[list, list, list]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            # warm the server (model-free: the pages only query the store)
            for path, title in PAGES:
                page.goto(f"http://127.0.0.1:{port}/{path}")
                page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
                page.wait_for_function(DONE_JS, arg=None, timeout=120_000)
            for path, title in PAGES:
                page.goto(f"http://127.0.0.1:{port}/{path}")
                page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
                page.wait_for_function(DONE_JS, arg=None, timeout=120_000)
                page.evaluate(PAINT_JS)
                # a user looks at the page before changing a filter: its charts are drawn
                # (plotly.js draws after the run has finished, for up to 2 s on a fresh load)
                page.wait_for_timeout(SETTLE_MS)
                box = page.locator('[data-testid="stSidebar"]').get_by_label("Search text")
                new, cleared, script = [], [], []
                for word in WORDS[:words]:
                    box.fill(word)
                    total, run = _timed(page, lambda box=box: box.press("Enter"), word)
                    new.append(total)
                    script += [run] if run is not None else []
                    clear = page.get_by_role("button", name="Clear filters", exact=True)
                    total, run = _timed(page, clear.click, None)
                    cleared.append(total)
                    script += [run] if run is not None else []
                out[path] = (new, cleared, script)
                print(
                    f"{path:9s} new filter: "
                    + " ".join(f"{t * 1000:.0f}" for t in new)
                    + " ms; cleared: "
                    + " ".join(f"{t * 1000:.0f}" for t in cleared)
                    + " ms; of which the script run: "
                    + " ".join(f"{t * 1000:.0f}" for t in script)
                    + " ms"
                )
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3, help="start-up runs")
    ap.add_argument("--words", type=int, default=3, help="filter changes per page")
    ap.add_argument("--no-report", action="store_true", help="print only")
    args = ap.parse_args()
    healthy, drawn = [], []
    renders: dict[str, tuple[list, list, list]] = {}
    browser = Path(CHROMIUM).exists()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        # the store `make run` opens: the sample corpus
        subprocess.run(
            [sys.executable, "-m", "geonews", "ingest", "--db", str(db), "--quiet",
             str(ROOT / "sample_data" / "articles.jsonl")],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for i in range(args.runs):
            h, d = one_run(db)
            healthy.append(h)
            if d is not None:
                drawn.append(d)
            print(f"run {i + 1}: healthy {h:.2f} s, page drawn {d and f'{d:.2f} s'}")
        if browser and args.words > 0:
            renders = rerender(db, min(args.words, len(WORDS)))
    rows = []
    if healthy:
        print(f"dashboard_healthy_s median={statistics.median(healthy):.2f}")
        rows.append(["server healthy (`/_stcore/health`)", f"{statistics.median(healthy):.2f} s"])
    if drawn:
        print(f"dashboard_page_drawn_s median={statistics.median(drawn):.2f}")
        rows.append(["Analyze page drawn in Chromium", f"{statistics.median(drawn):.2f} s"])
    elif healthy:
        rows.append(["Analyze page drawn in Chromium", "not measured (no /usr/bin/chromium)"])
    body = (
        f"From `streamlit run app.py` to ready, on the sample corpus (83 articles), median of "
        f"{args.runs} runs (the model loads on the first analysis, not at start-up).\n\n"
        + report.table(["step", "time"], rows)
    )
    if renders:
        rrows = []
        for path, (new, cleared, script) in renders.items():
            rrows.append([
                dict(PAGES)[path],
                f"{statistics.median(new) * 1000:.0f} ms (max {max(new) * 1000:.0f})",
                f"{statistics.median(cleared) * 1000:.0f} ms (max {max(cleared) * 1000:.0f})",
                f"{statistics.median(script) * 1000:.0f} ms" if script else "–",
            ])  # fmt: skip
        worst = max(max(n + c) for n, c, _ in renders.values())
        print(f"dashboard_rerender_worst_ms={worst * 1000:.0f}")
        body += (
            "\n\n### Re-render after a filter change\n\n"
            "In headless Chromium on a running server: type a word in the sidebar's Search "
            "text and press Enter (a filter not computed before: the queries miss the cache), "
            "then press Clear filters (a view computed before). Time from the key press or "
            "click to the run finished and the page painted, median of "
            f"{len(WORDS[: args.words])} changes per page; the slowest of all: "
            f"{worst * 1000:.0f} ms. The last column is the median script run alone (from "
            "the browser seeing the run start to it ending), the rest is the round trip and "
            "drawing in the browser.\n\n"
            + report.table(["page", "new filter", "filters cleared", "script run"], rrows)
        )
    elif args.words > 0:
        body += "\n\nRe-render after a filter change: not measured (no /usr/bin/chromium)."
    report.section("dashboard", "Dashboard start-up and re-render", body)


if __name__ == "__main__":
    main()
