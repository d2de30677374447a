"""Benchmark of the PDF brochures (Chromium via Playwright).

    .venv/bin/python bench/bench_pdf.py
    .venv/bin/python bench/bench_pdf.py --cases example

Cases, each in a fresh subprocess so that peak memory is its own:
  example      the example hospital's guidebook (repo root)
  press        the same guidebook with its print-shop edition (bleed, トンボ) as well
  synthetic    the guidebook of a synthetic hospital of about 80 pages
  leaflets     one leaflet for each of 50 synthetic departments (leaflets/second)
  rebuild      the synthetic guidebook built again after one department's summary was edited: printed once (the
               chapter pages the first build settled on are kept in .sitegen/, so the table of contents needs
               one print instead of two)
  unchanged    the synthetic guidebook built again with nothing changed: nothing printed, no browser started
               (what printing made is kept in .sitegen/pdf-prints: pdf/memo.py)
  leaflet-edit the 50 leaflets built again after one department's summary was edited: that leaflet is printed,
               the 49 others are kept
Times include the browser launch (one per build, none when nothing is printed). Peak memory is this process's
and its children's (Chromium, the Playwright driver) largest resident set.
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
REPO = HERE.parent
sys.path.insert(0, str(HERE))

CASES = ("example", "press", "synthetic", "rebuild", "unchanged", "leaflets", "leaflet-edit")
AGAIN = ("rebuild", "unchanged", "leaflet-edit")  # a first build (not measured), then the build measured
SYNTHETIC_GUIDEBOOK = (35, 160, 10)  # departments, doctors, news: about 80 pages
SYNTHETIC_LEAFLETS = (50, 250, 10)


def measure(case: str, tmp: Path) -> dict:
    import datetime as dt
    import resource

    from pypdf import PdfReader

    from sitegen.artifacts import RenderOptions
    from sitegen.build import load_site
    from sitegen.pdf import render as pdf
    from sitegen.project import Project

    if case in ("example", "press"):
        root, parts = REPO, ("guidebook",)
    else:
        from synthetic import make_site

        leaflets = case.startswith("leaflet")
        root = make_site(tmp / "site", *(SYNTHETIC_LEAFLETS if leaflets else SYNTHETIC_GUIDEBOOK))
        parts = ("leaflets",) if leaflets else ("guidebook",)
    today = dt.date(2026, 11, 25)
    project = Project.at(root, tmp / "build")
    printed = 0
    if case in AGAIN:
        project = project.with_template_cache()  # a build: keeps .sitegen/ for the next one
        site, _ = load_site(project, today)
        pdf.render(project, site, RenderOptions(today=today), parts=parts)  # the first build, not measured
        if case != "unchanged":
            edited = sorted((root / "content" / "departments").glob("*.md"))[0]
            edited.write_text(edited.read_text(encoding="utf-8").replace("summary: ", "summary: 新設の外来を含め、", 1),
                              encoding="utf-8")
        from sitegen.pdf import printer

        real_print = printer.Printer._print

        def counting(self, *args):
            nonlocal printed
            printed += 1
            return real_print(self, *args)

        printer.Printer._print = counting  # type: ignore[method-assign]
    site, _ = load_site(project, today)
    t0 = time.perf_counter()
    artifacts = pdf.render(project, site, RenderOptions(today=today, press=case == "press"), parts=parts).artifacts
    seconds = time.perf_counter() - t0
    import io

    pages = sum(len(PdfReader(io.BytesIO(a.data)).pages) for a in artifacts if not a.path.startswith("press/"))
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {"case": case, "files": len(artifacts), "pages": pages, "seconds": round(seconds, 2), "printed": printed,
            "per_second": round(len(artifacts) / seconds, 2), "peak_mb": round(peak_kb / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--one", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(measure(args.one, Path(tmp))))
        return
    for case in args.cases:
        done = subprocess.run([sys.executable, __file__, "--one", case], capture_output=True, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        again = f"  {r['printed']} printed" if case in AGAIN else ""
        if case.startswith("leaflet"):
            goal = "  (goal: < 10 s)" if case == "leaflets" else ""
            print(f"leaflets   {case:<12} {r['files']} departments: {r['seconds']:6.2f} s  "
                  f"{r['per_second']:6.2f} leaflets/s  {r['pages']} pages  peak {r['peak_mb']} MB{again}{goal}")
        else:
            goal = "  (goal: < 8 s for about 80 pages)" if case in ("synthetic", "rebuild") else ""
            print(f"guidebook  {case:<12} {r['pages']:3d} pages: {r['seconds']:6.2f} s  peak {r['peak_mb']} MB{again}{goal}")


if __name__ == "__main__":
    main()
