"""The contract between the build and every output.

    render(project, site, options: RenderOptions) -> Rendered(artifacts, warnings, counts)

An output renders files in memory (`Artifact`); `write.py` is the one sink that puts
them on disk. An output that cannot run on this machine raises `OutputSkipped`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from sitegen.errors import Problem

# progress(output, done, total, item) after each slow step (each printed PDF); the CLI draws a bar
Progress = Callable[[str, int, int, str], None]


@dataclass(frozen=True)
class Artifact:
    path: str  # relative to the output folder, forward slashes
    data: bytes | None = None  # the bytes, or None when copied from `copy_from`
    sources: tuple[str, ...] = ()  # content files it was made from (for messages and serve)
    copy_from: Path | None = None  # (after `sources`: outputs pass the sources as the third argument)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.copy_from is not None
        return self.copy_from.read_bytes()


@dataclass(frozen=True)
class RenderOptions:
    """What an output may be told besides the site: the build date and machine settings."""

    today: dt.date
    browser: str | None = None  # explicit Chromium path (else found by sitegen.chromium)
    press: bool = False  # print-shop edition of the brochures (bleed and crop marks)
    progress: Progress | None = field(default=None, compare=False)
    # this output's folder in the previous build, when files may be kept from it (a build that is not --clean)
    previous: Path | None = None


class Publishing(Protocol):
    """What an output has done around the writing of the build: `begin` just before the build is written, `tell`
    the moment it is published (before the previous build is removed: what can go on meanwhile starts), then a
    call with the output's folder once the build is written, or with None when it was not published (always made
    once the output is rendered, `begin` and `tell` or not)."""

    def begin(self) -> None: ...

    def tell(self, published: Path) -> None: ...

    def __call__(self, published: Path | None) -> None: ...


@dataclass
class Rendered:
    """What an output made: its files, warnings for the build report, and counts the CLI prints."""

    artifacts: list[Artifact] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # e.g. {"pages": 77}
    kept: int = 0  # files taken from the previous build without rendering them again
    on_written: Publishing | None = None  # the web output's record of what each page read
    record: Any = None  # what the web output read for each page (web.deps.Record): `sitegen serve` keeps it
