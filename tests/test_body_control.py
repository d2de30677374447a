"""Control characters in a Markdown body (ESC, BEL, VT, FF, DEL, the C1 controls, U+FFFE/U+FFFF …) are content
errors at the file and line of each, all at once, like those in the YAML front matter: they made the news feed
not well-formed XML, the newsletter fail with a template error that named no line, and appeared raw in the pages.
Tab, line feed and carriage return are text."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from mail_fixtures import make_mail_site
from sitegen.build import BuildOptions, run
from sitegen.cli import main
from sitegen.project import Project

TODAY = dt.date(2026, 11, 25)
BAD = ["\x1b", "\x07", "\x0b", "\x0c", "\x01", "\x00", "\x7f", "\x80", "\x85", "\x9f", "\ufffe", "\uffff"]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = make_mail_site(tmp_path_factory.mktemp("control") / "hospital")
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site", "mail")))
    return site


def _append(path: Path, text: str) -> int:
    """Append `text` to a Markdown file; the line number of its first line."""
    before = path.read_text(encoding="utf-8")
    if not before.endswith("\n"):
        before += "\n"
    path.write_text(before + text, encoding="utf-8", newline="")
    return before.count("\n") + 1


def _build(site: Path):
    return CliRunner().invoke(main, ["build", "--source", str(site), "--date", TODAY.isoformat(),
                                     "--only", "site", "--only", "mail"])


def test_each_control_character_in_a_body_is_an_error_at_its_line(built, tmp_path):
    import shutil
    site = tmp_path / "hospital"
    shutil.copytree(built, site)
    stamp = {p: p.stat().st_mtime_ns for p in (site / "build").rglob("*") if p.is_file()}
    news = next(iter(sorted((site / "content" / "news").glob("*.md"))))
    letter = next(iter(sorted((site / "content" / "newsletters").glob("*.md"))))
    first = _append(news, "\n".join(f"行{i} {c}文字" for i, c in enumerate(BAD)) + "\nタブ\tと復帰\r\n")
    mail_line = _append(letter, "\n赤い\x1b[31m文字\x1b[0m\n")
    r = _build(site)
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output
    rel = news.relative_to(site).as_posix()
    for i, c in enumerate(BAD):
        assert f"{rel}:{first + i}: body: the text contains the " in r.output, r.output
        assert f"U+{ord(c):04X}" in r.output.split(f"{rel}:{first + i}: body: ")[1].splitlines()[0]
    assert r.output.count(f"{rel}:") == len(BAD)  # the tab and the carriage return are fine
    lrel = letter.relative_to(site).as_posix()
    assert r.output.count(f"{lrel}:{mail_line + 1}: body: the text contains the control character U+001B (ESC)") == 1
    assert "\x1b" not in r.output and "\x07" not in r.output
    assert {p: p.stat().st_mtime_ns for p in (site / "build").rglob("*") if p.is_file()} == stamp  # build/ intact


def test_tab_and_carriage_return_in_a_body_build(built, tmp_path):
    import shutil
    site = tmp_path / "hospital"
    shutil.copytree(built, site)
    news = next(iter(sorted((site / "content" / "news").glob("*.md"))))
    _append(news, "タブ\tと復帰\rの文\r\n")
    r = _build(site)
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("escape,code", [("\\e]0;pwn\\a", "U+001B (ESC)"), ("\\x07", "U+0007 (BEL)"),
                                         ("\\N", "U+0085 (NEXT LINE)"), ("\\x9b", "U+009B"), ("\\uFFFE", "U+FFFE")])
def test_a_control_character_written_as_a_yaml_escape_is_an_error_at_its_field(built, tmp_path, escape, code):
    """The YAML reader refuses a raw control character; one written as an escape in double quotes was published
    (in a contact's label, on every page)."""
    import shutil
    site = tmp_path / "hospital"
    shutil.copytree(built, site)
    text = (site / "site.yaml").read_text(encoding="utf-8")
    line = text.splitlines().index("      label: 紹介予約専用ダイヤル") + 1
    (site / "site.yaml").write_text(text.replace("      label: 紹介予約専用ダイヤル", f'      label: "紹介{escape}"'),
                                    encoding="utf-8")
    r = _build(site)
    assert r.exit_code == 1, r.output
    assert r.output.startswith(f"site.yaml:{line}: office.contacts[0].label: the value contains the ") and code in r.output, r.output
