"""What other libraries log, kept from the office's terminal where it is not for them."""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator


@contextlib.contextmanager
def quieted(logger: str, level: int) -> Iterator[None]:
    """`logger` (and the loggers under it) logs only from `level` up while the block runs."""
    log = logging.getLogger(logger)
    before = log.level
    log.setLevel(level)
    try:
        yield
    finally:
        log.setLevel(before)
