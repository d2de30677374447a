"""Benchmark of the web build: pages/second and peak memory for synthetic sites.

    .venv/bin/python bench/bench_web.py            # 1,000 and 10,000 pages
    .venv/bin/python bench/bench_web.py --sizes 1000

Each size runs in a fresh subprocess so that peak memory (ru_maxrss) is its own.
Load (read + validate + assemble), render and write are timed separately. The size of the site search index
(assets/search-index.js, loaded by the search page only) is printed as written and gzipped (as a server sends it).
Then one doctor's file is edited and the site built again: the rebuild's seconds, how many files it rewrote
(the others are kept from the previous build, byte for byte the same) and how many files it rendered again (the
dependency record in .sitegen/ keeps the pages, and the files made from the whole site such as the search index,
whose inputs did not change).
Then the news item template is overridden in the site's theme and the site built again: seconds and pages rendered
(only the pages that load that template). Last, in a fresh process as `sitegen serve` starts, serve's rebuild
after a doctor's edit: seconds until that doctor's page is published (what the open browser tab waits for) and
until the whole site is rebuilt (median of 3 edits).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# pages = departments + doctors + news (+ ~12 fixed pages); about 5 % departments, 70 % doctors, 25 % news
SHAPES = {1000: (50, 700, 250), 10000: (200, 7000, 2800)}


def measure(site: Path) -> dict:
    import datetime as dt
    import resource

    from sitegen.build import BuildOptions, load_site, run
    from sitegen.project import Project

    project = Project.at(site)
    today = dt.date(2026, 11, 25)
    t0 = time.perf_counter()
    load_site(project, today)
    t1 = time.perf_counter()
    report = run(project, BuildOptions(today=today, outputs=("site",)))
    t2 = time.perf_counter()
    pages = sum(1 for a in report.artifacts["site"] if a.path.endswith(".html"))
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # of the clean build
    # a rebuild after one doctor's file was edited: how long, and how many files really changed
    doctor = sorted((site / "content" / "doctors").glob("*.md"))[0]
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n追記しました。\n", 1),
                      encoding="utf-8")
    t3 = time.perf_counter()
    again = run(project, BuildOptions(today=today, outputs=("site",)))
    t4 = time.perf_counter()
    files = again.outputs["site"].files
    # a rebuild after an edit of the news item template (an override in the site's theme): only news pages
    override = site / "themes" / "default" / "web" / "news_item.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text('{% extends "!theme/news_item.html" %}\n', encoding="utf-8")
    t5 = time.perf_counter()
    themed = run(project, BuildOptions(today=today, outputs=("site",)))
    t6 = time.perf_counter()
    override.unlink()
    run(project, BuildOptions(today=today, outputs=("site",)))
    index = next(a for a in report.artifacts["site"] if a.path == "assets/search-index.js").read()
    import gzip
    return {
        "index_kb": round(len(index) / 1024),
        "index_gz_kb": round(len(gzip.compress(index, mtime=0)) / 1024),
        "pages": pages,
        "load_s": round(t1 - t0, 2),
        "build_s": round(t2 - t1, 2),
        "render_s": round(report.outputs["site"].seconds, 2),
        "pages_per_s": round(pages / (t2 - t1)),
        "peak_mb": peak_mb,
        "rebuild_s": round(t4 - t3, 2),
        "rewritten": files - again.outputs["site"].unchanged,
        "rendered": _rendered(again),  # files rendered again (the others: kept by the dependency record)
        "template_s": round(t6 - t5, 2),
        "template_rendered": _rendered(themed),
    }


def _rendered(report) -> int:
    """Files a build rendered: pages and files made from the whole site (sitemap, search index, open data) that
    were not kept from the previous build (those, and copied static files, are copies: no bytes in memory)."""
    return sum(1 for a in report.artifacts["site"] if a.data is not None)


def _serve_edit(project, today, doctor: Path) -> tuple[float, float]:
    """`sitegen serve` after one doctor's file was edited: seconds until the doctor's page was published, and
    until the whole rebuild was done (median of 3 edits). serve's HTTP and watcher threads keep it from forking,
    so a thread waits here meanwhile, as in serve."""
    import statistics
    import threading

    from sitegen.serve.preview import Preview

    stop = threading.Event()
    idle = threading.Thread(target=stop.wait, daemon=True)
    idle.start()
    try:
        preview = Preview(project, today)
        preview.rebuild(None)
        first, total = [], []
        rel = doctor.relative_to(project.root).as_posix()
        for n in range(3):
            doctor.write_text(doctor.read_text(encoding="utf-8").replace("\n---\n", f"\n---\n\n追記{n}。\n", 1),
                              encoding="utf-8")
            done = preview.rebuild({rel})
            if done.errors:
                sys.exit("\n".join(done.errors))
            first.append(done.first_seconds)
            total.append(done.total_seconds)
    finally:
        stop.set()
    return round(statistics.median(first), 2), round(statistics.median(total), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=sorted(SHAPES))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return
    if args.serve_child:  # in a process of its own, as `sitegen serve` starts
        import datetime as dt

        from sitegen.project import Project
        doctor = sorted((args.serve_child / "content" / "doctors").glob("*.md"))[1]
        first, total = _serve_edit(Project.at(args.serve_child), dt.date(2026, 11, 25), doctor)
        print(json.dumps({"serve_first_s": first, "serve_total_s": total}))
        return
    from synthetic import make_site

    print(f"{'target':>8} {'pages':>7} {'load s':>7} {'build s':>8} {'render s':>9} {'pages/s':>8} {'peak MB':>8}"
          f" {'index KB':>9} {'gzip KB':>8} {'rebuild s':>10} {'rewritten':>10} {'rendered':>9}"
          f" {'serve page s':>13} {'serve all s':>12} {'template s':>11} {'rendered':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            shape = SHAPES.get(size) or (max(1, size // 20), size * 7 // 10, size // 4)
            site = make_site(Path(tmp) / f"site-{size}", *shape)
            r = {}
            for child in ("--child", "--serve-child"):
                out = subprocess.run([sys.executable, __file__, child, str(site)], capture_output=True, text=True)
                if out.returncode:
                    sys.exit(out.stderr)
                r.update(json.loads(out.stdout))
            print(f"{size:>8} {r['pages']:>7} {r['load_s']:>7} {r['build_s']:>8} {r['render_s']:>9} {r['pages_per_s']:>8} {r['peak_mb']:>8}"
                  f" {r['index_kb']:>9} {r['index_gz_kb']:>8} {r['rebuild_s']:>10} {r['rewritten']:>10} {r['rendered']:>9}"
                  f" {r['serve_first_s']:>13} {r['serve_total_s']:>12} {r['template_s']:>11} {r['template_rendered']:>9}")


if __name__ == "__main__":
    main()
