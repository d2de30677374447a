"""Site -> printable PDF brochures: the 連携ガイドブック and one leaflet per department.

The same models as the website, rendered through the theme's print templates
(`themes/<name>/print/`) into a temporary folder with the content images, then
printed by one Chromium (print_pdf). The guidebook's table of contents gets real
page numbers: print, read each chapter's page from the PDF outline, write the
numbers in, print again and check that nothing moved.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from .. import print_pdf, urls
from ..artifacts import Artifact
from ..assemble import Site
from ..browser import INSTALL_HINT, BrowserNotFound, find_browser
from ..errors import SitegenError
from ..project import Project
from ..templates import make_environment

MAX_TOC_PASSES = 4


@dataclass
class Chapter:
    id: str
    title: str
    level: int = 1  # 1 = chapter, 2 = entry under a chapter (e.g. a department)
    page: int | None = None  # filled in after the first print


@dataclass
class Guidebook:
    chapters: list[Chapter] = field(default_factory=list)

    def add(self, id: str, title: str, level: int = 1) -> Chapter:
        ch = Chapter(id, title, level)
        self.chapters.append(ch)
        return ch


PARTS = ("guidebook", "leaflets")


def render(project: Project, site: Site, options, parts: tuple[str, ...] = PARTS) -> list[Artifact]:
    from ..build import OutputSkipped

    try:
        executable = find_browser(getattr(options, "browser", None))
    except BrowserNotFound as exc:
        message = str(exc)
        if INSTALL_HINT not in message:
            message = f"{message}; {INSTALL_HINT}"
        raise OutputSkipped(f"pdf: {message}") from exc

    env = make_environment(project, site.settings.theme, "print")
    today = options.today
    book = contents(site)
    results: dict[str, bytes] = {}

    with tempfile.TemporaryDirectory(prefix="sitegen-pdf-") as tmp:
        work = Path(tmp)
        for name in site.assets:
            if name.lower().endswith((".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")):
                dest = work / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(project.content / name, dest)
        css = env.get_template("print.css").render(_context(site, today, book=book))
        (work / "print.css").write_text(css, encoding="utf-8")

        def write(name: str, template: str, **ctx) -> Path:
            html = env.get_template(template).render(_context(site, today, **ctx))
            path = work / name
            path.write_text(html, encoding="utf-8")
            return path

        def guidebook(printer: print_pdf.Printer) -> None:
            titles = [c.title for c in book.chapters]
            previous: list[int | None] | None = None
            for _ in range(MAX_TOC_PASSES):
                data = printer.pdf(write("guidebook.html", "guidebook.html", book=book))
                pages = print_pdf.find_pages(data, titles)
                missing = [t for t, p in zip(titles, pages) if p is None]
                if missing:
                    raise SitegenError(f"pdf: guidebook headings not found in the printed PDF: {', '.join(missing)}")
                if pages == previous:
                    break
                for ch, page in zip(book.chapters, pages):
                    ch.page = page
                previous = pages
            else:
                raise SitegenError("pdf: the guidebook's table of contents did not settle (page numbers keep moving)")
            results["guidebook.pdf"] = print_pdf.finalise(
                data, title=f"{site.hospital.name} 地域医療連携ガイドブック", date=today,
                author=f"{site.hospital.name} {site.office.name}", subject="連携医療機関向けガイドブック")

        def leaflets(printer: print_pdf.Printer) -> None:
            for d in site.departments:
                data = printer.pdf(write(f"leaflet-{d.slug}.html", "leaflet.html", department=d))
                results[f"leaflets/{d.slug}.pdf"] = print_pdf.finalise(
                    data, title=f"{d.name}のご案内 — {site.hospital.name}", date=today,
                    author=f"{site.hospital.name} {site.office.name}", subject=d.summary)

        try:
            jobs = {"guidebook": guidebook, "leaflets": leaflets}
            print_pdf.print_all(executable, [jobs[p] for p in parts])
        except SitegenError:
            raise
        except Exception as exc:  # the browser failed: report, leave the previous build/pdf alone
            raise SitegenError(f"pdf: printing with {executable} failed: {exc}") from exc

    out = []
    if "guidebook" in parts:
        out.append(Artifact("guidebook.pdf", results["guidebook.pdf"], ("site.yaml",)))
    for d in site.departments if "leaflets" in parts else ():
        out.append(Artifact(f"leaflets/{d.slug}.pdf", results[f"leaflets/{d.slug}.pdf"], (d.source,)))
    return out


def contents(site: Site) -> Guidebook:
    """The guidebook's chapters, in print order: what the table of contents lists."""
    book = Guidebook()
    book.add("overview", "病院の概要")
    book.add("contacts", "お問い合わせ・受付時間")
    for g in site.guides:
        book.add(f"guide-{g.slug}", g.title)
    book.add("departments", "診療科のご案内")
    for d in site.departments:
        book.add(f"dept-{d.slug}", d.name, level=2)
    if site.featured:
        book.add("featured", "注目のドクター")
    book.add("access", "交通アクセス")
    return book


def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (vector, sharp at any print size)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    text = img.to_string(encoding="unicode")
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    text = text.replace("<svg ", '<svg class="qr-svg" role="img" aria-label="QRコード" ', 1)
    return Markup(text)


HREF = re.compile(r'(<a\b[^>]*?\shref=")([^"]*)(")')


def absolute_links(html: str, page_url: str) -> Markup:
    """Body HTML written for a web page, with its relative links made absolute
    (a printed link must lead to the website, not to a temporary file)."""
    from urllib.parse import urljoin

    def fix(m: re.Match) -> str:
        href = m.group(2)
        if not href or href.startswith("#") or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            return m.group(0)
        return m.group(1) + urljoin(page_url, href.replace("&amp;", "&")).replace("&", "&amp;") + m.group(3)

    return Markup(HREF.sub(fix, str(html)))


def css_string(text: str) -> Markup:
    """A CSS string literal, for `content:` in @page margin boxes."""
    escaped = "".join(ch if ch.isalnum() or ch in " ・（）()、。-_/" or ord(ch) > 0x7F else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{escaped}"')


def _context(site: Site, today, **extra) -> dict:
    base = site.settings.base_url

    def abs_url(kind: str, slug: str | None = None) -> str:
        return urls.absolute(base, urls.page_path(kind, slug))

    ctx = {
        "site": site,
        "edition": today,
        "abs_url": abs_url,
        "qr": qr_svg,
        "file": lambda name: name,  # content images are copied next to the HTML
        "css_string": css_string,
        "absolute_links": absolute_links,
    }
    ctx.update(extra)
    return ctx
