"""Noticing edits: poll the modification times of site.yaml, content/ and themes/.

Polling a few hundred files costs a couple of milliseconds, needs no extra dependency and
works the same on every system and editor (including editors that save by renaming).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

Snapshot = dict[str, tuple[int, int]]  # path relative to the site -> (mtime_ns, size)


def snapshot(root: Path, names: tuple[str, ...] = ("site.yaml", "content", "themes")) -> Snapshot:
    found: Snapshot = {}
    for name in names:
        _scan(root, root / name, found)
    return found


def _scan(root: Path, path: Path, found: Snapshot) -> None:
    try:
        st = path.stat()
    except OSError:
        return
    if not path.is_dir():
        found[path.relative_to(root).as_posix()] = (st.st_mtime_ns, st.st_size)
        return
    stack = [str(path)]
    prefix = len(str(root)) + 1
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name.endswith(("~", ".swp", ".tmp")):
                continue  # editor backups and temporary files
            try:
                if entry.is_dir():
                    stack.append(entry.path)
                else:
                    st = entry.stat()
                    found[entry.path[prefix:].replace(os.sep, "/")] = (st.st_mtime_ns, st.st_size)
            except OSError:
                continue


def changes(before: Snapshot, after: Snapshot) -> set[str]:
    """Paths added, removed or modified."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def watch(root: Path, on_change: Callable[[set[str]], None], stop: Callable[[], bool],
          since: Snapshot | None = None, interval: float = 0.05, settle: float = 0.02) -> None:
    """Call `on_change(paths)` after each edit (compared with `since`, taken before the first
    build), until `stop()` is true.

    After a change, wait `settle` seconds and look again, so a save in several steps
    (write, then rename) is one change.
    """
    last = since if since is not None else snapshot(root)
    while not stop():
        time.sleep(interval)
        now = snapshot(root)
        changed = changes(last, now)
        if not changed:
            continue
        for _ in range(10):
            time.sleep(settle)
            again = snapshot(root)
            more = changes(now, again)
            now = again
            if not more:
                break
            changed |= more
        last = now
        on_change(changed)
