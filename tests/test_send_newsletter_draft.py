"""draft_next_issue: the next issue drafted from what changed since the latest one, and it builds."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

from mail_fixtures import REPO, make_mail_site
from sitegen.build import BuildOptions, load_site, run
from sitegen.errors import SitegenError
from sitegen.mail.draft import draft_next_issue
from sitegen.project import Project

DAY = dt.date(2027, 1, 15)


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


@pytest.fixture()
def site(tmp_path):
    site = make_mail_site(tmp_path / "hospital")
    (site / "content/doctors/kimura-aoi.md").write_text(
        "---\nname: 木村 葵\nkana: きむら あおい\ndepartments: [naika]\njoined: 2026-12-01\n---\n", encoding="utf-8")
    (site / "content/news/2026-12-20-nenmatsu.md").write_text(
        "---\ntitle: 年末年始の受付について\ndate: 2026-12-20\n---\n12月29日から1月3日まで休みます。\n", encoding="utf-8")
    return site


def test_draft_fills_what_changed_since_the_previous_issue(site):
    project = Project.at(site)
    loaded, _ = load_site(project, DAY)
    name, text = draft_next_issue(project, loaded, DAY)
    assert name == "2027-01-no3.md"
    fm = front_matter(text)
    assert fm["number"] == 3 and fm["date"] == DAY and fm["draft"] is True
    by_type = {s["type"]: s for s in fm["sections"]}
    assert by_type["new_doctors"]["doctors"] == ["kimura-aoi"]
    assert by_type["news"]["items"] == ["2027-01-01-future", "2026-12-20-nenmatsu"]  # newest first, up to the day
    assert "schedule_changes" not in by_type and "schedule_changes: 2026-11-20 以降の該当はありません" in text
    assert by_type["doctor"]["doctor"] == "kimura-aoi"  # not yet featured (yamada-taro was, in No.2)
    assert by_type["text"]["title"] == "編集後記"
    assert "event" not in by_type and "# - type: event" in text  # an event is new every time: a template only

    # written into content/, it loads, resolves and builds (as a draft)
    (site / "content/newsletters" / name).write_text(text, encoding="utf-8")
    again, warnings = load_site(project, DAY)
    issue = next(i for i in again.newsletters if i.slug == name[:-3])
    assert issue.draft and issue.previous == "2026-11-no2"
    new = next(s for s in issue.sections if s.type == "new_doctors")
    assert [d.slug for d in new.doctors] == ["kimura-aoi"]
    run(project, BuildOptions(today=DAY, outputs=("mail",)))
    assert (site / "build/mail/2027-01-no3/index.html").is_file()


def test_draft_must_come_after_the_latest_issue(site):
    project = Project.at(site)
    loaded, _ = load_site(project, dt.date(2026, 11, 20))
    with pytest.raises(SitegenError, match="dated 2026-11-20; the next one must be dated later"):
        draft_next_issue(project, loaded, dt.date(2026, 11, 20))


def test_first_issue_of_a_series(site):
    shutil.rmtree(site / "content/newsletters")
    project = Project.at(site)
    loaded, _ = load_site(project, DAY)
    name, text = draft_next_issue(project, loaded, DAY)
    fm = front_matter(text)
    assert name == "2027-01-no1.md" and fm["number"] == 1
    # the coming holidays follow the (empty) schedule changes: the fixture's calendar has some after DAY
    assert [s["type"] for s in fm["sections"]] == ["new_doctors", "text", "news", "text"]
    assert fm["sections"][1]["title"] == "休診日のお知らせ"
    (site / "content/newsletters").mkdir()
    (site / "content/newsletters" / name).write_text(text, encoding="utf-8")
    load_site(project, DAY)


def test_example_site_draft_loads(tmp_path):
    site = tmp_path / "example"
    site.mkdir()
    for name in ("site.yaml", "content"):
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, site / name)
    project = Project.at(site)
    day = dt.date(2027, 2, 1)
    loaded, _ = load_site(project, day)
    name, text = draft_next_issue(project, loaded, day)
    (site / "content/newsletters" / name).write_text(text, encoding="utf-8")
    again, _ = load_site(project, day)
    assert any(i.slug == name[:-3] and i.draft for i in again.newsletters)


def test_draft_lists_the_coming_holidays_and_closed_days(site):
    """The calendar's coming closed days (and public holidays) go into a 休診日のお知らせ section; the draft loads."""
    path = site / "site.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["calendar"] = {"closed": [{"date": "2027-02-19", "name": "創立記念日"},
                                   {"date": "2027-01-22", "sessions": ["午後"], "name": "院内研修"}], "show_days": 40}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    project = Project.at(site)
    loaded, _ = load_site(project, DAY)
    name, text = draft_next_issue(project, loaded, DAY)
    sections = front_matter(text)["sections"]
    closures = [s for s in sections if s.get("title") == "休診日のお知らせ"]
    assert len(closures) == 1 and closures[0]["type"] == "text"
    body = closures[0]["body"]
    assert "2027年1月22日（金）（午後）　院内研修" in body
    assert "2027年2月11日（木）　建国記念の日" in body  # a public holiday, from jpholiday
    assert "創立記念日" in body
    assert body.index("1月22日") < body.index("2月11日") < body.index("2月19日")
    (site / "content/newsletters" / name).write_text(text, encoding="utf-8")
    load_site(project, DAY)  # the draft validates
    # drafted again after that issue: one fresh section, not the old one copied as well
    data["calendar"] = {"closed": [], "public_holidays": False}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    loaded, _ = load_site(project, DAY)
    _, again = draft_next_issue(project, loaded, DAY + dt.timedelta(days=1))
    assert "休診日のお知らせ" not in again


def test_the_draft_leaves_out_a_holiday_on_a_day_nothing_opens_and_keeps_its_text_a_block(site):
    """春分の日 on a Sunday closes nothing; the list is a `|` block that an apostrophe typed into it cannot end."""
    path = site / "site.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["calendar"] = {"closed": [{"date": "2027-03-21", "name": "日曜の休診日"},
                                   {"date": "2027-03-19", "name": "金曜の休診日"}], "show_days": 120,
                        "public_holidays": False}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    project = Project.at(site)
    loaded, _ = load_site(project, DAY)
    _, text = draft_next_issue(project, loaded, DAY)
    body = next(s for s in front_matter(text)["sections"] if s.get("title") == "休診日のお知らせ")["body"]
    assert "金曜の休診日" in body and "日曜の休診日" not in body
    assert "    body: |" in text
