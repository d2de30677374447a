"""The one-page 外来担当医表 of every department (schedule.pdf and the guidebook's landscape insert), the
メモ pages of a saddle-stitched guidebook, and the sheet through a fax (1-bit, 200 dpi)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import pdf_chars
from sitegen.cli import main

SITES = Path(__file__).resolve().parent / "sites"
pytestmark = [pytest.mark.browser, pytest.mark.slow]
MM = 72 / 25.4

# A second department with a schedule, so the sheet has two rows and a 専門外来 cell.
GEKA_SCHEDULE = """period: {start: 2026-10-01, end: 2027-03-31}
slots:
  - {day: 火, time: 午前, room: 1診, doctor: tanaka-hanako, visit: 初診, booking: 紹介制}
  - {day: 木, time: 午後, clinic: ヘルニア外来, doctor: tanaka-hanako, booking: 紹介・予約制}
"""


# A line that is not for booking, listed between the referral TEL and FAX: printed bare beside them as
# 「ご紹介・ご予約」 it would send clinics' bookings to the emergency doctors.
EMERGENCY = {"id": "kyukyu", "type": "tel", "label": "救急外来（医師直通）", "value": "03-0000-1999", "hours": "24h"}


def build(tmp_path: Path, chromium_path: str, **brochures) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    (site / "content/schedules/geka.yaml").write_text(GEKA_SCHEDULE, encoding="utf-8")
    data = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    data["office"]["contacts"].insert(1, EMERGENCY)
    if brochures:
        data["brochures"] = brochures
    (site / "site.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25",
                                       "--browser", chromium_path, "--only", "pdf"])
    assert result.exit_code == 0, result.output
    return site / "build" / "pdf"


def text(path: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def default_pdfs(tmp_path_factory, chromium_path):
    return build(tmp_path_factory.mktemp("sheet"), chromium_path)


def test_schedule_pdf_is_one_landscape_page_with_every_slot(default_pdfs):
    reader = PdfReader(default_pdfs / "schedule.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert round(float(box.width) / MM) == 297 and round(float(box.height) / MM) == 210  # A4 landscape
    sheet = "".join(text(default_pdfs / "schedule.pdf").split())  # a word wrapped in its cell is one word
    for department in ("内科", "外科"):
        assert department in sheet
    # every slot of both schedules: family names, the 専門外来 and the text marks that replace colour
    for word in ("山田", "鈴木", "田中", "禁煙外来", "ヘルニア外来", "［初・紹］", "第1・3週", "TEL03-0000-1001"):
        assert word in sheet, word
    assert "［初］初診のみ" in sheet  # the legend explains the marks


def test_only_the_referral_numbers_are_printed_as_booking_lines(default_pdfs):
    sheet = text(default_pdfs / "schedule.pdf")
    cover = text(default_pdfs / "guidebook.pdf", page=1)
    second = text(default_pdfs / "guidebook.pdf", page=2)  # its footer
    for page in (sheet, cover, second):
        assert "03-0000-1001" in page and "03-0000-1002" in page, page
        assert EMERGENCY["value"] not in page, page


def test_the_guidebook_has_the_sheet_as_a_landscape_page_in_its_contents(default_pdfs):
    reader = PdfReader(default_pdfs / "guidebook.pdf")
    landscape = [i for i, p in enumerate(reader.pages, 1) if p.mediabox.width > p.mediabox.height]
    assert len(landscape) == 1
    assert "外来担当医表（全診療科）" in text(default_pdfs / "guidebook.pdf", landscape[0])
    toc = text(default_pdfs / "guidebook.pdf", 3) + text(default_pdfs / "guidebook.pdf", 2)
    assert "外来担当医表（全診療科）" in toc and str(landscape[0]) in toc


def test_the_sheet_survives_a_fax(default_pdfs, tmp_path):
    # 200 dpi, 1 bit: every doctor's name must still be black ink where the PDF puts it
    from pdfminer.high_level import extract_pages
    from PIL import Image

    pdf = default_pdfs / "schedule.pdf"
    subprocess.run(["pdftoppm", "-r", "200", "-mono", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "fax")], check=True)
    image = Image.open(next(tmp_path.glob("fax*.pbm"))).convert("1")
    page = next(iter(extract_pages(str(pdf))))
    chars = [c for c in pdf_chars(page) if c.get_text() in "山田鈴木田中"]
    assert len(chars) >= 6
    scale = 200 / 72
    for c in chars:
        box = (int(c.x0 * scale), int((page.height - c.y1) * scale), int(c.x1 * scale), int((page.height - c.y0) * scale))
        black = image.crop(box).histogram()[0]  # pixels at 0: black
        assert black > 8, f"{c.get_text()} faded out in the fax"
        assert c.size >= 7.95  # and at least 8 pt



def test_saddle_stitch_pads_with_memo_pages_before_the_back_cover(tmp_path, chromium_path, default_pdfs):
    plain = len(PdfReader(default_pdfs / "guidebook.pdf").pages)
    pdfs = build(tmp_path, chromium_path, guidebook={"saddle_stitch": True})
    reader = PdfReader(pdfs / "guidebook.pdf")
    pad = -plain % 4
    assert len(reader.pages) == plain + pad and len(reader.pages) % 4 == 0
    memo = [i for i in range(1, len(reader.pages) + 1) if text(pdfs / "guidebook.pdf", i).strip().startswith("メモ")]
    assert memo == list(range(len(reader.pages) - pad, len(reader.pages)))  # just before the back cover
    assert "みなと中央病院" in text(pdfs / "guidebook.pdf", len(reader.pages))  # the back cover stays last


def test_the_sheet_on_a3(tmp_path, chromium_path):
    pdfs = build(tmp_path, chromium_path, schedule={"paper": "A3"}, leaflets={"enabled": False})
    box = PdfReader(pdfs / "schedule.pdf").pages[0].mediabox
    assert round(float(box.width) / MM) == 420 and round(float(box.height) / MM) == 297
    assert not (pdfs / "leaflets").exists()


def test_the_forms_appendix_prints_the_guides_pdf_forms_before_the_back_cover(default_pdfs):
    reader = PdfReader(default_pdfs / "guidebook.pdf")
    n = len(reader.pages)
    pages = ["".join(text(default_pdfs / "guidebook.pdf", i).split()) for i in range(1, n + 1)]
    title = [i for i, t in enumerate(pages, 1) if "様式集（申込書・FAX用紙）" in t and "診療予約申込書" in t]
    assert title, "the appendix lists the forms"
    form = [i for i, t in enumerate(pages, 1) if "記入日" in t]  # the form's own page (tests/sites/minimal/content/files)
    assert len(form) == 1 and form[0] > title[-1] and form[0] < n  # after the appendix, before the back cover
    assert "みなと中央病院" in pages[-1]
    toc = pages[1] + pages[2]
    assert "様式集" in toc


def test_a_form_that_is_no_pdf_is_left_out_with_a_warning(tmp_path, chromium_path):
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    (site / "content/files/referral.pdf").write_bytes(b"%PDF-1.4 not really")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25",
                                       "--browser", chromium_path, "--only", "pdf"])
    assert result.exit_code == 0, result.output
    assert "content/files/referral.pdf: warning: cannot be read as a PDF" in result.output
