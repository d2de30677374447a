"""The one sink refuses artifact paths that would leave the output folder, and two artifacts with one path."""
from __future__ import annotations

import errno
import os

import pytest
from click.testing import CliRunner

from sitegen import write
from sitegen.artifacts import Artifact
from sitegen.cli import main
from sitegen.errors import OutputError
from sitegen.project import write_state_text
from sitegen.write import check_paths


@pytest.mark.parametrize("path", ["/etc/passwd", "//server/x.html", "../x.html", "a/../../x.html", "a/..", "..",
                                  "a\\..\\x.html", "", "doctors/..\\x"])
def test_a_path_leaving_the_output_folder_is_refused(path):
    with pytest.raises(OutputError, match="refusing to write outside site/"):
        check_paths({"site": [Artifact(path, b"x")]})


@pytest.mark.parametrize("path", ["index.html", "doctors/yamada-taro.html", "a..b.html", "..hidden/x", "x/...",
                                  "data/doctors.schema.json"])
def test_a_path_inside_the_output_folder_is_accepted(path):
    check_paths({"site": [Artifact(path, b"x")]})


def test_two_artifacts_with_one_path_name_both_sources():
    with pytest.raises(OutputError, match=r"two files would be written to site/a\.html \(from content/a\.md and "
                                          r"content/b\.md\)"):
        check_paths({"site": [Artifact("a.html", b"1", ("content/a.md",)), Artifact("a.html", b"2", ("content/b.md",))]})


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "the disk is full"), (errno.EDQUOT, "the disk quota is used up"),
                                         (errno.EROFS, "the disk is read-only"), (errno.EACCES, "permission denied")])
def test_a_disk_that_refuses_the_build_is_a_clear_error_and_the_previous_build_stays(copy_site, monkeypatch, code, words):
    site = copy_site("minimal")
    args = ["build", "--source", str(site), "--date", "2026-11-25", "--only", "site"]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = {p.relative_to(site / "build"): p.read_bytes() for p in (site / "build").rglob("*") if p.is_file()}

    def refuse(target, data):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(write, "_write_bytes", refuse)
    result = CliRunner().invoke(main, [*args, "--clean"])
    assert result.exit_code == 1, result.output
    assert f"cannot write to {(site / 'build').resolve()}: {words}" in result.output, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    after = {p.relative_to(site / "build"): p.read_bytes() for p in (site / "build").rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in site.iterdir() if p.name.startswith(".build")] == []  # no staging folder left


def test_a_record_that_the_disk_refuses_halfway_leaves_no_temporary_file(tmp_path):
    def pieces():
        yield "{"
        raise OSError(errno.ENOSPC, "No space left on device")

    write_state_text(tmp_path / "record.json", pieces())
    assert list(tmp_path.iterdir()) == []
