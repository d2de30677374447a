"""Public holidays (from jpholiday) and the hospital's own closed days: which days, which slots, where shown."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import jpholiday
import pytest
import yaml

from sitegen.build import BuildOptions, run
from sitegen.content.calendar import CalendarSettings, Closure, closed_slots, closures, spans, week_of_month
from sitegen.content.models import Period, Slot
from sitegen.content.site import OutpatientSlot
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"


def slot(day, time="午前", doctor="a", weeks=()):
    return OutpatientSlot("naika", day, time, Slot(day=day, time=time, doctor=doctor, weeks=list(weeks)))


def holidays_of(year):
    return [d for d, _ in jpholiday.between(dt.date(year, 1, 1), dt.date(year, 12, 31))]


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2030])
def test_every_public_holiday_of_a_year_is_a_closure_with_its_name(year):
    found = closures(CalendarSettings(), dt.date(year, 1, 1), dt.date(year, 12, 31))
    assert [c.date for c in found] == holidays_of(year)
    assert len(found) >= 16  # 16 national holidays a year, plus 振替休日 / 国民の休日
    assert all(c.kind == "祝日" and c.name for c in found)
    assert any("振替休日" in c.name for c in found) or year == 2030 and not any(
        "振替" in n for _, n in jpholiday.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))


def test_holidays_can_be_switched_off_or_opened_one_by_one():
    year = closures(CalendarSettings(), dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert closures(CalendarSettings(public_holidays=False), dt.date(2027, 1, 1), dt.date(2027, 12, 31)) == ()
    opened = year[3].date
    without = closures(CalendarSettings(open=[opened]), dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert [c.date for c in without] == [c.date for c in year if c.date != opened]


def test_own_closed_days_run_from_date_to_to_and_win_over_a_holiday():
    settings = CalendarSettings(closed=[{"date": "2026-12-29", "to": "2027-01-03", "name": "年末年始"},
                                        {"date": "2027-02-19", "name": "創立記念日", "sessions": ["午後"]}])
    found = closures(settings, dt.date(2026, 12, 1), dt.date(2027, 2, 28))
    new_year = [c for c in found if c.name == "年末年始"]
    assert [c.date for c in new_year] == [dt.date(2026, 12, 29) + dt.timedelta(days=i) for i in range(6)]
    assert all(c.kind == "休診日" for c in new_year)  # 元日 is inside and named after the hospital's closure
    assert not any(c.date == dt.date(2027, 1, 1) and c.name == "元日" for c in found)
    half = next(c for c in found if c.name == "創立記念日")
    assert half.sessions == ("午後",) and half.closes("午後") and not half.closes("午前")
    assert [(s.first.date, s.last.date) for s in spans(found) if s.name == "年末年始"] == [
        (dt.date(2026, 12, 29), dt.date(2027, 1, 3))]


def test_a_window_clips_a_closed_period():
    settings = CalendarSettings(public_holidays=False, closed=[{"date": "2026-12-29", "to": "2027-01-03", "name": "年末年始"}])
    found = closures(settings, dt.date(2027, 1, 2), dt.date(2027, 1, 10))
    assert [c.date for c in found] == [dt.date(2027, 1, 2), dt.date(2027, 1, 3)]


@pytest.mark.parametrize("day, week", [(1, 1), (7, 1), (8, 2), (14, 2), (15, 3), (29, 5), (31, 5)])
def test_week_of_month(day, week):
    assert week_of_month(dt.date(2027, 1, day)) == week


def test_a_holiday_closes_the_slots_of_its_weekday_and_session_only():
    # Every holiday of 2027 against a full week of slots: exactly the slots of that weekday close.
    week = [slot(d, t, f"d{i}-{j}") for i, d in enumerate("月火水木金土") for j, t in enumerate(("午前", "午後"))]
    period = Period(start=dt.date(2027, 1, 1), end=dt.date(2027, 12, 31))
    found = closures(CalendarSettings(), period.start, period.end)
    result = closed_slots(found, week, period)
    for span, hit in result:
        weekdays = {c.weekday for c in found if span.first.date <= c.date <= span.last.date}
        assert {s.day for s in hit} == weekdays
        assert all(s.day in weekdays for s in hit)
    sundays = [c for c in found if c.weekday == "日"]
    assert sundays and not any(span.first == c and span.last == c for c in sundays for span, _ in result)


def test_nth_week_slots_close_only_in_their_weeks():
    first_third = slot("土", weeks=(1, 3))
    every = slot("土", doctor="b")
    period = Period(start=dt.date(2027, 1, 1))
    on = [Closure(dt.date(2027, 1, 2), "x", "休診日"), Closure(dt.date(2027, 1, 16), "y", "休診日")]  # 1st, 3rd Saturday
    off = [Closure(dt.date(2027, 1, 9), "z", "休診日"), Closure(dt.date(2027, 1, 30), "w", "休診日")]  # 2nd, 5th
    assert [hit for _, hit in closed_slots(on, [first_third, every], period)] == [(first_third, every)] * 2
    assert [hit for _, hit in closed_slots(off, [first_third, every], period)] == [(every,)] * 2


def test_half_day_closures_and_the_schedule_period():
    am, pm = slot("金", "午前", "a"), slot("金", "午後", "b")
    afternoon = Closure(dt.date(2027, 1, 22), "院内研修", "休診日", ("午後",))
    assert closed_slots([afternoon], [am, pm], Period(start=dt.date(2027, 1, 1))) == ((spans([afternoon])[0], (pm,)),)
    # a closure outside the schedule's period closes nothing of it
    assert closed_slots([afternoon], [am, pm], Period(start=dt.date(2027, 2, 1))) == ()
    assert closed_slots([afternoon], [am, pm], Period(start=dt.date(2026, 10, 1), end=dt.date(2027, 1, 21))) == ()


# --- the site ---------------------------------------------------------------------


@pytest.fixture()
def site(tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    return dest


def set_calendar(site: Path, calendar: dict, **hospital) -> None:
    path = site / "site.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["calendar"] = calendar
    data["hospital"].update(hospital)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def build(site: Path, today: dt.date) -> Path:
    out = site / f"build-{today}"
    run(Project.at(site, out), BuildOptions(today=today, outputs=("site",)))
    return out / "site"


def test_the_site_shows_coming_closed_days_and_the_slots_they_close(site):
    # The minimal site's schedule: 月午前 (山田, 鈴木), 水午後 禁煙外来, 第1・3土午前 (山田).
    set_calendar(site, {"closed": [{"date": "2027-01-22", "sessions": ["午後"], "name": "院内研修"},
                                   {"date": "2027-01-16", "name": "設備点検"}], "show_days": 60},
                 outpatient={"hours": [{"days": ["月", "火", "水", "木", "金"], "open": "08:30", "close": "11:00"}],
                             "closed": ["日曜・祝日"]})
    out = build(site, dt.date(2026, 12, 20))
    schedule = (out / "schedule.html").read_text(encoding="utf-8")
    dept = (out / "departments" / "naika.html").read_text(encoding="utf-8")
    for page in (schedule, dept):
        # 成人の日 2027-01-11 is a Monday: the Monday morning slots close
        assert "2027年1月11日（月）</span> 成人の日：午前（山田 太郎、鈴木 一郎）の外来は" in page
        # 1/16 is the 3rd Saturday: 山田's 第1・3週 slot closes
        assert "2027年1月16日（土）</span> 設備点検：午前（山田 太郎）の外来は" in page
        # 1/22 is a Friday afternoon: no naika slot then, so no line
        assert "院内研修：" not in page
    assert "外来受付時間" in schedule and "今後の休診日" in schedule and "院内研修（午後休診）" in schedule
    # beyond show_days (60 days from 12/20 = up to 2027-02-17): 建国記念の日 2/11 in, 天皇誕生日 2/23 out
    assert "建国記念の日" in schedule and "天皇誕生日" not in schedule
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "今後の休業日" in home  # the office line that closes on holidays lists them


def test_a_round_the_clock_contact_does_not_list_closed_days(site):
    set_calendar(site, {"closed": [{"date": "2027-01-16", "name": "設備点検"}]})
    data = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    data["office"]["contacts"] = [{"id": "tel", "type": "tel", "label": "救急外来", "value": "03-0000-1199", "hours": "24h"}]
    (site / "site.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    home = (build(site, dt.date(2026, 12, 20)) / "index.html").read_text(encoding="utf-8")
    assert "24時間" in home and "今後の休業日" not in home


def test_calendar_mistakes_name_the_line(site):
    set_calendar(site, {"closed": [{"date": "2027-01-03", "to": "2026-12-29", "name": "年末年始"},
                                   {"date": "2027-01-22", "sessions": ["夜間"], "name": "研修"}],
                        "open": ["2027-01-12"]})
    text = (site / "site.yaml").read_text(encoding="utf-8")
    with pytest.raises(ContentError) as err:
        run(Project.at(site), BuildOptions(today=dt.date(2026, 12, 20), outputs=("site",)))
    messages = "\n".join(str(p) for p in err.value.errors)
    lines = text.splitlines()
    to_line = next(i for i, t in enumerate(lines, 1) if "2026-12-29" in t)
    assert "'to' (2026-12-29) is before 'date' (2027-01-03)" in messages
    assert "calendar.closed[1].sessions[0]" in messages  # both problems at once
    assert f"site.yaml:{to_line - 1}" in messages or f"site.yaml:{to_line}" in messages


def test_an_open_day_that_is_no_holiday_is_a_warning(site):
    set_calendar(site, {"open": ["2027-01-12", "2027-01-11"]})
    out = site / "b"
    result = run(Project.at(site, out), BuildOptions(today=dt.date(2026, 12, 20), outputs=("site",)))
    warnings = "\n".join(str(w) for w in result.warnings)
    assert "calendar.open[0]: 2027-01-12 is not a public holiday" in warnings
    assert "calendar.open[1]" not in warnings
    assert "成人の日" not in (out / "site" / "schedule.html").read_text(encoding="utf-8")
