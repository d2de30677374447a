"""Every invalid sample site under tests/sites/invalid/ produces exactly its expected messages.

Each case folder holds only the files that differ from tests/sites/minimal/ and an
expected.txt with the problem lines the build must print (all of them, at once).
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.build import load_site
from sitegen.cli import main
from sitegen.errors import ContentError
from sitegen.project import Project
from sitegen.write import MARKER

SITES = Path(__file__).resolve().parent / "sites"
CASES = sorted(p.name for p in (SITES / "invalid").iterdir() if p.is_dir())
TODAY = dt.date(2026, 11, 25)


def make_site(tmp_path: Path, case: str | None = None) -> Path:
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    if case:
        shutil.copytree(SITES / "invalid" / case, site, dirs_exist_ok=True)
        for name in ("expected.txt", "expected-ja.txt"):
            (site / name).unlink(missing_ok=True)
    return site


def build(site: Path, *args: str):
    return CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25", *args])


def previous_build(site: Path) -> Path:
    """A previous build/ with a marker, to prove a failed build leaves it alone."""
    out = site / "build"
    (out / "site").mkdir(parents=True)
    (out / MARKER).write_text("x")
    (out / "site" / "index.html").write_text("previous build")
    return out


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_reports_every_problem_in_japanese(tmp_path, case):
    # the same problems, in the same order and at the same lines, for PR staff: nothing left in English
    site = make_site(tmp_path, case)
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25", "--lang", "ja"])
    expected = (SITES / "invalid" / case / "expected-ja.txt").read_text(encoding="utf-8").splitlines()
    english = (SITES / "invalid" / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    lines = result.stderr.splitlines()
    assert lines[:-1] == expected
    assert lines[-1].startswith("ビルドを中止しました: 問題が ")
    assert [line.split(": ", 1)[0] for line in lines[:-1]] == [line.split(": ", 1)[0] for line in english]
    assert result.exit_code == 1


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_reports_every_problem(tmp_path, case):
    site = make_site(tmp_path, case)
    out = previous_build(site)
    result = build(site)
    expected = (SITES / "invalid" / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    lines = [line for line in result.stderr.splitlines() if not line.startswith("build failed")]
    assert lines == expected
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (out / "site" / "index.html").read_text() == "previous build"
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "site"])


def test_minimal_site_is_valid():
    site, warnings = load_site(Project.at(SITES / "minimal"), TODAY)
    assert warnings == []
    assert [d.slug for d in site.departments] == ["naika", "geka"]
    assert site.department("naika").doctors == ("yamada-taro", "suzuki-ichiro")
    assert site.department("geka").doctors == ("suzuki-ichiro", "tanaka-hanako")


def test_outpatient_days_are_derived_from_the_schedule():
    site, _ = load_site(Project.at(SITES / "minimal"), TODAY)
    days = [(s.department, s.day, s.time, s.weeks_label) for s in site.doctor("yamada-taro").outpatient]
    assert days == [("naika", "月", "午前", ""), ("naika", "土", "午前", "第1・3週")]


def test_drafts_future_and_expired_news_are_not_published(tmp_path):
    site_dir = make_site(tmp_path)
    news = site_dir / "content" / "news"
    (news / "2026-09-01-draft.md").write_text("---\ntitle: 下書き\ndate: 2026-09-01\ndraft: true\n---\n", encoding="utf-8")
    (news / "2026-08-01-old.md").write_text("---\ntitle: 終了\ndate: 2026-08-01\nexpires: 2026-10-31\n---\n", encoding="utf-8")
    site, _ = load_site(Project.at(site_dir), TODAY)
    assert [n.slug for n in site.news] == ["2026-10-01-open"]
    later, _ = load_site(Project.at(site_dir), dt.date(2027, 1, 1))
    assert [n.slug for n in later.news] == ["2027-01-01-future", "2026-10-01-open"]


def test_expired_schedule_is_a_warning_not_an_error(tmp_path):
    site_dir = make_site(tmp_path)
    f = site_dir / "content" / "schedules" / "naika.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("start: 2026-10-01", "start: 2026-04-01").replace("end: 2027-03-31", "end: 2026-09-30"), encoding="utf-8")
    _, warnings = load_site(Project.at(site_dir), TODAY)
    assert [str(w) for w in warnings] == [
        "content/schedules/naika.yaml:3: warning: period.end: this schedule ended on 2026-09-30; update it or extend the period"
    ]


def test_symlinks_out_of_the_site_are_refused(tmp_path):
    site_dir = make_site(tmp_path)
    outside = tmp_path / "secret.md"
    outside.write_text("---\nname: 外部\nkana: がいぶ\ndepartments: [naika]\n---\n", encoding="utf-8")
    os.symlink(outside, site_dir / "content" / "doctors" / "outsider.md")
    os.symlink("/etc/passwd", site_dir / "content" / "images" / "passwd.png")
    with pytest.raises(ContentError) as exc:
        load_site(Project.at(site_dir), TODAY)
    assert exc.value.lines() == [
        f"content/doctors/outsider.md: points outside content/ (symbolic link to {outside}); not read",
        "content/images/passwd.png: points outside content/ (symbolic link to /etc/passwd); not copied",
    ]


def test_huge_and_deeply_nested_files_end_in_clean_errors(tmp_path):
    site_dir = make_site(tmp_path)
    (site_dir / "content" / "schedules" / "geka.yaml").write_text("[" * 50000, encoding="utf-8")
    (site_dir / "content" / "news" / "2026-01-01-big.md").write_text("---\ntitle: x\n---\n" + "あ" * 400_000, encoding="utf-8")
    result = build(site_dir)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[:2] == [
        "content/news/2026-01-01-big.md: file is too large (1,200,017 bytes; at most 1,000,000)",
        "content/schedules/geka.yaml:1: nested more than 40 levels deep",
    ]


def test_missing_site_yaml_is_a_clear_error(tmp_path):
    result = build(tmp_path)
    assert result.exit_code == 1
    assert "no site.yaml in" in result.stderr and "Traceback" not in result.output


def test_brand_colours_with_poor_contrast_are_a_warning(tmp_path):
    site_dir = make_site(tmp_path)
    f = site_dir / "site.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("  department_groups:", "  colours:\n    primary: \"#7CC242\"\n  department_groups:"), encoding="utf-8")
    _, warnings = load_site(Project.at(site_dir), TODAY)
    assert [str(w) for w in warnings] == [
        "site.yaml:7: warning: site.colours.primary: #7CC242 on #FFFFFF has a contrast of 2.18:1; text needs at least 4.5:1 (JIS X 8341-3 AA); choose a darker colour"
    ]


def test_unknown_fields_named_like_pydantics_types_are_reported_at_their_lines(tmp_path):
    """Pydantic names the members of a union ("str", "date", "function-after[…]") in its paths to errors; a key of
    the file with such a name is still an unknown field at its line (a doctor's `date:` was an internal error)."""
    site = make_site(tmp_path)
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    text = doctor.read_text(encoding="utf-8")
    head, _, body = text.partition("\n---\n")
    doctor.write_text(head + "\ndate: 2026-04-01\nstr: [a, b]\nint: 1\nliteral[x]: 2\nfunction-after: 3\n---\n" + body,
                      encoding="utf-8")
    start = head.count("\n") + 2
    result = build(site)
    lines = [line for line in result.stderr.splitlines() if not line.startswith("build failed")]
    assert result.exit_code == 1 and "internal error" not in result.output, result.output
    names = ["date", "str", "int", "literal[x]", "function-after"]
    assert [line.split(" (")[0] for line in lines] == [
        f"content/doctors/yamada-taro.md:{start + n}: {name}: unknown field '{name}'" for n, name in enumerate(names)]


def test_a_content_file_named_like_one_of_the_sites_own_pages_is_an_error_at_that_file(tmp_path):
    site = make_site(tmp_path)
    doctor = (site / "content/doctors/yamada-taro.md").read_text(encoding="utf-8")
    (site / "content/doctors/featured.md").write_text(doctor, encoding="utf-8")
    (site / "content/doctors/index.md").write_text(doctor, encoding="utf-8")
    for folder, model in (("departments", "naika"), ("guides", "referral"), ("news", "2026-10-01-open")):
        shutil.copy(site / "content" / folder / f"{model}.md", site / "content" / folder / "index.md")
    (site / "content/newsletters").mkdir()
    (site / "content/newsletters/index.md").write_text("---\nnumber: 1\n---\n", encoding="utf-8")
    (site / "build").mkdir()
    (site / "build" / MARKER).write_text("")
    (site / "build/kept.txt").write_text("the previous build")
    result = build(site, "--only", "site")
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    for path, page in (("doctors/featured.md", "doctors/featured.html"), ("doctors/index.md", "doctors/index.html"),
                       ("departments/index.md", "departments/index.html"), ("guides/index.md", "guides/index.html"),
                       ("news/index.md", "news/index.html"), ("newsletters/index.md", "newsletters/index.html")):
        assert (f"content/{path}: the name '{path.split('/')[1][:-3]}' is used by the site's own page {page}; "
                "rename the file") in result.output, result.output
    assert (site / "build/kept.txt").read_text() == "the previous build"


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "3000-01-01"])
def test_a_date_out_of_range_is_a_clear_error(tmp_path, date):
    site = make_site(tmp_path)
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", date, "--only", "site"])
    assert result.exit_code == 1 and f"--date {date}: expected a date from 1970-01-01 to 2999-12-31" in result.output, \
        result.output
    assert not (site / "build").exists()


@pytest.mark.parametrize("epoch, says", [
    ("yesterday", "SOURCE_DATE_EPOCH: expected whole seconds since 1970-01-01 (like 1764028800), got 'yesterday'"),
    ("1.5e9", "SOURCE_DATE_EPOCH: expected whole seconds since 1970-01-01 (like 1764028800), got '1.5e9'"),
    ("99999999999999", "SOURCE_DATE_EPOCH: 99999999999999 seconds is no date a build can use"),
    ("-1", "SOURCE_DATE_EPOCH -1 (1969-12-31): expected a date from 1970-01-01 to 2999-12-31"),
])
def test_a_bad_source_date_epoch_says_what_is_wrong_with_it(tmp_path, epoch, says):
    site = make_site(tmp_path)
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--only", "site"],
                                env={"SOURCE_DATE_EPOCH": epoch})
    assert result.exit_code == 1 and says in result.output, result.output
    assert "--date" not in result.output.split("\n")[0].split(":")[0] and "got None" not in result.output


def test_source_date_epoch_sets_the_build_date(tmp_path):
    site = make_site(tmp_path)
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--only", "site", "--dry-run"],
                                env={"SOURCE_DATE_EPOCH": "1764028800"})  # 2025-11-25 00:00 UTC
    assert result.exit_code == 0, result.output
