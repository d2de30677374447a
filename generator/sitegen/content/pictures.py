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


# a picture larger than this is refused: printing decodes it whole (50 megapixels is 200 MB of memory, and Pillow
# refuses 179 million as a decompression bomb), and a camera's largest photo has about 50. A 65-byte file can
# claim 30000 × 30000 pixels.
MAX_PIXELS = 50_000_000
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_SEGMENTS = 200  # markers read at most before the frame header (a real photo has about ten)


def size_problem(path: str) -> str | None:
    """Why the picture at `path` is too large to publish and print (more than MAX_PIXELS pixels, as its header
    says), or None (also when the file cannot be read, or its format keeps the size where this does not look)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        size = _pixels(fd, os.read(fd, HEAD))
    except OSError:
        return None
    finally:
        os.close(fd)
    if size is None or size[0] * size[1] <= MAX_PIXELS:
        return None
    width, height = size
    return (f"is {width:,} × {height:,} pixels ({width * height / 1e6:,.0f} megapixels; at most "
            f"{MAX_PIXELS // 1_000_000}): too large to show or print; save it smaller (about 2,000 pixels on its "
            "long side is plenty)")


def _pixels(fd: int, head: bytes) -> tuple[int, int] | None:
    """(width, height) as the picture's header gives them, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if head.startswith((b"GIF87a", b"GIF89a")) and len(head) >= 10:
        return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if head.startswith(b"BM") and len(head) >= 26:
        return (abs(int.from_bytes(head[18:22], "little", signed=True)),
                abs(int.from_bytes(head[22:26], "little", signed=True)))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) >= 30:
        chunk = head[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
        if chunk == b"VP8L":
            bits = int.from_bytes(head[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
        if chunk == b"VP8 ":
            return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF
    if head.startswith(b"\xff\xd8\xff"):
        return _jpeg_pixels(fd)
    return None


def _jpeg_pixels(fd: int) -> tuple[int, int] | None:
    """A JPEG's size from its frame header (SOF), found by skipping the segments before it (EXIF, ICC profile)."""
    at = 2
    for _ in range(_JPEG_SEGMENTS):
        marker = os.pread(fd, 4, at)
        if len(marker) < 4 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xFF:  # fill byte
            at += 1
            continue
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:  # markers without a length
            at += 2
            continue
        if kind in _JPEG_SOF:
            frame = os.pread(fd, 5, at + 4)
            return (int.from_bytes(frame[3:5], "big"), int.from_bytes(frame[1:3], "big")) if len(frame) == 5 else None
        if kind == 0xD9:  # the end of the picture, and no frame
            return None
        at += 2 + int.from_bytes(marker[2:4], "big")
    return None
