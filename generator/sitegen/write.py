"""The one sink: write artifacts to the build folder, atomically per output.

Each output (`site`, `pdf`, `mail`) is written into a staging folder inside the
build folder and swapped in with `os.replace` only when all of it is written,
so a failed build leaves the previous output exactly as it was. A build folder
that sitegen did not create is never cleaned or written into.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from sitegen.artifacts import Artifact
from sitegen.errors import OutputError

MARKER = ".sitegen-build"


def check_paths(outputs: dict[str, list[Artifact]]) -> None:
    """Refuse two artifacts with one path, and paths that would leave the output folder."""
    for name, artifacts in outputs.items():
        seen: dict[str, Artifact] = {}
        for a in artifacts:
            p = PurePosixPath(a.path)
            if p.is_absolute() or ".." in p.parts or not a.path or "\\" in a.path:
                raise OutputError(f"refusing to write outside {name}/: {a.path!r}")
            if a.path in seen:
                first = ", ".join(seen[a.path].sources) or "the theme"
                second = ", ".join(a.sources) or "the theme"
                raise OutputError(f"two files would be written to {name}/{a.path} (from {first} and {second})")
            seen[a.path] = a


def prepare_out_dir(out: Path, site_root: Path) -> None:
    out = out.resolve()
    if out == site_root or out in site_root.parents or (out / ".git").exists() or (out / "site.yaml").exists():
        raise OutputError(f"refusing to use {out} as the build folder: it holds the site or a repository")
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise OutputError(f"refusing to write into {out}: it is not empty and was not created by sitegen")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("This folder is written by sitegen build; its contents are replaced on every build.\n")


def write_outputs(out: Path, site_root: Path, outputs: dict[str, list[Artifact]]) -> dict[str, int]:
    """Write every output and swap each in. Returns bytes written per output."""
    check_paths(outputs)
    prepare_out_dir(out, site_root)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    sizes: dict[str, int] = {}
    try:
        for name, artifacts in outputs.items():
            root = staging / name
            root.mkdir()
            total = 0
            for a in artifacts:
                target = root / a.path
                target.parent.mkdir(parents=True, exist_ok=True)
                if a.data is not None:
                    target.write_bytes(a.data)
                    total += len(a.data)
                else:
                    assert a.copy_from is not None, f"artifact {a.path} has neither data nor copy_from"
                    shutil.copyfile(a.copy_from, target)
                    total += target.stat().st_size
            sizes[name] = total
        for name in outputs:
            final = out / name
            if final.exists():
                os.replace(final, staging / f".old-{name}")
            os.replace(staging / name, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sizes
