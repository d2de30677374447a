"""What printing makes, kept between builds (<site>/.sitegen/pdf-prints/): a page whose HTML and every file it can
load are those of a print made before is not printed again, and a build whose pages are all kept starts no browser;
the content images scaled for print and the finished PDFs are kept the same way, by what they are made from.

Printing is most of a build that makes the brochures: the browser's start takes a second, each leaflet about half
of one, and a build after editing one department's file prints the guidebook and that department's leaflet, not
all of them. A print is a function of
- the HTML the browser is given, and whether the PDF is tagged;
- the files the page can load: the browser may read only the page's own folder and the print fonts
  (`printer.Printer._confine`), so the stylesheets the page names (and those they name in turn) and every other
  file of the folder (the content images scaled for print, all made before the first print);
- the machine: the browser (its executable as found), the fonts installed (a character no print font has is
  printed from a system font; fontconfig's settings choose it), sitegen's code and the versions of the libraries
  that print, scale and finish (Playwright, Pillow, pypdf, qrcode).
Each is kept under a digest of all of that. The index names the digest of each kept file's bytes and is sealed to
this checkout (sitegen.seal): a file planted in .sitegen/ is never published in a brochure. Only what a build used
is kept.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import threading
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from sitegen import seal
from sitegen.fingerprint import code as fingerprint_code
from sitegen.project import replacing

INDEX = "index.json"
LIBRARIES = ("playwright", "pillow", "pypdf", "qrcode")
VERSION = 1
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts", "/etc/fonts")


def digest(data: bytes | str) -> str:
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data,
                           digest_size=16).hexdigest()


def machine(executable: str, fonts: frozenset[str]) -> str:
    """What everything kept depends on besides its own inputs: sitegen's code, the versions of LIBRARIES, the
    browser's executable, the print fonts (file: URLs) and every file of the system's font folders and
    fontconfig's settings (by name, size and time: a font installed or updated changes it)."""
    parts = [f"v{VERSION}", fingerprint_code(), *map(_version, LIBRARIES)]
    paths = [Path(executable).resolve(), *(Path(unquote(urlsplit(url).path)) for url in sorted(fonts))]
    parts += [f"{path}:{_stamp(path)}" for path in paths]
    for folder in FONT_FOLDERS:
        top = Path(folder).expanduser()
        for where, dirs, files in sorted(os.walk(top)):
            dirs.sort()
            parts += [f"{where}/{name}:{_stamp(Path(where, name))}" for name in sorted(files)]
    return digest("\n".join(parts))


def _version(package: str) -> str:
    try:
        return f"{package} {importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{package} ?"


def _stamp(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "missing"
    return f"{st.st_size}:{st.st_mtime_ns}"


class PrintMemo:
    """What the last build kept, and what this one makes as it goes; shared by the printing threads."""

    def __init__(self, folder: Path | None, key: bytes | None, machine: str) -> None:
        self._folder = folder if key is not None else None
        self._key = key
        self._machine = machine
        index = seal.read_json(key, self._folder / INDEX) if self._folder is not None and key is not None else None
        files = index.get("files") if index is not None and index.get("version") == VERSION else None
        self._kept: dict[str, str] = {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)} \
            if isinstance(files, dict) else {}
        self._used: dict[str, str] = {}  # key -> digest of the bytes kept under it, for this build
        self._files: dict[tuple, str] = {}  # (path, size, mtime, inode) -> digest of a file of the page's folder
        self._lock = threading.Lock()

    @property
    def empty(self) -> bool:
        """Whether the last build kept nothing (a first build: the browsers start at once)."""
        return not self._kept

    def key(self, html_file: Path, html: str, tagged: bool) -> str:
        """The digest of everything the print of `html` (written at `html_file`) depends on."""
        root = html_file.parent
        parts = [self._machine, f"tagged={tagged}", digest(html)]
        parts += [f"{name}:{self._file_digest(root / name)}" for name in _loadable(root, html)]
        return digest("\n".join(parts))

    def _file_digest(self, path: Path) -> str:
        try:
            st = path.stat()
        except OSError:
            return "missing"
        stamp = (str(path), st.st_size, st.st_mtime_ns, st.st_ino)
        with self._lock:
            known = self._files.get(stamp)
        if known is None:
            known = digest(path.read_bytes())
            with self._lock:
                self._files[stamp] = known
        return known

    def made(self, parts: list[str], make: Callable[[], bytes]) -> bytes:
        """`make()`, or what it made for the same `parts` (on this machine) in the last build."""
        key = digest("\n".join([self._machine, *parts]))
        data = self.get(key)
        if data is None:
            data = make()
            self.put(key, data)
        return data

    def get(self, key: str) -> bytes | None:
        """What is kept under `key`, when its bytes are those the sealed index names."""
        expected = self._kept.get(key)
        if self._folder is None or expected is None:
            return None
        try:
            fd = os.open(self._folder / key, os.O_RDONLY | os.O_NOFOLLOW)  # never through a link out of the site
            with os.fdopen(fd, "rb") as f:
                data = f.read()
        except OSError:
            return None
        if digest(data) != expected:
            return None
        with self._lock:
            self._used[key] = expected
        return data

    def put(self, key: str, data: bytes) -> None:
        """Keep what was just made (written at once: a build killed meanwhile leaves no half file under its name)."""
        if self._folder is None:
            return
        path = self._folder / key
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            with replacing(path, 0o644) as f:  # a random name, never through a link
                f.write(data)
        except OSError:  # a disk that refuses only costs the next build a print
            return
        with self._lock:
            self._used[key] = digest(data)

    def save(self) -> None:
        """Seal the index of what this build used, and remove the rest."""
        if self._folder is None or self._key is None:
            return
        if self._used != self._kept:
            seal.write_json(self._key, self._folder / INDEX, {"version": VERSION, "files": dict(sorted(self._used.items()))})
        try:
            listing = list(os.scandir(self._folder))
        except OSError:
            return
        for entry in listing:
            if entry.name != INDEX and entry.name not in self._used and not entry.is_dir(follow_symlinks=False):
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass


def _loadable(root: Path, html: str) -> list[str]:
    """The files of `root` (by path below it) a page with this HTML can load: every file but the other pages and
    the stylesheets no text of the page names (each page names its own; they are written as the pages need
    them, so the others come and go while the build prints)."""
    try:
        names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    except OSError:
        return []
    loadable = [n for n in names if not n.endswith((".html", ".css"))]
    sheets = [n for n in names if n.endswith(".css")]
    texts, chosen = [html], []
    while True:
        found = [n for n in sheets if n not in chosen and any(n.rsplit("/", 1)[-1] in text for text in texts)]
        if not found:
            break
        chosen += found
        texts = [(root / n).read_text(encoding="utf-8", errors="replace") for n in found]
    return sorted(loadable + chosen)
