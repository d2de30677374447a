"""Problems found in a site, reported to people who are not programmers.

Every content mistake becomes a :class:`Problem` with a location (file and line),
the field it concerns and a message. Loading and validation collect all of them;
the build stops with :class:`ContentError` only after looking at everything.
"""
from __future__ import annotations

import difflib
import errno
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True, order=True)
class Location:
    path: str  # relative to the site directory, with forward slashes
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Problem:
    location: Location
    field: str
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = str(self.location)
        prefix = "warning: " if self.severity == "warning" else ""
        if self.field:
            return f"{where}: {prefix}{self.field}: {self.message}"
        return f"{where}: {prefix}{self.message}"

    def sort_key(self):
        return (self.location.path, self.location.line or 0, self.field, self.message)


@dataclass
class ProblemList:
    """Collects problems while a site is loaded; frozen into a tuple at the end."""

    items: list[Problem] = field(default_factory=list)

    def error(self, location: Location, field_: str, message: str) -> None:
        self.items.append(Problem(location, field_, message, "error"))

    def warning(self, location: Location, field_: str, message: str) -> None:
        self.items.append(Problem(location, field_, message, "warning"))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return sorted((p for p in self.items if p.severity == "error"), key=Problem.sort_key)

    @property
    def warnings(self) -> list[Problem]:
        return sorted((p for p in self.items if p.severity == "warning"), key=Problem.sort_key)

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ContentError(self.errors, self.warnings)


class SitegenError(Exception):
    """Base class of errors the CLI reports as a message, without a traceback."""


class ContentError(SitegenError):
    """The site's content has mistakes; nothing was written."""

    def __init__(self, errors: list[Problem], warnings: list[Problem] | None = None):
        self.errors = list(errors)
        self.warnings = list(warnings or [])
        super().__init__(f"{len(self.errors)} problem(s) in the content")

    def lines(self) -> list[str]:
        return [str(p) for p in self.errors]


class OutputError(SitegenError):
    """The output directory cannot be written safely."""


# what a disk answers when it cannot take a file: full, over the quota, read-only, not ours to write
_DISK = {
    errno.ENOSPC: ("the disk is full", "free some space, or build into a folder on another disk (--out), and build again"),
    errno.EDQUOT: ("the disk quota is used up", "free some space, or build into a folder on another disk (--out), and build again"),
    errno.EROFS: ("the disk is read-only", "build into a folder on a writable disk (--out)"),
    errno.EACCES: ("permission denied", "check the folder's owner and permissions, or build into another folder (--out)"),
    errno.EPERM: ("permission denied", "check the folder's owner and permissions, or build into another folder (--out)"),
}


def disk_error(exc: BaseException, folder: object) -> OutputError | None:
    """A disk's refusal to take a file (`exc`: full, quota, read-only, permissions) while writing into `folder`, as
    a clear error naming the folder; None for any other error."""
    if not isinstance(exc, OSError) or exc.errno not in _DISK:
        return None
    what, advice = _DISK[exc.errno]
    return OutputError(f"cannot write to {folder}: {what} ({exc.strerror or exc}); {advice}")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint like " (did you mean 'cardiology'?)", or "" when nothing is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


class OutputSkipped(SitegenError):
    """An output cannot be made on this machine (e.g. no browser); the others still build."""
