"""Files sitegen keeps in <site>/.sitegen/ are replaced through a temporary file beside them that is created
exclusively under a random name and never through a symbolic link: a link planted under a name a build would use
(one with the process id in it can be guessed in CI) never makes a build write outside the site, nor is it renamed
into place."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

import sitegen.templates
from sitegen import project as project_module
from sitegen.build import BuildOptions, run
from sitegen.project import Project, replacing, write_state

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


def _kept(state: Path) -> list[Path]:
    return sorted(p for p in state.rglob("*") if p.is_file() and p.name != "key")


def test_links_planted_under_the_temporary_names_of_a_build_are_never_followed(tmp_path, monkeypatch):
    from sitegen.content import kept as kept_content

    monkeypatch.setattr(kept_content, "RECENT_NS", 0)  # keep the files copied a moment ago
    # the packaged templates compiled by this build and kept in .sitegen/templates, not read from an installation
    monkeypatch.setattr(sitegen.templates, "INSTALLED", tmp_path / "not-installed")
    monkeypatch.setenv("SITEGEN_LOAD_WORKERS", "1")  # every file written by this process, under its pid
    monkeypatch.setenv("SITEGEN_WEB_WORKERS", "1")
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    build = lambda: run(Project.at(site, tmp_path / "out"), BuildOptions(today=TODAY, outputs=("site",)))  # noqa: E731
    build()
    kept = _kept(site / ".sitegen")
    names = {p.relative_to(site / ".sitegen").as_posix() for p in kept}
    assert {"web-pages.json", "content.pickle"} <= names, names
    assert any(n.startswith("templates/") for n in names), names
    outside = tmp_path / "outside"
    outside.mkdir()
    for n, path in enumerate(kept):
        path.unlink()  # the next build writes each again
        path.with_name(f"{path.name}.{os.getpid()}.tmp").symlink_to(outside / str(n))
    build()
    assert list(outside.iterdir()) == []
    for path in kept:
        assert path.is_file() and not path.is_symlink(), path
    left = sorted(p for p in (site / ".sitegen").rglob("*.tmp") if not p.is_symlink())
    assert left == []  # no temporary file is left behind either


def test_replacing_never_follows_a_link_under_its_temporary_name(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    state = tmp_path / "state"
    state.mkdir()
    names = iter(["planted", "fresh"])
    monkeypatch.setattr(project_module.secrets, "token_hex", lambda _n: next(names))
    (state / "x.json.planted.tmp").symlink_to(outside)
    write_state(state / "x.json", {"a": 1})
    assert not outside.exists()
    assert (state / "x.json").read_text(encoding="utf-8") == '{"a":1}'
    assert (state / "x.json.planted.tmp").is_symlink()  # left as it was, not renamed into place


def test_replacing_a_link_replaces_the_link_not_what_it_points_at(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"mine")
    state = tmp_path / "state"
    state.mkdir()
    (state / "f").symlink_to(target)
    with replacing(state / "f") as out:
        out.write(b"new")
    assert target.read_bytes() == b"mine"
    assert not (state / "f").is_symlink() and (state / "f").read_bytes() == b"new"


def test_replacing_refuses_a_linked_folder_and_leaves_nothing_on_an_error(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OSError):
        with replacing(tmp_path / "linked" / "f") as out:
            out.write(b"x")
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(ValueError):
        with replacing(tmp_path / "g") as out:
            out.write(b"half")
            raise ValueError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "linked"]
