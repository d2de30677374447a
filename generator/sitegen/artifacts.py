"""What an output produces: files in memory, written by `write.py`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import Problem


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


class Artifacts(list):
    """A list of artifacts that also carries warnings for the build report (build.run adds them)."""

    warnings: list[Problem]

    def __init__(self, *args):
        super().__init__(*args)
        self.warnings = []
