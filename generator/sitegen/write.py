"""The one sink: write artifacts to the build folder, published all at once.

A build is written into a new folder beside the build folder (`.build.staging-…`), the
outputs that were not rebuilt are carried over (hard links), and the new folder takes the
place of the old one in one step (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere two renames,
never a mix of old and new). A build that differs from the previous one in one file at most
(an edited doctor's page) replaces only that file, also in one step (`_patch`). A killed build
leaves the previous build exactly as it was; its leftovers are removed by the next build. A build folder that sitegen did not create is never
cleaned or written into, it may not be inside the site's content/, themes/ or private/, and it may not be a
symbolic link.
"""
from __future__ import annotations

import ctypes
import errno
import filecmp
import os
import shutil
import signal
import stat
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from sitegen.artifacts import Artifact
from sitegen.cores import workers
from sitegen.errors import OutputError, disk_error

MARKER = ".sitegen-build"
PARALLEL_FROM = 500  # fewer files are written by one thread
STALE_SECONDS = 24 * 3600  # a leftover older than this is from a build that was killed, whatever its PID


def check_paths(outputs: dict[str, list[Artifact]]) -> None:
    """Refuse two artifacts with one path, and paths that would leave the output folder."""
    for name, artifacts in outputs.items():
        seen: dict[str, Artifact] = {}
        for a in artifacts:
            if not a.path or a.path.startswith("/") or ".." in a.path.split("/") or "\\" in a.path:
                raise OutputError(f"refusing to write outside {name}/: {a.path!r}")
            if a.path in seen:
                first = ", ".join(seen[a.path].sources) or "the theme"
                second = ", ".join(a.sources) or "the theme"
                raise OutputError(f"two files would be written to {name}/{a.path} (from {first} and {second})")
            seen[a.path] = a


def check_out_link(out: Path) -> None:
    """Refuse a build folder (as named, before links are followed) that is a symbolic link."""
    if out.is_symlink():
        raise OutputError(f"refusing to use {out} as the build folder: it is a symbolic link to {os.path.realpath(out)}; "
                          "remove the link (sitegen makes the folder itself) or name the real folder with --out")


def check_out_dir(out: Path, site_root: Path) -> None:
    """Refuse a build folder that holds the site, a repository or foreign files, or that is published itself, or
    that is a symbolic link (`out` as named, before links are followed): a build/ committed or made as a link could
    point anywhere on the machine, and the build would be written (and the previous one removed) there."""
    check_out_link(out)
    out = out.resolve()
    if out == site_root or out in site_root.parents or (out / ".git").exists() or (out / "site.yaml").exists():
        raise OutputError(f"refusing to use {out} as the build folder: it holds the site or a repository")
    for inner in ("content", "themes", "private"):
        folder = (site_root / inner).resolve()
        if out == folder or folder in out.parents:
            raise OutputError(f"refusing to use {out} as the build folder: it is inside the site's {inner}/ "
                              "(what is built there would be published or read as content); use build/")
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise OutputError(f"refusing to write into {out}: it is not empty and was not created by sitegen")


def write_outputs(out: Path, site_root: Path, outputs: dict[str, list[Artifact]], reuse: bool = True,
                  unchanged: dict[str, int] | None = None,
                  on_published: Callable[[], None] | None = None) -> dict[str, int]:
    """Write every output and publish the whole build folder at once. Returns bytes written per output.

    `reuse`: a file whose bytes equal the previous build's is that file (a hard link: same inode and modification
    time, so a deploy by rsync or a file watcher sees only what changed); `unchanged` gets their count per output.
    `on_published` is called the moment the build is published, before the previous one is removed (10,000 files:
    0.2 s), so that what waits for the published build goes on meanwhile.
    """
    check_paths(outputs)
    check_out_dir(out, site_root)
    out = out.resolve()
    try:
        return _write_outputs(out, outputs, reuse, unchanged, on_published)
    except OSError as exc:  # the staging folder is gone: the previous build is as it was
        refused = disk_error(exc, out)
        if refused is None:
            raise
        raise refused from exc


def _write_outputs(out: Path, outputs: dict[str, list[Artifact]], reuse: bool, unchanged: dict[str, int] | None,
                   on_published: Callable[[], None] | None) -> dict[str, int]:
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(out)
    if reuse:
        patched = _patch(out, outputs, on_published)
        if patched is not None:
            if unchanged is not None:
                unchanged.update(patched[1])
            return patched[0]
    staging = Path(_staging(out))
    try:
        (staging / MARKER).write_text("This folder is written by sitegen build; its contents are replaced on every build.\n")
        sizes = {}
        for name, artifacts in outputs.items():
            previous = out / name if reuse and (out / MARKER).is_file() and (out / name).is_dir() else None
            sizes[name], same = _write(staging / name, artifacts, previous)
            if unchanged is not None:
                unchanged[name] = same
        _checkpoint("written")
        if out.exists():
            for entry in sorted(out.iterdir()):  # outputs not rebuilt this time (build --only) stay as they were
                if entry.name not in outputs and entry.name != MARKER:
                    _carry_over(entry, staging / entry.name)
        _checkpoint("carried")
        _publish(staging, out)
        if on_published is not None:
            on_published()
        _checkpoint("published")
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # after the exchange: the previous build
    return sizes


def _write(root: Path, artifacts: list[Artifact], previous: Path | None = None) -> tuple[int, int]:
    """(bytes, files kept from `previous`, the last build of this output). An output of PARALLEL_FROM files or
    more is written by one thread per core (`cores.workers`): making a file or a link is the system's work, done
    without Python's lock. A rebuild of 10,000 pages after one doctor's edit linked them in 0.20 s, not 0.26 s;
    a first build gains nothing, its other core saves the dependency record meanwhile."""
    root.mkdir()
    threads = workers("SITEGEN_WRITE_WORKERS") if len(artifacts) >= PARALLEL_FROM else 1
    if threads < 2:
        return _write_files(root, artifacts, previous)
    with ThreadPoolExecutor(threads, thread_name_prefix="sitegen-write") as pool:
        done = list(pool.map(lambda n: _write_files(root, artifacts[n::threads], previous), range(threads)))
    return sum(total for total, _ in done), sum(kept for _, kept in done)


def _write_files(root: Path, artifacts: list[Artifact], previous: Path | None) -> tuple[int, int]:
    """`_write` of some of the artifacts. Paths are plain strings and each folder is made once by each thread:
    10,000 files kept by hard link took a second through pathlib."""
    total = kept = 0
    made: set[str] = set()
    for a in artifacts:
        target = os.path.join(root, a.path)
        folder = os.path.dirname(target)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        old = os.path.join(previous, a.path) if previous is not None else None
        size = _same_file(old, a) if old is not None else None
        if size is not None and old is not None and _linked(old, target):
            total += size
            kept += 1
        else:
            total += _make(target, a)
    return total, kept


def _make(target: str, a: Artifact) -> int:
    """The artifact's file made at `target` (its bytes written, or its source copied); returns its size."""
    if a.data is not None:
        _write_bytes(target, a.data)
        return len(a.data)
    assert a.copy_from is not None, f"artifact {a.path} has neither data nor copy_from"
    shutil.copyfile(a.copy_from, target)
    return os.stat(target).st_size


# files made anew (not kept from the last build) from which a build is written whole without comparing them first:
# each is read back to be compared, and a second difference found late makes that reading wasted (1,000 pages of
# 20 KB: about 10 ms). The newsletters and brochures are always made anew (92 files of the example hospital)
PATCH_MOST = 1000


def _patch(out: Path, outputs: dict[str, list[Artifact]],
           on_published: Callable[[], None] | None) -> tuple[dict[str, int], dict[str, int]] | None:
    """The build published in the previous one's folder, when they differ in one file at most: that file (changed,
    or new in a folder the last build has) takes the place of the old one by one rename, which is as all-at-once
    as the exchange of the folders; nothing else is written, linked or removed (a rebuild of 10,000 pages after one
    doctor's edit linked every other page into a new folder and removed the old one: 0.2 s). Returns (bytes, files
    kept) per output, or None when the build is to be written whole: more files rendered than PATCH_MOST, a second
    difference, a file of the last build this one does not have, or anything in it but folders and files."""
    if not (out / MARKER).is_file():
        return None
    roots = {name: os.path.join(out, name) for name in outputs}
    if any(os.path.islink(root) or not os.path.isdir(root) for root in roots.values()):
        return None
    anew = sum(1 for name, artifacts in outputs.items() for a in artifacts
               if a.copy_from is None or os.fspath(a.copy_from) != os.path.join(roots[name], a.path))
    if anew > PATCH_MOST:
        return None
    sizes: dict[str, int] = {}
    kept: dict[str, int] = {}
    changed: list[tuple[str, Artifact]] = []
    for name, artifacts in outputs.items():
        present = _files(roots[name])
        if present is None:
            return None
        total = same = 0
        for a in artifacts:
            size = _same_file(os.path.join(roots[name], a.path), a)
            if size is None:
                changed.append((name, a))
                if len(changed) > 1:
                    return None
                size = len(a.data) if a.data is not None else os.stat(a.copy_from).st_size  # type: ignore[arg-type]
            else:
                same += 1
            total += size
            present.discard(a.path)
        if present:  # the last build's files that this one does not have
            return None
        sizes[name], kept[name] = total, same
    if changed:
        name, artifact = changed[0]
        target = os.path.join(roots[name], artifact.path)
        folder = os.path.dirname(target)
        if os.path.islink(folder) or not os.path.isdir(folder) or os.path.isdir(target):
            return None
        _replace(out, target, artifact)
    if on_published is not None:
        on_published()
    _checkpoint("published")
    return sizes, kept


def _files(root: str) -> set[str] | None:
    """The files under `root`, as paths relative to it with forward slashes; None when it holds anything else (a
    link, an empty folder below it): a build written whole would not have it. `root` itself may be empty (an output
    with no files, such as the newsletters of a site that has none)."""
    found: set[str] = set()
    folders = [""]
    while folders:
        rel = folders.pop()
        empty = True
        with os.scandir(os.path.join(root, rel) if rel else root) as entries:
            for entry in entries:
                empty = False
                path = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append(path)
                elif entry.is_file(follow_symlinks=False):
                    found.add(path)
                else:
                    return None
        if empty and rel:
            return None
    return found


def _replace(out: Path, target: str, artifact: Artifact) -> None:
    """`target` in the published build replaced by the artifact's file in one step: written in a staging folder
    beside the build folder (a killed build leaves it there, and the next one removes it), then renamed."""
    staging = _staging(out)
    try:
        staged = os.path.join(staging, "file")
        _make(staged, artifact)
        _checkpoint("written")
        _checkpoint("carried")
        os.replace(staged, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _staging(out: Path) -> str:
    """A new staging folder beside the build folder, named for this process (`clean_leftovers` removes one that a
    killed build left)."""
    return tempfile.mkdtemp(prefix=f".{out.name}.staging-{os.getpid()}-", dir=out.parent)


def _write_bytes(target: str, data: bytes) -> None:
    """A new file holding `data`: three system calls (open() added two more per file: most of writing 10,000 pages
    is the system's work, and this took a quarter off it)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _same_file(old: str, a: Artifact) -> int | None:
    """The size of the previous build's file when it holds exactly the artifact's bytes (a regular file, not a
    link); None when it does not."""
    try:
        st = os.lstat(old)
        if not stat.S_ISREG(st.st_mode):
            return None
        if a.data is not None:
            with open(old, "rb") as f:
                return st.st_size if st.st_size == len(a.data) and f.read() == a.data else None
        assert a.copy_from is not None
        if os.fspath(a.copy_from) == old:  # kept from the previous build (the web's dependency record)
            return st.st_size
        source = os.stat(a.copy_from)
        if os.path.samestat(st, source):
            return st.st_size
        same = st.st_size == source.st_size and filecmp.cmp(old, a.copy_from, shallow=False)
        return st.st_size if same else None
    except OSError:
        return None


def _linked(old: str, target: str) -> bool:
    try:
        os.link(old, target, follow_symlinks=False)
        return True
    except OSError:
        return False  # another file system, or no hard links: written instead


def _carry_over(source: Path, target: Path) -> None:
    """A hard-linked copy (no bytes copied), or a real copy where links are not possible."""
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
    else:
        _link_or_copy(source, target)


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)


def _publish(staging: Path, out: Path) -> None:
    """Put `staging` where `out` is, in one step where the system can; `staging` then holds the old build."""
    if not out.exists():
        os.rename(staging, out)
        staging.mkdir()  # for the caller's cleanup
        return
    if _exchange(staging, out):
        return
    old = out.with_name(f".{out.name}.old-{os.getpid()}-0")
    os.rename(out, old)  # from here until the next line there is no build folder, but never a mixed one
    os.rename(staging, out)
    os.rename(old, staging)  # the caller removes it


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two folders (Linux renameat2 RENAME_EXCHANGE). False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EPERM):
        return False
    raise OSError(err, f"cannot publish {b}: {os.strerror(err)}")


def clean_leftovers(out: Path) -> None:
    """Remove what a killed build left beside the build folder (staging and old folders)."""
    remove_orphans(out.parent, f".{out.name}.staging-")
    remove_orphans(out.parent, f".{out.name}.old-")
    for leftover in out.glob(".staging-*"):  # the layout of earlier sitegen versions
        shutil.rmtree(leftover, ignore_errors=True)


def remove_orphans(folder: Path, prefix: str) -> None:
    """Remove folders named PREFIX<pid>-… whose process no longer runs (left by a build that was killed),
    and any such folder older than a day."""
    now = time.time()
    for leftover in folder.glob(prefix + "*"):
        pid = leftover.name[len(prefix):].split("-", 1)[0]
        try:
            old = now - leftover.stat().st_mtime > STALE_SECONDS
            if leftover.is_dir() and not leftover.is_symlink() and (old or (pid.isdigit() and not _alive(int(pid)))):
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _checkpoint(name: str) -> None:
    """Fault injection for the crash tests (tests/test_publish.py): SITEGEN_KILL_AT=name kills the process here."""
    if os.environ.get("SITEGEN_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
