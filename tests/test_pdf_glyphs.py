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
    # the same kanji in a news item, which no brochure prints: the warning does not send the office there
    (site / "content" / "news" / "2026-11-01-yoshida.md").write_text(
        "---\ntitle: 𠮷川医師が着任しました\ndate: 2026-11-01\n---\n着任しました。\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25",
                                       "--browser", chromium_path])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    line = next(i for i, t in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1) if "𠮷" in t)
    assert f"content/doctors/yamada-taro.md:{line}: warning: 「𠮷」(U+20BB7)" in result.output
    assert "content/news/2026-11-01-yoshida.md:2: warning: 「𠮷」" not in result.output
    pdfs = sorted((site / "build" / "pdf").rglob("*.pdf"))
    assert pdfs
    for pdf in pdfs:
        listing = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        rows = listing.splitlines()[2:]
        assert rows and all("CID TrueType" in r for r in rows), listing
    book = subprocess.run(["pdftotext", str(site / "build" / "pdf" / "guidebook.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "𠮷田" in book and "A-0123" in book


@pytest.mark.browser
@pytest.mark.slow
def test_a_120_character_guide_title_and_a_long_department_name_build(tmp_path, chromium_path, poppler):
    """A title long enough to wrap in the running head and the contents: the book builds (it stops when a chapter
    is not found in the print or the contents do not settle) and prints both names."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    title = ("地域の医療機関の皆様へ　患者さんのご紹介から検査予約、診療情報提供書の返書、逆紹介、退院支援までの流れと"
             "お問い合わせ先をまとめた連携のご案内（令和八年度版・地域医療連携室作成・改訂第三版）")
    title = (title * 2)[:120]
    guide = site / "content" / "guides" / "referral.md"
    guide.write_text(re.sub(r"^title: .*$", f"title: {title}", guide.read_text(encoding="utf-8"), count=1, flags=re.M),
                     encoding="utf-8")
    dept = next((site / "content" / "departments").glob("*.md"))
    long_name = "消化器内科・内視鏡センター（上部・下部消化管、胆膵、肝臓）"
    dept.write_text(re.sub(r"^name: .*$", f"name: {long_name}", dept.read_text(encoding="utf-8"), count=1, flags=re.M),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25",
                                       "--browser", chromium_path])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    book = subprocess.run(["pdftotext", str(site / "build" / "pdf" / "guidebook.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    squashed = "".join(book.split())
    assert "".join(title[:40].split()) in squashed and long_name[:12] in squashed
