"""The PDF brochures, printed by a real Chromium and read back with pypdf, poppler (pdftotext, pdffonts,
pdftoppm) and qpdf.

The example hospital is printed once (`pdf_build`, the full-example smoke test: every test using it is
`slow`); determinism, sparse content and a browser crash use tests/sites/minimal (`minimal_pdf`)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import REPO, SITES, TODAY
from sitegen import urls
from sitegen.build import BuildOptions, load_site, run
from sitegen.chromium import INSTALL_HINT
from sitegen.pdf import render as pdf_output
from sitegen.pdf.book import forms as book_forms
from sitegen.project import Project


@pytest.fixture(scope="session")
def site():
    return load_site(Project.at(REPO), TODAY)[0]


@pytest.fixture(scope="session")
def pdf_build(tmp_path_factory, chromium_path) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "build"
    report = run(Project.at(REPO, out), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path,
                                                     progress=lambda *step: PROGRESS.append(step)))
    assert not report.outputs["pdf"].skipped
    return out / "pdf"


@pytest.fixture(scope="module")
def minimal_pdf(tmp_path_factory, chromium_path) -> Path:
    """tests/sites/minimal printed into its own build/ folder; returns build/pdf."""
    site = shutil.copytree(SITES / "minimal", tmp_path_factory.mktemp("minimal-pdf") / "minimal")
    report = run(Project.at(site), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path))
    assert not report.outputs["pdf"].skipped
    return site / "build" / "pdf"


PROGRESS: list[tuple] = []  # what the build reported for its progress bar


@pytest.mark.browser
@pytest.mark.slow
def test_progress_is_reported_after_each_pdf(pdf_build, site):
    total = 2 + bool(site.equipment) + len(site.departments)  # guidebook, schedule, the 検査予約申込書, leaflets
    assert [(stage, done, n) for stage, done, n, _ in PROGRESS] == [("pdf", i, total) for i in range(1, total + 1)]
    # several browsers print at once: every PDF is reported once, in the order they were finished
    items = [item for *_, item in PROGRESS]
    assert sorted(items) == sorted(["schedule.pdf", "guidebook.pdf"] + ["equipment-form.pdf"] * bool(site.equipment)
                                   + [f"leaflets/{d.slug}.pdf" for d in site.departments])


def all_pdfs(folder: Path) -> list[Path]:
    return [folder / "guidebook.pdf", *sorted((folder / "leaflets").glob("*.pdf"))]


def text(path: Path, first: int | None = None, last: int | None = None, layout=False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if layout:
        args.append("-layout")
    if first:
        args += ["-f", str(first), "-l", str(last or first)]
    return subprocess.run([*args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.mark.browser
@pytest.mark.slow
def test_files_and_page_counts(pdf_build, site):
    guide = PdfReader(pdf_build / "guidebook.pdf")
    # cover, contents, overview, contacts, guides, departments (1-3 pages each), featured, access, back
    assert 4 + len(site.departments) <= len(guide.pages) <= 8 + len(site.guides) + 3 * len(site.departments) + 4 + 2 * len(book_forms(site))
    leaflets = sorted(p.stem for p in (pdf_build / "leaflets").glob("*.pdf"))
    assert leaflets == sorted(d.slug for d in site.departments)
    for d in site.departments:
        pages = len(PdfReader(pdf_build / "leaflets" / f"{d.slug}.pdf").pages)
        assert pages == 1, f"leaflet {d.slug} has {pages} pages"
    for path in all_pdfs(pdf_build):
        size = PdfReader(path).pages[0].mediabox
        assert (round(float(size.width)), round(float(size.height))) == (595, 842)  # A4 in points


@pytest.mark.browser
@pytest.mark.slow
def test_every_department_and_doctor_name_is_text(pdf_build, site, poppler):
    guide = squash(text(pdf_build / "guidebook.pdf"))
    assert "\ufffd" not in guide
    for d in site.departments:
        assert squash(d.name) in guide
        leaflet = squash(text(pdf_build / "leaflets" / f"{d.slug}.pdf"))
        assert squash(d.name) in leaflet
        for slug in d.doctors:
            assert squash(site.doctor(slug).name) in leaflet, (d.slug, slug)
    for doc in site.doctors:
        assert squash(doc.name) in guide, doc.slug
    assert squash("地域医療連携ガイドブック") in guide
    assert squash(site.hospital.name) in guide


@pytest.mark.browser
@pytest.mark.slow
def test_fonts_embedded_and_never_type3(pdf_build, poppler):
    for path in all_pdfs(pdf_build):
        out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
        rows = out.splitlines()[2:]
        assert rows, f"{path.name}: no fonts"
        for row in rows:
            assert "Type 3" not in row, f"{path.name}: {row}"
            cols = row.split()
            emb_sub = cols[-5:-3]
            assert emb_sub == ["yes", "yes"], f"{path.name}: not embedded and subset: {row}"
        assert "BIZUD" in out


@pytest.mark.browser
@pytest.mark.slow
def test_tagged_with_language_title_and_bookmarks(pdf_build):
    for path in all_pdfs(pdf_build):
        reader = PdfReader(path)
        root = reader.trailer["/Root"]
        assert root["/Lang"] == "ja"
        assert bool(root["/MarkInfo"]["/Marked"]) is True
        assert "/StructTreeRoot" in root
        assert reader.metadata.title
        assert reader.outline, f"{path.name}: no bookmarks"
    guide = PdfReader(pdf_build / "guidebook.pdf")
    assert guide.metadata.title.endswith("地域医療連携ガイドブック")
    assert guide.metadata["/CreationDate"].startswith(f"D:{TODAY:%Y%m%d}")


def toc_page(path: Path) -> int:
    """The page of the table of contents (after the cover and the greeting)."""
    for page in range(2, 5):
        if "目次" in text(path, page):
            return page
    raise AssertionError("no table of contents")


@pytest.mark.browser
@pytest.mark.slow
def test_toc_numbers_are_the_pages_of_the_headings(pdf_build, site, poppler):
    path = pdf_build / "guidebook.pdf"
    chapters = pdf_output.contents(site).toc
    toc = text(path, toc_page(path), layout=True) + text(path, toc_page(path) + 1, layout=True)  # may run over
    printed: dict[str, int] = {}
    for line in toc.splitlines():
        m = re.match(r"^\s*(\S.*?)\s+(\d+)\s*$", line)
        if m:
            printed[squash(m.group(1))] = int(m.group(2))
    from sitegen.pdf.printer import find_pages

    real = find_pages(path.read_bytes(), [c.title for c in chapters])
    for ch, page in zip(chapters, real):
        assert page is not None, ch.title
        assert printed.get(squash(ch.title)) == page, (ch.title, printed.get(squash(ch.title)), page)
        # the heading really is on that page, at its top (a chapter starts a page)
        assert squash(text(path, page)).find(squash(ch.title)) != -1, ch.title
    assert real == sorted(real)


@pytest.mark.browser
@pytest.mark.slow
def test_toc_entries_link_to_their_chapters(pdf_build, site, poppler):
    reader = PdfReader(pdf_build / "guidebook.pdf")
    chapters = pdf_output.contents(site).toc
    from sitegen.pdf.printer import find_pages

    real = set(find_pages((pdf_build / "guidebook.pdf").read_bytes(), [c.title for c in chapters]))
    names = reader.named_destinations
    targets = set()
    first = toc_page(pdf_build / "guidebook.pdf") - 1
    for annot in [a for p in reader.pages[first:first + 2] for a in p.get("/Annots", [])]:  # the contents may run over
        annot = annot.get_object()
        dest = annot.get("/Dest")
        if dest is None:
            continue
        if isinstance(dest, str):
            targets.add(reader.get_destination_page_number(names[dest]) + 1)
        else:
            targets.add(reader.get_page_number(dest[0].get_object()) + 1)
    assert real <= targets


def uris(reader: PdfReader, page_index: int) -> set[str]:
    found = set()
    for annot in reader.pages[page_index].get("/Annots", []):
        action = annot.get_object().get("/A")
        if action is not None and action.get("/S") == "/URI":
            found.add(str(action["/URI"]))
    return found


@pytest.mark.browser
@pytest.mark.slow
def test_qr_links_point_at_the_department_pages(pdf_build, site, poppler):
    guide_path = pdf_build / "guidebook.pdf"
    guide = PdfReader(guide_path)
    chapters = pdf_output.contents(site).chapters
    from sitegen.pdf.printer import find_pages

    pages = dict(zip((c.id for c in chapters), find_pages(guide_path.read_bytes(), [c.title for c in chapters])))
    for d in site.departments:
        url = urls.absolute(site.settings.base_url, urls.page_path("department", d.slug))
        assert url.startswith("https://")
        assert url in uris(guide, pages[f"dept-{d.slug}"] - 1), d.slug
        leaflet = PdfReader(pdf_build / "leaflets" / f"{d.slug}.pdf")
        assert url in uris(leaflet, 0)
        assert url in text(pdf_build / "leaflets" / f"{d.slug}.pdf").replace("\n", "")
    # no link may lead to the temporary folder the HTML was printed from
    for i in range(len(guide.pages)):
        assert not any(u.startswith("file:") for u in uris(guide, i))


def decoded_qr_codes(path: Path, page: int, tmp_path: Path) -> list[str]:
    """The QR codes a phone camera would read on a printed page (rendered at 200 dpi, read by zxing-cpp)."""
    import zxingcpp
    from PIL import Image

    prefix = tmp_path / f"{path.stem}-{page}"
    subprocess.run(["pdftoppm", "-r", "200", "-f", str(page), "-l", str(page), "-png", str(path), str(prefix)],
                   check=True)
    image = Image.open(next(tmp_path.glob(f"{prefix.name}*.png")))
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.browser
@pytest.mark.slow
def test_printed_qr_codes_decode_to_the_department_pages(pdf_build, site, tmp_path, poppler):
    guide_path = pdf_build / "guidebook.pdf"
    chapters = pdf_output.contents(site).chapters
    from sitegen.pdf.printer import find_pages

    pages = dict(zip((c.id for c in chapters), find_pages(guide_path.read_bytes(), [c.title for c in chapters])))
    for d in site.departments[:4]:
        url = urls.absolute(site.settings.base_url, urls.page_path("department", d.slug))
        assert decoded_qr_codes(pdf_build / "leaflets" / f"{d.slug}.pdf", 1, tmp_path) == [url]
        assert decoded_qr_codes(guide_path, pages[f"dept-{d.slug}"], tmp_path) == [url]
    for g in site.guides[:2]:
        url = urls.absolute(site.settings.base_url, urls.page_path("guide", g.slug))
        assert decoded_qr_codes(guide_path, pages[f"guide-{g.slug}"], tmp_path) == [url]


@pytest.mark.browser
@pytest.mark.slow
def test_qpdf_check(pdf_build, qpdf):
    for path in all_pdfs(pdf_build):
        done = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.browser
@pytest.mark.slow
def test_same_input_gives_identical_bytes(minimal_pdf, tmp_path, chromium_path):
    site = minimal_pdf.parent.parent
    run(Project.at(site, tmp_path / "again"), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path))
    assert len(all_pdfs(minimal_pdf)) >= 3  # the guidebook and a leaflet per department
    for path in all_pdfs(minimal_pdf):
        again = tmp_path / "again" / "pdf" / path.relative_to(minimal_pdf)
        assert again.read_bytes() == path.read_bytes(), path.name


def test_no_browser_skips_pdf_with_the_hint_and_site_still_builds(tmp_path, monkeypatch):
    from sitegen import chromium as browser

    monkeypatch.setenv("SITEGEN_CHROMIUM", str(tmp_path / "no-such-chrome"))
    monkeypatch.setattr(browser, "_playwright_chromium", lambda: None)
    monkeypatch.setattr(browser, "SYSTEM_NAMES", ())
    monkeypatch.setattr(browser, "SYSTEM_PATHS", ())
    site = shutil.copytree(SITES / "minimal", tmp_path / "minimal")
    out = tmp_path / "build"
    report = run(Project.at(site, out), BuildOptions(today=TODAY, outputs=("site", "pdf")))
    assert INSTALL_HINT in report.outputs["pdf"].skipped
    assert "playwright install chromium" in report.outputs["pdf"].skipped
    assert [r.name for r in report.skipped] == ["pdf"]
    assert (out / "site" / "index.html").is_file()
    assert not (out / "pdf").exists()

    monkeypatch.delenv("SITEGEN_CHROMIUM")
    report = run(Project.at(site, tmp_path / "b2"), BuildOptions(today=TODAY, outputs=("site", "pdf"), dry_run=True))
    assert report.outputs["pdf"].skipped.endswith(INSTALL_HINT) or INSTALL_HINT in report.outputs["pdf"].skipped


@pytest.mark.browser
@pytest.mark.slow
def test_sparse_sites_still_make_sensible_pdfs(minimal_pdf, tmp_path, chromium_path, poppler):
    """A department without schedule or referral text, and a hospital with no departments at all."""
    for leaflet in (minimal_pdf / "leaflets").glob("*.pdf"):
        assert len(PdfReader(leaflet).pages) == 1
        assert "で承ります" in squash(text(leaflet)) or "ご紹介について" in text(leaflet)

    site = tmp_path / "minimal"
    shutil.copytree(SITES / "minimal", site)
    out = site / "build" / "pdf"

    for folder in ("departments", "doctors", "schedules"):
        for f in (site / "content" / folder).iterdir():
            f.unlink()
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path))
    guide = out / "guidebook.pdf"
    assert len(PdfReader(guide).pages) >= 6
    assert "準備中" in text(guide)
    assert not list((out / "leaflets").glob("*.pdf")) if (out / "leaflets").exists() else True


@pytest.mark.browser
@pytest.mark.slow
def test_no_heading_is_left_at_the_bottom_of_a_page(pdf_build):
    """Every bookmark (heading) has room for at least three lines of its content below it on its page."""
    mm = 72 / 25.4
    for path, bottom_margin in [(pdf_build / "guidebook.pdf", 20 * mm),
                                *[(p, 14 * mm) for p in sorted((pdf_build / "leaflets").glob("*.pdf"))]]:
        reader = PdfReader(path)

        def walk(items):
            for item in items:
                if isinstance(item, list):
                    yield from walk(item)
                else:
                    yield item

        for item in walk(reader.outline):
            top = item.get("/Top")
            if top is None:
                continue
            assert float(top) - bottom_margin > 20 * mm, (path.name, str(item.title), float(top))


@pytest.mark.browser
@pytest.mark.slow
def test_browser_failure_leaves_the_previous_pdfs(minimal_pdf, monkeypatch, chromium_path):
    from sitegen.errors import SitegenError
    from sitegen.pdf import printer as print_pdf

    before = {p: p.read_bytes() for p in all_pdfs(minimal_pdf)}
    assert len(before) >= 3

    def crash(self, html_file):
        raise RuntimeError("Target page, context or browser has been closed")

    monkeypatch.setattr(print_pdf.Printer, "pdf", crash)
    with pytest.raises(SitegenError, match="printing with .* failed"):
        run(Project.at(minimal_pdf.parent.parent), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path))
    assert {p: p.read_bytes() for p in all_pdfs(minimal_pdf)} == before


@pytest.mark.browser
@pytest.mark.slow
def test_print_carries_the_department_body_urgent_contact_and_no_empty_doctor_pointer(minimal_pdf):
    book = text(minimal_pdf / "guidebook.pdf")
    assert "内科のご紹介です" in book  # the Markdown under the department's front matter
    leaflet = text(minimal_pdf / "leaflets" / "naika.pdf", layout=True)
    assert "急ぎのご相談" in leaflet and "03-0000-1001" in leaflet  # referral.urgent_contact, number on one line
    for path in (minimal_pdf / "leaflets").glob("*.pdf"):
        assert "医師の情報はウェブサイトをご覧ください" not in text(path)


def test_headings_are_found_in_the_outline_whatever_the_whitespace(tmp_path):
    """Chromium's outline drops the space where a long heading wraps: the heading is found all the same."""
    from pypdf import PdfWriter

    from sitegen.pdf.printer import find_pages

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(595, 842)
    writer.add_outline_item("ごあいさつ", 0)
    writer.add_outline_item("よくあるご質問 Frequently asked questions about referrals,appointments and reports", 1)
    writer.add_outline_item("交通\u3000アクセス", 2)
    path = tmp_path / "book.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    titles = ["ごあいさつ", "よくあるご質問 Frequently asked questions about referrals, appointments and reports",
              "交通アクセス"]
    assert find_pages(path.read_bytes(), titles) == [1, 2, 3]


LONG_TITLE = ("よくあるご質問 Frequently asked questions about referrals, appointments and reports for partner clinics "
              "and their staff")


@pytest.mark.browser
@pytest.mark.slow
def test_a_guide_title_that_wraps_at_a_space_still_prints_the_guidebook(tmp_path, chromium_path, poppler):
    site = shutil.copytree(SITES / "minimal", tmp_path / "minimal")
    guide = site / "content" / "guides" / "referral.md"
    guide.write_text(guide.read_text(encoding="utf-8").replace("title: 患者さんのご紹介方法", f"title: {LONG_TITLE}", 1),
                     encoding="utf-8")
    report = run(Project.at(site), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path))
    assert not report.outputs["pdf"].skipped and not report.outputs["pdf"].failed
    book = site / "build" / "pdf" / "guidebook.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(book), "-"], capture_output=True, text=True).stdout
    assert "Frequently asked" in text


@pytest.mark.parametrize("text, line", [('---\nname: "山田\\uE000太郎"\n---\n', 2), ("---\nname: 山田\ue000太郎\n---\n", 2),
                                        ("---\ntitle: x\n---\n本文 &#xe000; です\n", 4),
                                        ("---\ntitle: x\n---\n\n本文 &#57344;\n", 5)])
def test_a_character_no_print_font_has_is_found_in_the_file_that_writes_it(tmp_path, text, line):
    """A private-use character written as an escape ("\\uE000" in quotes, &#xE000; in a body) is not in the file as
    such: the warning still names the file and line, not `content`."""
    site = shutil.copytree(SITES / "minimal", tmp_path / "minimal")
    (site / "content" / "guides" / "x.md").write_text(text, encoding="utf-8")  # a folder the brochures print from
    warnings = pdf_output._glyph_warnings(Project.at(site), {"\ue000"}, set(), set())
    assert [str(w.location) for w in warnings] == [f"content/guides/x.md:{line}"], warnings
    assert "U+E000" in warnings[0].message
