"""Building a site end to end: output layout, escaping, determinism, atomic writes, themes."""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.build import BuildOptions, run
from sitegen.cli import main
from sitegen.errors import OutputError
from sitegen.project import Project
from sitegen.write import MARKER

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture()
def site_dir(tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    return dest


def build(site: Path, out: Path | None = None):
    return run(Project.at(site, out), BuildOptions(today=TODAY, outputs=("site",)))


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_page_type_is_written(site_dir):
    build(site_dir)
    site = site_dir / "build" / "site"
    for path in ["index.html", "departments/index.html", "departments/naika.html", "doctors/index.html",
                 "doctors/featured.html", "doctors/yamada-taro.html", "schedule.html", "guides/index.html",
                 "guides/referral.html", "news/index.html", "news/2026-10-01-open.html", "access.html", "404.html",
                 "sitemap.xml", "feed.xml", "robots.txt", "images/yamada-taro.png", "files/referral.pdf"]:
        assert (site / path).is_file(), path
    assert not (site / "news" / "2027-01-01-future.html").exists()  # future-dated: not published


def test_yaml_values_are_escaped_and_markdown_is_sanitised(site_dir):
    doc = site_dir / "content" / "doctors" / "tanaka-hanako.md"
    doc.write_text(
        "---\nname: 田中<script>alert(1)</script>花子\nkana: たなか はなこ\ndepartments: [geka]\n"
        "message: '\"><img src=x onerror=alert(2)>'\n---\n"
        "<script>alert(3)</script>\n\n[リンク](javascript:alert(4)) <a href=\"#\" onclick=\"alert(5)\">x</a>\n"
        "<iframe src=\"https://evil.example\"></iframe> <img src=x onerror=alert(6) alt=\"図\">\n\n"
        "[電話](tel:03-0000-0000) [地図](https://www.example.jp/map)\n",
        encoding="utf-8",
    )
    build(site_dir)
    html = (site_dir / "build" / "site" / "doctors" / "tanaka-hanako.html").read_text(encoding="utf-8")
    for bad in ["<script>alert", "<img src=x onerror", "onerror=alert(6)", "onclick", "javascript:", "<iframe"]:
        assert bad not in html, bad
    assert "田中&lt;script&gt;alert(1)&lt;/script&gt;花子" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html  # the YAML message is shown as text
    assert 'href="tel:03-0000-0000"' in html and 'href="https://www.example.jp/map"' in html


def test_two_builds_are_byte_identical(site_dir, tmp_path):
    build(site_dir, tmp_path / "a")
    build(site_dir, tmp_path / "b")
    a, b = tree_digest(tmp_path / "a" / "site"), tree_digest(tmp_path / "b" / "site")
    assert a == b and len(a) > 15


def test_failed_build_leaves_previous_build_intact(site_dir):
    build(site_dir)
    before = tree_digest(site_dir / "build")
    (site_dir / "content" / "doctors" / "yamada-taro.md").write_text("---\nname: [\n---\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site_dir), "--date", "2026-11-25"])
    assert result.exit_code == 1
    assert tree_digest(site_dir / "build") == before


def test_a_build_leaves_the_cycle_collector_as_it_found_it(site_dir, monkeypatch):
    """While pages render, the loaded site is frozen and the collector runs; afterwards, and after a content
    mistake, the collector is as it was, and what a caller froze itself (as `sitegen serve` does) stays frozen."""
    import gc

    from sitegen import build as pipeline
    from sitegen.errors import ContentError

    during: list[tuple[bool, int]] = []
    render_site = pipeline.OUTPUTS["site"]

    def observed(project, site, options):
        during.append((gc.isenabled(), gc.get_freeze_count()))
        return render_site(project, site, options)

    monkeypatch.setitem(pipeline.OUTPUTS, "site", observed)
    gc.unfreeze()  # what an earlier test in this process froze (sitegen serve's) is its own business
    assert gc.isenabled() and gc.get_freeze_count() == 0
    build(site_dir)
    assert during[-1][0] and during[-1][1] > 0
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()
    try:
        build(site_dir)
        assert not during[-1][0] and not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()
    try:
        build(site_dir)
        assert gc.get_freeze_count() > 0 and gc.isenabled()  # not unfrozen by the build
    finally:
        gc.unfreeze()
    (site_dir / "site.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError):
        build(site_dir)
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_theme_error_mid_render_leaves_previous_build_intact(site_dir):
    build(site_dir)
    before = tree_digest(site_dir / "build")
    override = site_dir / "themes" / "default" / "web"
    override.mkdir(parents=True)
    (override / "doctor.html").write_text("{% extends '!theme/doctor.html' %}\n{% if doctor.phnoe %}{% endif %}\n")
    result = CliRunner().invoke(main, ["build", "--source", str(site_dir), "--date", "2026-11-25"])
    assert result.exit_code == 1
    assert "doctor.html:2:" in result.stderr and "phnoe" in result.stderr
    assert "Traceback" not in result.output
    assert tree_digest(site_dir / "build") == before


def test_site_theme_overrides_a_template_and_a_static_file(site_dir):
    web = site_dir / "themes" / "default" / "web"
    web.mkdir(parents=True)
    (web / "404.html").write_text("<!doctype html><html lang=\"ja\"><title>独自</title><p>独自の404ページ</p></html>\n")
    css = site_dir / "themes" / "default" / "static" / "css"
    css.mkdir(parents=True)
    (css / "site.css").write_text("/* hospital's own */\n")
    build(site_dir)
    out = site_dir / "build" / "site"
    assert "独自の404ページ" in (out / "404.html").read_text(encoding="utf-8")
    assert (out / "assets" / "css" / "site.css").read_text() == "/* hospital's own */\n"
    assert "みなと中央病院" in (out / "index.html").read_text(encoding="utf-8")  # the rest comes from the package


def test_refuses_to_clean_a_folder_it_did_not_create(site_dir, tmp_path):
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "report.docx").write_text("keep me")
    with pytest.raises(OutputError, match="not created by sitegen"):
        build(site_dir, foreign)
    assert (foreign / "report.docx").read_text() == "keep me"
    with pytest.raises(OutputError, match="holds the site"):
        build(site_dir, site_dir)


def test_stale_files_from_a_previous_build_are_removed(site_dir):
    build(site_dir)
    (site_dir / "content" / "news" / "2026-10-01-open.md").unlink()
    build(site_dir)
    assert not (site_dir / "build" / "site" / "news" / "2026-10-01-open.html").exists()
    assert (site_dir / "build" / MARKER).exists()


def test_works_under_a_sub_path_with_relative_links(site_dir):
    build(site_dir)
    out = site_dir / "build" / "site"
    doctor = (out / "doctors" / "yamada-taro.html").read_text(encoding="utf-8")
    assert 'href="../departments/naika.html"' in doctor
    assert 'href="/renkei/' not in doctor  # no root-relative links on normal pages
    assert "https://www.example.jp/renkei/doctors/yamada-taro.html" in doctor  # canonical
    assert 'href="/renkei/index.html"' in (out / "404.html").read_text(encoding="utf-8")


def test_cli_build_prints_a_summary(site_dir):
    result = CliRunner().invoke(main, ["build", "--source", str(site_dir), "--only", "site", "--date", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert "site:" in result.output and "files" in result.output
