"""One atomic publish of the whole build/: a build killed at any point of the publish leaves the old build or
the new one, never a mix; what it left behind is removed by the next build; outputs not rebuilt stay."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.write import MARKER

SITES = Path(__file__).resolve().parent / "sites"
pytestmark = pytest.mark.slow  # each test builds in a subprocess, some several times


@pytest.fixture()
def site(tmp_path) -> Path:
    from mail_fixtures import make_mail_site

    return make_mail_site(tmp_path / "site")


def build(site: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"SITEGEN_KILL_AT": kill_at} if kill_at else {})}
    return subprocess.run([sys.executable, "-m", "sitegen", "build", "--source", str(site), "--date", "2026-11-25",
                           "--only", "site", "--only", "mail", "-q", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def edition(site: Path) -> set[str]:
    """Which content each output of build/ was made from (the department name on the site, in the mail)."""
    out = site / "build"
    marks = set()
    if "内科（新）" in (out / "site" / "departments" / "naika.html").read_text(encoding="utf-8"):
        marks.add("site:new")
    else:
        marks.add("site:old")
    mail = (out / "mail" / "2026-11-no2" / "index.html").read_text(encoding="utf-8")
    marks.add("mail:new" if "内科（新）" in mail else "mail:old")
    return marks


def rename_department(site: Path) -> None:
    dept = site / "content" / "departments" / "naika.md"
    dept.write_text(dept.read_text(encoding="utf-8").replace("name: 内科", "name: 内科（新）", 1), encoding="utf-8")


@pytest.mark.parametrize("point", ["written", "carried", "published"])
def test_a_kill_at_each_point_of_the_publish_leaves_old_or_new_never_a_mix(site, point):
    assert build(site).returncode == 0
    assert edition(site) == {"site:old", "mail:old"}
    rename_department(site)
    killed = build(site, kill_at=point)
    assert killed.returncode == -9, killed.stderr
    marks = edition(site)
    assert marks in ({"site:old", "mail:old"}, {"site:new", "mail:new"}), marks
    assert marks == ({"site:new", "mail:new"} if point == "published" else {"site:old", "mail:old"})
    assert (site / "build" / MARKER).exists()
    again = build(site)
    assert again.returncode == 0, again.stderr
    assert edition(site) == {"site:new", "mail:new"}
    leftovers = [p.name for p in site.iterdir() if p.name.startswith(".build.")]
    assert leftovers == [], leftovers  # the killed build's staging folder is gone


def test_outputs_not_rebuilt_stay_and_are_not_copied_byte_by_byte(site):
    assert build(site).returncode == 0
    before = (site / "build" / "mail" / "2026-11-no2" / "index.html").stat()
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--source", str(site), "--date", "2026-11-25",
                             "--only", "site", "-q"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    after = (site / "build" / "mail" / "2026-11-no2" / "index.html").stat()
    assert after.st_ino == before.st_ino  # carried over as a hard link


@pytest.mark.parametrize("inside", ["content", "content/files", "themes", "private"])
def test_a_build_folder_inside_what_is_published_or_private_is_refused(site, inside):
    (site / inside).mkdir(parents=True, exist_ok=True)
    result = build(site, "--out", str(site / inside / "out"))
    assert result.returncode == 1 and "refusing to use" in result.stderr, result.stderr
    assert not (site / inside / "out").exists()


def test_old_style_leftovers_inside_build_are_removed(site):
    assert build(site).returncode == 0
    stale = site / "build" / ".staging-abc"
    stale.mkdir()
    assert build(site).returncode == 0
    assert not stale.exists()
    shutil.rmtree(site / "build")


def test_orphaned_temp_folders_of_killed_builds_are_removed(tmp_path):
    from sitegen.write import remove_orphans

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"sitegen-pdf-{dead.pid}-x1").mkdir()
    (tmp_path / f"sitegen-pdf-{os.getpid()}-x2").mkdir()  # this process: in use
    (tmp_path / "sitegen-pdf-notapid").mkdir()  # not ours to judge (recent)
    remove_orphans(tmp_path, "sitegen-pdf-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"sitegen-pdf-{os.getpid()}-x2", "sitegen-pdf-notapid"])


def test_what_waits_for_the_published_build_is_told_before_the_previous_one_is_removed(tmp_path):
    """`on_published` is called once the new build is in place and the previous one not yet removed (the
    dependency record is saved by a child meanwhile); afterwards nothing of the previous build is left."""
    from sitegen.artifacts import Artifact
    from sitegen.write import write_outputs

    out, root = tmp_path / "build", tmp_path / "site"
    root.mkdir()
    write_outputs(out, root, {"site": [Artifact(f"p{n}.html", b"old") for n in range(50)]})
    seen = {}

    def on_published() -> None:
        seen["published"] = (out / "site" / "p0.html").read_bytes()
        seen["previous"] = [(p / "site" / "p0.html").read_bytes() for p in tmp_path.glob(".build.staging-*")]

    write_outputs(out, root, {"site": [Artifact(f"p{n}.html", b"new") for n in range(50)]}, on_published=on_published)
    assert seen == {"published": b"new", "previous": [b"old"]}
    assert not list(tmp_path.glob(".build.*")) and (out / "site" / "p49.html").read_bytes() == b"new"


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Each file under `folder`: its bytes and its inode (a file kept from the last build is the same inode)."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_ino)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("files", [499, 500, 1203])
def test_a_large_output_written_by_several_threads_is_what_one_thread_writes(tmp_path, monkeypatch, files):
    """Above write.PARALLEL_FROM files an output is written by one thread per core: new files, files kept from the
    previous build (hard links), copies and folders made by both threads — the same files, bytes, counts and
    links as one thread makes."""
    from sitegen.artifacts import Artifact
    from sitegen.write import write_outputs

    copied = tmp_path / "photo.jpg"
    copied.write_bytes(b"\xff\xd8 photo")

    def artifacts(round_: int) -> list[Artifact]:
        out = []
        for n in range(files):
            path = f"d{n % 7}/s{n % 3}/p{n}.html"
            if n % 11 == 0:
                out.append(Artifact(path, copy_from=copied))
            else:  # a third of the pages change between the two builds
                out.append(Artifact(path, f"page {n} {'v2' if round_ and n % 3 == 0 else 'v1'}".encode()))
        return out

    results = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("SITEGEN_WRITE_WORKERS", threads)
        out, root = tmp_path / f"build{threads}", tmp_path / f"site{threads}"
        root.mkdir()
        write_outputs(out, root, {"site": artifacts(0)})
        before = _tree(out / "site")
        unchanged: dict[str, int] = {}
        sizes = write_outputs(out, root, {"site": artifacts(1)}, unchanged=unchanged)
        after = _tree(out / "site")
        kept = sorted(path for path, (_, inode) in after.items() if before[path][1] == inode)
        results[threads] = ({path: data for path, (data, _) in after.items()}, sizes, unchanged, kept)
    assert results["2"] == results["1"] and results["3"] == results["1"]
    files_now, sizes, unchanged, kept = results["1"]
    assert len(files_now) == files and unchanged == {"site": files - len(range(0, files, 3)) + len(range(0, files, 33))}
    assert len(kept) == unchanged["site"] and sizes["site"] == sum(map(len, files_now.values()))


def _publish(out: Path, files: dict[str, dict[str, bytes]], **options) -> tuple[dict[str, int], dict[str, int]]:
    """`write_outputs` of {output: {path: bytes}} into `out`: (bytes per output, files kept per output)."""
    from sitegen.artifacts import Artifact
    from sitegen.write import write_outputs

    unchanged: dict[str, int] = {}
    sizes = write_outputs(out, out.parent / "site", {name: [Artifact(path, data) for path, data in paths.items()]
                                                     for name, paths in files.items()}, unchanged=unchanged, **options)
    return sizes, unchanged


def _whole(tmp_path: Path, files: dict[str, dict[str, bytes]]) -> dict[str, bytes]:
    """What a build written whole, into a new folder, holds."""
    fresh = tmp_path / "fresh" / "build"
    shutil.rmtree(fresh.parent, ignore_errors=True)
    (fresh.parent / "site").mkdir(parents=True)
    sizes = _publish(fresh, files)
    tree = {path: data for path, (data, _) in _tree(fresh).items() if path != MARKER}
    return tree, sizes


FIRST = {"site": {"index.html": b"top", "doctors/a.html": b"A", "doctors/b.html": b"B", "news/n.html": b"N"},
         "mail": {"2026-11/index.html": b"mail"}}


def _edited(**changes: bytes | None) -> dict[str, dict[str, bytes]]:
    """FIRST with site files changed, added or (None) removed."""
    files = {name: dict(paths) for name, paths in FIRST.items()}
    for path, data in changes.items():
        path = path.replace("__", "/").replace("_html", ".html")
        if data is None:
            del files["site"][path]
        else:
            files["site"][path] = data
    return files


@pytest.mark.parametrize("changes, patched", [
    ({}, True),  # the same build: nothing written
    ({"doctors__a_html": b"A2"}, True),  # one page edited
    ({"doctors__c_html": b"C"}, True),  # one page more, in a folder the last build has
    ({"doctors__a_html": b"A2", "news__n_html": b"N2"}, False),  # two pages: not in one step
    ({"doctors__a_html": None}, False),  # a page less
    ({"clinics__c_html": b"C"}, False),  # a page in a new folder
    ({"doctors__a_html": b"A2", "doctors__b_html": None}, False),
])
def test_a_build_that_differs_in_one_file_at_most_replaces_only_that_file(tmp_path, changes, patched):
    out = tmp_path / "build"
    (tmp_path / "site").mkdir()
    _publish(out, FIRST)
    before_folder, before = os.stat(out).st_ino, _tree(out)
    del before[MARKER]
    seen = []
    files = _edited(**changes)
    sizes, kept = _publish(out, files, on_published=lambda: seen.append(_tree(out)))
    after = _tree(out)
    assert after.pop(MARKER)[0] == seen[0].pop(MARKER)[0]
    whole, (whole_sizes, _) = _whole(tmp_path, files)
    assert {path: data for path, (data, _) in after.items()} == whole and sizes == whole_sizes
    assert seen == [after]  # told once, with the build in place
    assert (os.stat(out).st_ino == before_folder) is patched  # the folder itself was kept, not exchanged
    same = [path for path in after if path in before and after[path] == before[path]]  # bytes and inode
    assert len(same) == sum(kept.values())
    if patched:
        assert len(same) == len(after) - len(changes)  # every other file stayed as it was
    assert not list(tmp_path.glob(".build.*"))  # nothing left beside it


@pytest.mark.parametrize("mistake", ["stray file", "empty folder", "link"])
def test_anything_a_whole_build_would_not_have_makes_it_write_the_build_whole(tmp_path, mistake):
    out = tmp_path / "build"
    (tmp_path / "site").mkdir()
    _publish(out, FIRST)
    if mistake == "stray file":
        (out / "site" / "doctors" / "notes.txt").write_text("メモ", encoding="utf-8")
    elif mistake == "empty folder":
        (out / "site" / "old").mkdir()
    else:
        (out / "site" / "secret.html").symlink_to(tmp_path / "site")
    files = _edited(doctors__a_html=b"A2")
    _publish(out, files)
    assert {path: data for path, (data, _) in _tree(out).items() if path != MARKER} == _whole(tmp_path, files)[0]
    assert sorted(p.relative_to(out / "site").as_posix() for p in (out / "site").rglob("*")) == [
        "doctors", "doctors/a.html", "doctors/b.html", "index.html", "news", "news/n.html"]


def test_an_output_with_no_files_does_not_keep_a_one_file_change_from_replacing_only_that_file(tmp_path):
    """A site without newsletters builds an empty mail/ folder; an empty folder below an output is not a build's."""
    out = tmp_path / "build"
    (tmp_path / "site").mkdir()
    first = {"site": dict(FIRST["site"]), "mail": {}}
    _publish(out, first)
    assert (out / "mail").is_dir() and not list((out / "mail").iterdir())
    folder = os.stat(out).st_ino
    second = {"site": {**FIRST["site"], "doctors/a.html": b"A2"}, "mail": {}}
    _publish(out, second)
    assert os.stat(out).st_ino == folder and (out / "site" / "doctors" / "a.html").read_bytes() == b"A2"
    assert (out / "mail").is_dir()


def test_files_rendered_anew_beyond_the_patch_limit_write_the_build_whole(tmp_path):
    """Comparing many rendered files with the last build's before writing it whole would cost twice."""
    from sitegen.write import PATCH_MOST

    out = tmp_path / "build"
    (tmp_path / "site").mkdir()
    for count, patched in ((PATCH_MOST, True), (PATCH_MOST + 1, False)):
        files = {"site": {f"p{n}.html": b"same" for n in range(count)}}
        _publish(out, files)
        folder = os.stat(out).st_ino
        _publish(out, files)
        assert (os.stat(out).st_ino == folder) is patched


@pytest.mark.parametrize("point", ["written", "carried", "published"])
def test_a_kill_while_one_file_is_replaced_leaves_old_or_new(tmp_path, point):
    out = tmp_path / "build"
    (tmp_path / "site").mkdir()
    _publish(out, FIRST)
    script = ("import sys; from pathlib import Path; from sitegen.artifacts import Artifact; "
              "from sitegen.write import write_outputs; out = Path(sys.argv[1]); "
              "files = {'site': {'index.html': b'top', 'doctors/a.html': b'A2', 'doctors/b.html': b'B', "
              "'news/n.html': b'N'}, 'mail': {'2026-11/index.html': b'mail'}}; "
              "write_outputs(out, out.parent / 'site', {n: [Artifact(p, d) for p, d in f.items()] "
              "for n, f in files.items()})")
    killed = subprocess.run([sys.executable, "-c", script, str(out)], env={**os.environ, "SITEGEN_KILL_AT": point},
                            capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    page = (out / "site" / "doctors" / "a.html").read_bytes()
    assert page == (b"A2" if point == "published" else b"A")
    _publish(out, _edited(doctors__a_html=b"A2"))
    assert (out / "site" / "doctors" / "a.html").read_bytes() == b"A2"
    assert not list(tmp_path.glob(".build.*"))  # the killed build's staging folder is gone
