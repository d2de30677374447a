"""Markdown to safe HTML: the one place where authors' Markdown becomes markup.

Python-Markdown passes raw HTML through, so its output is always cleaned with
nh3 (ammonia): no script, no event handlers, no style, and links only to http,
https, mailto and tel (or relative paths inside the site).

Limits that hold for any text: Python-Markdown needs quadratic time for some inputs
(thousands of `[`, `<a` or headings take minutes), so a long or bracket-heavy body is
converted in a worker process with a time budget; and the result may not nest elements
deeper than MAX_DEPTH (the MJML compiler and browsers crash on thousands of levels).
A body over either limit is a content error with its file and line, never a hang or a crash.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import re
from html.parser import HTMLParser
from multiprocessing.pool import Pool
from pathlib import Path

import markdown
import nh3
from markupsafe import Markup

from sitegen import fingerprint, seal
from sitegen.content.japanese import join_cjk_lines_html, no_break_html
from sitegen.content.list_indent import ListIndentExtension
from sitegen.content.sources import PARSE_CACHE
from sitegen.cores import fork_map
from sitegen.errors import Location, ProblemList, SitegenError

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "width", "height", "title"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_H1 = re.compile(r"<(/?)h1>")
# nested lists may be indented by 2-4 spaces (list_indent); the rest is Python-Markdown's own
EXTENSIONS = ["tables", "sane_lists", "fenced_code", ListIndentExtension()]
MARKDOWN = "markdown"  # the key of a body's HTML in serve's memo: (MARKDOWN, text)
BUDGET_SECONDS = 5.0  # per body, in the worker
MAX_DEPTH = 60  # nested elements in a body's HTML
SAFE_LENGTH = 4000  # shorter bodies with few brackets and headings convert in well under a second in-process
_RISKY = re.compile(r"[\[<]|^[ \t]*[#>]", re.M)
VOID = {"br", "hr", "img", "wbr", "input", "meta", "link", "source", "col", "area", "base", "embed", "param", "track"}


# Text that Python-Markdown reads as nothing but paragraphs: no character that is syntax anywhere in a line
# (code, links, raw HTML, entities, escapes, underscores, tables, fences, tabs, control characters), no line that
# starts with white space (indented code; a paragraph's first line loses it), with ASCII punctuation (headings,
# quotes, lists, rules, underlines) but for an asterisk before a character that is neither white space nor another
# asterisk (emphasis, not a list or a rule), or with a list's number ("1." "1)"), no line that ends with white space
# (a hard break). Asterisks are taken only where they pair simply (`_emphasis`).
# tests/test_markdown_plain.py compares the two on every body of the example and on generated text.
_NOT_PLAIN = re.compile(r"[\\`_\[\]!<>&|~\t\x00-\x08\x0b-\x1f\x7f]"
                        r"|^(?:[^\S\n]|[!-)+-/:-@\[-`{-~]|\*(?!\*?[^\s*])|\d+[.)])|[^\S\n]$", re.M)
_ASTERISKS = re.compile(r"\*+")
_SPACE = re.compile(r"\s")
_BLANK_LINES = re.compile(r"\n\n+")


def _emphasis(text: str) -> str | None:
    """`text` with its asterisks read as Python-Markdown's delimiter processor reads them when they pair simply:
    runs of one or two, each opening run followed by a closing run of its size on the same line, nothing nested —
    `*emphasis*` and `**strong**`, also between Japanese words (`専門は**内視鏡**です`). A run opens when neither
    white space nor the paragraph's end follows it, and closes when neither white space nor the paragraph's start
    comes before it (Python-Markdown's "dumb" delimiters: punctuation does not matter). None for anything else
    (longer runs, nesting, a run that cannot pair): Python-Markdown's rules of 3 and of nesting are left to it."""
    out: list[str] = []
    done = 0
    opened: re.Match | None = None
    for run in _ASTERISKS.finditer(text):
        start, end = run.span()
        size = end - start
        if size > 2:
            return None
        if opened is None:
            if _SPACE.match(text, end):
                return None  # cannot open
            opened = run
            continue
        inner = text[opened.end():start]
        if size != opened.end() - opened.start() or _SPACE.match(text, start - 1) or "\n" in inner:
            return None  # of another size (nested or the rule of 3), cannot close, or across lines
        tag = "strong" if size == 2 else "em"
        out.append(f"{text[done:opened.start()]}<{tag}>{inner}</{tag}>")
        done, opened = end, None
    if opened is not None:
        return None
    out.append(text[done:])
    return "".join(out)


def plain_paragraphs(text: str) -> str | None:
    """What Python-Markdown makes of `text` when it is plain paragraphs, perhaps with **strong** or *emphasis*
    (`_emphasis`; each paragraph's lines in <p>, the paragraphs a line apart), without it: most bodies are prose,
    and Python-Markdown spends a tenth of a millisecond on each (the example's bodies and 1,000 notices: 0.105 s
    to convert with it, 0.035 s with this). None for any other text."""
    if _NOT_PLAIN.search(text):
        return None
    if "*" in text:
        emphasised = _emphasis(text)
        if emphasised is None:
            return None
        text = emphasised
    text = text.strip("\n")
    return "\n".join(f"<p>{paragraph}</p>" for paragraph in _BLANK_LINES.split(text)) if text else ""


def _risky(text: str) -> bool:
    """Long or bracket-heavy: converted in the worker process, with a time budget."""
    return len(text) > SAFE_LENGTH or len(_RISKY.findall(text)) > 200


class BodyError(SitegenError):
    """A body that cannot be converted within the limits (`line`: its line within the body, from 0)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


class MarkdownRenderer:
    """Renders Markdown bodies; one instance per build (Python-Markdown keeps state). `close()` when done.

    With `kept` (a build's <site>/.sitegen/markdown-html.json), the HTML of every body is kept for the next build,
    by a digest of the body's text: the conversion is a function of the text and sitegen's code alone, so an
    unchanged body is not converted again. Only the bodies of this build's content are kept: those it used and
    those converted ahead (a news item dated next month is converted ahead on every build, and used on none)."""

    def __init__(self, budget: float = BUDGET_SECONDS, kept: Path | None = None, key: bytes | None = None) -> None:
        self._md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
        self.budget = budget
        self._pool: Pool | None = None
        self._done: dict[str, str] = {}  # bodies converted ahead by prepare()
        usable = kept is not None and key is not None  # kept only when it can be sealed
        self._file: Path | None = kept if usable else None
        self._key: bytes | None = key if usable else None
        self._kept = _read_kept(self._file, self._key)  # digest -> HTML, from the previous build
        self._used: dict[str, str] = {}  # text -> HTML of the bodies this build used
        self._memo = PARSE_CACHE.get()  # `sitegen serve`'s memo: (MARKDOWN, text) -> HTML, kept in memory

    def prepare(self, texts, processes: int) -> None:
        """Convert many bodies ahead, shared out among forked processes (a large site's Markdown is a third of its
        load); calling the renderer then finds them done. Bodies over a limit are left to the call, which says so."""
        todo = []
        for text in sorted(set(texts)):
            if not text or _risky(text) or text in self._done or self._remembered(text):
                continue
            html = self._kept.get(_digest(text))
            if html is None:
                todo.append(text)
            else:
                self._done[text] = html  # kept again by `keep`, used or not
        done = fork_map(self._ahead, todo, processes)
        if done is not None:
            self._done.update((t, html) for t, html in zip(todo, done) if html is not None)

    def _ahead(self, text: str) -> str | None:
        """The HTML of a body (not noted as used: a body converted ahead may belong to a news item not published
        yet); None when it is over a limit."""
        try:
            return self._convert(text)
        except BodyError:
            return None

    def __call__(self, text: str) -> Markup:
        """Safe HTML for `text`; raises BodyError when the text is over a limit."""
        text = text or ""
        html = self._done.get(text)
        if html is None and self._remembered(text):
            html = self._memo[(MARKDOWN, text)]  # type: ignore[index]
        if html is None:
            html = self._kept.get(_digest(text))
        if html is None:
            html = self._convert(text)
        if self._memo is not None:
            self._memo[(MARKDOWN, text)] = html
        self._used[text] = html  # digested when kept: serve's rebuilds never keep
        return Markup(html)

    def _remembered(self, text: str) -> bool:
        return self._memo is not None and (MARKDOWN, text) in self._memo

    def _convert(self, text: str) -> str:
        plain = plain_paragraphs(text)
        if plain is not None:
            html = plain
        elif _risky(text):
            html = self._in_worker(text)
        else:
            self._md.reset()
            html = self._md.convert(text)
        # The page title is the only <h1>; a '# heading' in a body becomes <h2>.
        html = no_break_html(join_cjk_lines_html(sanitize(_H1.sub(r"<\1h2>", html))))
        _check_links(text, html)
        # every "<" left after sanitizing opens or closes an element (text has &lt;): with no more start tags than
        # MAX_DEPTH, the body cannot nest deeper, and is not parsed for it (3,100 bodies: 0.46 s to convert, 0.40 s)
        depth = nesting_depth(html) if html.count("<") - html.count("</") > MAX_DEPTH else 0
        if depth > MAX_DEPTH:
            raise BodyError(f"the text nests elements {depth} levels deep (at most {MAX_DEPTH}); "
                            "remove the nested <div>, lists or quotes")
        return html

    def at(self, text: str, where: Location, field: str, problems: ProblemList) -> Markup:
        """Like calling it, but a body over a limit becomes a problem at `where` and renders as nothing."""
        try:
            return self(text)
        except BodyError as exc:
            at = Location(where.path, where.line + exc.line) if where.line else where
            problems.error(at, field, str(exc))
            return Markup("")

    def _in_worker(self, text: str) -> str:
        if self._pool is None:
            self._pool = multiprocessing.get_context("forkserver").Pool(1)
            # The budget is for converting, not for starting a process and importing Markdown: on a busy
            # machine that alone can take longer than the budget, and an ordinary long body would be refused.
            self._pool.apply(convert, ("",))
        job = self._pool.apply_async(convert, (text,))
        try:
            return job.get(timeout=self.budget)
        except multiprocessing.TimeoutError:
            self.close()
            raise BodyError(f"converting this text took longer than {self.budget:g} s (thousands of repeated "
                            "'[', '<' or '#'?); shorten it or split it into several files") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def keep(self) -> None:
        """Write the HTML of the bodies this build used or converted ahead, for the next one (when there is a file to
        keep it in and it changed). A file that cannot be written only costs the next build time."""
        if self._file is None or self._key is None:
            return
        bodies = {_digest(text): html for text, html in (*self._done.items(), *self._used.items())}
        if bodies.keys() != self._kept.keys():
            seal.write_json(self._key, self._file, {"code": fingerprint.code(), "html": dict(sorted(bodies.items()))})


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _read_kept(file: Path | None, key: bytes | None) -> dict[str, str]:
    """The HTML kept by the previous build, if it was sealed in this checkout (pages publish it as it is: a file
    brought in from elsewhere could carry a script) and made by this very code (else nothing)."""
    data = seal.read_json(key, file) if file is not None and key is not None else None
    if data is None or data.get("code") != fingerprint.code() or not isinstance(data.get("html"), dict):
        return {}
    return {k: v for k, v in data["html"].items() if isinstance(k, str) and isinstance(v, str)}


def convert(text: str) -> str:
    """Markdown to (unsanitised) HTML; run in the worker process."""
    return markdown.Markdown(extensions=EXTENSIONS, output_format="html").convert(text)


_URL_ATTR = re.compile(r'\s(?:href|src)="([^"]*)"')


def _check_links(text: str, html: str) -> None:
    """Every link must be an address a browser and a mail program can read (`//[x` is not)."""
    from html import unescape
    from urllib.parse import urljoin, urlsplit

    for m in _URL_ATTR.finditer(html):
        url = unescape(m.group(1))
        try:
            urlsplit(url)
            urljoin("https://example.jp/", url)
        except ValueError:
            at = text.find(url)
            raise BodyError(f"the link '{url}' is not a valid address; write a full address "
                            "(https://…) or a page of the site", text[:at].count("\n") if at >= 0 else 0) from None


class _Depth(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = self.deepest = 0

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag):
        if tag not in VOID:
            self.depth = max(0, self.depth - 1)


def nesting_depth(html: str) -> int:
    parser = _Depth()
    parser.feed(html)
    parser.close()
    return parser.deepest


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
