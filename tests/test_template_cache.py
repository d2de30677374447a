"""Compiled templates are kept in <site>/.sitegen/templates/ between builds: the same output, a changed
template is recompiled, and check / --dry-run write nothing there. The packaged themes' templates are compiled at
installation (sitegen/precompile.py) and loaded from there, `--clean` too."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import jinja2
import pytest

import sitegen.templates
from conftest import Planted
from sitegen.build import BuildOptions, run
from sitegen.precompile import precompile
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(autouse=True)
def nothing_installed(tmp_path, monkeypatch):
    """No template compiled at installation (`make compile` made some): the builds below compile every one."""
    monkeypatch.setattr(sitegen.templates, "INSTALLED", tmp_path / "not-installed")


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


def _stamps(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.glob("*.cache"))}


def test_a_planted_cache_file_is_never_run_and_a_kept_one_is_used(tmp_path):
    import pickle

    from jinja2.bccache import bc_magic

    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    run(Project.at(site, tmp_path / "first"), BuildOptions(today=TODAY, outputs=("site",)))
    cache = site / ".sitegen" / "templates" / "web"
    kept = _stamps(cache)
    assert len(kept) >= 10
    run(Project.at(site, tmp_path / "second"), BuildOptions(today=TODAY, outputs=("site",)))
    assert _stamps(cache) == kept  # every compiled template opened and was used, none compiled again

    marker = tmp_path / "ran"
    planted = bc_magic + pickle.dumps(Planted(marker))  # Jinja's format: magic, a pickled checksum, bytecode
    for path in cache.glob("*.cache"):
        path.write_bytes(planted)
    run(Project.at(site, tmp_path / "third"), BuildOptions(today=TODAY, outputs=("site",)))
    assert not marker.exists()
    assert files(tmp_path / "third" / "site") == files(tmp_path / "first" / "site")
    assert all(data != planted for _, data in _stamps(cache).values())  # compiled again and sealed anew


def test_a_copied_site_compiles_its_templates_again(tmp_path):
    """A cache that arrives with a copy of the site (an archive, a CI cache, a commit) was sealed elsewhere."""
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    run(Project.at(site, tmp_path / "first"), BuildOptions(today=TODAY, outputs=("site",)))
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)  # same bytes, same key file contents; another inode and change time
    before = _stamps(copy / ".sitegen" / "templates" / "web")
    run(Project.at(copy, tmp_path / "second"), BuildOptions(today=TODAY, outputs=("site",)))
    after = _stamps(copy / ".sitegen" / "templates" / "web")
    assert after.keys() == before.keys() and all(after[k][1] != before[k][1] for k in after)
    assert files(tmp_path / "second" / "site") == files(tmp_path / "first" / "site")


def test_a_linked_state_folder_is_neither_read_nor_written(tmp_path):
    """.sitegen as a symbolic link (committed, or made by mistake) would put sitegen's files anywhere."""
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "web-pages.json").write_text("{}", encoding="utf-8")
    (site / ".sitegen").symlink_to(elsewhere, target_is_directory=True)
    report = run(Project.at(site, tmp_path / "out"), BuildOptions(today=TODAY, outputs=("site",)))
    assert report.outputs["site"].files > 10
    run(Project.at(site, tmp_path / "out"), BuildOptions(today=TODAY, outputs=("site",), clean=True))
    assert sorted(p.name for p in elsewhere.iterdir()) == ["web-pages.json"]


def test_a_linked_key_or_templates_folder_keeps_nothing(tmp_path):
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (site / ".sitegen").mkdir()
    (site / ".sitegen" / "templates").symlink_to(elsewhere, target_is_directory=True)
    run(Project.at(site, tmp_path / "out"), BuildOptions(today=TODAY, outputs=("site",)))
    assert list(elsewhere.iterdir()) == []
    (site / ".sitegen" / "templates").unlink()
    (site / ".sitegen" / "key").unlink(missing_ok=True)
    (site / ".sitegen" / "key").symlink_to(elsewhere / "key")
    (elsewhere / "key").write_bytes(b"k" * 32)
    run(Project.at(site, tmp_path / "out"), BuildOptions(today=TODAY, outputs=("site",)))
    assert not (site / ".sitegen" / "templates").exists() or not list((site / ".sitegen" / "templates").rglob("*.cache"))


def test_templates_compiled_by_another_version_of_sitegen_are_compiled_again(tmp_path, monkeypatch):
    """sitegen compiles templates with its own code generator (templates._CodeGenerator): a compiled template kept
    by another version (another `fingerprint.code()`, as after an upgrade or a downgrade) is not used."""
    import sitegen.templates

    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    run(Project.at(site, tmp_path / "first"), BuildOptions(today=TODAY, outputs=("site",)))
    cache = site / ".sitegen" / "templates" / "web"
    kept = _stamps(cache)
    monkeypatch.setattr(sitegen.templates.fingerprint, "code", lambda: "another version of sitegen")
    run(Project.at(site, tmp_path / "second"), BuildOptions(today=TODAY, outputs=("site",)))
    again = _stamps(cache)
    assert again.keys() == kept.keys() and all(again[k] != kept[k] for k in kept)  # every one compiled again
    assert files(tmp_path / "second" / "site") == files(tmp_path / "first" / "site")
    run(Project.at(site, tmp_path / "third"), BuildOptions(today=TODAY, outputs=("site",)))
    assert _stamps(cache) == again  # and kept for this version


@pytest.fixture
def compiled(monkeypatch):
    """The names of the templates each build compiles (Jinja's `Environment.compile`, which it calls for a
    template it found in no cache), in the order compiled."""
    names: list[str] = []
    real = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    monkeypatch.setenv("SITEGEN_WEB_WORKERS", "1")  # every page rendered in this process, where compiles are counted
    return names


def test_the_packaged_templates_are_compiled_at_installation_and_loaded_by_a_clean_build(tmp_path, monkeypatch,
                                                                                        compiled):
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    run(Project.at(site, tmp_path / "compiling"), BuildOptions(today=TODAY, outputs=("site", "mail"), clean=True))
    assert len(compiled) >= 20  # nothing installed: each template the build used was compiled

    installed = tmp_path / "installed"
    written = precompile(installed)
    names = {name for outputs in ("web", "print", "mail") for name in
             sitegen.templates.make_environment(Project.at(tmp_path / "none"), "default", outputs).list_templates()}
    assert written >= len(names) and {"base.html", "!theme/base.html", "newsletter.mjml", "guidebook.html"} <= names
    assert {p.name for p in installed.iterdir()} == {"web", "print", "mail"}
    monkeypatch.setattr(sitegen.templates, "INSTALLED", installed)
    compiled.clear()
    run(Project.at(site, tmp_path / "loading"), BuildOptions(today=TODAY, outputs=("site", "mail"), clean=True))
    assert compiled == []  # every template loaded as compiled at installation
    assert not list((site / ".sitegen" / "templates").rglob("*.cache"))  # and none kept again for the site
    assert files(tmp_path / "loading") == files(tmp_path / "compiling")

    # a template of the site's own theme is compiled by the build, and only that one
    override = site / "themes" / "default" / "web" / "access.html"
    override.parent.mkdir(parents=True)
    override.write_text('{% extends "!theme/access.html" %}{% block content %}<p>独自の案内</p>{{ super() }}{% endblock %}',
                        encoding="utf-8")
    run(Project.at(site, tmp_path / "overriding"), BuildOptions(today=TODAY, outputs=("site",), clean=True))
    assert compiled == ["access.html"]
    assert "独自の案内" in (tmp_path / "overriding" / "site" / "access.html").read_text(encoding="utf-8")


def test_a_broken_or_stale_installed_template_is_compiled_again(tmp_path, monkeypatch, compiled):
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    installed = tmp_path / "installed"
    precompile(installed)
    monkeypatch.setattr(sitegen.templates, "INSTALLED", installed)
    compiled.clear()
    run(Project.at(site, tmp_path / "first"), BuildOptions(today=TODAY, outputs=("site",), clean=True))
    assert compiled == []
    compiled.clear()
    cached = sorted((installed / "web").glob("*.cache"))
    from jinja2.bccache import bc_magic

    kinds = [b"", b"garbage", bc_magic + b"\x80\x04\x95broken pickle", None]  # emptied, garbled, truncated
    for path, data in zip(cached, kinds * len(cached)):
        path.write_bytes(path.read_bytes()[:-40] if data is None else data)
    run(Project.at(site, tmp_path / "second"), BuildOptions(today=TODAY, outputs=("site",), clean=True))
    assert 10 <= len(compiled) and len(set(compiled)) == len(compiled)  # the broken ones the build used, once each
    assert files(tmp_path / "second") == files(tmp_path / "first")

    precompile(installed)
    monkeypatch.setattr(sitegen.templates.fingerprint, "code", lambda: "another version of sitegen")
    compiled.clear()
    run(Project.at(site, tmp_path / "third"), BuildOptions(today=TODAY, outputs=("site",), clean=True))
    assert len(compiled) >= 10  # compiled by another version: compiled again
    assert files(tmp_path / "third") == files(tmp_path / "first")
