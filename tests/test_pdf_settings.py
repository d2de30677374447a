"""The `brochures:` settings of site.yaml, printed by a real Chromium on the small test site:
paper size, the print-shop edition (bleed, トンボ, TrimBox/BleedBox), section order and
greeting, and photos scaled down for print. Every test that prints is `browser` and `slow`."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from PIL import Image
from pypdf import PdfReader

from conftest import SITES, TODAY
from sitegen.build import BuildOptions, run
from sitegen.project import Project

MM = 72 / 25.4


def site_with(tmp_path: Path, brochures: dict) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    data = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    data["brochures"] = brochures
    (site / "site.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return site


def build_pdf(site: Path, chromium_path: str, **options) -> Path:
    report = run(Project.at(site), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path, **options))
    assert not report.outputs["pdf"].skipped
    return site / "build" / "pdf"


def page_texts(path: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                         text=True).stdout
    return [re.sub(r"\s+", "", page) for page in out.split("\f")]


def size_mm(box) -> tuple[float, float]:
    """Width and height in whole millimetres (Chromium rounds page sizes to a fraction of a point)."""
    return round(float(box.width) / MM), round(float(box.height) / MM)


@pytest.mark.browser
@pytest.mark.slow
def test_press_edition_on_a5_has_bleed_trim_box_and_crop_marks(tmp_path, chromium_path, poppler):
    site = site_with(tmp_path, {"paper": "A5"})
    out = build_pdf(site, chromium_path, press=True)

    plain = PdfReader(out / "guidebook.pdf")
    press = PdfReader(out / "press" / "guidebook.pdf")
    sizes = [size_mm(p.mediabox) for p in plain.pages]
    assert set(sizes) == {(148, 210), (210, 148)} and sizes.count((210, 148)) == 1  # the 外来担当医表 sheet: landscape
    assert len(press.pages) == len(plain.pages)
    for page, plain_size in zip(press.pages, sizes):
        trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
        assert size_mm(trim) == plain_size
        assert size_mm(bleed) == (plain_size[0] + 6, plain_size[1] + 6)  # 3 mm on every side
        assert float(trim.left) - float(bleed.left) == pytest.approx(3 * MM, abs=0.1)
        assert float(bleed.top) - float(trim.top) == pytest.approx(3 * MM, abs=0.1)
        # room for the marks outside the bleed
        assert float(bleed.left) - float(media.left) >= 9 * MM
        assert float(media.top) - float(bleed.top) >= 9 * MM
    # same words on the same pages: the type area did not move
    assert page_texts(out / "press" / "guidebook.pdf") == page_texts(out / "guidebook.pdf")
    for leaflet in (out / "leaflets").glob("*.pdf"):
        pressed = PdfReader(out / "press" / "leaflets" / leaflet.name)
        assert size_mm(pressed.pages[0].trimbox) == (148, 210)
        assert len(pressed.pages) == len(PdfReader(leaflet).pages)

    # the marks are drawn: look at the page as a print shop would (1 px = 0.25 pt)
    subprocess.run(["pdftoppm", "-r", "288", "-f", "2", "-l", "2", "-gray", "-png",
                    str(out / "press" / "guidebook.pdf"), str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png"))).convert("L")
    page = press.pages[1]
    px = 4  # pixels per point
    left = float(page.mediabox.left)
    top = float(page.mediabox.top)

    def darkest(x_pt: float, y_pt: float) -> int:
        """The darkest pixel within 1 pt of a point given in PDF coordinates."""
        x, y = round((x_pt - left) * px), round((top - y_pt) * px)
        return min(image.getpixel((i, j)) for i in range(x - 4, x + 5) for j in range(y - 4, y + 5))

    trim = page.trimbox
    bleed = page.bleedbox
    above = float(bleed.top) + 4 * MM  # in the slug, above the page
    assert darkest(float(trim.left), above) < 128  # trim mark above the top-left corner
    assert darkest(float(trim.right), above) < 128
    assert darkest((float(trim.left) + float(trim.right)) / 2, above) < 128  # centre mark
    assert darkest(float(trim.left) + 40 * MM, above) > 240  # nothing else in the slug
    assert darkest(float(bleed.left) - 4 * MM, float(trim.bottom)) < 128  # trim mark left of the bottom corner


@pytest.mark.browser
@pytest.mark.slow
def test_sections_order_greeting_and_disabled_leaflets(tmp_path, chromium_path, poppler):
    site = site_with(tmp_path, {
        "paper": "B5",
        "guidebook": {"title": "連携のしおり", "greeting": "一段落目です。\n\n二段落目です。", "signature": "院長 青葉 太郎",
                      "sections": ["greeting", "guide:referral", "access", "departments"]},
        "leaflets": {"enabled": False},
    })
    out = build_pdf(site, chromium_path)
    assert not (out / "leaflets").exists()
    guide = PdfReader(out / "guidebook.pdf")
    assert {size_mm(p.mediabox) for p in guide.pages} == {(182, 257)}
    assert guide.metadata.title.endswith("連携のしおり")
    pages = page_texts(out / "guidebook.pdf")
    joined = "".join(pages)
    assert "連携のしおり" in pages[0]
    assert "一段落目です。" in joined and "院長青葉太郎" in joined
    # the greeting comes before the contents; the chapters follow in the order given
    greeting = next(i for i, p in enumerate(pages) if "一段落目です。" in p)
    toc = next(i for i, p in enumerate(pages) if "目次" in p)
    assert greeting < toc
    outline = [o.title for o in guide.outline if not isinstance(o, list)]
    referral_title = yaml.safe_load((site / "content" / "guides" / "referral.md").read_text(
        encoding="utf-8").split("---")[1])["title"]
    order = [referral_title, "交通アクセス", "診療科のご案内"]
    assert [t for t in outline if t in order] == order
    assert "注目のドクター" not in outline and "病院の概要" not in outline


@pytest.mark.browser
@pytest.mark.slow
def test_photos_are_scaled_to_about_350_dpi(tmp_path, chromium_path):
    site = site_with(tmp_path, {})
    photo = site / "content" / "images" / "yamada-taro.png"
    Image.new("RGB", (3000, 4000), (180, 200, 220)).save(photo)
    out = build_pdf(site, chromium_path)

    sizes = []
    for page in PdfReader(out / "guidebook.pdf").pages:
        for img in page.images:
            with Image.open(io.BytesIO(img.data)) as im:
                sizes.append(im.size)
    # printed 20 × 25 mm: about 276 × 344 px at 350 dpi, not the camera's 3000 × 4000
    assert sizes and max(w for w, _ in sizes) < 600 and max(h for _, h in sizes) < 700
    assert any(abs(w - 276) <= 30 and abs(h - 344) <= 40 for w, h in sizes), sizes
    assert (out / "guidebook.pdf").stat().st_size < 2_000_000


@pytest.mark.browser
@pytest.mark.slow
def test_a_chapter_is_not_taken_for_a_sub_heading_with_the_same_words(tmp_path, chromium_path, poppler):
    """The referral guide has a heading 「FAXでのご予約」; a later guide with that title gets its own page."""
    site = site_with(tmp_path, {"guidebook": {"sections": ["guide:referral", "guide:fax", "overview", "contacts"],
                                              "pack": False}})
    (site / "content" / "guides" / "fax.md").write_text(
        "---\ntitle: FAXでのご予約\norder: 2\n---\nFAX番号は表紙の裏をご覧ください。\n", encoding="utf-8")
    out = build_pdf(site, chromium_path)
    pages = page_texts(out / "guidebook.pdf")
    real = next(i for i, p in enumerate(pages, 1) if "FAX番号は表紙の裏をご覧ください。" in p)
    inside = next(i for i, p in enumerate(pages, 1) if "申込書をFAXしてください。" in p)
    assert real > inside
    toc = next(p for p in pages if "目次" in p)
    assert f"FAXでのご予約{real}" in toc


@pytest.mark.browser
@pytest.mark.slow
def test_packed_guides_and_departments_share_pages_and_the_contents_still_point_at_them(tmp_path, chromium_path,
                                                                                        poppler):
    """pack (the default): a short guide follows the one before it on the same page, under the group's running
    head; pack: false starts each on a new page. The contents list the page each one really starts on."""
    def book(pack: bool, where: Path) -> list[str]:
        site = site_with(where, {"guidebook": {"sections": ["guide:referral", "guide:fax", "departments"],
                                               "pack": pack}})
        (site / "content" / "guides" / "fax.md").write_text(
            "---\ntitle: FAXでのご予約\norder: 2\n---\nFAX番号は表紙の裏をご覧ください。\n", encoding="utf-8")
        return page_texts(build_pdf(site, chromium_path) / "guidebook.pdf")

    packed, loose = book(True, tmp_path / "packed"), book(False, tmp_path / "loose")
    assert len(packed) < len(loose)
    real = next(i for i, p in enumerate(packed, 1) if "FAX番号は表紙の裏をご覧ください。" in p)
    inside = next(i for i, p in enumerate(packed, 1) if "申込書をFAXしてください。" in p)
    assert real == inside  # the short guide follows the referral guide on its page
    assert "医療機関の皆様へ" in packed[real - 1]  # the group's running head
    toc = next(p for p in packed if "目次" in p)
    assert f"FAXでのご予約{real}" in toc
    loose_real = next(i for i, p in enumerate(loose, 1) if "FAX番号は表紙の裏をご覧ください。" in p)
    assert loose_real > next(i for i, p in enumerate(loose, 1) if "申込書をFAXしてください。" in p)


@pytest.mark.browser
@pytest.mark.slow
def test_guide_images_outside_the_site_are_never_printed(tmp_path, chromium_path, poppler):
    """Raw HTML in a guide may name any file; the print keeps only the site's own images."""
    secret = tmp_path / "secret.png"
    Image.new("RGB", (123, 77), (200, 0, 0)).save(secret)
    site = site_with(tmp_path, {"leaflets": {"enabled": False}})
    guide = site / "content" / "guides" / "referral.md"
    guide.write_text(guide.read_text(encoding="utf-8") + (
        f'\n<img src="{secret}" alt="外部の画像">\n\n<img src="file://{secret}" alt="ファイルURLの画像">\n\n'
        '![院内の写真](../images/yamada-taro.png)\n'), encoding="utf-8")
    out = build_pdf(site, chromium_path)
    sizes = set()
    for page in PdfReader(out / "guidebook.pdf").pages:
        for img in page.images:
            with Image.open(io.BytesIO(img.data)) as im:
                sizes.add(im.size)
    assert (123, 77) not in sizes
    with Image.open(site / "content" / "images" / "yamada-taro.png") as own:
        assert own.size in sizes  # the site's own image is printed (a small one is copied as it is)
    joined = "".join(page_texts(out / "guidebook.pdf"))
    assert "外部の画像" in joined and "ファイルURLの画像" in joined  # shown as its alt text


def test_a_sideways_phone_photo_is_printed_upright(tmp_path):
    from sitegen.pdf import images as print_assets

    src = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display: stored landscape, shown portrait
    Image.new("RGB", (4000, 3000), (90, 120, 150)).save(src, "JPEG", exif=exif)
    with Image.open(io.BytesIO(print_assets._scaled(src, (276, 344), cover=True))) as im:
        assert im.width < im.height  # portrait, as the phone showed it
        assert im.width >= 276 and im.height >= 344


@pytest.mark.browser
@pytest.mark.slow
def test_a_mistake_in_a_print_template_is_reported_as_one(tmp_path, chromium_path):
    from click.testing import CliRunner

    from sitegen.cli import main

    site = site_with(tmp_path, {})
    theme = site / "themes" / "default" / "print"
    theme.mkdir(parents=True)
    (theme / "leaflet.html").write_text("{% extends '_base.html' %}{% block body %}{{ department.nmae.x }}{% endblock %}",
                                        encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--only", "pdf", "--date", "2026-11-25",
                                       "--browser", chromium_path])
    assert result.exit_code == 1
    assert "leaflet.html" in result.output and "nmae" in result.output
    assert "printing with" not in result.output and "Traceback" not in result.output


def test_greeting_paragraphs_join_japanese_lines_and_keep_real_spaces():
    from sitegen.pdf.markup import paragraphs

    text = "平素より\n格別のご高配を賜り\nありがとうございます。\n\n院長 田中 一郎が\nご案内します。 Web予約\nもご利用ください。\n"
    assert paragraphs(text) == ["平素より格別のご高配を賜りありがとうございます。",
                                "院長 田中 一郎がご案内します。 Web予約もご利用ください。"]


@pytest.mark.browser
@pytest.mark.slow
def test_several_browsers_print_the_same_bytes_as_one(tmp_path, chromium_path, monkeypatch):
    """The PDFs are printed by one browser per core; the files do not depend on how many or which finished first."""
    def pdfs(workers: str, where: Path) -> dict[str, bytes]:
        monkeypatch.setenv("SITEGEN_PDF_WORKERS", workers)
        site = site_with(where, {"guidebook": {"saddle_stitch": True}})
        out = build_pdf(site, chromium_path)
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.pdf"))}

    one, three = pdfs("1", tmp_path / "one"), pdfs("3", tmp_path / "three")
    assert len(one) >= 3 and one.keys() == three.keys()
    assert [name for name in one if one[name] != three[name]] == []


@pytest.mark.browser
@pytest.mark.slow
def test_the_guidebook_sheet_fitted_on_another_browser_prints_the_same_book(tmp_path, chromium_path, monkeypatch):
    """With cores to spare and no standalone schedule job, a browser of its own fits the guidebook's 外来担当医表
    while the first (draft) print runs at the smallest size: the book is the same as when one browser does all."""
    def book(workers: str, where: Path) -> bytes:
        monkeypatch.setenv("SITEGEN_PDF_WORKERS", workers)
        site = site_with(where, {"schedule": {"enabled": False}, "leaflets": {"enabled": False}})
        return (build_pdf(site, chromium_path) / "guidebook.pdf").read_bytes()

    assert book("1", tmp_path / "one") == book("3", tmp_path / "three")


@pytest.mark.browser
@pytest.mark.slow
def test_a_rebuild_starts_from_the_kept_chapter_pages_and_prints_the_same_bytes(tmp_path, chromium_path, monkeypatch):
    """A build keeps the chapter pages it settled on in .sitegen/guidebook-pages.json; the next build prints the
    contents with them first. A right guess, a wrong one and none all give the same guidebook."""
    from sitegen.pdf import printer

    prints: list[str] = []
    tags: list[bool] = []
    real_pdf = printer.Printer.pdf

    def counting(self, html_file, tagged=True):
        prints.append(html_file.name)
        if html_file.name == "guidebook.html":
            tags.append(tagged)
        return real_pdf(self, html_file, tagged=tagged)

    monkeypatch.setattr(printer.Printer, "pdf", counting)
    site = site_with(tmp_path, {"leaflets": {"enabled": False}, "schedule": {"enabled": False},
                                "guidebook": {"saddle_stitch": True}})
    first = (build_pdf(site, chromium_path) / "guidebook.pdf").read_bytes()
    kept = site / ".sitegen" / "guidebook-pages.json"
    assert kept.is_file() and prints.count("guidebook.html") >= 2
    # with nothing kept, the first print is an untagged draft that only finds the pages; the book is tagged
    assert tags[0] is False and tags[-1] is True
    assert b"/StructTreeRoot" in first and b"/Outlines" in first
    prints.clear()
    assert (build_pdf(site, chromium_path) / "guidebook.pdf").read_bytes() == first
    assert prints.count("guidebook.html") == 1  # the kept pages held: one print
    data = json.loads(kept.read_text(encoding="utf-8"))
    data["pages"] = [p + 3 for p in data["pages"]]
    data["memo"] = (data["memo"] + 1) % 4
    kept.write_text(json.dumps(data), encoding="utf-8")
    assert (build_pdf(site, chromium_path) / "guidebook.pdf").read_bytes() == first
    kept.write_text("{not json", encoding="utf-8")
    assert (build_pdf(site, chromium_path) / "guidebook.pdf").read_bytes() == first
