"""File names that would break the site on Windows, macOS or a web server are content errors: reserved device
names, characters file systems refuse, and names differing only in case (one overwrites the other)."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"


def build(root: Path) -> None:
    run(Project.at(root, root / "build"), BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",)))


@pytest.fixture()
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    return root


@pytest.mark.parametrize("name", ["con.pdf", "NUL.png", "com1.pdf", "lpt9.txt", "aux", "a:b.pdf", "x?.pdf",
                                  "trailing.", "sub/con/x.pdf"])
def test_unportable_asset_names_are_refused(site, name):
    target = site / "content" / "files" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"%PDF-1.4\n")
    with pytest.raises(ContentError) as exc:
        build(site)
    assert any(line.startswith("content/files/") and "rename" in line for line in exc.value.lines()), exc.value.lines()


def test_names_that_differ_only_in_case_are_refused(site):
    (site / "content" / "files" / "Referral.pdf").write_bytes(b"%PDF-1.4\n")
    with pytest.raises(ContentError) as exc:
        build(site)
    assert any("only in upper/lower case" in line for line in exc.value.lines()), exc.value.lines()


@pytest.mark.parametrize("slug", ["con", "nul", "com3"])
def test_reserved_names_for_pages_are_refused(site, slug):
    shutil.copy(site / "content" / "guides" / "referral.md", site / "content" / "guides" / f"{slug}.md")
    with pytest.raises(ContentError) as exc:
        build(site)
    assert any(f"content/guides/{slug}.md" in line and "reserved device name" in line for line in exc.value.lines())


def test_ordinary_names_still_build(site):
    (site / "content" / "files" / "紹介状_2026.pdf").write_bytes(b"%PDF-1.4\n")
    (site / "content" / "files" / "console.pdf").write_bytes(b"%PDF-1.4\n")  # starts like CON, but is not
    build(site)
