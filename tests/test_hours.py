"""Hours that end at midnight, run past it, or never stop (救急外来, 24時間・365日)."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.content.models import Contact, minutes
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)
EXTRA = """    - id: er
      type: tel
      label: 救急外来
      value: 03-0000-1999
      hours: 24h
    - id: night
      type: tel
      label: 夜間の紹介受付
      value: 03-0000-1998
      hours:
        - days: [月, 火, 水, 木, 金]
          open: "17:00"
          close: 翌8:30
        - days: [土]
          open: "08:30"
          close: "24:00"
"""


def with_contacts(tmp_path: Path, extra: str) -> Path:
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    yaml = site / "site.yaml"
    text = yaml.read_text(encoding="utf-8")
    anchor = "      notes: [16:15以降の受信分は翌診療日に回答します]\n"
    assert anchor in text
    yaml.write_text(text.replace(anchor, anchor + extra, 1), encoding="utf-8")
    return site


def test_minutes_order_times_across_midnight():
    assert minutes("08:30") < minutes("17:00") < minutes("24:00") < minutes("翌08:30")


@pytest.mark.parametrize("hours", ["24h", "24時間", "24時間365日"])
def test_round_the_clock_shorthand(hours):
    c = Contact(id="er", type="tel", label="救急外来", value="03-0000-1999", hours=hours)
    assert len(c.hours) == 1 and len(c.hours[0].days) == 7
    assert (c.hours[0].open, c.hours[0].close) == ("00:00", "24:00")


def test_midnight_and_next_morning_on_the_web(tmp_path):
    site = with_contacts(tmp_path, EXTRA)
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    page = (site / "build" / "site" / "access.html").read_text(encoding="utf-8")
    assert "毎日曜" not in page
    assert '<span class="hours-days">毎日</span> <span class="hours-time">24時間</span>' in page
    assert '<span class="hours-time">17:00〜翌8:30</span>' in page
    assert '<span class="hours-time">8:30〜24:00</span>' in page


@pytest.mark.parametrize("old, new, message", [
    ("close: 翌8:30", 'close: "08:30"', "opens at 17:00 but closes at 08:30"),
    ('close: "24:00"', 'close: "25:00"', "24:00 for midnight, 翌8:30 for the next morning"),
])
def test_impossible_hours_are_errors_at_their_line(tmp_path, old, new, message):
    site = with_contacts(tmp_path, EXTRA.replace(old, new))
    with pytest.raises(ContentError) as err:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    text = "\n".join(str(p) for p in err.value.errors)
    assert message in text and "site.yaml:" in text
