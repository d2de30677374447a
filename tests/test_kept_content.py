"""Content kept between builds (.sitegen/content.pickle): the next build reads and validates again only the files
whose stamp changed, reports the kept files' problems again, builds the same bytes, and never runs a file that was
not sealed in this checkout."""
from __future__ import annotations

import datetime as dt
import pickle
import shutil
import time
from pathlib import Path

import pytest

from conftest import Planted
from sitegen import project
from sitegen.build import BuildOptions, run
from sitegen.content import kept, load
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def aged_site(tmp_path: Path) -> Path:
    """The minimal site, its files older than kept.RECENT_NS (a file changed within it is never kept)."""
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    time.sleep(kept.RECENT_NS / 1e9 + 0.1)
    return site


def build(site: Path, out: Path, clean: bool = False):
    return run(Project.at(site, out), BuildOptions(today=TODAY, outputs=("site",), clean=clean))


def counting_reads(monkeypatch) -> list[str]:
    seen: list[str] = []
    original = load._read_file

    def read(reader, model, job):
        seen.append(job[1])
        return original(reader, model, job)

    monkeypatch.setattr(load, "_read_file", read)
    return seen


def test_a_second_build_reads_only_the_changed_file_and_builds_the_same_bytes(tmp_path, monkeypatch):
    site = aged_site(tmp_path)
    seen = counting_reads(monkeypatch)
    build(site, tmp_path / "first")
    content_files = set(seen)
    assert len(content_files) >= 6
    assert {k[1] for k in kept._read(Project.at(site).with_template_cache())} == content_files

    seen.clear()
    build(site, tmp_path / "second")
    assert seen == []  # nothing changed: every file's result came from .sitegen/content.pickle
    assert files(tmp_path / "second" / "site") == files(tmp_path / "first" / "site")

    doctor = site / "content" / "doctors" / "tanaka-hanako.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("田中 花子", "田中 華子"), encoding="utf-8")
    build(site, tmp_path / "third")
    assert seen == ["content/doctors/tanaka-hanako.md"]
    page = (tmp_path / "third" / "site" / "doctors" / "tanaka-hanako.html").read_text(encoding="utf-8")
    assert "田中 華子" in page and "田中 花子" not in page
    build(site, tmp_path / "clean", clean=True)
    assert files(tmp_path / "third" / "site") == files(tmp_path / "clean" / "site")


def test_a_file_changed_just_before_it_was_read_is_read_again(tmp_path, monkeypatch):
    """Two edits within the clock's tick can leave the same stamp: such a file is not kept."""
    site = aged_site(tmp_path)
    doctor = site / "content" / "doctors" / "suzuki-ichiro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8") + "\n追記。\n", encoding="utf-8")
    build(site, tmp_path / "first")
    entries = kept._read(Project.at(site).with_template_cache())
    assert ("read", "content/doctors/suzuki-ichiro.md") not in entries
    assert ("read", "content/doctors/yamada-taro.md") in entries
    seen = counting_reads(monkeypatch)
    build(site, tmp_path / "second")
    assert seen == ["content/doctors/suzuki-ichiro.md"]


def test_the_problems_of_kept_files_are_reported_again(tmp_path):
    site = aged_site(tmp_path)
    guide = site / "content" / "guides" / "referral.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n（ここに本文を書いてください。）\n", encoding="utf-8")
    time.sleep(kept.RECENT_NS / 1e9 + 0.1)
    first = [str(w) for w in build(site, tmp_path / "first").warnings]
    assert any("placeholder" in w and "guides/referral.md" in w for w in first)
    assert ("read", "content/guides/referral.md") in kept._read(Project.at(site).with_template_cache())
    assert [str(w) for w in build(site, tmp_path / "second").warnings] == first


def test_a_content_error_in_a_kept_file_is_found_once_it_is_edited(tmp_path):
    site = aged_site(tmp_path)
    build(site, tmp_path / "first")
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("featured: true", "featured: maybe"),
                      encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(site, tmp_path / "second")
    lines = "\n".join(caught.value.lines())
    assert "yamada-taro.md" in lines and "featured" in lines


def test_a_planted_or_copied_content_file_is_never_used(tmp_path):
    site = aged_site(tmp_path)
    build(site, tmp_path / "first")
    # a copy of the site (an archive, a CI cache, a commit): the file was sealed elsewhere and is not read
    copy = tmp_path / "copy"
    shutil.copytree(site, copy)
    assert kept._read(Project.at(copy).with_template_cache()) == {}
    # a pickle put in its place, sealed by no one: never unpickled
    marker = tmp_path / "ran"
    (site / ".sitegen" / kept.FILE).write_bytes(b"\0" * 32 + pickle.dumps(Planted(marker)))
    build(site, tmp_path / "second")
    assert not marker.exists()
    assert files(tmp_path / "second" / "site") == files(tmp_path / "first" / "site")


def test_a_few_edits_are_read_again_rather_than_rewrite_the_record(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "LARGE", 0)  # the minimal site as if it were large
    site = aged_site(tmp_path)
    build(site, tmp_path / "first")
    record = site / ".sitegen" / kept.FILE
    before = record.read_bytes()
    doctor = site / "content" / "doctors" / "tanaka-hanako.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("田中 花子", "田中 華子"), encoding="utf-8")
    time.sleep(kept.RECENT_NS / 1e9 + 0.1)
    seen = counting_reads(monkeypatch)
    build(site, tmp_path / "second")
    assert seen == ["content/doctors/tanaka-hanako.md"] and record.read_bytes() == before  # one file: not rewritten
    seen.clear()
    monkeypatch.setattr(project, "FEW", 0)  # any difference is enough to write the record again
    build(site, tmp_path / "third")
    assert seen == ["content/doctors/tanaka-hanako.md"] and record.read_bytes() != before
    seen.clear()
    build(site, tmp_path / "fourth")
    assert seen == []
    assert files(tmp_path / "fourth" / "site") == files(tmp_path / "second" / "site")
