"""How many processes or browsers to spread work over: one per core this process may use, at most 4."""
from __future__ import annotations

import os

MAX_WORKERS = 4


def workers(setting: str) -> int:
    """One per usable core, at most MAX_WORKERS; the environment variable `setting` (a positive number)
    overrides, and 1 does the work serially."""
    value = os.environ.get(setting, "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))
