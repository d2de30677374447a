"""Where a site's files are: site.yaml, content/, themes/ and the output folder."""
from __future__ import annotations

import json
import os
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

PACKAGE_THEMES = Path(__file__).resolve().parent / "themes"
# the folders of a theme that sitegen reads: templates of each output, partials, static files
THEME_FOLDERS = ("web", "print", "mail", "partials", "static")


@dataclass(frozen=True)
class Project:
    root: Path  # the site directory, resolved
    out: Path  # the build directory
    keeps_state: bool = False  # a build keeps files for the next one in <site>/.sitegen/ (`check` writes nothing)

    def with_template_cache(self) -> "Project":
        """The same site, keeping compiled templates and other build state in .sitegen/ (a build)."""
        return Project(self.root, self.out, keeps_state=True)

    @property
    def template_cache(self) -> Path | None:
        """Compiled templates kept between builds (<site>/.sitegen/templates), or None."""
        return self.state_file("templates")

    def state_file(self, name: str) -> Path | None:
        """A file in <site>/.sitegen/ that a build keeps for the next one, or None when nothing may be written."""
        return self.state_path(name) if self.keeps_state else None

    def state_path(self, *parts: str) -> Path | None:
        """<site>/.sitegen/<parts>, or None when .sitegen or a folder or file under it on the way is a symbolic
        link: what sitegen keeps is never read or written outside the site (a link committed to a repository,
        or made by mistake, could point at any folder on the machine)."""
        path = self.root / ".sitegen"
        if path.is_symlink():
            return None
        for part in parts:
            path = path / part
            if path.is_symlink():
                return None
        return path

    @classmethod
    def at(cls, source: str | Path = ".", out: str | Path | None = None) -> "Project":
        root = Path(source).resolve()
        return cls(root=root, out=_resolved_but_last(Path(out)) if out else root / "build")

    @property
    def site_file(self) -> Path:
        return self.root / "site.yaml"

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def themes(self) -> Path:
        return self.root / "themes"

    def rel(self, path: Path) -> str:
        """A path as shown to authors: relative to the site, with forward slashes."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def escape(self, path: Path | str, area: Path | str) -> str | None:
        """Where `path` really is (symbolic links followed) when that is not inside the real folder `area` (or is
        `area` itself); None when it stays inside. Used once per folder: the files in a folder that passed are
        then checked against the folder's real path, which no link on the way can move outside."""
        real, folder = os.path.realpath(path), os.path.realpath(area)
        return None if real != folder and Path(real).is_relative_to(folder) else real

    def link_problem(self, path: Path, area: Path) -> str | None:
        """Why `path` is not read when a symbolic link takes it out of `area` (naming where it points), else None."""
        target = self.escape(path, area)
        if target is None:
            return None
        if area == self.root:
            return f"is a symbolic link to {target}, outside the site folder; not read: keep it inside the site folder"
        folder = self.rel(area)
        return f"is a symbolic link to {target}, outside {folder}/; not read: keep it inside {folder}/"

    def link_escapes(self, theme: str | None = None) -> list[tuple[str, str]]:
        """(path as the site names it, message) for each folder of the site's layout that a symbolic link takes out
        of the folder it belongs to: content/ and themes/ must be inside the site folder, a theme folder inside
        themes/, a theme's template and static folders (THEME_FOLDERS) inside the theme folder (site.yaml is
        checked where it is read, with `link_problem`). `theme`: only that theme's folder (default: every folder in
        themes/). A few system calls, whatever the size of the site; [] when nothing escapes."""
        found: list[tuple[str, str]] = []

        def check(path: Path, area: Path) -> bool:
            if not os.path.lexists(path):
                return False
            problem = self.link_problem(path, area)
            if problem is not None:
                found.append((self.rel(path), problem))
            return problem is None

        check(self.content, self.root)
        if check(self.themes, self.root) and self.themes.is_dir():
            if theme is not None:
                names = [theme]
            else:
                try:
                    with os.scandir(self.themes) as listing:
                        names = sorted(e.name for e in listing if e.is_dir() and not e.name.startswith("."))
                except OSError:
                    names = []
            for name in names:
                folder = self.themes / name
                if check(folder, self.themes) and folder.is_dir():
                    for sub in THEME_FOLDERS:
                        check(folder / sub, folder)
        return found

    def inside(self, path: Path, folder: Path | None = None) -> bool:
        """True when `path`, with every symlink followed, stays inside `folder` (default: the site directory).
        Content files must stay inside content/: a link from there to private/ would publish it."""
        try:
            path.resolve().relative_to((folder or self.root).resolve())
        except (ValueError, OSError, RuntimeError):
            return False
        return True


def _resolved_but_last(path: Path) -> Path:
    """`path` made absolute, its folders' symbolic links followed but not a link on its last part, which
    `write.check_out_dir` refuses: the build folder `--out` names is never written through a link."""
    absolute = Path(os.path.abspath(path))
    return absolute.parent.resolve() / absolute.name if absolute.name else absolute.resolve()


FEW = 20  # entries (or 2 % of them) that may differ from a large record in .sitegen/ before it is written again
LARGE = 1000  # entries from which a record is large (a small one is written in no time)


def worth_rewriting(size: int, differ: int) -> bool:
    """Whether a record kept in .sitegen/ with `size` entries, `differ` of which are not as it says, is written
    again. A large record with only a few differences stays: what it says of those entries is simply not used
    (they are read or rendered again next time), which costs less than writing it all (0.2-0.5 s at 10,000)."""
    return size < LARGE or differ > max(FEW, size // 50)


def read_state(path: Path | None) -> dict | None:
    """A JSON object a build kept in .sitegen/, or None when there is none or it cannot be read (the next build
    then works from scratch)."""
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_state(path: Path, data: dict) -> None:
    """Replace a file in .sitegen/ with `data` as JSON (`write_state_text`)."""
    write_state_text(path, json_pieces(data))


def write_state_text(path: Path, pieces: Iterable[str]) -> None:
    """Replace a file in .sitegen/ in one step (`replacing`: a reader never sees half of it) with the text in
    `pieces`. A file that cannot be written (a read-only checkout) only costs the next build time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as out:
            for piece in pieces:
                out.write(piece.encode("utf-8"))
    except OSError:  # `replacing` removed its temporary file: nothing half written is left beside the record
        pass


@contextmanager
def replacing(path: Path, mode: int = 0o666) -> Iterator[IO[bytes]]:
    """A binary stream whose bytes replace the file at `path` in one step when the block ends without an error.

    They go to a new temporary file beside it with a random name, created exclusively and never through a symbolic
    link (O_CREAT | O_EXCL | O_NOFOLLOW, in the folder opened with O_NOFOLLOW), which is then renamed over `path`:
    a rename replaces a link at `path` itself, never the file it points at. A link planted under a name sitegen
    would use (a name with the process id in it can be guessed) is so never followed out of the site. On an error
    the temporary file is removed and the error raised (OSError when the disk refuses). The folder must exist."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    folder = os.open(path.parent, flags)
    try:
        while True:
            temporary = f"{path.name}.{secrets.token_hex(8)}.tmp"
            try:
                fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                             | getattr(os, "O_CLOEXEC", 0), mode, dir_fd=folder)
                break
            except FileExistsError:  # as likely as guessing 64 random bits: try another name
                continue
        try:
            with os.fdopen(fd, "wb") as out:
                yield out
            os.replace(temporary, path.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=folder)
            except OSError:
                pass
            raise
    finally:
        os.close(folder)


def json_pieces(data: dict) -> Iterator[str]:
    """A JSON object as text in pieces of at most a thousand entries (a large record is never one string in
    memory: 10,000 pages' record as one string took 13 MB more at its peak)."""
    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    yield "{"
    for n, (key, value) in enumerate(data.items()):
        yield ("," if n else "") + dump(key) + ":"
        if isinstance(value, (list, dict)) and len(value) > 1000:
            items = list(value.items()) if isinstance(value, dict) else value
            yield "{" if isinstance(value, dict) else "["
            for start in range(0, len(items), 1000):
                part = items[start:start + 1000]
                yield ("," if start else "") + dump(dict(part) if isinstance(value, dict) else part)[1:-1]
            yield "}" if isinstance(value, dict) else "]"
        else:
            yield dump(value)
    yield "}"
