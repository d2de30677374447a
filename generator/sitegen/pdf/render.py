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

import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Callable

import jinja2
from markupsafe import Markup

from sitegen import seal, urls
from sitegen.artifacts import Artifact, Rendered, RenderOptions
from sitegen.chromium import INSTALL_HINT, BrowserNotFound, find_browser
from sitegen.content.brochure_settings import PAPER_MM
from sitegen.content.site import Site
from sitegen.errors import Location, OutputSkipped, Problem, SitegenError, disk_error
from sitegen.pdf import fonts, images, printer
from sitegen.pdf import press as press_kit
from sitegen.pdf.book import Guidebook, contents
from sitegen.pdf.markup import absolute_links, css_string, local_images, paragraphs, qr_svg
from sitegen.pdf.memo import PrintMemo, digest, machine
from sitegen.project import Project, read_state, write_state
from sitegen.templates import make_environment, theme_mistake
from sitegen.write import remove_orphans

MAX_TOC_PASSES = 4
PRINTS = "pdf-prints"  # what printing made, kept for the next build in .sitegen/ (pdf/memo.py)
SHEET_SIZES = (9.0, 8.5, 8.0)  # pt of the one-page schedule, tried until it fits; 8 pt is the floor (a fax keeps it)



def render(project: Project, site: Site, options: RenderOptions, parts: tuple[str, ...] | None = None) -> Rendered:
    """The guidebook and the leaflets (or only `parts`), printed by one browser."""
    settings = site.config.brochures
    if parts is None:
        parts = tuple(p for p, on in (("schedule", settings.schedule.enabled),
                                      ("guidebook", settings.guidebook.enabled),
                                      ("leaflets", settings.leaflets.enabled),
                                      ("form", True)) if on)
    if not any(d.schedule for d in site.departments):
        parts = tuple(p for p in parts if p != "schedule")  # nothing to put on the sheet
    if not site.equipment:
        parts = tuple(p for p in parts if p != "form")  # no exams to book: no 検査予約申込書
    with_press = options.press or settings.press
    book = contents(site)
    try:
        executable = find_browser(options.browser)
    except BrowserNotFound as exc:
        message = str(exc)
        if INSTALL_HINT not in message:
            message = f"{message}; {INSTALL_HINT}"
        raise OutputSkipped(f"pdf: {message}") from exc
    try:
        faces = fonts.font_faces()
    except fonts.FontsMissing as exc:
        raise OutputSkipped(f"pdf: {exc}") from exc
    fonts_used = frozenset(re.findall(r'url\("(file:[^"]+)"\)', str(faces)))  # the print browser may read these
    state = project.state_file(PRINTS)  # what the last build printed, scaled and finished (pdf/memo.py)
    kept = PrintMemo(state, seal.key(project) if state is not None else None, machine(executable, fonts_used))

    env = make_environment(project, site.settings.theme, "print")
    today = options.today
    width, height = PAPER_MM[settings.paper]
    results: dict[str, bytes] = {}
    out = Rendered()
    report_progress = options.progress
    total = ("guidebook" in parts) + ("schedule" in parts) + ("form" in parts) + (
        len(site.departments) if "leaflets" in parts else 0)
    done = 0

    lock = threading.RLock()  # the jobs run on several browsers at once (printer.print_all)
    warned: dict[str, list[Problem]] = {}  # job -> its warnings, reported in job order whichever finished first

    def tick(item: str) -> None:
        nonlocal done
        with lock:
            done += 1
            if report_progress:
                report_progress("pdf", done, total, item)

    def warn(job: str, problem: Problem) -> None:
        with lock:
            warned.setdefault(job, []).append(problem)

    meta = {"author": f"{site.hospital.name} {site.office.name}", "date": today}

    primary = fonts.coverage(fonts.FACES)
    fallback = set().union(*(fonts.coverage((f,)) or set() for f in fonts.FALLBACKS))
    printed: set[str] = set()  # every character of the print HTML

    def qr(url: str) -> Markup:
        """The URL's QR code (`markup.qr_svg`), kept between builds: choosing its mask is most of rendering the
        guidebook."""
        return Markup(kept.made(["qr", url], lambda: qr_svg(url).encode("utf-8")).decode("utf-8"))

    def finish(data: bytes, info: dict, name: str, press: bool = False,
               forms: tuple[int, list[Path]] | None = None) -> bytes:
        """The printed PDF ready to publish (`_finish`), with the pages of the `forms` inserted after page
        `forms[0]`; kept between builds: the same print, forms and settings make the same bytes."""
        with lock:
            text = "".join(printed)
        _, unprintable = fonts.missing_glyphs(text, primary, fallback)
        tolerate = bool(unprintable)

        def make() -> bytes:
            doc: bytes | printer.PdfWriter = data
            if forms is not None:
                doc = printer.document(data)  # changed and written once, by _finish
                printer.insert_pages(doc, forms[0], forms[1], (width, height),
                                     bleed_mm=press_kit.BLEED_MM if press else 0.0)
            return _finish(doc, info, name, press, tolerate_type3=tolerate)

        parts = ["finished", digest(data), repr(sorted(info.items())), repr((press, tolerate, width, height))]
        if forms is not None:
            parts += [str(forms[0]), *(digest(f.read_bytes()) for f in forms[1])]
        return kept.made(parts, make)

    remove_orphans(Path(tempfile.gettempdir()), "sitegen-pdf-")  # left by a build that was killed
    # a folder that cannot be removed at once (after Ctrl-C, a browser may still be writing into it) is left for the
    # next build's remove_orphans: the error that stopped this one is the one reported
    with tempfile.TemporaryDirectory(prefix=f"sitegen-pdf-{os.getpid()}-", ignore_cleanup_errors=True) as tmp:
        work = Path(tmp)
        print_images: set[str] = set()  # the content images scaled for print, prepared while the browsers start

        sheet_prints: dict[tuple[float, float], tuple[bytes, float]] = {}  # paper -> the sheet and the pt it fits at
        sheet_locks: dict[tuple[float, float], threading.Lock] = {}  # one per paper (setdefault is atomic)

        def write(name: str, template: str, bleed: float = 0.0, sheet_paper: tuple[float, float] = (width, height),
                  sheet_pt: float = SHEET_SIZES[0], **ctx) -> Path:
            context = _context(site, today, print_images, qr, **ctx)
            css_name = f"print-{bleed:g}-{sheet_paper[0]:g}.css"  # the sheet's size is set in the page (--sheet-pt)
            with lock:  # written once, before any browser reads it
                if not (work / css_name).exists():
                    css = env.get_template("print.css").render(
                        context, book=book, fonts=faces, fallback_fonts=Markup(fonts.STACK), paper=(width, height),
                        bleed=bleed, sheet_paper=sheet_paper, sheet_pt=SHEET_SIZES[0])
                    (work / css_name).write_text(css, encoding="utf-8")
            html = env.get_template(template).render(context, stylesheet=css_name, bleed=bleed, sheet_pt=sheet_pt)
            with lock:
                printed.update(html)
            path = work / name
            path.write_text(html, encoding="utf-8")
            return path

        def fit_sheet(browser: printer.Printer, paper: tuple[float, float]) -> tuple[bytes, float]:
            """The standalone sheet at the largest size that fits one page (or the smallest, reported)."""
            with sheet_locks.setdefault(paper, threading.Lock()):
                if paper not in sheet_prints:  # the guidebook's sheet and the standalone one on the same paper
                    sheet_prints[paper] = _fit_sheet(browser, paper)
                return sheet_prints[paper]

        def _fit_sheet(browser: printer.Printer, paper: tuple[float, float]) -> tuple[bytes, float]:
            data = b""
            for pt in SHEET_SIZES:
                data = browser.pdf(write(f"schedule-{paper[0]:g}-{pt:g}.html", "schedule.html",
                                         sheet_paper=paper, sheet_pt=pt))
                if printer.page_count(data) == 1:
                    return data, pt
            warn("schedule", Problem(Location("content/schedules"), "", (
                f"the one-page 外来担当医表 does not fit on one {'A3' if paper[0] > 250 else 'A4'} landscape page even at "
                f"{SHEET_SIZES[-1]:g} pt; it is printed on {printer.page_count(data)} pages (brochures.schedule.paper: A3 "
                "fits more)"), "warning"))
            return data, SHEET_SIZES[-1]

        def schedule(browser: printer.Printer) -> None:
            paper = PAPER_MM[settings.schedule.paper]
            data, _ = fit_sheet(browser, paper)
            info = dict(meta, title=f"{site.hospital.name} 外来担当医表（全診療科）", subject="外来担当医表")
            results["schedule.pdf"] = finish(data, info, "schedule.pdf")
            tick("schedule.pdf")

        book_sheet = "guidebook" in parts and any(s.kind == "schedule" for s in book.sections)

        def book_sheet_pt(browser: printer.Printer, draft: bool = False) -> float:
            """The size the guidebook's 外来担当医表 page is printed at. A draft (which only finds the pages) takes
            the smallest: the sheet is one page at any size that fits, or at the smallest if none does, so the
            pages fall as in the end; meanwhile another browser fits the sheet (fit_book_sheet)."""
            if not book_sheet:
                return SHEET_SIZES[0]
            if draft:
                return SHEET_SIZES[-1]
            return fit_sheet(browser, (width, height))[1]  # fitted once, here, by fit_book_sheet or the schedule job

        def fit_book_sheet(browser: printer.Printer) -> None:
            fit_sheet(browser, (width, height))

        def guidebook(browser: printer.Printer) -> None:
            form_files, inserted = [], 0
            for f, _ in book.forms:
                try:
                    pages = printer.page_count((project.content / f.file).read_bytes())
                except Exception:  # noqa: BLE001 - a form that is no readable PDF is left out, with a warning
                    pages = 0
                if pages < 1:
                    warn("guidebook", Problem(Location(f"content/{f.file}"), "", (
                        "cannot be read as a PDF: left out of the guidebook's 様式集 (the website still links it)"),
                        "warning"))
                    continue
                form_files.append(project.content / f.file)
                inserted += pages

            def memo_for(pages: int) -> int:
                """メモ pages that make a 中綴じ book's page count (with the forms merged in) a multiple of 4."""
                return -(pages + inserted) % 4 if settings.guidebook.saddle_stitch else 0

            pages_file = project.state_file("guidebook-pages.json")
            data, memo_pages = _settle_toc(browser, book, lambda memo, draft: write(
                "guidebook.html", "guidebook.html", book=book, sheet_pt=book_sheet_pt(browser, draft), memo_pages=memo),
                memo_for, _read_pages(pages_file, book, with_press))
            sheet_pt = book_sheet_pt(browser)
            _keep_pages(pages_file, book, memo_pages, with_press)
            # the forms' pages go after the appendix's own pages, i.e. before the メモ pages and the back cover
            appendix = printer.page_count(data) - memo_pages - 1 if book.forms else None
            forms = (appendix, form_files) if form_files and appendix else None
            info = dict(meta, title=f"{site.hospital.name} {book.title}", subject="連携医療機関向けガイドブック")
            results["guidebook.pdf"] = finish(data, info, "guidebook.pdf", forms=forms)
            pages = printer.page_count(results["guidebook.pdf"]) if forms is not None else 0
            if settings.guidebook.saddle_stitch and pages % 4:
                warn("guidebook", Problem(Location("site.yaml"), "brochures.guidebook.saddle_stitch", (
                    f"the guidebook has {pages} pages, not a multiple of 4, although {memo_pages} メモ page(s) "
                    "were added; check the print before ordering 中綴じ"), "warning"))
            if with_press:
                press_print = browser.pdf(write("guidebook-press.html", "guidebook.html", bleed=press_kit.BLEED_MM,
                                                book=book, sheet_pt=sheet_pt, memo_pages=memo_pages))
                _check_same_pages(book, press_print)
                results["press/guidebook.pdf"] = finish(press_print, info, "press/guidebook.pdf", press=True,
                                                        forms=forms)
            tick("guidebook.pdf")

        def equipment_form(browser: printer.Printer) -> None:
            """The FAX 検査予約申込書 generated from content/equipment: one A4 page (reported if it needs more)."""
            data = browser.pdf(write("equipment-form.html", "equipment_form.html"))
            pages = printer.page_count(data)
            if pages > 1:
                warn("form", Problem(Location("content/equipment"), "", (
                    f"the 検査予約申込書 needs {pages} pages, not one: shorten the exams' options or deadlines"),
                    "warning"))
            info = dict(meta, title=f"{site.hospital.name} 検査予約申込書（共同利用）", subject="検査予約申込書")
            pdf = finish(data, info, "equipment-form.pdf")
            with lock:
                results["equipment-form.pdf"] = pdf
            tick("equipment-form.pdf")

        def leaflet(d) -> Callable[[printer.Printer], None]:
            def job(browser: printer.Printer) -> None:
                limit = settings.leaflets.max_pages
                info = dict(meta, title=f"{d.name}のご案内 — {site.hospital.name}", subject=d.summary)
                data, dense = _fit_leaflet(browser, limit, lambda dense, bleed=0.0: write(
                    f"leaflet-{d.slug}.html", "leaflet.html", bleed=bleed, department=d, dense=dense))
                pages = printer.page_count(data)
                if pages > limit:
                    warn(f"leaflet-{d.slug}", Problem(Location(d.source), "", (
                        f"the leaflet of {d.name} needs {pages} pages (brochures.leaflets.max_pages: {limit}); "
                        "shorten its lists or raise max_pages"), "warning"))
                done_pdf = finish(data, info, f"leaflets/{d.slug}.pdf")
                pressed = None
                if with_press:
                    pressed = finish(browser.pdf(write(f"leaflet-{d.slug}-press.html", "leaflet.html",
                                                       bleed=press_kit.BLEED_MM, department=d, dense=dense)),
                                     info, f"press/leaflets/{d.slug}.pdf", press=True)
                with lock:
                    results[f"leaflets/{d.slug}.pdf"] = done_pdf
                    if pressed is not None:
                        results[f"press/leaflets/{d.slug}.pdf"] = pressed
                tick(f"leaflets/{d.slug}.pdf")
            return job

        # the longest job first, so the browsers finish together
        jobs: list[Callable[[printer.Printer], None]] = []
        if "guidebook" in parts:
            jobs.append(guidebook)
        workers = printer.print_workers()
        if workers > 2 and book_sheet and not ("schedule" in parts
                                               and PAPER_MM[settings.schedule.paper] == (width, height)):
            jobs.append(fit_book_sheet)  # on a browser of its own while the guidebook's first print runs (with
            # two cores the extra browser's start costs more than the fitting it takes off the guidebook)
        if "schedule" in parts:
            jobs.append(schedule)
        if "form" in parts:
            jobs.append(equipment_form)
        if "leaflets" in parts:
            jobs.extend(leaflet(d) for d in site.departments)
        try:
            def prepare() -> None:
                """While the browsers start: the images scaled for print, and the guidebook rendered once (its QR
                codes are the slow part of rendering, and are kept for the job's own renders)."""
                print_images.update(images.prepare(project.content, site, work, width, kept))
                if "guidebook" in parts:
                    write("guidebook-warm.html", "guidebook.html", book=book, memo_pages=0,
                          sheet_pt=SHEET_SIZES[-1] if book_sheet else SHEET_SIZES[0])

            printer.print_all(executable, jobs, fonts_used, workers=workers, prepare=prepare, memo=kept)
            kept.save()
        except (SitegenError, jinja2.TemplateError):
            raise  # content and theme mistakes are reported as such (build.run turns template errors into file:line)
        except Exception as exc:  # the browser failed: report, leave the previous build/pdf alone
            refused = disk_error(exc, work)  # the temporary folder's disk is full or read-only
            if refused is not None:
                raise SitegenError(f"pdf: {refused}") from exc
            mistake = theme_mistake(exc, project)  # unless the site's own print templates did
            if mistake is not None:
                raise mistake from exc
            raise SitegenError(f"pdf: printing with {executable} failed: {exc}") from exc

    for job in ["schedule", "guidebook", "form"] + [f"leaflet-{d.slug}" for d in site.departments]:
        out.warnings.extend(warned.get(job, []))
    out.warnings.extend(_glyph_warnings(project, printed, primary, fallback))
    sources = {"guidebook.pdf": ("site.yaml",),
               "equipment-form.pdf": tuple(e.source for e in site.equipment),
               "schedule.pdf": tuple(d.schedule.source for d in site.departments if d.schedule)}
    sources.update({f"leaflets/{d.slug}.pdf": (d.source,) for d in site.departments})
    for name in sorted(results, key=lambda n: (n.startswith("press/"), n.startswith(("leaflets/", "press/leaflets/")), n)):
        out.artifacts.append(Artifact(name, results[name], sources.get(name.removeprefix("press/"), ("site.yaml",))))
    out.counts["PDFs"] = len(results)
    return out


def _settle_toc(browser, book: Guidebook, write_html, memo_for,
                guess: tuple[list[int], int] | None = None) -> tuple[bytes, int]:
    """Print until the table of contents shows the pages its chapters are really on, with as many メモ pages
    (before the back cover, after every chapter: they move no chapter) as `memo_for(pages without them)` asks.

    With no `guess` the first print is a draft: untagged, in about half the time, its chapters found through the
    contents' links (an untagged PDF has no outline), since only the pages matter. `guess`: the pages and メモ
    pages the last build settled on; when they still hold, one print is enough.
    """
    titles = [c.title for c in book.chapters]
    ids = [c.id for c in book.chapters]
    listed = [c.in_toc for c in book.chapters]  # the chapters whose page the contents print

    def shown(pages: list[int | None]) -> list[int | None]:
        return [p for p, on in zip(pages, listed) if on]

    previous: list[int | None] | None = None
    memo = 0
    draft = guess is None
    if guess is not None:
        for ch, guessed in zip(book.chapters, guess[0]):
            ch.page = guessed
        previous, memo = shown(list(guess[0])), guess[1]
    for _ in range(MAX_TOC_PASSES):
        data = browser.pdf(write_html(memo, draft), tagged=not draft)
        pages = printer.destination_pages(data, ids) if draft else printer.find_pages(data, titles)
        missing = [t for t, p, on in zip(titles, pages, listed) if p is None and (on or not draft)]
        if missing:
            raise SitegenError(f"pdf: guidebook headings not found in the printed PDF: {', '.join(missing)}")
        wanted = memo_for(printer.page_count(data) - memo)
        settled = shown(pages) == previous and wanted == memo and not draft
        for ch, page in zip(book.chapters, pages):
            ch.page = page
        if settled:
            return data, memo
        previous, memo, draft = shown(pages), wanted, False
    raise SitegenError("pdf: the guidebook's table of contents did not settle (page numbers keep moving)")


def _pages_key(book: Guidebook, press: bool) -> list:
    return [press] + [[c.id, c.title] for c in book.chapters]


def _read_pages(path: Path | None, book: Guidebook, press: bool) -> tuple[list[int], int] | None:
    """The chapter pages the last build of the same chapters settled on (.sitegen/guidebook-pages.json)."""
    kept = read_state(path)
    try:
        if kept and kept["chapters"] == _pages_key(book, press) and all(isinstance(p, int) for p in kept["pages"]):
            return [int(p) for p in kept["pages"]], int(kept["memo"])
    except (ValueError, KeyError, TypeError):
        pass  # no guess: the table of contents is settled from scratch
    return None


def _keep_pages(path: Path | None, book: Guidebook, memo: int, press: bool) -> None:
    if path is not None:  # only a guess for the next build
        write_state(path, {"chapters": _pages_key(book, press), "pages": [c.page for c in book.chapters], "memo": memo})


def _check_same_pages(book: Guidebook, data: bytes) -> None:
    """The press edition has the same type area: its chapters must fall on the same pages."""
    pages = printer.find_pages(data, [c.title for c in book.chapters])
    moved = [c.title for c, p in zip(book.chapters, pages) if p != c.page]
    if moved:
        raise SitegenError(f"pdf: in the press edition these chapters moved to other pages: {', '.join(moved)}")


def _fit_leaflet(browser, limit: int, write_html) -> tuple[bytes, bool]:
    """One page if the leaflet fits, else the denser layout if that fits better, within `limit` pages."""
    data = browser.pdf(write_html(False))
    pages = printer.page_count(data)
    if pages == 1:
        return data, False
    dense = browser.pdf(write_html(True))
    dense_pages = printer.page_count(dense)
    if dense_pages == 1 or dense_pages < pages and pages > limit:
        return dense, True
    return data, False


def _finish(data: bytes | printer.PdfWriter, info: dict, name: str, press: bool = False,
            tolerate_type3: bool = False) -> bytes:
    problems = printer.font_problems(data)
    if tolerate_type3:  # a character no print font has came from a system font: warned about, not fatal
        problems = [p for p in problems if not p.endswith("is a Type 3 font")]
    if problems:
        raise SitegenError(f"pdf: {name}: {'; '.join(problems)} (print shops reject these); {fonts.FONT_HINT}")
    return printer.finalise(data, **info, press=press)


PRINTED_FOLDERS = ("departments", "doctors", "schedules", "guides", "equipment", "pathways")


def _glyph_warnings(project: Project, printed: set[str], primary, fallback) -> list[Problem]:
    """A warning, at its file and line, for each printed character the print font BIZ UD does not have."""
    substituted, unprintable = fonts.missing_glyphs("".join(printed), primary, fallback)
    if not substituted and not unprintable:
        return []
    # only the files the brochures print from: not news, newsletters or content/clinics.csv, whose text a warning
    # about printing would send the office to in vain
    files = [project.root / "site.yaml", project.content / "qualifications.yaml"] + sorted(
        p for folder in PRINTED_FOLDERS for p in (project.content / folder).rglob("*")
        if p.suffix in (".md", ".yaml", ".yml") and p.is_file())
    texts = {}
    for path in files:
        if project.inside(path):
            try:
                texts[project.rel(path)] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    out = []
    for ch in substituted + unprintable:
        where = []
        written = _written_as(ch)
        for rel, text in texts.items():
            found = written.search(text)
            if found is not None:
                where.append(Location(rel, text[:found.start()].count("\n") + 1))
        name = f"「{ch}」(U+{ord(ch):04X})"
        if ch in substituted:
            message = (f"{name} is not in the print font BIZ UD; the PDFs print it from HanaMin (明朝), "
                       "so it looks different from the text around it: check the proof")
        else:
            message = (f"{name} is in no print font (BIZ UD, HanaMin); the PDFs print it from a system font "
                       "that print shops may reject (Type 3): remove it or write it another way (for a rare kanji, "
                       "install HanaMin: Debian fonts-hanazono)")
        for loc in where[:3] or [Location("content")]:
            out.append(Problem(loc, "", message, "warning"))
    return out


def _written_as(ch: str) -> re.Pattern:
    """How `ch` can be written in a content file: itself, an escape in a quoted YAML value ("\\ue000",
    "\\U0000E000", "\\xe9"), or an HTML character reference in Markdown (&#xE000;, &#57344;)."""
    code = ord(ch)
    forms = [re.escape(ch), rf"\\u{code:04x}" if code <= 0xFFFF else "", rf"\\U{code:08x}",
             rf"\\x{code:02x}" if code <= 0xFF else "", rf"&#x0*{code:x};", rf"&#0*{code};"]
    return re.compile("|".join(f for f in forms if f), re.I)


def _context(site: Site, today, images: set[str], qr: Callable[[str], Markup], **extra) -> dict:
    base = site.settings.base_url

    def abs_url(kind: str, slug: str | None = None) -> str:
        return urls.absolute(base, urls.page_path(kind, slug))

    ctx = {
        "site": site,
        "edition": today,
        "abs_url": abs_url,
        "page_path": urls.page_path,
        "qr": qr,
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
