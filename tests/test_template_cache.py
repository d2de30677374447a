"""Compiled templates are kept in <site>/.sitegen/templates/ between builds: the same output, a changed
template is recompiled, and check / --dry-run write nothing there."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sitegen.build import BuildOptions, run
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_cached_templates_build_the_same_site_and_follow_template_edits(tmp_path):
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    run(Project.at(site, tmp_path / "first"), BuildOptions(today=TODAY, outputs=("site",)))
    cache = site / ".sitegen" / "templates" / "web"
    assert len(list(cache.glob("*.cache"))) >= 10
    run(Project.at(site, tmp_path / "second"), BuildOptions(today=TODAY, outputs=("site",)))
    assert files(tmp_path / "second" / "site") == files(tmp_path / "first" / "site")
    # a theme override is compiled afresh, not taken from the cache of the packaged template
    override = site / "themes" / "default" / "web" / "access.html"
    override.parent.mkdir(parents=True)
    override.write_text('{% extends "!theme/access.html" %}{% block content %}<p>独自の案内</p>{{ super() }}{% endblock %}',
                        encoding="utf-8")
    run(Project.at(site, tmp_path / "third"), BuildOptions(today=TODAY, outputs=("site",)))
    assert "独自の案内" in (tmp_path / "third" / "site" / "access.html").read_text(encoding="utf-8")
    override.write_text('{% extends "!theme/access.html" %}{% block content %}<p>書き換えた案内</p>{{ super() }}{% endblock %}',
                        encoding="utf-8")
    run(Project.at(site, tmp_path / "fourth"), BuildOptions(today=TODAY, outputs=("site",)))
    page = (tmp_path / "fourth" / "site" / "access.html").read_text(encoding="utf-8")
    assert "書き換えた案内" in page and "独自の案内" not in page


def test_a_dry_run_writes_no_cache(tmp_path):
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site", "mail"), dry_run=True))
    assert not (site / ".sitegen").exists()
