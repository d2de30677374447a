"""共同利用: content/equipment (exams partner clinics book directly), the website's cards and printable FAX
検査予約申込書, the guidebook chapter and the generated one-page PDF form (fax-proof, fonts embedded)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import pdf_chars
from sitegen.cli import main

SITES = Path(__file__).resolve().parent / "sites"
MM = 72 / 25.4

CT = """---
name: CT検査
order: 1
summary: 単純・造影のCTです。
slots: 月〜金 9:00〜16:00
deadline: 前日17時まで
preparation: [造影は4時間前から絶食]
contrast: [eGFR 30以上]
send: [診療情報提供書]
bring: [保険証]
results: 報告書を当日中にFAXします。
options:
  - group: 検査部位
    choices: [頭部, 胸部, 腹部]
  - group: 造影
    choices: [単純, 造影]
    multiple: false
---
撮影条件は放射線科医が決めます。
"""

ENDO = """---
name: 胃カメラ
order: 2
slots: 月〜金 8:30〜11:00
results: 当日に報告書をFAXします。
options:
  - group: 鎮静剤
    choices: [希望する, 希望しない]
---
"""


def site_with(tmp_path: Path, files: dict[str, str]) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    folder = site / "content" / "equipment"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return site


def build(site: Path, *args: str):
    return CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25", *args])


def test_every_mistake_in_an_exam_file_is_reported_at_its_line_at_once(tmp_path):
    bad = ("---\nname: MRI\noptions:\n  - group: 部位\n    choices: []\ncontact: nai\nslot: 月〜金\n---\n")
    site = site_with(tmp_path, {"mri.md": bad})
    (site / "build").mkdir()
    (site / "build" / "keep.txt").write_text("前回のビルド", encoding="utf-8")
    result = build(site, "--only", "site")
    assert result.exit_code != 0
    out = result.output
    assert "Traceback" not in out
    for expected in (r"content/equipment/mri\.md:\d+: slots", r"content/equipment/mri\.md:\d+: results",
                     r"content/equipment/mri\.md:5: options\[0\]\.choices", r"content/equipment/mri\.md:7: slot"):
        assert re.search(expected, out), (expected, out)
    assert (site / "build" / "keep.txt").read_text(encoding="utf-8") == "前回のビルド"  # the last build is kept


def test_an_unknown_contact_names_the_choices(tmp_path):
    site = site_with(tmp_path, {"ct.md": CT.replace("results:", "contact: telx\nresults:")})
    result = build(site, "--only", "site")
    assert result.exit_code != 0
    assert re.search(r"content/equipment/ct\.md:\d+: contact: unknown contact 'telx'.*did you mean 'tel'", result.output)


def test_the_website_lists_every_exam_and_a_printable_form_with_a_box_for_each_choice(tmp_path):
    hostile = CT.replace("name: CT検査", "name: CT検査<script>alert(1)</script>")
    site = site_with(tmp_path, {"ct.md": hostile, "naishikyo.md": ENDO})
    result = build(site, "--only", "site")
    assert result.exit_code == 0, result.output
    out = site / "build" / "site"
    page = (out / "equipment" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page  # escaped, never run
    for text in ("予約枠", "月〜金 9:00〜16:00", "前日17時まで", "造影は4時間前から絶食", "eGFR 30以上", "診療情報提供書",
                 "報告書を当日中にFAXします。", "撮影条件は放射線科医が決めます。", "胃カメラ", "03-0000-1001"):
        assert text in page, text
    assert page.index("CT検査") < page.index("胃カメラ")  # in `order`
    form = (out / "equipment" / "form.html").read_text(encoding="utf-8")
    for choice in ("頭部", "胸部", "腹部", "単純", "造影", "希望する", "希望しない"):
        assert f"□ {choice}" in form, choice
    assert "造影（一つ選択）" in form and "eGFR" in form  # the contrast line only for an exam with conditions
    assert form.count("eGFR") == 1
    assert 'href="../equipment/index.html"' in (out / "guides" / "index.html").read_text(encoding="utf-8")
    index = (out / "assets" / "search-index.js").read_text(encoding="utf-8")
    assert "equipment/index.html#exam-ct" in index and "equipment/index.html#exam-naishikyo" in index  # searchable


def test_no_exams_no_pages_and_no_links(tmp_path):
    site = site_with(tmp_path, {})
    assert build(site, "--only", "site").exit_code == 0
    out = site / "build" / "site"
    assert not (out / "equipment").exists()
    assert "equipment/" not in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.browser
@pytest.mark.slow
def test_the_generated_fax_form_is_one_a4_page_that_survives_a_fax(tmp_path, chromium_path):
    from pdfminer.high_level import extract_pages
    from PIL import Image

    site = site_with(tmp_path, {"ct.md": CT, "naishikyo.md": ENDO})
    result = build(site, "--only", "pdf", "--browser", chromium_path)
    assert result.exit_code == 0, result.output
    pdfs = site / "build" / "pdf"
    form = pdfs / "equipment-form.pdf"
    reader = PdfReader(form)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width) / MM) == 210 and round(float(box.height) / MM) == 297
    fonts = subprocess.run(["pdffonts", str(form)], capture_output=True, text=True, check=True).stdout
    assert "Type 3" not in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # embedded
    text = "".join(subprocess.run(["pdftotext", str(form), "-"], capture_output=True, text=True, check=True).stdout.split())
    for word in ("検査予約申込書（共同利用）", "03-0000-1002", "□CT検査", "□頭部", "□単純", "□胃カメラ", "□希望しない",
                 "患者氏名", "医療機関名"):
        assert word in text, word
    # a fax: 200 dpi, 1 bit; every character at least 8 pt and still black ink where the PDF puts it
    subprocess.run(["pdftoppm", "-r", "200", "-mono", str(form), str(tmp_path / "fax")], check=True)
    image = Image.open(next(tmp_path.glob("fax*.pbm"))).convert("1")
    page = next(iter(extract_pages(str(form))))
    chars = [c for c in pdf_chars(page) if c.get_text().strip()]
    assert len(chars) > 300
    scale = 200 / 72
    for c in chars:
        assert c.size >= 7.95, (c.get_text(), c.size)
        if c.get_text() in "□検査頭部":
            crop = (int(c.x0 * scale), int((page.height - c.y1) * scale), int(c.x1 * scale), int((page.height - c.y0) * scale))
            assert image.crop(crop).histogram()[0] > 8, f"{c.get_text()} faded out in the fax"
    # the guidebook: a chapter in the contents, and the form again in the 様式集
    book = subprocess.run(["pdftotext", str(pdfs / "guidebook.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = "".join(book.split())
    assert "検査のご予約（共同利用）" in flat and flat.count("検査予約申込書（共同利用）") >= 2
