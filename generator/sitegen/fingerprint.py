"""What sitegen's output depends on besides the site: its own code and the libraries that shape the output.

Files kept between builds (.sitegen/) carry this fingerprint; a different one (sitegen or a library was upgraded,
a theme developer edited sitegen itself) means they are not used.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import metadata
from pathlib import Path

LIBRARIES = ("jinja2", "markdown", "nh3", "pydantic", "pyyaml", "markupsafe")


@lru_cache(maxsize=1)
def code() -> str:
    h = hashlib.blake2b(digest_size=16)
    for name in LIBRARIES:
        try:
            h.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{name}=?\0".encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()
