"""休診・代診 notices (news with `absence`): shown between their date and their last day, in every place
a clinic looks (schedule, department, doctor, home, feed), and checked like the rest of the content."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
NOTICE = """---
title: 内科 12月1日午前の代診のお知らせ
date: 2026-11-20
category: 休診・代診
absence:
  doctor: yamada-taro
  dates: [2026-12-01]
  sessions: [午前]
  substitute: {substitute}
---
12月1日（火）午前は山田医師に代わり田中医師が担当します。
"""
PAGES = ("schedule.html", "departments/naika.html", "doctors/yamada-taro.html", "index.html", "feed.xml")


@pytest.fixture()
def site(tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    return dest


def write_notice(site: Path, substitute: str = "tanaka-hanako") -> Path:
    path = site / "content" / "news" / "2026-11-20-daishin.md"
    path.write_text(NOTICE.format(substitute=substitute), encoding="utf-8")
    return path


def pages_on(site: Path, today: dt.date) -> dict[str, str]:
    out = site / f"build-{today}"
    run(Project.at(site, out), BuildOptions(today=today, outputs=("site",)))
    return {p: (out / "site" / p).read_text(encoding="utf-8") for p in PAGES}


def test_a_notice_is_shown_from_its_date_to_its_last_day_only(site):
    write_notice(site)
    before = pages_on(site, dt.date(2026, 11, 19))
    during = pages_on(site, dt.date(2026, 11, 25))
    last_day = pages_on(site, dt.date(2026, 12, 1))
    after = pages_on(site, dt.date(2026, 12, 2))
    for page in PAGES:
        assert "12月1日午前の代診" not in before[page], page
        assert "12月1日午前の代診" in during[page], page
        assert "12月1日午前の代診" in last_day[page], page
        assert "12月1日午前の代診" not in after[page], page
    for page in ("schedule.html", "departments/naika.html", "doctors/yamada-taro.html"):
        assert "休診・代診のお知らせ" in during[page]
        assert "2026年12月1日（火）" in during[page] and "代診：" in during[page], page
    other = (site / "build-2026-11-25" / "site" / "departments" / "geka.html").read_text(encoding="utf-8")
    assert "12月1日午前の代診" not in other  # not on a department the absent doctor does not work in


def test_a_notice_names_doctors_that_exist(site):
    path = write_notice(site, substitute="tanaka-hanak")
    with pytest.raises(ContentError) as err:
        run(Project.at(site), BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",)))
    text = "\n".join(str(p) for p in err.value.errors)
    line = next(i for i, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "substitute" in t)
    assert f"content/news/2026-11-20-daishin.md:{line}: absence.substitute: unknown doctor 'tanaka-hanak'" in text
    assert "tanaka-hanako" in text  # did you mean


@pytest.mark.parametrize("day, sessions, warned", [
    ("2026-11-30", "[]", False),        # Monday: his 午前 slot
    ("2026-11-30", "[午前]", False),
    ("2026-11-30", "[午後]", True),     # he has no Monday afternoon
    ("2026-12-01", "[午前]", True),     # Tuesday: no slot
    ("2026-12-05", "[]", False),        # the 1st Saturday: 第1・3週 slot
    ("2026-12-19", "[]", False),        # the 3rd Saturday
    ("2026-12-26", "[]", True),         # the 4th Saturday
    ("2027-06-07", "[]", False),        # a Monday after the schedule's period: not judged
])
def test_a_closed_day_on_which_the_doctor_has_no_slot_is_a_warning(site, day, sessions, warned):
    path = site / "content" / "news" / "2026-11-20-kyushin.md"
    path.write_text(f"---\ntitle: 休診のお知らせ\ndate: 2026-11-20\ncategory: 休診・代診\nabsence:\n  doctor: yamada-taro\n"
                    f"  dates: [{day}]\n  sessions: {sessions}\n---\n休診します。\n", encoding="utf-8")
    report = run(Project.at(site), BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",)))
    found = [str(w) for w in report.warnings if "no outpatient slot" in w.message]
    if warned:
        assert found and found[0].startswith("content/news/2026-11-20-kyushin.md:7: warning: absence.dates[0]: "), found
        assert day in found[0]
    else:
        assert found == []
