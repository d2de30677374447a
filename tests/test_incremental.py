"""A rebuild keeps every file whose bytes did not change (the same file: inode and modification time), writes the
rest, and the result equals a clean build byte for byte after every kind of change; `build --clean` writes all."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SITE_FILES
from sitegen.cli import main

SITES = Path(__file__).resolve().parent / "sites"
DATE = "2026-11-25"


def _made(tree: dict) -> list[str]:
    """The files of build/site/ rendered from the content: the pages and the files made from the whole site."""
    return [k for k in tree if k.startswith("site/") and (k.endswith(".html") or k[len("site/"):] in SITE_FILES)]


def build(site: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", DATE, "--only", "site",
                                       "--only", "mail", *args])
    assert result.exit_code == 0, result.output
    return result.output


def tree(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(out).as_posix(): (p.read_bytes(), p.stat().st_ino)
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != ".sitegen-build"}


@pytest.fixture()
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    return root


def clean_copy(site: Path, tmp: Path) -> dict[str, bytes]:
    """The same site built from scratch in another folder: what an incremental build must equal."""
    copy = tmp / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("build", ".sitegen"))
    build(copy)
    return {k: v for k, (v, _) in tree(copy / "build").items()}


def test_a_rebuild_without_changes_keeps_every_file(site):
    build(site)
    first = tree(site / "build")
    output = build(site)
    again = tree(site / "build")
    assert again == first  # same bytes and the same inodes: nothing was written
    site_files = sum(1 for k in first if k.startswith("site/"))
    made = len(_made(first))
    assert made > len(SITE_FILES)
    assert f"site: {site_files} files ({site_files} unchanged, {made} of them not rendered again)" in output


def _edit_doctor(site: Path) -> None:
    doctor = site / "content/doctors/yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n追記した一文です。\n", 1),
                      encoding="utf-8")


def _edit_template(site: Path) -> None:
    override = site / "themes/default/web/doctor.html"
    override.parent.mkdir(parents=True)
    override.write_text('{% extends "!theme/doctor.html" %}\n{% block head %}<meta name="x-edit" content="1">'
                        "{% endblock %}\n", encoding="utf-8")


def _edit_site_yaml(site: Path) -> None:
    path = site / "site.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("みなと中央病院", "みなと中央総合病院", 1), encoding="utf-8")


def _delete_news(site: Path) -> None:
    (site / "content/news/2026-10-01-open.md").unlink()  # a published item: its page and its line go


def _rename_doctor(site: Path) -> None:
    old = site / "content/doctors/suzuki-ichiro.md"
    old.rename(old.with_name("suzuki-ichiro2.md"))
    for path in list((site / "content").rglob("*.md")) + list((site / "content").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if "suzuki-ichiro" in text:
            path.write_text(text.replace("suzuki-ichiro", "suzuki-ichiro2"), encoding="utf-8")


def _add_doctor(site: Path) -> None:
    (site / "content/doctors/kato-jiro.md").write_text(
        "---\nname: 加藤 次郎\nkana: かとう じろう\ntitle: 医長\ndepartments: [geka]\n---\n消化器外科を担当します。\n",
        encoding="utf-8")


def _add_absence(site: Path) -> None:
    (site / "content/news/2026-11-20-kyushin.md").write_text(
        "---\ntitle: 外来休診のお知らせ\ndate: 2026-11-20\nabsence:\n  doctor: tanaka-hanako\n"
        "  dates: [2026-12-02]\n---\n12月2日の外来は休診です。\n", encoding="utf-8")


def _edit_partial(site: Path) -> None:
    override = site / "themes/default/partials/_footer.html"
    override.parent.mkdir(parents=True)
    override.write_text('{% include "!theme/_footer.html" %}<p>フッターを変えました</p>\n', encoding="utf-8")


def _edit_static(site: Path) -> None:
    override = site / "themes/default/static/css/extra.css"
    override.parent.mkdir(parents=True)
    override.write_text("body { color: #111; }\n", encoding="utf-8")


def _replace_image(site: Path) -> None:
    shutil.copyfile(site / "content/images/logo.png", site / "content/images/yamada-taro.png")


def _edit_qualifications(site: Path) -> None:
    path = site / "content/qualifications.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("専門医", "専門医（改）", 1), encoding="utf-8")


@pytest.mark.parametrize("change", [_edit_doctor, _edit_template, _edit_site_yaml, _delete_news, _rename_doctor,
                                    _add_doctor, _add_absence, _edit_partial, _edit_static, _replace_image,
                                    _edit_qualifications],
                         ids=["content", "template", "site.yaml", "deleted file", "renamed file", "new file",
                              "absence notice", "partial", "theme static file", "image", "qualifications"])
def test_after_each_kind_of_change_the_build_equals_a_clean_build(site, tmp_path, change):
    build(site)
    before = tree(site / "build")
    change(site)
    build(site)
    after = tree(site / "build")
    assert {k: v for k, (v, _) in after.items()} == clean_copy(site, tmp_path)  # byte for byte, same file set
    kept = [k for k in after if k in before and before[k][0] == after[k][0]]
    written = [k for k in after if k not in before or before[k][0] != after[k][0]]
    removed = [k for k in before if k not in after]
    assert written or removed, "the change changed some file"
    assert all(after[k][1] == before[k][1] for k in kept)  # unchanged bytes: the very same file
    assert all(after[k][1] != before[k][1] for k in written if k in before)


def _rendered_again(output: str, made: int) -> int:
    """How many of the `made` files (pages and files made from the whole site) a build rendered (the others
    kept), from its summary line."""
    kept = re.search(r"(\d+) of them not rendered again", output)
    return made - (int(kept.group(1)) if kept else 0)


def test_a_template_edit_renders_only_the_pages_that_load_it(site, tmp_path):
    """Each page notes the templates it loaded (its own, what it extends, includes and imports): an edit of
    doctor.html renders the doctors' pages and no other; an edit of base.html or of a partial every page shows
    renders every page. Each result equals a clean build."""
    build(site)
    made = _made(tree(site / "build"))
    pages = [k for k in made if k.endswith(".html")]
    doctors = [k for k in pages if re.fullmatch(r"site/doctors/(?!index|featured)[a-z0-9-]+\.html", k)]
    assert doctors
    _edit_template(site)
    assert _rendered_again(build(site), len(made)) == len(doctors)
    assert {k: v for k, (v, _) in tree(site / "build").items()} == clean_copy(site, tmp_path)
    _edit_partial(site)  # the footer, on every page (and in no file made from the whole site)
    assert _rendered_again(build(site), len(made)) == len(pages)
    assert {k: v for k, (v, _) in tree(site / "build").items()} == clean_copy(site, tmp_path)
    # a new template that no page loads renders nothing again
    unused = site / "themes/default/web/unused.html"
    unused.write_text("<p>使われないテンプレート</p>\n", encoding="utf-8")
    assert _rendered_again(build(site), len(made)) == 0
    (site / "themes/default/web/doctor.html").unlink()  # back to the packaged doctor.html
    assert _rendered_again(build(site), len(made)) == len(doctors)
    assert {k: v for k, (v, _) in tree(site / "build").items()} == clean_copy(site, tmp_path)


def test_clean_writes_every_file_and_forgets_the_kept_state(site):
    build(site)
    before = tree(site / "build")
    assert (site / ".sitegen" / "templates").is_dir()
    marker = site / ".sitegen" / "templates" / "web" / "stale-entry"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("x")
    output = build(site, "--clean")
    after = tree(site / "build")
    assert {k: v for k, (v, _) in after.items()} == {k: v for k, (v, _) in before.items()}
    assert all(after[k][1] != before[k][1] for k in after)  # written anew
    assert "unchanged" not in output and not marker.exists()
