"""Where a site's files are: site.yaml, content/, themes/ and the output folder."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

PACKAGE_THEMES = Path(__file__).resolve().parent / "themes"


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
        return cls(root=root, out=Path(out).resolve() if out else root / "build")

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

    def inside(self, path: Path, folder: Path | None = None) -> bool:
        """True when `path`, with every symlink followed, stays inside `folder` (default: the site directory).
        Content files must stay inside content/: a link from there to private/ would publish it."""
        try:
            path.resolve().relative_to((folder or self.root).resolve())
        except (ValueError, OSError, RuntimeError):
            return False
        return True


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
    """Replace a file in .sitegen/ in one step (a temporary file beside it, then a rename, so a reader never sees
    half of it) with the text in `pieces`. A file that cannot be written (a read-only checkout) only costs the next
    build time."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temporary.open("w", encoding="utf-8") as out:
            out.writelines(pieces)
        os.replace(temporary, path)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)  # half written on a full disk: not left beside the record
        except OSError:
            pass


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
