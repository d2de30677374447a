"""Links in the built website: pages, #anchors, images, stylesheets and downloadable forms.

Works on the artifacts in memory (nothing is written): every `href`/`src`/`srcset` of every
HTML page is resolved against the page and must name a file of the build; a `#fragment` must be
an `id` on the target page. Absolute links to the site's own base URL are checked the same way.
Other http(s) links are only collected; `check_external` asks their servers (HEAD, then GET
when HEAD is refused) with a timeout.
"""
from __future__ import annotations

import http.client
import posixpath
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Callable, Iterable
from urllib.parse import unquote, urlsplit

from sitegen.artifacts import Artifact

_ATTRS = {("a", "href"), ("area", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
          ("source", "src"), ("iframe", "src"), ("video", "src"), ("audio", "src"), ("video", "poster")}
_SKIP_SCHEMES = {"mailto", "tel", "fax", "sms"}
_UNSAFE_SCHEMES = {"javascript", "vbscript", "data", "file"}  # a link that runs a script or opens the reader's files
_SKIP_REL = {"preconnect", "dns-prefetch"}


@dataclass(frozen=True)
class Ref:
    page: str  # the page (path in the output) holding the link
    line: int  # line in the page's HTML
    tag: str
    url: str


@dataclass(frozen=True)
class Broken:
    ref: Ref
    kind: str  # link, image, asset, anchor, external
    message: str
    severity: str = "error"


@dataclass
class LinkReport:
    broken: list[Broken] = field(default_factory=list)
    checked: int = 0  # internal references resolved
    external: dict[str, list[Ref]] = field(default_factory=dict)  # url -> where it is used


class _Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[int, str, str]] = []  # (line, tag, url)
        self.ids: set[str] = set()
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        line = self.getpos()[0]
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("name"):
            self.ids.add(a["name"])
        if tag == "link" and set((a.get("rel") or "").split()) & _SKIP_REL:
            return
        for t, attr in _ATTRS:
            if t == tag and a.get(attr):
                self.refs.append((line, tag, a[attr].strip()))
        if a.get("srcset") and tag in ("img", "source"):
            for candidate in a["srcset"].split(","):
                url = candidate.strip().split(" ")[0]
                if url:
                    self.refs.append((line, tag, url))

    handle_startendtag = handle_starttag


def _kind(tag: str, target: str) -> str:
    if tag in ("img", "source", "video", "audio"):
        return "image"
    if tag in ("link", "script"):
        return "asset"
    if target.startswith("files/"):
        return "form"
    return "link"


def check_site(artifacts: Iterable[Artifact], base_url: str, extra_pages: Iterable[Artifact] = ()) -> LinkReport:
    """Check every reference in the site's HTML pages; `extra_pages` (e.g. the newsletters' HTML) are
    checked for absolute links into the site and external links only."""
    artifacts = list(artifacts)
    files = {a.path for a in artifacts}
    pages: dict[str, _Page] = {}
    for a in artifacts:
        if a.path.endswith(".html"):
            pages[a.path] = _Page(a.read().decode("utf-8", "replace"))
    report = LinkReport()
    for path, page in pages.items():
        for line, tag, url in page.refs:
            _check_ref(Ref(path, line, tag, url), base_url, files, pages, report, relative=True)
    for a in extra_pages:
        page = _Page(a.read().decode("utf-8", "replace"))
        for line, tag, url in page.refs:
            _check_ref(Ref(a.path, line, tag, url), base_url, files, pages, report, relative=False)
    return report


def _check_ref(ref: Ref, base_url: str, files: set[str], pages: dict, report: LinkReport, relative: bool) -> None:
    url = ref.url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _UNSAFE_SCHEMES and not (scheme == "data" and ref.tag == "img"):
        report.broken.append(Broken(ref, "unsafe", f"'{url[:80]}' is a {scheme}: link; links may only be "
                                    "https:, http:, mailto: or tel:", "error"))
        return
    if scheme in _SKIP_SCHEMES or scheme == "data" or url.startswith("{{") or url == "#":
        return
    base = urlsplit(base_url)
    if url.startswith("/") and not url.startswith("//"):
        # root-relative (the 404 page links like this): inside the site when under the base path
        full = f"{base.scheme}://{base.netloc}{url}"
    elif scheme in ("http", "https") or url.startswith("//"):
        full = url if scheme else f"{base.scheme}:{url}"
    elif scheme or not relative:
        return  # another scheme, or a relative link in a mail (checked by its own tests)
    else:
        full = ""
    if full:
        inside = full.startswith(base_url) or full.split("#")[0].rstrip("/") + "/" == base_url
        target = unquote(urlsplit(full[len(base_url):] if full.startswith(base_url) else "").path)
        if inside and _is_built(target, files):
            _check_target(ref, target or "index.html", urlsplit(full).fragment, files, pages, report)
        elif inside and posixpath.splitext(target)[1] in _BUILT_SUFFIXES:
            _check_target(ref, target, urlsplit(full).fragment, files, pages, report)  # reports it missing
        else:
            # elsewhere on the web, or a page under the base URL that sitegen does not make (a form, a booking system)
            report.external.setdefault(full.split("#")[0], []).append(ref)
        return
    if not parts.path:
        target = ref.page
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(ref.page), unquote(parts.path)))
        if target.startswith("../") or target == "..":
            report.broken.append(Broken(ref, _kind(ref.tag, target), f"'{url}' points outside the site"))
            return
    _check_target(ref, target, parts.fragment, files, pages, report)


_BUILT_SUFFIXES = {".html", ".xml", ".txt", ".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf",
                   ".ico", ".woff", ".woff2"}


def _is_built(target: str, files: set[str]) -> bool:
    target = target.strip("/")
    return not target or target in files or posixpath.join(target, "index.html") in files


def _check_target(ref: Ref, target: str, fragment: str, files: set[str], pages: dict, report: LinkReport) -> None:
    report.checked += 1
    if target.endswith("/") or target == ".":
        target = posixpath.join(target, "index.html").lstrip("./") or "index.html"
    if target not in files and posixpath.join(target, "index.html") in files:
        target = posixpath.join(target, "index.html")
    if target not in files:
        kind = _kind(ref.tag, target)
        what = {"image": "image", "asset": "file", "form": "download", "link": "page"}[kind]
        report.broken.append(Broken(ref, kind, f"{what} '{ref.url}' not found in the built site (resolves to {target})"))
        return
    fragment = unquote(fragment)
    if fragment and fragment != "top" and target in pages and fragment not in pages[target].ids:
        report.broken.append(Broken(ref, "anchor", f"'#{fragment}' ({ref.url}) is not an id on {target}"))


# --- external links ---------------------------------------------------------------------------------------


def _ascii_url(url: str) -> str:
    """A URL with Japanese in its path or query, percent-encoded as browsers send it (http.client needs ASCII)."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    if parts.hostname and not parts.hostname.isascii():
        netloc = netloc.replace(parts.hostname, parts.hostname.encode("idna").decode("ascii"))
    safe = "/:?=&%#+@!$'()*,;~"
    return urllib.parse.urlunsplit((parts.scheme, netloc, urllib.parse.quote(parts.path, safe=safe),
                                    urllib.parse.quote(parts.query, safe=safe), parts.fragment))


def _status(url: str, timeout: float) -> tuple[int | None, str]:
    headers = {"User-Agent": "sitegen-check/1 (link checker)"}
    last = ""
    for method in ("HEAD", "GET"):
        request = urllib.request.Request(_ascii_url(url), method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
                return response.status, ""
        except urllib.error.HTTPError as exc:
            if method == "HEAD" and exc.code in (400, 403, 405, 501):
                last = f"HTTP {exc.code}"
                continue  # some servers refuse HEAD
            return exc.code, f"HTTP {exc.code} {exc.reason}"
        except (urllib.error.URLError, TimeoutError, OSError, ValueError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            return None, f"not reachable: {reason}"
    return None, last


def check_external(urls: dict[str, list[Ref]], timeout: float = 10.0, workers: int = 8,
                   progress: Callable[[str], None] | None = None) -> list[Broken]:
    """Ask each server once per URL. 404/410 are errors; other failures warnings (servers are flaky)."""
    out: list[Broken] = []
    todo = sorted(u for u in urls if u.lower().startswith(("http://", "https://")))

    def one(url: str):
        result = _status(url, timeout)
        if progress:
            progress(url)
        return url, result

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo) or 1))) as pool:
        for url, (status, reason) in pool.map(one, todo):
            if status is not None and status < 400:
                continue
            severity = "error" if status in (404, 410) else "warning"
            for ref in urls[url]:
                out.append(Broken(ref, "external", f"external link {url}: {reason}", severity))
    return out
