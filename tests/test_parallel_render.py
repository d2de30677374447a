"""A large site's pages are rendered by forked processes: the files are byte for byte those of one process, and a
template error is still reported at its file and line."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import sys
from pathlib import Path

import pytest

from conftest import REPO
from sitegen.build import BuildOptions, run
from sitegen.errors import SitegenError
from sitegen.project import Project
from sitegen.web import render as web

sys.path.insert(0, str(REPO / "bench"))
from synthetic import make_site  # noqa: E402

TODAY = dt.date(2026, 11, 25)


def build(site: Path, out: Path, workers: str, monkeypatch) -> dict[str, bytes]:
    monkeypatch.setenv("SITEGEN_WEB_WORKERS", workers)
    run(Project.at(site, out), BuildOptions(today=TODAY, outputs=("site",)))
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def big_site(tmp_path_factory) -> Path:
    site = make_site(tmp_path_factory.mktemp("big") / "site", 12, 360, 60)
    return site


def test_enough_pages_to_share_out(big_site):
    from sitegen.build import load_site

    loaded, _ = load_site(Project.at(big_site), TODAY)
    assert len(list(web.pages(loaded))) >= web.PARALLEL_MIN_PAGES


def test_three_processes_write_the_same_files_as_one(big_site, tmp_path, monkeypatch):
    started = []
    real_start = multiprocessing.context.ForkProcess.start

    def start(self):
        started.append(self)
        return real_start(self)

    monkeypatch.setattr(multiprocessing.context.ForkProcess, "start", start)
    one = build(big_site, tmp_path / "one", "1", monkeypatch)
    assert started == []
    three = build(big_site, tmp_path / "three", "3", monkeypatch)
    assert len(started) == 2  # two children, and this process renders the first share
    assert one.keys() == three.keys() and len(one) > web.PARALLEL_MIN_PAGES
    assert [name for name in one if one[name] != three[name]] == []


@pytest.mark.parametrize("where", ["child", "parent"])
def test_a_template_error_is_reported_as_in_a_serial_build(big_site, tmp_path, monkeypatch, where):
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
    monkeypatch.setenv("SITEGEN_WEB_WORKERS", "3")
    with pytest.raises(SitegenError) as caught:
        run(Project.at(site, tmp_path / "out"), BuildOptions(today=TODAY, outputs=("site",)))
    assert "doctor.html" in str(caught.value) and "no_such_name" in str(caught.value)
    assert not multiprocessing.active_children()  # no child left waiting
