"""Content kept between builds: every file's parsed and validated result, in <site>/.sitegen/content.pickle.

Reading and validating the files under content/ is most of a large site's load (YAML above all). A build keeps
each file's result (its source with line marks, its validated model and its problems) with the file's stamp
(modification and change time, size, inode) — the `load.READ` entries that `sitegen serve` keeps in memory — so
that the next build reads and validates again only the files whose stamp changed, and replays the problems of the
others. The results are the same objects a fresh read makes, so the output is byte for byte the same.

A pickle is run by Python as it is read, so the file is sealed to this checkout (sitegen.seal) and names
sitegen's code fingerprint and the site's folder: one made elsewhere, by another version of sitegen or for another
folder is ignored (and the files are read as on a first build). A file whose stamp is less than a second older
than the moment it was read is not kept: an edit within the clock's tick could leave the same stamp.
"""
from __future__ import annotations

import io
import pickle
import time
from functools import partial
from typing import Callable

from sitegen import cores, seal
from sitegen.content.load import READ, Memo
from sitegen.fingerprint import code as fingerprint_code
from sitegen.project import Project, worth_rewriting

FILE = "content.pickle"
VERSION = 1
RECENT_NS = 1_000_000_000  # a file changed this close to being read is read again next time
CHUNK = 500  # files per pickle in the file


class Kept:
    """The memo a build's load works with (set it as load.KEPT_FILES), read from and written back to disk."""

    def __init__(self, project: Project):
        self.project = project
        self.started_ns = time.time_ns()
        self.memo = Memo(_read(project))
        self._before = {k: v[0] for k, v in self.memo.items()}
        self.found = bool(self._before)  # the last build's results were there to keep

    def saving(self, in_child: bool = True) -> Callable[[], bool] | None:
        """Keep the entries this load used (files deleted since are dropped), written by a forked child
        (`in_child`) while the build goes on (pickling 10,000 files' content held the pages back 0.15 s): returns
        what waits for the child (False when it failed, which only costs the next build time: it reads every file
        again), or None when the file was written here and now (no child could be forked) or stays as it is.
        The file is written again only when more than a few files differ from it: a build after editing one file
        reads that file again rather than rewrite the whole record (0.2 s for 10,000 files); the edits are kept
        once enough of them add up."""
        entries = self._to_write()
        if entries is None:
            return None
        done = cores.in_child(partial(_write, self.project, entries)) if in_child else None
        if done is None:
            _write(self.project, entries)
        return done

    def _to_write(self) -> dict | None:
        """The entries to write (`saving`), or None when the file is to stay as it is."""
        self.memo.prune()
        recent = self.started_ns - RECENT_NS
        entries = {k: v for k, v in self.memo.items()
                   if isinstance(k, tuple) and len(k) == 2 and k[0] == READ
                   and v[0] is not None and max(v[0][0], v[0][1]) < recent}
        differ = sum(1 for k, v in entries.items() if self._before.get(k) != v[0])
        differ += sum(1 for k in self._before if k not in entries)
        if differ == 0 or (self._before and not worth_rewriting(len(entries), differ)):
            return None
        return entries


def _header(project: Project) -> tuple:
    return VERSION, fingerprint_code(), str(project.root)


def _read(project: Project) -> dict:
    path = project.state_file(FILE)
    key = seal.key(project) if path is not None else None
    if path is None or key is None:
        return {}
    data = seal.read(key, path)
    if data is None:
        return {}
    entries: dict = {}
    try:
        stream = io.BytesIO(data)
        if pickle.load(stream) != _header(project):
            return {}
        while stream.tell() < len(data):
            entries.update(pickle.load(stream))
    except Exception:  # noqa: BLE001 - sealed here, yet unreadable (a class that sitegen no longer has): start afresh
        return {}
    return entries


def _write(project: Project, entries: dict) -> None:
    path = project.state_file(FILE)
    key = seal.key(project) if path is not None else None
    if path is not None and key is not None:
        seal.write(key, path, partial(_dump, _header(project), entries))


def _dump(header: tuple, entries: dict, out) -> None:
    """The header, then the entries in pickles of CHUNK files each: pickling keeps a table of every object it wrote,
    which for 10,000 files at once took 30 MB for a moment and left the build's heap larger."""
    pickle.dump(header, out, protocol=5)
    items = list(entries.items())
    for start in range(0, len(items), CHUNK):
        pickle.dump(dict(items[start:start + CHUNK]), out, protocol=5)
