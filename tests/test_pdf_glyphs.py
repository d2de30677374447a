"""Characters the print font lacks and code spans: the PDFs are still built with embedded TrueType fonts only,
and the build names each such character with its file and line."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main
from sitegen.pdf import fonts

SITES = Path(__file__).resolve().parent / "sites"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_missing_glyphs_split_into_fallback_and_none():
    primary = {ord(c) for c in "吉田太郎"}
    fallback = {0x20BB7}
    assert fonts.missing_glyphs("𠮷田 太郎🏥 abc", primary, fallback) == (["𠮷"], ["🏥"])
    assert fonts.missing_glyphs("吉田", primary, fallback) == ([], [])
    assert fonts.missing_glyphs("葛\U000E0100", {ord("葛")}, set()) == ([], [])  # a variation selector is not a glyph
    assert fonts.missing_glyphs("𠮷", None, None) == ([], [])  # fontconfig cannot tell: no guess


def test_rare_kanji_and_code_spans_print_with_truetype_fonts(tmp_path, chromium_path, poppler):
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    doc = site / "content" / "doctors" / "yamada-taro.md"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(re.sub(r"^name: .*$", "name: 𠮷田 太郎", text, count=1, flags=re.M), encoding="utf-8")
    guide = site / "content" / "guides" / "referral.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n\n予約番号は `A-0123` の形式です。\n\n```\nFAX 03-0000-1002\n```\n",
                     encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25",
                                       "--browser", chromium_path])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    line = next(i for i, t in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1) if "𠮷" in t)
    assert f"content/doctors/yamada-taro.md:{line}: warning: 「𠮷」(U+20BB7)" in result.output
    pdfs = sorted((site / "build" / "pdf").rglob("*.pdf"))
    assert pdfs
    for pdf in pdfs:
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows and all("CID TrueType" in r for r in rows), listing
    book = subprocess.run(["pdftotext", str(site / "build" / "pdf" / "guidebook.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "𠮷田" in book and "A-0123" in book
