"""Dashboard start-up: time from `streamlit run` to a healthy server, and to the
Analyze page drawn in a real browser (when /usr/bin/chromium is installed).

    .venv/bin/python bench/bench_dashboard.py [--runs 3]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-report", action="store_true", help="print only")
    args = ap.parse_args()
    healthy, drawn = [], []
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
    print(f"dashboard_healthy_s median={statistics.median(healthy):.2f}")
    rows = [["server healthy (`/_stcore/health`)", f"{statistics.median(healthy):.2f} s"]]
    if drawn:
        print(f"dashboard_page_drawn_s median={statistics.median(drawn):.2f}")
        rows.append(["Analyze page drawn in Chromium", f"{statistics.median(drawn):.2f} s"])
    else:
        rows.append(["Analyze page drawn in Chromium", "not measured (no /usr/bin/chromium)"])
    report.section(
        "dashboard",
        "Dashboard start-up",
        f"From `streamlit run app.py` to ready, on the sample corpus (83 articles), median of "
        f"{args.runs} runs (the model loads on the first analysis, not at start-up).\n\n"
        + report.table(["step", "time"], rows),
    )


if __name__ == "__main__":
    main()
