"""A large site is read and its pages rendered by forked processes: the files are byte for byte those of one process,
a content mistake is reported as by one process, and a template error is still reported at its file and line."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO
from sitegen.project import Project
from sitegen.web import render as web

sys.path.insert(0, str(REPO / "bench"))
from synthetic import make_site  # noqa: E402

TODAY = dt.date(2026, 11, 25)


SCRIPT = """
import datetime as dt, json, multiprocessing, sys
sys.path.insert(0, {generator!r})
from sitegen.build import BuildOptions, run
from sitegen.errors import SitegenError
from sitegen.project import Project
started = []
real_start = multiprocessing.context.ForkProcess.start
def start(self):
    started.append(self)
    return real_start(self)
multiprocessing.context.ForkProcess.start = start
error, kept = "", None
try:
    report = run(Project.at(sys.argv[1], sys.argv[2]),
                 BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",), clean=sys.argv[3] == "clean"))
    kept = report.outputs["site"].kept
except SitegenError as exc:
    error = "\\n".join([str(exc)] + (exc.lines() if hasattr(exc, "lines") else []))
print(json.dumps({{"children": len(started), "error": error, "left": len(multiprocessing.active_children()),
                  "kept": kept}}))
"""


def build(site: Path, out: Path, workers: str, load_workers: str = "1", clean: bool = True) -> dict:
    """A build in a fresh process (the only thread there: the test process may have others, left by earlier
    tests, and then sitegen rightly works in one process); `workers` render, `load_workers` read the content."""
    env = dict(os.environ, SITEGEN_WEB_WORKERS=workers, SITEGEN_LOAD_WORKERS=load_workers)
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(generator=str(REPO / "generator")), str(site), str(out),
                           "clean" if clean else "keep"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def big_site(tmp_path_factory) -> Path:
    site = make_site(tmp_path_factory.mktemp("big") / "site", 12, 360, 60)
    return site


def test_enough_pages_to_share_out(big_site):
    from sitegen.build import load_site

    loaded, _ = load_site(Project.at(big_site), TODAY)
    assert len(list(web.pages(loaded))) >= web.PARALLEL_MIN_PAGES


def test_three_processes_write_the_same_files_as_one(big_site, tmp_path):
    assert build(big_site, tmp_path / "one", "1")["children"] == 0
    # two render with this process, and one saves the record while the files are written
    assert build(big_site, tmp_path / "three", "3")["children"] == 3
    one, three = files(tmp_path / "one"), files(tmp_path / "three")
    assert one.keys() == three.keys() and len(one) > web.PARALLEL_MIN_PAGES
    assert [name for name in one if one[name] != three[name]] == []


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_template_error_is_reported_as_in_a_serial_build(big_site, tmp_path, where):
    """A template that fails on one doctor's page only, the first or the last. Whichever process renders it — a
    child (whose failure makes this process render everything itself) or this one (whose children are stopped;
    tests/test_cores.py makes each happen) — the error names the template, and no child is left."""
    import shutil

    from sitegen.build import load_site

    loaded, _ = load_site(Project.at(big_site), TODAY)
    doctors = [p.slug for p in web.pages(loaded) if p.kind == "doctor"]
    slug = doctors[0] if where == "first" else doctors[-1]
    site = tmp_path / "site"
    shutil.copytree(big_site, site)
    theme = site / "themes" / "broken" / "web"
    theme.mkdir(parents=True)
    original = (REPO / "themes" / "default" / "web" / "doctor.html").read_text(encoding="utf-8")
    (theme / "doctor.html").write_text(original.replace(
        "{% block content %}", f'{{% block content %}}{{% if doctor.slug == "{slug}" %}}{{{{ no_such_name }}}}{{% endif %}}', 1),
        encoding="utf-8")
    text = (site / "site.yaml").read_text(encoding="utf-8")
    (site / "site.yaml").write_text(text.replace("site:\n", "site:\n  theme: broken\n", 1), encoding="utf-8")
    result = build(site, tmp_path / "out", "3")
    assert result["children"] == 2  # no record is saved: nothing was built
    assert "doctor.html" in result["error"] and "no_such_name" in result["error"]
    assert result["left"] == 0  # no child left waiting


def test_content_read_by_three_processes_builds_the_same_files(big_site, tmp_path):
    """Reading, validating and converting the Markdown of hundreds of files is shared out too: the same files."""
    one = build(big_site, tmp_path / "one", "1", "1")
    three = build(big_site, tmp_path / "three", "1", "3")
    assert one["children"] == 0 and three["children"] >= 2  # the doctors' files (and bodies, unless few differ)
    a, b = files(tmp_path / "one"), files(tmp_path / "three")
    assert a.keys() == b.keys() and [name for name in a if a[name] != b[name]] == []


def test_content_mistakes_read_by_three_processes_are_reported_as_by_one(big_site, tmp_path):
    """Mistakes in files read by the children and by this process, and a body over a limit: every one reported,
    in the same order and words as when one process reads everything."""
    import shutil

    site = tmp_path / "site"
    shutil.copytree(big_site, site)
    doctors = sorted((site / "content" / "doctors").glob("*.md"))
    for path in doctors[:3]:  # one in each process's share
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("---\n", "---\nkana: [1\n", 1), encoding="utf-8")
    news = sorted((site / "content" / "news").glob("*.md"))
    news[5].write_text(news[5].read_text(encoding="utf-8") + "\n" + "<div>" * 80 + "x" + "</div>" * 80 + "\n",
                       encoding="utf-8")
    one = build(site, tmp_path / "one", "1", "1")
    three = build(site, tmp_path / "three", "1", "3")
    assert one["error"] and one["error"] == three["error"]
    for path in doctors[:3] + [news[5]]:
        assert path.relative_to(site).as_posix() in three["error"]


def test_the_record_is_the_same_whichever_process_rendered_the_pages(big_site, tmp_path):
    """Render processes send back the fingerprints of what their pages read (so that the record is not worked out
    again in one process): the record of the build equals that of a build in one process."""
    import shutil

    records = {}
    for workers in ("1", "3"):
        site = tmp_path / f"site-{workers}"
        shutil.copytree(big_site, site, ignore=shutil.ignore_patterns(".sitegen", "build"))
        assert build(site, site / "build", workers)["children"] == (0 if workers == "1" else 3)  # 3: with the saver
        records[workers] = json.loads((site / ".sitegen" / "web-pages.json").read_text(encoding="utf-8"))
    one, three = records["1"], records["3"]
    assert one["keys"] == three["keys"] and len(one["keys"]) > 1000
    # every read's value is known, but a list of records' whole (its entries' attributes are compared one by one)
    unknown = {key for key, value, _ in one["keys"] if value is None}
    assert unknown and all(key == "!" or key.startswith("w:") for key in unknown), unknown
    assert "w:a:pages" in unknown and [key for key, value, _ in one["keys"] if key.startswith("w:c:") and value]
    assert {path: entry[:2] for path, entry in one["pages"].items()} == \
        {path: entry[:2] for path, entry in three["pages"].items()}
    assert all(len(entry) == 3 for entry in three["pages"].values())  # each with its file's stat


def test_the_record_saved_while_the_files_are_written_keeps_every_page(big_site, tmp_path):
    """The record is saved by a child while this process writes the build: the next build, in three processes
    again, keeps every page (each file's stat is as recorded) and writes the same files as a clean build."""
    import shutil

    kept = {}
    for workers in ("1", "3"):
        site = tmp_path / f"site-{workers}"
        shutil.copytree(big_site, site, ignore=shutil.ignore_patterns(".sitegen", "build"))
        first = build(site, site / "build", workers)
        assert first["left"] == 0
        clean = files(site / "build")
        again = build(site, site / "build", workers, clean=False)
        assert again["left"] == 0 and files(site / "build") == clean
        kept[workers] = again["kept"]
    assert kept["3"] == kept["1"] > web.PARALLEL_MIN_PAGES  # every page and whole-site file, as when saved here


def test_the_content_kept_for_the_next_build_is_written_by_a_child(big_site, tmp_path):
    """With several processes reading the content, a child writes what the next build keeps (.sitegen/content.pickle)
    while this process renders: once the build has returned it is there, sealed, with what one process keeps."""
    import shutil

    from sitegen.content import kept

    entries = {}
    for load_workers in ("1", "3"):
        site = tmp_path / f"site-{load_workers}"
        shutil.copytree(big_site, site, ignore=shutil.ignore_patterns(".sitegen", "build"))
        time.sleep(kept.RECENT_NS / 1e9 + 0.1)  # a file changed just before it was read is not kept
        done = build(site, site / "build", "1", load_workers)
        assert done["left"] == 0 and (done["children"] == 0) == (load_workers == "1"), done
        entries[load_workers] = {key[1] for key in kept._read(Project.at(site).with_template_cache())}
    assert len(entries["1"]) > 400 and entries["3"] == entries["1"]


def test_a_rebuild_checks_the_record_in_forked_processes_as_in_one(big_site, tmp_path):
    """After an edit, the pages' fingerprints and the recorded values are worked out by forked processes
    (`Record.check`): the rebuild keeps the same pages as one process does, and writes the files of a clean
    build — a doctor's text changed (their page), another's name (every page that lists it)."""
    import shutil

    kept = {}
    for workers in ("1", "3"):
        site = tmp_path / f"site-{workers}"
        shutil.copytree(big_site, site, ignore=shutil.ignore_patterns(".sitegen", "build"))
        build(site, site / "build", workers)
        first, second = sorted((site / "content" / "doctors").glob("*.md"))[:2]
        first.write_text(first.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n追記しました。\n", 1),
                         encoding="utf-8")
        text = second.read_text(encoding="utf-8")
        second.write_text(text.replace("name: ", "name: 改名 ", 1), encoding="utf-8")
        again = build(site, site / "build", workers, clean=False)
        # the check's two, and the child saving the record (too few pages are rendered to share them out)
        assert again["children"] == (0 if workers == "1" else 3), again
        assert files(site / "build") == files(build_clean(site, tmp_path / f"clean-{workers}"))
        kept[workers] = again["kept"]
    pages = sum(1 for path in files(tmp_path / "clean-1") if path.endswith(".html"))
    assert kept["3"] == kept["1"] and pages - 60 < kept["1"] < pages - 1, (kept, pages)


def build_clean(site: Path, out: Path) -> Path:
    build(site, out, "1")
    return out
