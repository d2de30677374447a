"""Site -> printable PDF brochures: the 連携ガイドブック and one leaflet per department.

The same models as the website, rendered through the theme's print templates
(`themes/<name>/print/`) into a temporary folder with the content images scaled
for print, then printed by one Chromium (print_pdf). The guidebook's table of
contents gets real page numbers: print, read each chapter's page from the PDF
outline, write the numbers in, print again and check that nothing moved.
With `--press` (or `brochures.press`) a print-shop edition with bleed and トンボ
is written to `press/` as well.
"""
from __future__ import annotations

import re
import tempfile
from html import escape as html_escape
from pathlib import Path

import jinja2
from markupsafe import Markup

from sitegen import urls
from sitegen.artifacts import Artifact, Artifacts
from sitegen.chromium import INSTALL_HINT, BrowserNotFound, find_browser
from sitegen.content.assemble import Site
from sitegen.content.brochure_settings import PAPER_MM
from sitegen.errors import Location, Problem, SitegenError
from sitegen.pdf import fonts as print_fonts
from sitegen.pdf import images as print_assets
from sitegen.pdf import press as print_press
from sitegen.pdf import printer as print_pdf
from sitegen.pdf.book import Guidebook, contents
from sitegen.project import Project
from sitegen.templates import make_environment

MAX_TOC_PASSES = 4

__all__ = ["render", "contents", "qr_svg"]


def render(project: Project, site: Site, options, parts: tuple[str, ...] | None = None) -> Artifacts:
    from sitegen.build import OutputSkipped

    settings = site.config.brochures
    if parts is None:
        parts = tuple(p for p, on in (("guidebook", settings.guidebook.enabled),
                                      ("leaflets", settings.leaflets.enabled)) if on)
    press = bool(getattr(options, "press", False) or settings.press)
    book = contents(site)
    try:
        executable = find_browser(getattr(options, "browser", None))
    except BrowserNotFound as exc:
        message = str(exc)
        if INSTALL_HINT not in message:
            message = f"{message}; {INSTALL_HINT}"
        raise OutputSkipped(f"pdf: {message}") from exc
    try:
        faces = print_fonts.font_faces()
    except print_fonts.FontsMissing as exc:
        raise OutputSkipped(f"pdf: {exc}") from exc

    env = make_environment(project, site.settings.theme, "print")
    today = options.today
    width, height = PAPER_MM[settings.paper]
    results: dict[str, bytes] = {}
    out = Artifacts()
    report_progress = getattr(options, "progress", None)
    total = ("guidebook" in parts) + (len(site.departments) if "leaflets" in parts else 0)
    done = 0

    def tick(item: str) -> None:
        nonlocal done
        done += 1
        if report_progress:
            report_progress("pdf", done, total, item)

    meta = {"author": f"{site.hospital.name} {site.office.name}", "date": today}

    with tempfile.TemporaryDirectory(prefix="sitegen-pdf-") as tmp:
        work = Path(tmp)
        images = print_assets.prepare(project.content, site, work, width)

        def write(name: str, template: str, bleed: float = 0.0, **ctx) -> Path:
            context = _context(site, today, images, **ctx)
            css_name = f"print-{bleed:g}.css"
            if not (work / css_name).exists():
                css = env.get_template("print.css").render(
                    context, book=book, fonts=faces, paper=(width, height), bleed=bleed)
                (work / css_name).write_text(css, encoding="utf-8")
            html = env.get_template(template).render(context, stylesheet=css_name, bleed=bleed)
            path = work / name
            path.write_text(html, encoding="utf-8")
            return path

        def guidebook(printer: print_pdf.Printer) -> None:
            data = _settle_toc(printer, book, lambda: write("guidebook.html", "guidebook.html", book=book))
            info = dict(meta, title=f"{site.hospital.name} {book.title}", subject="連携医療機関向けガイドブック")
            results["guidebook.pdf"] = _finish(data, info, "guidebook.pdf")
            if press:
                pressed = printer.pdf(write("guidebook-press.html", "guidebook.html", bleed=print_press.BLEED_MM,
                                            book=book))
                _check_same_pages(book, pressed)
                results["press/guidebook.pdf"] = _finish(pressed, info, "press/guidebook.pdf", press=True)
            tick("guidebook.pdf")

        def leaflets(printer: print_pdf.Printer) -> None:
            limit = settings.leaflets.max_pages
            for d in site.departments:
                info = dict(meta, title=f"{d.name}のご案内 — {site.hospital.name}", subject=d.summary)
                data, dense = _fit_leaflet(printer, limit, lambda dense, bleed=0.0: write(
                    f"leaflet-{d.slug}.html", "leaflet.html", bleed=bleed, department=d, dense=dense))
                pages = print_pdf.page_count(data)
                if pages > limit:
                    out.warnings.append(Problem(Location(d.source), "", (
                        f"the leaflet of {d.name} needs {pages} pages (brochures.leaflets.max_pages: {limit}); "
                        "shorten its lists or raise max_pages"), "warning"))
                results[f"leaflets/{d.slug}.pdf"] = _finish(data, info, f"leaflets/{d.slug}.pdf")
                if press:
                    pressed = printer.pdf(write(f"leaflet-{d.slug}-press.html", "leaflet.html",
                                                bleed=print_press.BLEED_MM, department=d, dense=dense))
                    results[f"press/leaflets/{d.slug}.pdf"] = _finish(pressed, info, f"press/leaflets/{d.slug}.pdf",
                                                                      press=True)
                tick(f"leaflets/{d.slug}.pdf")

        jobs = {"guidebook": guidebook, "leaflets": leaflets}
        try:
            print_pdf.print_all(executable, [jobs[p] for p in parts])
        except (SitegenError, jinja2.TemplateError):
            raise  # content and theme mistakes are reported as such (build.run turns template errors into file:line)
        except Exception as exc:  # the browser failed: report, leave the previous build/pdf alone
            raise SitegenError(f"pdf: printing with {executable} failed: {exc}") from exc

    sources = {"guidebook.pdf": ("site.yaml",)}
    sources.update({f"leaflets/{d.slug}.pdf": (d.source,) for d in site.departments})
    for name in sorted(results, key=lambda n: (n.startswith("press/"), n != "guidebook.pdf", n)):
        out.append(Artifact(name, results[name], sources.get(name.removeprefix("press/"), ("site.yaml",))))
    return out


def _settle_toc(printer, book: Guidebook, write_html) -> bytes:
    """Print until the table of contents shows the pages its chapters are really on."""
    titles = [c.title for c in book.chapters]
    previous: list[int | None] | None = None
    for _ in range(MAX_TOC_PASSES):
        data = printer.pdf(write_html())
        pages = print_pdf.find_pages(data, titles)
        missing = [t for t, p in zip(titles, pages) if p is None]
        if missing:
            raise SitegenError(f"pdf: guidebook headings not found in the printed PDF: {', '.join(missing)}")
        if pages == previous:
            return data
        for ch, page in zip(book.chapters, pages):
            ch.page = page
        previous = pages
    raise SitegenError("pdf: the guidebook's table of contents did not settle (page numbers keep moving)")


def _check_same_pages(book: Guidebook, data: bytes) -> None:
    """The press edition has the same type area: its chapters must fall on the same pages."""
    pages = print_pdf.find_pages(data, [c.title for c in book.chapters])
    moved = [c.title for c, p in zip(book.chapters, pages) if p != c.page]
    if moved:
        raise SitegenError(f"pdf: in the press edition these chapters moved to other pages: {', '.join(moved)}")


def _fit_leaflet(printer, limit: int, write_html) -> tuple[bytes, bool]:
    """One page if the leaflet fits, else the denser layout if that fits better, within `limit` pages."""
    data = printer.pdf(write_html(False))
    pages = print_pdf.page_count(data)
    if pages == 1:
        return data, False
    dense = printer.pdf(write_html(True))
    dense_pages = print_pdf.page_count(dense)
    if dense_pages == 1 or dense_pages < pages and pages > limit:
        return dense, True
    return data, False


def _finish(data: bytes, info: dict, name: str, press: bool = False) -> bytes:
    problems = print_pdf.font_problems(data)
    if problems:
        raise SitegenError(f"pdf: {name}: {'; '.join(problems)} (print shops reject these); {print_fonts.FONT_HINT}")
    return print_pdf.finalise(data, **info, press=press)


def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (vector, sharp at any print size)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
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


IMG = re.compile(r"<img\b[^>]*>")
SRC = re.compile(r'\ssrc="([^"]*)"')
ALT = re.compile(r'\salt="([^"]*)"')


def local_images(html: str, page_path: str, images: set[str]) -> Markup:
    """Body HTML with each image pointing at its print copy, or replaced by its alt text.

    The print HTML is opened from a temporary folder through file://: an image that is
    not one of the site's own (an absolute path, a path out of the site, a web address)
    must not be read or fetched, so only images copied for print (`images`) stay.
    """
    from urllib.parse import unquote, urljoin

    def fix(m: re.Match) -> str:
        tag = m.group(0)
        src = SRC.search(tag)
        name = ""
        if src and not re.match(r"^([a-z][a-z0-9+.-]*:|/)", src.group(1), re.I):
            name = unquote(urljoin(page_path, src.group(1).replace("&amp;", "&")))
        if name in images:
            return tag.replace(src.group(0), f' src="{html_escape(name)}"', 1)
        alt = ALT.search(tag)
        return f'<span class="image-alt">{alt.group(1)}</span>' if alt and alt.group(1) else ""

    return Markup(IMG.sub(fix, str(html)))


def css_string(text: str) -> Markup:
    """A CSS string literal, for `content:` in @page margin boxes."""
    escaped = "".join(ch if ch.isalnum() or ch in " ・（）()、。-_/" or ord(ch) > 0x7F else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{escaped}"')


def paragraphs(text: str) -> list[str]:
    """Plain text with blank lines between paragraphs -> the paragraphs."""
    from sitegen.mail.plaintext import CJK_BREAK

    # a line break between Japanese characters is no space; any other run of white space is one
    return [" ".join(CJK_BREAK.sub(r"\1\2", p).split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def _context(site: Site, today, images: set[str], **extra) -> dict:
    base = site.settings.base_url

    def abs_url(kind: str, slug: str | None = None) -> str:
        return urls.absolute(base, urls.page_path(kind, slug))

    ctx = {
        "site": site,
        "edition": today,
        "abs_url": abs_url,
        "page_path": urls.page_path,
        "qr": qr_svg,
        "file": lambda name: name,  # content images are copied next to the HTML
        "has_file": lambda name: name in images,
        "css_string": css_string,
        "absolute_links": absolute_links,
        "local_images": lambda html, page: local_images(html, page, images),
        "paragraphs": paragraphs,
        "dense": False,
    }
    ctx.update(extra)
    return ctx
