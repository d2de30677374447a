"""The print-shop edition: 3 mm bleed, Japanese トンボ (crop marks), TrimBox and BleedBox.

Chromium has no `bleed` or `marks`, so the brochure is printed on a page 3 mm
larger on each side (backgrounds run into the bleed, margins grow by 3 mm) and
then, with pypdf, every page gets room around it for the marks: the MediaBox
grows outwards, BleedBox is the printed page, TrimBox the finished size. The
marks are drawn in registration colour (CMYK 100% each) as an artifact, so the
tagged structure is unchanged. CMYK conversion (PDF/X-1a) is not done here.
"""
from __future__ import annotations

MM = 72 / 25.4
BLEED_MM = 3.0
SLUG_MM = 12.0  # room outside the bleed for the marks
MARK_MM = 9.0  # length of the corner marks outside the bleed
LINE_PT = 0.25


def add_marks(writer) -> None:
    """Give every page of a PDF printed with a 3 mm bleed its marks and boxes (in place)."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject

    b = BLEED_MM * MM
    s = SLUG_MM * MM
    for page in writer.pages:
        box = page.mediabox  # the printed page: trim + bleed, origin at 0, 0
        w, h = float(box.width), float(box.height)
        page[NameObject("/BleedBox")] = RectangleObject([0, 0, w, h])
        page[NameObject("/TrimBox")] = RectangleObject([b, b, w - b, h - b])
        outer = RectangleObject([-s, -s, w + s, h + s])
        page.mediabox = outer
        page.cropbox = outer
        before = DecodedStreamObject()
        before.set_data(b"q\n")
        after = DecodedStreamObject()
        after.set_data(b"\nQ\n" + marks(w, h))
        contents = page.get("/Contents")
        existing = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
        page[NameObject("/Contents")] = ArrayObject(
            [writer._add_object(before), *existing, writer._add_object(after)])


def marks(w: float, h: float) -> bytes:
    """Corner and centre トンボ for a page of w × h points that includes the bleed."""
    b = BLEED_MM * MM
    m = MARK_MM * MM
    lines: list[tuple[float, float, float, float]] = []
    for x0, sx in ((0.0, -1), (w, 1)):  # left and right edges of the bleed; sx points outwards
        for y0, sy in ((0.0, -1), (h, 1)):
            tx, ty = x0 - sx * b, y0 - sy * b  # the trim corner
            # trim lines: from the bleed edge outwards
            lines.append((tx, y0, tx, y0 + sy * m))
            lines.append((x0, ty, x0 + sx * m, ty))
            # bleed lines: an L from the bleed corner outwards
            lines.append((x0, y0, x0, y0 + sy * m))
            lines.append((x0, y0, x0 + sx * m, y0))
    cx, cy, c = w / 2, h / 2, 5 * MM
    for y0, sy in ((0.0, -1), (h, 1)):  # centre marks above and below
        lines.append((cx, y0, cx, y0 + sy * m))
        lines.append((cx - c, y0 + sy * m / 2, cx + c, y0 + sy * m / 2))
    for x0, sx in ((0.0, -1), (w, 1)):  # left and right
        lines.append((x0, cy, x0 + sx * m, cy))
        lines.append((x0 + sx * m / 2, cy - c, x0 + sx * m / 2, cy + c))
    ops = [b"/Artifact BMC", b"q", b"1 1 1 1 K", f"{LINE_PT} w".encode(), b"0 J"]
    for x1, y1, x2, y2 in lines:
        ops.append(f"{x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S".encode())
    ops += [b"Q", b"EMC"]
    return b"\n".join(ops) + b"\n"
