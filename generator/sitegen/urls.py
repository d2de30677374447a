"""The one place where output paths and URLs are computed.

Pages are plain `.html` files (`doctors/yamada-taro.html`) and links between them
are relative, so the site works under a sub-path (`https://example.jp/renkei/`)
and opened from disk (`file://`). Absolute URLs (canonical, sitemap, feed, QR
codes, emails) are the base URL plus the same path.
"""
from __future__ import annotations

import functools
import posixpath
import re
from urllib.parse import urljoin

PATTERNS = {
    "home": "index.html",
    "departments": "departments/index.html",
    "department": "departments/{slug}.html",
    "doctors": "doctors/index.html",
    "doctor": "doctors/{slug}.html",
    "featured": "doctors/featured.html",
    "schedule": "schedule.html",
    "guides": "guides/index.html",
    "guide": "guides/{slug}.html",
    "news": "news/index.html",
    "news_item": "news/{slug}.html",
    "access": "access.html",
    "search": "search.html",
    "symptoms": "symptoms.html",
    "opendata": "data/index.html",
    "clinics": "clinics.html",
    "equipment": "equipment/index.html",
    "equipment_form": "equipment/form.html",
    "pathways": "pathways/index.html",
    "not_found": "404.html",
    "sitemap": "sitemap.xml",
    "feed": "feed.xml",
    "robots": "robots.txt",
    "newsletters": "newsletters/index.html",
    "newsletter": "newsletters/{slug}.html",
}


def page_path(kind: str, slug: str | None = None) -> str:
    pattern = PATTERNS[kind]
    if "{slug}" in pattern:
        if not slug:
            raise ValueError(f"page kind {kind!r} needs a slug")
        return pattern.format(slug=slug)
    return pattern


def asset_path(name: str) -> str:
    """Theme static files (css, js, images) are published under assets/."""
    return "assets/" + name


def content_file_path(name: str) -> str:
    """Files from content/images and content/files keep their path."""
    return name


def relative(from_path: str, to_path: str) -> str:
    """Link from one output file to another, e.g. doctors/a.html -> ../index.html."""
    if from_path.startswith("/") or "//" in from_path:  # unusual: its folder as posixpath sees it
        return _relative(posixpath.dirname(from_path), to_path)
    return _relative(from_path.rpartition("/")[0], to_path)


@functools.lru_cache(maxsize=65536)
def _relative(start: str, to_path: str) -> str:
    """Link from a file in the folder `start` to `to_path`: the same for every page of a folder, so worked out once
    for each (a page makes about ten links, 100,000 at 10,000 pages, to a few hundred places). Output paths are
    relative POSIX paths, so this is string work (posixpath.relpath would make both absolute with the process's
    working folder); anything unusual ('..', an absolute or empty path) goes through posixpath.relpath."""
    if not to_path or to_path.startswith("/") or start.startswith("/") or ".." in to_path or ".." in start:
        return posixpath.relpath(to_path, start or ".")
    here = [p for p in start.split("/") if p and p != "."]
    there = [p for p in to_path.split("/") if p and p != "."]
    common = 0
    while common < len(here) and common < len(there) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:]) or "."


def absolute(base_url: str, path: str) -> str:
    if path == "index.html":
        return base_url
    return base_url + path.removesuffix("index.html")


def root_relative(base_url: str, path: str) -> str:
    """'/renkei/doctors/a.html': for pages served at any depth (404)."""
    after_host = base_url.split("://", 1)[-1]
    prefix = "/" + after_host.split("/", 1)[1] if "/" in after_host else "/"
    return prefix + path


SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)
_LINK_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
_HREF_ATTR = re.compile(r'(<a\b[^>]*?\shref=")([^"]*)(")')


def has_scheme(url: str) -> bool:
    """True for `https:`, `mailto:`, `tel:` and any other scheme; False for relative paths and `#anchors`."""
    return bool(SCHEME.match(url))


def make_absolute(url: str, base_url: str, keep_fragments: bool = False) -> str:
    """A link relative to `base_url` made absolute; links with a scheme stay as they are."""
    if not url or has_scheme(url) or (keep_fragments and url.startswith("#")):
        return url
    return urljoin(base_url, url)


def absolute_links(html: str, base_url: str, *, images: bool = True, keep_fragments: bool = False) -> str:
    """HTML (attribute values escaped) with every relative href (and src, with `images`) made absolute:
    a link in an email or on paper must lead to the website."""
    def fix(m: re.Match) -> str:
        url = m.group(2).replace("&amp;", "&")
        return m.group(1) + make_absolute(url, base_url, keep_fragments).replace("&", "&amp;") + m.group(3)

    return (_LINK_ATTR if images else _HREF_ATTR).sub(fix, str(html))


_SRC_ATTR = re.compile(r'(<(?:img|a)\b[^>]*?\s(?:src|href)=")([^"]*)(")')


def content_ref(url: str, assets: frozenset[str] | set[str] | tuple[str, ...]) -> str | None:
    """The content file (`images/x.png`) a link in a Markdown body means, or None.

    Authors write `images/…` and `files/…` from the content folder (as in the front matter),
    whatever page the text ends up on; `../images/…` as written for a page one folder deep
    (departments/, doctors/, guides/, news/) is understood too."""
    if not url or has_scheme(url) or url.startswith(("/", "#")):
        return None
    from urllib.parse import unquote
    path = unquote(url.split("#", 1)[0].split("?", 1)[0].replace("&amp;", "&"))
    for candidate in (posixpath.normpath(path), posixpath.normpath(posixpath.join("page", path))):
        if candidate in assets:
            return candidate
    return None


def content_links(html: str, page: str, assets: frozenset[str] | set[str] | tuple[str, ...]) -> str:
    """Body HTML with its links to content files (images, forms) made relative to the output page `page`."""
    def fix(m: re.Match) -> str:
        name = content_ref(m.group(2), assets)
        if name is None:
            return m.group(0)
        return m.group(1) + relative(page, name).replace("&", "&amp;").replace('"', "&quot;") + m.group(3)

    return _SRC_ATTR.sub(fix, str(html))
