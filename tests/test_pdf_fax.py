"""The brochures survive a fax and a photocopy: no Japanese text under 8 pt, doctors' names in the schedules
at 9 pt or more (print.css also keeps table headers black on white: no white letters on a tint)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import pdf_chars
from sitegen.cli import main

SITES = Path(__file__).resolve().parent / "sites"
pytestmark = [pytest.mark.browser, pytest.mark.slow]
MM = 72 / 25.4
MARGIN = 16 * MM  # running heads and footers sit in the top and bottom margins


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory, chromium_path):
    site = tmp_path_factory.mktemp("fax") / "site"
    shutil.copytree(SITES / "minimal", site)
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25",
                                       "--browser", chromium_path, "--only", "pdf"])
    assert result.exit_code == 0, result.output
    return sorted((site / "build" / "pdf").rglob("*.pdf"))


def pages(path: Path):
    from pdfminer.high_level import extract_pages

    for page in extract_pages(str(path)):
        yield page, [c for c in pdf_chars(page) if MARGIN < c.y0 < page.height - MARGIN and c.get_text().strip()]


def test_no_japanese_text_under_8_pt(pdfs):
    assert pdfs
    for pdf in pdfs:
        for n, (_page, chars) in enumerate(pages(pdf), 1):
            small = [c for c in chars if not c.get_text().isascii() and c.size < 7.95]
            assert not small, f"{pdf.name} p.{n}: {''.join(c.get_text() for c in small)[:60]!r} under 8 pt"


def test_doctor_names_in_schedules_are_9_pt_or_more(pdfs):
    checked = 0
    for pdf in pdfs:
        for _page, chars in pages(pdf):
            text = "".join(c.get_text() for c in chars)
            for name in ("山田 太郎", "山田太郎"):  # a doctor of the minimal site's schedule
                start = text.find(name)
                while start >= 0 and "午前" in text:
                    run = [c for c in chars[start:start + len(name)] if c.get_text().strip()]
                    assert min(c.size for c in run) >= 8.95, (pdf.name, [c.size for c in run])
                    checked += 1
                    start = text.find(name, start + 1)
    assert checked


def test_referral_tel_and_fax_on_the_cover_and_every_page_of_the_book(pdfs, poppler):
    import subprocess

    book = next(p for p in pdfs if p.name == "guidebook.pdf")
    pages_text = subprocess.run(["pdftotext", "-layout", str(book), "-"], capture_output=True, text=True,
                                check=True).stdout.split("\f")
    pages_text = [t for t in pages_text if t.strip()]
    assert "03-0000-1001" in pages_text[0] and "03-0000-1002" in pages_text[0]  # the cover
    forms = {"".join(t.split()) for f in (book.parents[2] / "content/files").glob("*.pdf")
             for t in subprocess.run(["pdftotext", "-layout", str(f), "-"], capture_output=True, text=True).stdout.split("\f")
             if t.strip()}
    for n, text in enumerate(pages_text[1:-1], 2):  # every inside page's footer (the 様式集's forms are their own)
        if "".join(text.split()) in forms:
            continue
        assert "TEL 03-0000-1001" in text and "FAX 03-0000-1002" in text, f"page {n}"
