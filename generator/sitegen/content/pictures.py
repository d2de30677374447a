"""What kind of picture a file is, from its first bytes: the pictures a site names (a doctor's photo, the logo, the
access map) must be in a format every browser shows, and that Chromium prints into the brochures. A photo taken
on an iPhone (HEIC), a PDF or an empty file saved under a .jpg name would be a broken picture on the website and
on paper, without this."""
from __future__ import annotations

import os

from sitegen.content import active

HEAD = 64  # bytes read from each file
SHOWN = "PNG, JPEG, GIF, WebP, AVIF or SVG"

# the ISO media (ftyp) brands of HEIF pictures: what iPhones and many Android phones save
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def problem(path: str) -> str | None:
    """Why the file at `path` is not a picture browsers show, or may not be published (an SVG with scripts:
    `active`), or None when it is a picture (or cannot be read here: a file that cannot be opened is reported where
    it is looked for)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        head = os.read(fd, HEAD)
    except OSError:
        return None
    finally:
        os.close(fd)
    why = _problem(head)
    if why is None and _is_svg(head):
        return active.svg_problem(path)
    return why


def _is_svg(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<svg", b"<?xml", b"<!--", b"<!doctype svg"))


def _problem(head: bytes) -> str | None:
    if not head:
        return "is an empty file (0 bytes): save the picture again"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"\x00\x00\x01\x00")):
        return None  # and the BMP and ICO pictures browsers show too
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return None
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return None
        if brand in _HEIF_BRANDS:
            return f"is a HEIC/HEIF photo (as phones save them), which browsers other than Safari do not show: save it as JPEG ({SHOWN})"
    if _is_svg(head):
        return None
    if head.startswith(b"%PDF"):
        return f"is a PDF, not a picture: save the page as PNG or JPEG ({SHOWN})"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return f"is a TIFF picture, which browsers do not show: save it as JPEG or PNG ({SHOWN})"
    if head.startswith(b"8BPS"):
        return f"is a Photoshop file: export it as JPEG or PNG ({SHOWN})"
    return f"is not a picture browsers show (expected {SHOWN})"
