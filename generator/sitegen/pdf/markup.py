"""Helpers the print templates call: QR codes, links and images made safe for paper, CSS strings."""
from __future__ import annotations

import re
from functools import lru_cache
from html import escape as html_escape

from markupsafe import Markup

from sitegen import urls
from sitegen.content.japanese import join_cjk_lines


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> Markup:
    """The URL as an inline SVG QR code (vector, sharp at any print size). Kept per URL: the guidebook is rendered
    twice or more (until its contents settle) and the press edition again, and choosing a QR mask is slow."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
    text = img.to_string(encoding="unicode")
    text = re.sub(r"^<\?xml[^>]*\?>\s*", "", text)
    text = text.replace("<svg ", '<svg class="qr-svg" role="img" aria-label="QRコード" ', 1)
    return Markup(text)


def absolute_links(html: str, page_url: str) -> Markup:
    """Body HTML written for a web page, with its relative links made absolute
    (a printed link must lead to the website, not to a temporary file)."""
    return Markup(urls.absolute_links(html, page_url, images=False, keep_fragments=True))


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
            # written from the content folder (images/…), or relative to the web page
            name = urls.content_ref(src.group(1), images) or unquote(urljoin(page_path, src.group(1).replace("&amp;", "&")))
        if src and name in images:
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
    # a line break between Japanese characters is no space; any other run of white space is one
    return [" ".join(join_cjk_lines(p).split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
