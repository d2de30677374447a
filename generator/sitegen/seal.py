"""Sealed files in .sitegen/: what a build keeps there that Python would run when it is read back.

Compiled templates are such files (Jinja reads a pickle and Python bytecode from them). A copy brought in from
elsewhere — committed to the site's repository, unpacked from an archive, restored from a CI cache — must never
be run: it could do anything a theme's sandbox forbids. So each is sealed with an HMAC whose key is bound to
this checkout: a random secret in .sitegen/key mixed with that file's identity on this disk (device, inode and
change time). A key file that arrives with a commit or a copy gets a new inode and change time, so nothing sealed
elsewhere opens here; a file that does not open is ignored and made again (the build is only slower).
The HTML kept for Markdown bodies is sealed too: pages publish it as it is, so a planted copy could put a script
on the website.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import IO, Callable

from sitegen.project import Project, json_pieces, replacing

KEY_FILE = "key"
SECRET_BYTES = 32
_MAC = hashlib.sha256
_MAC_BYTES = _MAC().digest_size


def key(project: Project) -> bytes | None:
    """This checkout's sealing key, made on first use; None when .sitegen cannot hold one (a symbolic link, a
    read-only checkout): nothing is then kept that needs sealing."""
    path = project.state_path(KEY_FILE)
    if path is None:
        return None
    try:
        return _read_key(str(path))
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, os.urandom(SECRET_BYTES))
        finally:
            os.close(fd)
        return _read_key(str(path))
    except OSError:  # another build made it first (and may not have written it yet), or the disk refuses
        return None


def _read_key(path: str) -> bytes | None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        secret = os.read(fd, SECRET_BYTES + 1)
    finally:
        os.close(fd)
    if len(secret) != SECRET_BYTES:
        return None
    identity = f"{st.st_dev}:{st.st_ino}:{st.st_ctime_ns}".encode()
    return hmac.new(secret, identity, _MAC).digest()


def read(key: bytes, path: Path) -> memoryview | None:
    """The data of the sealed file at `path` (never through a symbolic link), or None when it is missing,
    unreadable or was not sealed with `key`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            blob = f.read()
    except OSError:
        return None
    return _unseal(key, blob)


def _unseal(key: bytes, blob: bytes) -> memoryview | None:
    """The data of a sealed blob (a view, not a copy), or None when it was not sealed with `key` (made elsewhere or
    changed since)."""
    view = memoryview(blob)
    mac, data = view[:_MAC_BYTES], view[_MAC_BYTES:]
    return data if hmac.compare_digest(mac, hmac.new(key, data, _MAC).digest()) else None


def write(key: bytes, path: Path, put: Callable[[IO[bytes]], object]) -> None:
    """Write a sealed file in one step (`project.replacing`: a temporary file beside it, never through a link, then
    a rename), `put` writing the data into the stream it is given: a large file is never one string in memory. The
    folder is made if need be; nothing is written when the disk refuses (as `project.write_state`)."""
    mac = hmac.new(key, digestmod=_MAC)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as f:
            f.write(bytes(_MAC_BYTES))

            class Sealing:
                def write(self, data: bytes) -> int:
                    mac.update(data)
                    return f.write(data)

            put(Sealing())  # type: ignore[arg-type]
            f.seek(0)
            f.write(mac.digest())
    except OSError:
        pass


def read_json(key: bytes, path: Path) -> dict | None:
    """The JSON object in the sealed file at `path` (`read`), or None."""
    data = read(key, path)
    if data is None:
        return None
    try:
        value = json.loads(data.tobytes())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def write_json(key: bytes, path: Path, data: dict) -> None:
    """`data` as a sealed JSON file, written in pieces (`project.json_pieces`)."""
    def put(out: IO[bytes]) -> None:
        for piece in json_pieces(data):
            out.write(piece.encode("utf-8", "surrogatepass"))

    write(key, path, put)
