"""Accessibility of built pages (WCAG 2.x AA = JIS X 8341-3:2016 AA).

Two parts:
  - `audit_page`: what axe-core misses on this kind of site, from the HTML alone: link texts that
    say nothing (「こちら」「詳しくはこちら」), alt texts that say nothing (「写真」「画像」), images
    without alt, tables (outpatient schedules) without header cells;
  - `AxeRunner`: axe-core in headless Chromium, one page at a time (Playwright; the browser is
    found by `sitegen.browser`). axe-core itself comes from the axe-playwright-python package.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from sitegen.errors import SitegenError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

VAGUE_LINK_TEXT = {"こちら", "詳しくはこちら", "ここ", "こちらをクリック", "ここをクリック", "詳細", "詳しくは",
                   "click here", "here", "more", "read more"}
VAGUE_ALT = {"写真", "画像", "image", "photo", "img", "picture", "イメージ", "ロゴ", "logo", "図", "アイコン", "icon"}
_STRIP = "。．.、，,:：!！ 　「」『』()（）>＞→»"


@dataclass(frozen=True)
class PageIssue:
    rule: str  # a11y.link-text, a11y.alt, a11y.table-header …
    line: int  # in the built HTML
    message: str
    hint: str
    severity: str = "error"
    needle: str = ""  # text to look for in the content file the page was made from


class Audit(HTMLParser):
    """Collects link texts, image alts, tables with their th/td counts, headings and landmarks."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text incl. img alts)
        self.link_lines: list[int] = []
        self.images: list[dict] = []
        self.image_lines: list[int] = []
        self.tables: list[dict] = []
        self.headings: list[int] = []
        self.tags: list[tuple[str, dict]] = []
        self._link: list | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        line = self.getpos()[0]
        if tag == "a":
            self._link = [a.get("href"), a.get("aria-label") or "", line, bool(a.get("aria-label"))]
        elif tag == "img":
            self.images.append(a)
            self.image_lines.append(line)
            if self._link is not None and not self._link[3]:
                self._link[1] += a.get("alt") or ""
        elif tag == "table":
            self.tables.append({"th": 0, "td": 0, "caption": False, "scoped": 0, "class": a.get("class", ""),
                                "line": line})
        elif tag in ("th", "td") and self.tables:
            self.tables[-1][tag] += 1
            if tag == "th" and a.get("scope") in ("col", "row"):
                self.tables[-1]["scoped"] += 1
        elif tag == "caption" and self.tables:
            self.tables[-1]["caption"] = True
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))

    def handle_data(self, data):
        if self._link is not None and not self._link[3]:
            self._link[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links.append((self._link[0], " ".join(self._link[1].split())))
            self.link_lines.append(self._link[2])
            self._link = None


def is_vague_link_text(text: str) -> bool:
    return text.strip(_STRIP).lower() in VAGUE_LINK_TEXT


def is_vague_alt(alt: str) -> bool:
    return alt.strip(_STRIP).lower() in VAGUE_ALT


def audit_page(html: str) -> list[PageIssue]:
    """What axe-core does not catch, found in one page's HTML."""
    audit = Audit(html)
    out: list[PageIssue] = []
    for (href, text), line in zip(audit.links, audit.link_lines):
        if text and is_vague_link_text(text):
            out.append(PageIssue("a11y.link-text", line, f"link text 「{text}」 (to {href}) does not say where it goes",
                                 "write what the link leads to, e.g. 「紹介予約申込書（PDF）」 instead of 「こちら」",
                                 needle=f"[{text}]"))
    for img, line in zip(audit.images, audit.image_lines):
        if "alt" not in img:
            out.append(PageIssue("a11y.alt", line, f"image {img.get('src')} has no alt text",
                                 "add alt: what the picture shows (an empty alt only for decoration)"))
        elif img["alt"].strip() and is_vague_alt(img["alt"]):
            out.append(PageIssue("a11y.alt", line, f"alt 「{img['alt'].strip()}」 of {img.get('src')} says nothing",
                                 "describe what it shows: 「循環器内科 医長 佐藤花子医師の写真」, 「病院周辺の地図」",
                                 needle=img["alt"].strip()))
    for t in audit.tables:
        if t["th"] == 0:
            out.append(PageIssue("a11y.table-header", t["line"], "table without header cells (<th>): screen readers "
                                 "cannot tell the weekday and 午前/午後 of a cell",
                                 "in Markdown, give the table a header row (| 曜日 | 午前 | 午後 | then |---|)",
                                 needle="<table"))
        elif "schedule" in (t["class"] or "") and (t["scoped"] < t["th"] or not t["caption"]):
            out.append(PageIssue("a11y.table-header", t["line"], "schedule table without a caption or scope on its header cells",
                                 "the theme's schedule table needs <caption> and <th scope=col|row>"))
    return out


# --- axe-core in Chromium ------------------------------------------------------------------------------


class AxeUnavailable(SitegenError):
    """axe-core or a browser is missing: accessibility was not checked in a browser."""


@dataclass(frozen=True)
class Violation:
    id: str  # axe rule id: color-contrast, image-alt …
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]  # CSS selectors of the first nodes
    html: str  # the first node's HTML (shortened)


def axe_source() -> str:
    try:
        from importlib import resources

        return (resources.files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError, ModuleNotFoundError) as exc:
        raise AxeUnavailable("axe-core is not installed (pip install axe-playwright-python); "
                             "accessibility was checked without a browser only") from exc


@dataclass
class AxeRunner:
    """One headless Chromium for a series of pages: `with AxeRunner(path) as axe: axe.check(file)`.

    Playwright runs on a thread of its own, so the caller may be inside an asyncio loop or another
    Playwright session (its sync API refuses both on the same thread)."""

    executable: str
    _pw: Playwright | None = field(default=None, repr=False)
    _browser: Browser | None = field(default=None, repr=False)
    _context: BrowserContext | None = field(default=None, repr=False)
    _thread: ThreadPoolExecutor | None = field(default=None, repr=False)
    _finished: dict[int, dict] = field(default_factory=dict, repr=False)  # id(page) -> its axe-core result

    def __enter__(self) -> "AxeRunner":
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sitegen-axe")
        try:
            self._thread.submit(self._start).result()
        except BaseException:
            self._thread.shutdown()
            self._thread = None
            raise
        return self

    def _start(self) -> None:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        from sitegen.chromium import launch

        source = axe_source()
        try:
            self._pw = sync_playwright().start()
            self._browser = launch(self._pw, self.executable)
            self._context = self._browser.new_context()
            self._context.add_init_script(script=source)
            self._context.expose_binding("__sitegenDone", self._done)
        except PlaywrightError as exc:
            self._stop()
            raise AxeUnavailable(f"the browser {self.executable} did not start: {str(exc).splitlines()[0]}") from exc

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._thread.submit(self._stop).result()
            self._thread.shutdown()
            self._thread = None

    def _stop(self) -> None:
        closers: list[Callable[[], None]] = []
        if self._browser is not None:
            closers.append(self._browser.close)
        if self._pw is not None:
            closers.append(self._pw.stop)
        for close in closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a browser that already died
                pass
        self._browser = self._pw = self._context = None

    def _done(self, source: dict, result: dict) -> None:
        """Called by a page (through its binding) when its axe-core run has finished."""
        self._finished[id(source["page"])] = result

    def check(self, file: Path, width: int | None = None) -> list[Violation]:
        if self._thread is None or self._context is None:
            raise RuntimeError("AxeRunner.check() needs the browser: use `with AxeRunner(path) as axe`")
        return self._thread.submit(self._check, file, width).result()

    def check_all(self, files: list[Path], width: int | None = None, parallel: int = 4,
                  done: Callable[[int, Path], None] | None = None) -> list[list[Violation]]:
        """Every file's violations, in order. Up to `parallel` pages are checked at once: each page runs axe in
        its own renderer process, so they use every core while one browser and one axe-core source serve all."""
        if self._thread is None or self._context is None:
            raise RuntimeError("AxeRunner.check_all() needs the browser: use `with AxeRunner(path) as axe`")
        return self._thread.submit(self._check_all, files, width, max(1, parallel), done).result()

    def _check_all(self, files: list[Path], width: int | None, parallel: int,
                   done: Callable[[int, Path], None] | None) -> list[list[Violation]]:
        assert self._context is not None
        results: list[list[Violation]] = [[] for _ in files]
        in_flight: list[tuple[int, Page]] = []
        idle: list[Page] = []  # pages are reused: a navigation costs a fraction of a new page
        loaded: dict[int, tuple[Path, str]] = {}  # id(page) -> the folder and frame (frame_key) of its document
        seen: set[str] = set()  # element paths of text whose colour contrast has been checked
        queue = list(enumerate(files))
        try:
            while queue or in_flight:
                while queue and len(in_flight) < parallel:
                    i, file = queue.pop(0)
                    html = file.read_text(encoding="utf-8", errors="replace")
                    key = frame_key(html)
                    here = (file.resolve().parent, key) if key is not None else None
                    page = next((p for p in idle if here is not None and loaded.get(id(p)) == here), None)
                    if page is not None:
                        idle.remove(page)
                    elif idle:
                        page = idle.pop()
                    else:
                        page = self._context.new_page()
                        if width:
                            page.set_viewport_size({"width": width, "height": 800})
                    in_flight.append((i, page))
                    # colour contrast (most of axe's time) depends only on the stylesheets and the element path
                    # of each text: texts in element paths an earlier page had are left out of it
                    if here is not None and loaded.get(id(page)) == here:
                        # the same folder, stylesheets, scripts and <html>: only the title and body change, and
                        # the body's scripts run again as on a load; axe-core stays loaded (and compiled)
                        sheets, found = page.evaluate(_SWAP_BODY, html)
                    else:
                        loaded.pop(id(page), None)
                        page.goto(file.as_uri(), wait_until="load")
                        if here is not None:
                            loaded[id(page)] = here
                        sheets, found = page.evaluate(_TEXT_PATHS)
                    prefix = hashlib.sha256(sheets.encode()).hexdigest()[:16]
                    skip = [p for p in found if prefix + p in seen]
                    seen.update(prefix + p for p in found)
                    page.evaluate(_START_AXE, skip)
                i, page = in_flight.pop(self._first_done(in_flight))
                result = self._finished.pop(id(page))
                idle.append(page)
                if "error" in result:
                    raise AxeUnavailable(f"axe-core failed on {files[i].name}: {result['error']}")
                results[i] = _violations(result)
                if done:
                    done(i, files[i])
        finally:
            for page in idle + [page for _, page in in_flight]:
                page.close()
        return results

    def _first_done(self, in_flight: list, timeout: float = 180.0) -> int:
        """The index of a page in flight whose axe-core run has finished, whichever finished first (waiting for
        the oldest would leave the others' renderers idle). Playwright delivers the pages' calls while it waits."""
        deadline = time.monotonic() + timeout
        while True:
            for k, (_, page) in enumerate(in_flight):
                if id(page) in self._finished:
                    return k
            if time.monotonic() > deadline:
                raise AxeUnavailable(f"axe-core did not finish within {timeout:g} s")
            in_flight[0][1].wait_for_timeout(5)

    def _check(self, file: Path, width: int | None) -> list[Violation]:
        assert self._context is not None
        page = self._context.new_page()
        try:
            if width:
                page.set_viewport_size({"width": width, "height": 800})
            page.goto(file.as_uri(), wait_until="load")
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        finally:
            page.close()
        return _violations(result)


_HEAD = re.compile(r"<head\b.*?</head>", re.S | re.I)
_FRAME_TAGS = re.compile(r"<html\b[^>]*>|<link\b[^>]*\brel=\"?stylesheet[^>]*>|<style\b.*?</style>|<meta\b[^>]*\b(?:name=\"?viewport|http-equiv)[^>]*>"
                         r"|<base\b[^>]*>|<script\b[^>]*>", re.S | re.I)
_BODY_SCRIPT = re.compile(r"<script\b(?P<attrs>[^>]*)>", re.I)


def frame_key(html: str) -> str | None:
    """What a page's look and behaviour depend on besides its body: the <html> tag, stylesheets, viewport and
    refresh, <base>, and every script tag. Pages with the same key (in the same folder) are checked by swapping the
    body into an already loaded one; None for a page whose scripts could not run again that way (inline or module
    scripts, anything but a classic external script or JSON data)."""
    if _HEAD.search(html) is None:
        return None
    for m in _BODY_SCRIPT.finditer(html):
        attrs = m.group("attrs")
        if "application/ld+json" in attrs:
            continue
        if "src=" not in attrs or "module" in attrs:
            return None
    parts = [m.group() for m in _FRAME_TAGS.finditer(html) if "application/ld+json" not in m.group()]
    return "\n".join(parts)


# The element path of a text (tag, classes, inline style of each ancestor): what decides the colours it is drawn in.
_PATH_JS = """const step = e => e.tagName + (typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/\\s+/).sort().join('.') : '')
    + (e.getAttribute('style') ? '[' + e.getAttribute('style') + ']' : '')
    + (e.hasAttribute('hidden') ? '[hidden]' : '');
  const path = e => { const out = []; for (; e; e = e.parentElement) out.push(step(e)); return out.join('<'); };"""

# axe.run started without waiting for it: the result comes back through the __sitegenDone binding (or an error).
# Its argument: the element paths whose colour contrast an earlier page has checked; the contrast rules skip
# elements in them (through axe.configure, wrapping each rule's own `matches`).
_START_AXE = """(skip) => {
  """ + _PATH_JS + """
  const skipped = new Set(skip);
  for (const id of ['color-contrast', 'link-in-text-block']) {
    const rule = axe._audit.rules.find(r => r.id === id);
    if (!rule) continue;
    const own = rule.__sitegenOwnMatches || rule.matches;
    axe.configure({rules: [{id, matches: (node, virtualNode, context) =>
      !skipped.has(path(node)) && own(node, virtualNode, context)}]});
    axe._audit.rules.find(r => r.id === id).__sitegenOwnMatches = own;
  }
  // axe does most of its work before its first await: started from a timer, this call returns at once and the
  // pages in flight run side by side. The result goes back through a binding the moment it is ready (asking a page
  // whose renderer is still busy with axe would wait for it), with only what the report uses: the violations'
  // ids, texts and first nodes.
  const back = r => window.__sitegenDone(r.error ? r : {violations: r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.slice(0, 3).map(n => ({target: n.target, html: n.html}))}))});
  setTimeout(() => axe.run(document, {resultTypes: ['violations']}).then(back, e => back({error: String(e)})), 0); }"""

# The stylesheets and the viewport, and every text's element path and each form control's.
_TEXT_PATHS = """() => {
  """ + _PATH_JS + """
  const sheets = Array.from(document.querySelectorAll('link[rel~=stylesheet], style'))
    .map(s => s.href || s.textContent).join('|') + '@' + window.innerWidth;
  const found = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (walker.currentNode.data.trim()) found.add(path(walker.currentNode.parentElement));
  }
  for (const e of document.querySelectorAll('input, textarea, select, button, img[alt]')) found.add(path(e));
  return [sheets, Array.from(found)];
}"""


# A page with the same frame as the loaded one: its title and body swapped in, then its external scripts run again
# in order (a classic script inserted by script runs; it waits for each to load as the parser would); it answers
# with its text paths (as _TEXT_PATHS), which saves a round trip.
_SWAP_BODY = """async (html) => {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  document.title = doc.title;
  document.body.replaceWith(document.adoptNode(doc.body));
  for (const old of Array.from(document.body.querySelectorAll('script[src]'))) {
    const fresh = document.createElement('script');
    for (const a of Array.from(old.attributes)) fresh.setAttribute(a.name, a.value);
    fresh.async = false;
    await new Promise(done => { fresh.onload = fresh.onerror = done; old.replaceWith(fresh); });
  }
  return (""" + _TEXT_PATHS + """)();
}"""


def _violations(result: dict) -> list[Violation]:
    out = []
    for v in result.get("violations", ()):
        nodes = v.get("nodes") or [{}]
        targets = tuple(json.dumps(n.get("target")) for n in nodes[:3])
        out.append(Violation(v["id"], v.get("impact") or "", v.get("help", ""), v.get("helpUrl", ""), targets,
                             (nodes[0].get("html") or "")[:160]))
    return out
