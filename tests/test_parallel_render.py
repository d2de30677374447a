"""A large site's pages are rendered by forked processes: the files are byte for byte those of one process, and a
template error is still reported at its file and line."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
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
error = ""
try:
    run(Project.at(sys.argv[1], sys.argv[2]), BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",)))
except SitegenError as exc:
    error = str(exc)
print(json.dumps({{"children": len(started), "error": error, "left": len(multiprocessing.active_children())}}))
"""


def build(site: Path, out: Path, workers: str) -> dict:
    """A build in a fresh process (the only thread there: the test process may have others, left by earlier
    tests, and then sitegen rightly renders in one process)."""
    env = dict(os.environ, SITEGEN_WEB_WORKERS=workers)
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(generator=str(REPO / "generator")), str(site), str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
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
    assert build(big_site, tmp_path / "three", "3")["children"] == 2  # and this process renders the first share
    one, three = files(tmp_path / "one"), files(tmp_path / "three")
    assert one.keys() == three.keys() and len(one) > web.PARALLEL_MIN_PAGES
    assert [name for name in one if one[name] != three[name]] == []


@pytest.mark.parametrize("where", ["child", "parent"])
def test_a_template_error_is_reported_as_in_a_serial_build(big_site, tmp_path, where):
    """A template that fails on one doctor's page only: rendered by a child (whose failure makes this process render
    everything itself) or by this process (whose children are stopped). Either way the error names the template."""
    import shutil

    from sitegen.build import load_site

    loaded, _ = load_site(Project.at(big_site), TODAY)
    order = list(web.pages(loaded))
    wanted = 1 if where == "child" else 0  # every 3rd page from the first is this process's, from the second a child's
    slug = next(p.slug for i, p in enumerate(order) if p.kind == "doctor" and i % 3 == wanted)
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
    assert result["children"] == 2
    assert "doctor.html" in result["error"] and "no_such_name" in result["error"]
    assert result["left"] == 0  # no child left waiting
