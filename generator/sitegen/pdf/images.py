"""Content images copied next to the print HTML, resized for print.

A print needs about 350 dpi at the printed size: a doctor's photo printed 20 × 25 mm
needs 276 × 344 pixels, not the 3000 × 4000 a camera gives (which would make every
PDF tens of megabytes). Larger images are scaled down with Pillow; smaller ones and
formats Pillow does not read (SVG) are copied as they are. Missing files are left
out: the loader has reported them, and the templates show a placeholder.
"""
from __future__ import annotations

import io
from functools import partial
from pathlib import Path

from sitegen.content import pictures
from sitegen.content.site import Site
from sitegen.pdf.memo import PrintMemo, digest

DPI = 350
MM_PER_INCH = 25.4
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
PHOTO_MM = (20.0, 25.0)  # the doctor card photo in print.css


def pixels(mm: float) -> int:
    return round(mm / MM_PER_INCH * DPI)


def prepare(content: Path, site: Site, work: Path, page_width_mm: float, memo: PrintMemo | None = None) -> set[str]:
    """Copy every content image into `work`, scaled for print. Returns the names copied. With a `memo`, an image
    scaled by the last build from the same bytes to the same box is taken from it."""
    photos = {d.photo.src for d in site.doctors if d.photo}
    copied = set()
    for name in site.assets:
        if not name.lower().endswith(IMAGE_SUFFIXES):
            continue
        source = content / name
        if not source.is_file() or pictures.size_problem(str(source)) is not None:
            continue  # missing, or too large to decode (reported by the loader where a page shows it)
        dest = work / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if name in photos:
            box = (pixels(PHOTO_MM[0]), pixels(PHOTO_MM[1]))
            cover = True  # the card crops to fill its frame: keep both sides at least the box
        else:
            side = pixels(page_width_mm)
            box, cover = (side, side), False
        scale = partial(_scaled, source, box, cover)
        if memo is None:
            dest.write_bytes(scale())
        else:
            dest.write_bytes(memo.made(["print image", digest(source.read_bytes()), repr(box), repr(cover)], scale))
        copied.add(name)
    return copied


def _scaled(source: Path, box: tuple[int, int], cover: bool) -> bytes:
    """The image's bytes for print: scaled down to `box` (to cover it, or fit in it), or as they are."""
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError:  # pragma: no cover - Pillow is a dependency; copy as a fallback
        return source.read_bytes()
    try:
        with Image.open(source) as original:
            img = ImageOps.exif_transpose(original)  # a phone photo stored sideways prints upright
            img.format = original.format
            w, h = img.size
            ratio = max(box[0] / w, box[1] / h) if cover else min(box[0] / w, box[1] / h)
            if ratio >= 0.9 or img.format not in ("PNG", "JPEG", "WEBP"):
                return source.read_bytes()  # already about the right size
            size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
            small = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") and img.format == "PNG" else "RGB")
            small = small.resize(size, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            if img.format == "JPEG":
                small.save(out, "JPEG", quality=90, optimize=True)
            elif img.format == "WEBP":
                small.save(out, "WEBP", quality=90)
            else:
                small.save(out, "PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return source.read_bytes()  # Chromium may still read it (SVG); otherwise the alt text shows
