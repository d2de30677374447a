"""The one sink refuses artifact paths that would leave the output folder, and two artifacts with one path."""
from __future__ import annotations

import pytest

from sitegen.artifacts import Artifact
from sitegen.errors import OutputError
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
