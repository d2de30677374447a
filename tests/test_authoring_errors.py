"""Inputs that once ended in "internal error": each is now a content message with its file and line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mail_fixtures import make_mail_site
from sitegen.cli import main
from sitegen.content.partners import load
from sitegen.errors import ProblemList


@pytest.fixture()
def site(tmp_path) -> Path:
    return make_mail_site(tmp_path / "hospital")


def cli(site: Path, *args: str):
    return CliRunner().invoke(main, [args[0], "--source", str(site), "--date", "2026-11-25", *args[1:]])


def add_front_matter(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("---\n", f"---\n{line}\n", 1), encoding="utf-8")
    return 2


def assert_clean_failure(result, where: str, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    assert where in result.output, result.output
    for w in words:
        assert w in result.output, result.output


def test_a_number_with_thousands_of_digits(site):
    doc = site / "content" / "doctors" / "yamada-taro.md"
    line = add_front_matter(doc, "since: " + "9" * 5000)
    assert_clean_failure(cli(site, "build", "--only", "site"), f"content/doctors/yamada-taro.md:{line}:", "5000 digits")


@pytest.mark.parametrize("char, name", [("\u2028", "LINE SEPARATOR"), ("\u2029", "PARAGRAPH SEPARATOR"),
                                        ("\u0085", "NEXT LINE")])
def test_an_invisible_line_separator_in_a_subject(site, char, name):
    issue = site / "content" / "newsletters" / "2026-11-no2.md"
    text = issue.read_text(encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("subject:"))
    issue.write_text(re.sub(r"^(subject: .*)$", lambda m: m.group(1) + char + "次号", text, count=1, flags=re.M),
                     encoding="utf-8")
    assert_clean_failure(cli(site, "build", "--only", "mail"), f"content/newsletters/2026-11-no2.md:{line}:", name)


def test_a_link_that_is_no_address_in_a_newsletter_body(site):
    issue = site / "content" / "newsletters" / "2026-11-no2.md"
    text = issue.read_text(encoding="utf-8") + "\n\n[x](//[x)\n"
    issue.write_text(text, encoding="utf-8")
    line = len(text.rstrip("\n").splitlines())
    assert_clean_failure(cli(site, "build"), f"content/newsletters/2026-11-no2.md:{line}:", "'//[x'")


def test_a_link_that_is_no_address_in_a_guide(site):
    guide = site / "content" / "guides" / "referral.md"
    text = guide.read_text(encoding="utf-8") + "\n\n詳しくは[予約の案内](//[renkei)をご覧ください。\n"
    guide.write_text(text, encoding="utf-8")
    line = len(text.rstrip("\n").splitlines())
    assert_clean_failure(cli(site, "build", "--only", "site"), f"content/guides/referral.md:{line}:", "not a valid address")


def test_a_partner_list_with_old_mac_line_ends_is_read(site):
    csv_path = site / "partners.csv"
    text = csv_path.read_text(encoding="utf-8").replace("\r\n", "\n")
    rows = len(text.strip().splitlines()) - 1
    csv_path.write_bytes(text.replace("\n", "\r").encode("utf-8"))
    result = cli(site, "check", "--skip", "a11y", "--skip", "links", "--skip", "ad")
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    problems = ProblemList()
    listed = load(csv_path, "partners.csv", problems)
    assert listed is not None and not problems.errors, problems.errors
    assert rows > 1 and len(listed.partners) + len(listed.invalid) == rows


def test_a_file_name_too_long_for_the_disk(site):
    name = "a" * 251
    src = site / "content" / "news" / "2026-10-01-open.md"
    (site / "content" / "news" / f"{name}.md").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    assert_clean_failure(cli(site, "build", "--only", "site"), f"content/news/{name}.md", "251 characters")


def test_a_field_indented_with_a_full_width_space_is_named_so(site):
    """YAML reads 「　patients:」 at the start of a line as a field of its own, not an indented one."""
    department = site / "content" / "departments" / "geka.md"
    text = department.read_text(encoding="utf-8")
    department.write_text(text.replace("---\n", "---\nreferral:\n\u3000patients: [胆石]\n", 1), encoding="utf-8")
    assert_clean_failure(cli(site, "build", "--only", "site"), "content/departments/geka.md:3:", "full-width space")
