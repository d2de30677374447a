"""The print fonts: Morisawa BIZ UD, found on this computer, and a check of the fonts in a PDF.

Chromium embeds TrueType-outline fonts as subset TrueType (CID) fonts, but turns
CFF-outline fonts (Noto CJK, most .otf) and synthesised bold into Type 3 fonts,
which print shops reject. So the print stylesheet names the font files itself
(`@font-face` with the files fontconfig finds, or `local()` where there is no
fontconfig), never falls back to whatever the system has, and the printed PDF
is checked: no Type 3 font, every font embedded.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from sitegen.errors import SitegenError

FONT_HINT = (
    "install Morisawa's BIZ UD fonts (Debian/Ubuntu: `apt-get install fonts-morisawa-bizud-gothic "
    "fonts-morisawa-bizud-mincho`, or `make build`; macOS/Windows: install BIZ UDPGothic and BIZ UDPMincho "
    "from Google Fonts for your user)"
)


@dataclass(frozen=True)
class Face:
    css_family: str  # the name print.css uses
    weight: int
    family: str  # the installed font's family
    style: str  # Regular / Bold
    postscript: str  # for local() where fontconfig is missing


FACES = (
    Face("sitegen-gothic", 400, "BIZ UDPGothic", "Regular", "BIZUDPGothic-Regular"),
    Face("sitegen-gothic", 700, "BIZ UDPGothic", "Bold", "BIZUDPGothic-Bold"),
    Face("sitegen-mincho", 400, "BIZ UDPMincho", "Regular", "BIZUDPMincho-Regular"),
    Face("sitegen-mono", 400, "BIZ UDGothic", "Regular", "BIZUDGothic-Regular"),  # code: fixed width, TrueType
)
# For the characters BIZ UD does not have (𠮷, 髙 variants, rare kanji of names in CJK Extension B and
# beyond): HanaMin, TrueType (Debian fonts-hanazono), so the PDF keeps only embedded TrueType fonts.
# Optional: without it such a character prints from a system font and the build warns.
FALLBACKS = (
    Face("sitegen-fallback-a", 400, "HanaMinA", "Regular", "HanaMinA"),
    Face("sitegen-fallback-b", 400, "HanaMinB", "Regular", "HanaMinB"),
)
STACK = '"sitegen-fallback-a", "sitegen-fallback-b"'  # appended to every font-family of print.css


class FontsMissing(SitegenError):
    pass


def font_faces() -> Markup:
    """@font-face rules for FACES: the files fontconfig finds, or local() names without fontconfig.

    Raises FontsMissing (saying what to install) when fontconfig is there but a face is not.
    """
    use_files = shutil.which("fc-match") is not None
    rules, missing = [], []
    for face in FACES:
        if use_files:
            path = find_file(face)
            if path is None:
                missing.append(f"{face.family} {face.style}")
                continue
            src = f'url("{path.as_uri()}") format("truetype")'
        else:
            src = f'local("{face.family} {face.style}"), local("{face.postscript}")'
            if face.style == "Regular":
                src += f', local("{face.family}")'
        rules.append(f'@font-face {{ font-family: "{face.css_family}"; font-weight: {face.weight}; '
                     f'font-style: normal; src: {src}; }}')
    if missing:
        raise FontsMissing(f"fonts not found: {', '.join(missing)}; {FONT_HINT}")
    for face in FALLBACKS:
        path = find_file(face) if use_files else None
        if path is not None:
            # one face for every weight: Chromium must not synthesise a bold (that would be a Type 3 font)
            rules.append(f'@font-face {{ font-family: "{face.css_family}"; font-weight: 100 900; '
                         f'font-style: normal; src: url("{path.as_uri()}") format("truetype"); }}')
    return Markup("\n".join(rules))


def coverage(faces: tuple[Face, ...]) -> set[int] | None:
    """Code points every one of `faces` has (fontconfig's charset), or None when fontconfig cannot tell."""
    common: set[int] | None = None
    for face in faces:
        chars = _charset(face)
        if chars is None:
            return None
        common = chars if common is None else common & chars
    return common


def _charset(face: Face) -> set[int] | None:
    if shutil.which("fc-match") is None or find_file(face) is None:
        return None
    try:
        done = subprocess.run(["fc-match", "-f", "%{charset}", f"{face.family}:style={face.style}"],
                              capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    chars: set[int] = set()
    for part in done.stdout.split():
        lo, _, hi = part.partition("-")
        try:
            chars.update(range(int(lo, 16), int(hi or lo, 16) + 1))
        except ValueError:
            return None
    return chars or None


def missing_glyphs(text: str, primary: set[int] | None, fallback: set[int] | None) -> tuple[list[str], list[str]]:
    """Characters of `text` the print fonts lack: (printed from the fallback font, in no print font)."""
    if primary is None:
        return [], []
    odd = sorted({c for c in text if ord(c) >= 0x80 and ord(c) not in primary and not c.isspace()
                  and not 0xFE00 <= ord(c) <= 0xFE0F and not 0xE0100 <= ord(c) <= 0xE01EF})  # variation selectors
    covered = fallback or set()
    return [c for c in odd if ord(c) in covered], [c for c in odd if ord(c) not in covered]


def find_file(face: Face) -> Path | None:
    """The TrueType file of a face, asking fontconfig; None when fontconfig substitutes another font."""
    try:
        done = subprocess.run(
            ["fc-match", "-f", "%{family}|%{style}|%{file}", f"{face.family}:style={face.style}"],
            capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = done.stdout.split("|")
    if done.returncode != 0 or len(parts) != 3:
        return None
    families, styles, file = parts
    if face.family not in [f.strip() for f in families.split(",")]:
        return None
    if face.style not in [s.strip() for s in styles.split(",")]:
        return None  # e.g. Regular offered for Bold: Chromium would synthesise bold (Type 3)
    path = Path(file)
    if path.suffix.lower() not in (".ttf", ".ttc") or not path.is_file():
        return None
    return path


# ------------------------------------------------------------ the printed PDF --


def font_problems(reader) -> list[str]:
    """Fonts a print shop would reject: Type 3, or not embedded. Each named once."""
    problems: dict[str, str] = {}
    seen: set[int] = set()
    for page in reader.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if fonts is None:
            continue
        for ref in fonts.get_object().values():
            font = ref.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            name = str(font.get("/BaseFont", "(unnamed)"))
            if font.get("/Subtype") == "/Type3":
                problems[name] = f"{name} is a Type 3 font"
                continue
            target = font
            if font.get("/Subtype") == "/Type0":
                target = font["/DescendantFonts"][0].get_object()
            desc = target.get("/FontDescriptor")
            desc = desc.get_object() if desc is not None else {}
            if not any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                problems[name] = f"{name} is not embedded"
    return list(problems.values())
