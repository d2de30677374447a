"""Markdown to safe HTML: the one place where authors' Markdown becomes markup.

Python-Markdown passes raw HTML through, so its output is always cleaned with
nh3 (ammonia): no script, no event handlers, no style, and links only to http,
https, mailto and tel (or relative paths inside the site).
"""
from __future__ import annotations

import re

import markdown
import nh3
from markupsafe import Markup

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


class MarkdownRenderer:
    """Renders Markdown bodies; one instance per build (Python-Markdown keeps state)."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=["tables", "sane_lists", "fenced_code"], output_format="html")

    def __call__(self, text: str) -> Markup:
        self._md.reset()
        html = self._md.convert(text or "")
        # The page title is the only <h1>; a '# heading' in a body becomes <h2>.
        html = _H1.sub(r"<\1h2>", html)
        return Markup(sanitize(html))


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
