"""Benchmark of `sitegen check` with accessibility (axe-core in Chromium) on a copy of the example site.

    .venv/bin/python bench/bench_check.py

Prints the seconds of: a full check; --changed the first time (every page); --changed with nothing changed;
--changed after one doctor's file was edited. The ad, links and recipients stages are skipped so the figures
are the accessibility stage (plus the in-memory build every check makes).
"""
from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "generator"))

from sitegen.check.run import A11Y_PARALLEL, CheckOptions, run_check  # noqa: E402
from sitegen.project import Project  # noqa: E402


def timed(root: Path, changed: bool) -> tuple[float, int]:
    t = time.perf_counter()
    report = run_check(Project.at(root), CheckOptions(today=dt.date(2026, 12, 3), changed=changed,
                                                     skip=frozenset({"ad", "links", "recipients"})))
    return time.perf_counter() - t, int(report.stats.get("a11y_pages", 0))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "site"
        shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(".git", ".venv", "build", ".sitegen", "tests", "bench"))
        print(f"pages checked in parallel: {A11Y_PARALLEL}")
        for label, changed in (("full check", False), ("--changed, first run", True), ("--changed, nothing changed", True)):
            seconds, pages = timed(root, changed)
            print(f"{label:<34} {seconds:7.1f} s  {pages:4d} pages through axe-core")
        doctor = sorted((root / "content/doctors").glob("*.md"))[0]
        doctor.write_text(doctor.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n追記しました。\n", 1), encoding="utf-8")
        seconds, pages = timed(root, True)
        print(f"{'--changed, one doctor edited':<34} {seconds:7.1f} s  {pages:4d} pages through axe-core")


if __name__ == "__main__":
    main()
