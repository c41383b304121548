"""Write one benchmark's results into docs/benchmarks.md, in its own section.

Every ``bench/bench_*.py`` ends with ``report.section(NAME, TITLE, markdown)``: the
section between ``<!-- bench:NAME -->`` markers is replaced (or appended), stamped
with the date and the machine, so re-running one benchmark refreshes only its part.
Pass ``--no-report`` to a bench script to print without writing.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Measured by the scripts in `bench/` (`make bench` runs them all); each section says
when and on what machine it was measured, and which command reproduces it.
"""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def enabled() -> bool:
    return "--no-report" not in sys.argv


def section(name: str, title: str, body: str, *, command: str | None = None) -> None:
    """Replace the section ``name`` of docs/benchmarks.md with ``body`` (markdown)."""
    if not enabled():
        return
    command = command or "python " + " ".join(
        [f"bench/{Path(sys.argv[0]).name}", *(a for a in sys.argv[1:] if a != "--no-report")]
    )
    stamp = f"_Measured {dt.date.today().isoformat()} on {machine()}; `{command}`._"
    block = (
        f"<!-- bench:{name} -->\n## {title}\n\n{stamp}\n\n{body.strip()}\n<!-- /bench:{name} -->"
    )
    text = DOC.read_text() if DOC.exists() else HEADER
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
    print(f"wrote section {name!r} of {DOC.relative_to(ROOT)}")


def table(headers: list[str], rows: list[list]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)
