"""Chromium via Playwright: HTML files on disk -> PDF bytes, and reading PDFs back.

One browser per build (`Printer`), pages loaded from file:// (set_content blocks
local fonts), fonts and images awaited, `page.pdf` with the CSS page size, tagged
and with an outline. After printing, `finalise` makes the bytes reproducible:
dates from the build date, /ID from the content.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import unquote, urlsplit

from sitegen.chromium import launch
from sitegen.cores import workers
from sitegen.logs import quieted
from sitegen.pdf.memo import PrintMemo

if TYPE_CHECKING:
    from pypdf import PdfWriter

WAIT_JS = """async () => {
  for (const img of document.images) { img.loading = 'eager'; }
  await document.fonts.ready;
  await Promise.all(Array.from(document.images).map(img => img.complete && img.naturalWidth
    ? null : img.decode().catch(() => null)));
  await document.fonts.ready;
}"""


# A page with the same head (stylesheet, fonts) as the one loaded gets only its body swapped in: no new
# navigation, so the fonts are not loaded and sanitised again for each leaflet.
SWAP_JS = """(html) => {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  document.title = doc.title;
  document.body.replaceWith(document.adoptNode(doc.body));
}"""
_TITLE = re.compile(r"<title>.*?</title>", re.S)


def _head_key(html: str) -> str | None:
    """The document up to its <body>, without the title: pages with the same key share stylesheet and fonts."""
    at = html.find("<body")
    return _TITLE.sub("", html[:at], count=1) if at > 0 else None


def print_all(executable: str, jobs: list[Callable], allowed: frozenset[str] = frozenset(), workers: int = 1,
              prepare: Callable[[], None] | None = None, memo: PrintMemo | None = None) -> None:
    """Run `job(printer)` for each job, in order, on `workers` browsers, each driven by its own thread.

    `prepare` runs in the caller's thread while the browsers start; no job starts before it has finished.
    Each thread keeps Playwright's sync API away from any asyncio loop (or other Playwright session) of the
    caller. A job must only write results under its own keys; after the first failure no new job starts and
    that failure is raised here. With a `memo`, pages printed by an earlier build are taken from it (`Printer`).
    """
    queue = list(reversed(jobs))
    lock = threading.Lock()
    ready = threading.Event()
    errors: list[BaseException] = []

    def next_job() -> Callable | None:
        ready.wait()
        with lock:
            return queue.pop() if queue and not errors else None

    def work() -> None:
        try:
            with Printer(executable, allowed, memo) as printer:
                job = next_job()
                while job is not None:
                    job(printer)
                    job = next_job()
        except BaseException as exc:  # re-raised in the caller's thread
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, name=f"sitegen-pdf-{i}") for i in range(max(1, min(workers, len(jobs))))]
    for t in threads:
        t.start()
    try:
        if prepare is not None:
            prepare()
    except BaseException:
        with lock:
            queue.clear()
        raise
    finally:
        ready.set()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]


def print_workers() -> int:
    """Browsers to print with: one per core, at most 4 (SITEGEN_PDF_WORKERS overrides; 1 prints serially)."""
    return workers("SITEGEN_PDF_WORKERS")


class Printer:
    """One browser printing pages, one after another. With a `memo` (pdf/memo.py) a page printed before is taken
    from it, and the browser starts at the first page that is not (a build whose pages are all kept starts none);
    without one, or with an empty one, it starts at once, while the caller prepares the first pages."""

    def __init__(self, executable: str, allowed: frozenset[str] = frozenset(), memo: PrintMemo | None = None):
        self.executable = executable
        self.allowed = allowed  # file: URLs a page may load besides its own folder (the print fonts)
        self.memo = memo
        self._pw: Any = None

    def __enter__(self) -> "Printer":
        if self.memo is None or self.memo.empty:
            self._start()
        return self

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        try:
            self._browser = launch(pw, self.executable)
            # the print templates need no script; a page may read only its own folder (no file of the machine,
            # nothing from the network: print CSS url(), iframes and images from elsewhere are refused)
            self._page = self._browser.new_page(java_script_enabled=False)
            self._root: Path | None = None
            self._loaded: tuple[Path, str] | None = None  # the folder and head of the document in the page
            self._page.route("**/*", self._confine)
        except Exception:
            pw.stop()
            raise
        self._pw = pw

    def _confine(self, route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme == "data" or route.request.url in self.allowed or (
                url.scheme == "file" and self._root is not None
                and Path(unquote(url.path)).resolve().is_relative_to(self._root)):
            route.continue_()
        else:
            route.abort()

    def __exit__(self, *exc) -> None:
        if self._pw is None:
            return
        try:
            self._browser.close()
        finally:
            self._pw.stop()

    def pdf(self, html_file: Path, tagged: bool = True) -> bytes:
        """The page printed. `tagged=False` only to find where things fall (the page breaks are the same): a
        tagged PDF takes Chromium about twice as long."""
        html_file = html_file.resolve()
        html = html_file.read_text(encoding="utf-8")
        memo = self.memo
        if memo is not None:
            kept = memo.key(html_file, html, tagged)
            data = memo.get(kept)
            if data is not None:
                return data
        if self._pw is None:
            self._start()
        data = self._print(html_file, html, tagged)
        if memo is not None:
            memo.put(kept, data)
        return data

    def _print(self, html_file: Path, html: str, tagged: bool) -> bytes:
        """`html` (written at `html_file`, a resolved path) printed by the browser."""
        page = self._page
        root = html_file.parent
        key = _head_key(html)
        if key is not None and self._loaded == (root, key):
            page.evaluate(SWAP_JS, html)  # same folder, stylesheet and fonts: only the body changes
        else:
            self._root = root
            self._loaded = None
            page.goto(html_file.as_uri(), wait_until="load")
            self._loaded = (root, key) if key is not None else None
        page.evaluate(WAIT_JS)
        return page.pdf(tagged=tagged, outline=True, prefer_css_page_size=True, print_background=True)


# ------------------------------------------------------------- reading back --


def _quiet_pypdf():
    """Silence pypdf's warning about Chromium's trailer /Size (harmless, but printed to stderr)."""
    return quieted("pypdf", logging.ERROR)


def _reader(data: bytes):
    from pypdf import PdfReader

    with _quiet_pypdf():
        return PdfReader(io.BytesIO(data))


def chapter_pages(data: bytes) -> list[tuple[str, int]]:
    """(bookmark title, 1-based page) for every top-level outline entry, in document order.

    Chromium nests the outline by heading level: chapters are the <h1>s at the top, the
    headings inside them (a guide's own 「よくあるご質問」) are nested and left out, so a
    chapter is never matched against a sub-heading with the same words.
    """
    reader = _reader(data)
    return [(_norm(str(item.title)), reader.get_destination_page_number(item) + 1)
            for item in reader.outline if not isinstance(item, list)]


def find_pages(data: bytes, titles: list[str]) -> list[int | None]:
    """The page of each chapter title (in document order), matched against the top-level outline. Whitespace does
    not count: where a long heading wraps at a space, Chromium's outline entry has no space there (「… about referrals,
    appointments」 is 「… aboutreferrals, appointments」), and a heading is found all the same."""
    outline = [(_bare(title), page) for title, page in chapter_pages(data)]
    found: list[int | None] = []
    pos = 0
    for title in titles:
        want = _bare(title)
        for i in range(pos, len(outline)):
            if outline[i][0] == want:
                found.append(outline[i][1])
                pos = i + 1
                break
        else:
            found.append(None)
    return found


def destination_pages(data: bytes, names: list[str]) -> list[int | None]:
    """The page (1-based) of each named destination: the element ids that links in the document point to
    (in an untagged print, which has no outline, the contents' links to the chapters)."""
    reader = _reader(data)
    with _quiet_pypdf():
        found = {str(k).lstrip("/"): reader.get_destination_page_number(v) + 1
                 for k, v in reader.named_destinations.items()}
    return [found.get(name) for name in names]


def page_count(doc: "bytes | PdfWriter") -> int:
    return len((_reader(doc) if isinstance(doc, bytes) else doc).pages)


def font_problems(doc: "bytes | PdfWriter") -> list[str]:
    """Type 3 or unembedded fonts in the PDF (see print_fonts)."""
    from sitegen.pdf.fonts import font_problems as problems

    return problems(_reader(doc) if isinstance(doc, bytes) else doc)


def document(data: bytes) -> "PdfWriter":
    """The printed PDF opened for changes (insert_pages), then written once by `finalise`: a book is parsed and
    written once, not once per change."""
    from pypdf import PdfWriter

    reader = _reader(data)
    with _quiet_pypdf():
        return PdfWriter(clone_from=reader)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _bare(text: str) -> str:
    """`text` without any whitespace (spaces, full-width spaces, line breaks), to match headings."""
    return "".join(text.split())


def insert_pages(writer: "PdfWriter", after: int, files: list, paper_mm: tuple[float, float],
                 bleed_mm: float = 0.0) -> None:
    """Every page of the PDF `files` inserted after page `after` (1-based) of `writer`, each fitted (scaled,
    centred) to the book's paper, on a page larger by the bleed on every side in the press edition."""
    from pypdf import PageObject, PdfReader, Transformation

    pt = 72 / 25.4
    width, height, pad = paper_mm[0] * pt, paper_mm[1] * pt, bleed_mm * pt
    with _quiet_pypdf():
        at = after
        for file in files:
            for page in PdfReader(str(file)).pages:
                box = page.mediabox
                w, h = float(box.width), float(box.height)
                scale = min(width / w, height / h)
                framed = PageObject.create_blank_page(width=width + 2 * pad, height=height + 2 * pad)
                dx = pad + (width - w * scale) / 2 - float(box.left) * scale
                dy = pad + (height - h * scale) / 2 - float(box.bottom) * scale
                framed.merge_transformed_page(page, Transformation().scale(scale, scale).translate(dx, dy))
                writer.insert_page(framed, at)
                at += 1


def finalise(doc: "bytes | PdfWriter", *, title: str, date: dt.date, author: str = "", subject: str = "",
             press: bool = False) -> bytes:
    """Reproducible bytes: fixed dates (the build date), /ID from the content, title and author set.
    `doc`: the printed bytes or a `document` changed since. `press`: the page was printed with a bleed; add
    トンボ and the trim and bleed boxes."""
    from pypdf.generic import ArrayObject, ByteStringObject, NameObject, TextStringObject

    writer = document(doc) if isinstance(doc, bytes) else doc
    stamp = f"D:{date:%Y%m%d}000000Z"
    writer.metadata = None
    writer.add_metadata({
        "/Title": title,
        "/Author": author,
        "/Subject": subject,
        "/Creator": "sitegen",
        "/Producer": "sitegen (Chromium, pypdf)",
        "/CreationDate": stamp,
        "/ModDate": stamp,
    })
    _renumber_node_ids(writer)
    _drop_unsafe_links(writer)
    if press:
        from sitegen.pdf.press import add_marks

        add_marks(writer)
    root = writer._root_object
    if "/Lang" not in root:
        root[NameObject("/Lang")] = TextStringObject("ja")
    prefs = root.get("/ViewerPreferences")
    if prefs is None:
        from pypdf.generic import DictionaryObject

        root[NameObject("/ViewerPreferences")] = prefs = DictionaryObject()
    else:
        prefs = prefs.get_object()
    prefs[NameObject("/DisplayDocTitle")] = _true()
    writer._ID = ArrayObject([ByteStringObject(b"\0" * 16), ByteStringObject(b"\0" * 16)])
    buf = io.BytesIO()
    writer.write(buf)
    first = buf.getvalue()
    digest = hashlib.md5(first).digest()  # /ID from the content (with the ID zeroed)
    return first.replace(b"<" + b"00" * 16 + b">", b"<" + digest.hex().encode() + b">")


SAFE_URI = re.compile(r"^(https?|mailto|tel):", re.I)


def _drop_unsafe_links(writer) -> None:
    """A printed link may only open a web page, write a mail or dial: any other /URI action
    (javascript:, file: paths of the build machine) is removed from the annotation."""
    from pypdf.generic import NameObject

    for page in writer.pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            action = annot.get("/A")
            action = action.get_object() if action is not None else None
            if action is not None and "/URI" in action and not SAFE_URI.match(str(action["/URI"])):
                del annot[NameObject("/A")]


NODE_ID = re.compile(r"^node(\d+)$")


def _renumber_node_ids(writer) -> None:
    """Chromium names destinations and structure ids after its DOM node counters
    (`node00014057`), which depend on what the browser loaded before. Renumber them
    by rank (keeps name trees sorted), so the same document gives the same bytes."""
    from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, IndirectObject, TextStringObject

    found: set[int] = set()
    holders: list[tuple[DictionaryObject | ArrayObject, Any, int]] = []  # (container, key or index, node number)

    def visit(container, key, value, seen) -> None:
        if isinstance(value, IndirectObject):
            return
        if isinstance(value, (TextStringObject, ByteStringObject)):
            m = NODE_ID.match(str(value) if isinstance(value, TextStringObject) else value.decode("latin-1"))
            if m:
                found.add(int(m.group(1)))
                holders.append((container, key, int(m.group(1))))
        elif isinstance(value, (DictionaryObject, ArrayObject)):
            walk(value, seen)

    def walk(obj, seen) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, DictionaryObject):
            for k, v in list(obj.items()):
                visit(obj, k, v, seen)
        elif isinstance(obj, ArrayObject):
            for i, v in enumerate(obj):
                visit(obj, i, v, seen)

    seen: set[int] = set()
    for obj in writer._objects:
        if obj is not None:
            walk(obj, seen)
    if not found:
        return
    width = max(8, len(str(len(found))))
    rank = {n: i + 1 for i, n in enumerate(sorted(found))}
    for container, key, number in holders:
        container[key] = TextStringObject(f"node{rank[number]:0{width}d}")


def _true():
    from pypdf.generic import BooleanObject

    return BooleanObject(True)
