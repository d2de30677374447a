"""Golden files: a few pages of tests/sites/minimal and one newsletter, rendered on a fixed date and compared
byte for byte with tests/golden/. A mismatch shows a unified diff of the page.

When a change to the templates or the renderer is intended, regenerate the files and review the diff:

    SITEGEN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
    git diff tests/golden/

The files mirror the build folder: tests/golden/site/... from `outputs=("site",)` of tests/sites/minimal,
tests/golden/mail/... from `outputs=("mail",)` of the newsletter sample (tests/sites/minimal + tests/sites/mail).
"""
from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from conftest import SITES, TODAY
from mail_fixtures import make_mail_site
from sitegen.build import BuildOptions, run
from sitegen.project import Project

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("SITEGEN_UPDATE_GOLDEN", "").strip() not in ("", "0")

PAGES = [
    "site/index.html",
    "site/departments/naika.html",
    "site/doctors/yamada-taro.html",
    "site/schedule.html",
    "mail/2026-11-no2/index.txt",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """One build folder holding site/ (tests/sites/minimal) and mail/ (the newsletter sample)."""
    tmp = tmp_path_factory.mktemp("golden")
    site_out, mail_out = tmp / "site-build", tmp / "mail-build"
    site = shutil.copytree(SITES / "minimal", tmp / "site")
    run(Project.at(site, site_out), BuildOptions(today=TODAY, outputs=("site",)))
    run(Project.at(make_mail_site(tmp / "mail-site"), mail_out), BuildOptions(today=TODAY, outputs=("mail",)))
    return tmp


def rendered(built: Path, rel: str) -> bytes:
    output = rel.split("/", 1)[0]
    return (built / f"{output}-build" / rel).read_bytes()


@pytest.mark.parametrize("rel", PAGES)
def test_page_matches_its_golden_file(built, rel):
    got = rendered(built, rel)
    golden = GOLDEN / rel
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        if not golden.is_file() or golden.read_bytes() != got:
            golden.write_bytes(got)
    assert golden.is_file(), f"no golden file {golden.relative_to(GOLDEN.parent.parent)}; create it with " \
                             "SITEGEN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py"
    expected = golden.read_bytes()
    if got != expected:
        diff = "".join(difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(keepends=True),
            got.decode("utf-8", "replace").splitlines(keepends=True),
            fromfile=f"tests/golden/{rel}", tofile=f"rendered {rel}"))
        pytest.fail(f"{rel} differs from its golden file (regenerate with SITEGEN_UPDATE_GOLDEN=1 "
                    f".venv/bin/python -m pytest tests/test_golden.py if the change is intended):\n"
                    f"{diff or '(the bytes differ, the lines do not: line endings or encoding)'}", pytrace=False)


def test_every_golden_file_is_checked():
    """A golden file no test compares (a page renamed or dropped from PAGES) is an error, not a silent leftover."""
    on_disk = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file() and p.name != ".gitattributes"}
    assert on_disk == set(PAGES)
