"""A schedule with `previous:`: the newsletter and the web list only what changed (before → after), and the
previous schedule is checked like the rest (file:line)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from mail_fixtures import make_mail_site
from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError
from sitegen.project import Project

TODAY = dt.date(2026, 11, 25)
# The minimal site's naika schedule (2026-10-01 〜 2027-03-31):
#   月午前 1診 yamada-taro 初診・紹介制 / 月午前 2診 suzuki-ichiro / 第1・3土午前 1診 yamada-taro / 水午後 禁煙外来
PREVIOUS = """previous:
  period: {start: 2026-04-01, end: 2026-09-30}
  slots:
    - {day: 月, time: 午前, room: 1診, doctor: yamada-taro, visit: 初診, booking: 紹介制}
    - {day: 月, time: 午前, room: 2診, doctor: tanaka-hanako}
    - {day: 火, time: 午後, room: 3診, doctor: kimura-taro, name: 木村 太郎}
    - {day: 土, time: 午前, room: 1診, doctor: yamada-taro, weeks: [1, 3]}
"""


def site_with_previous(tmp_path: Path, previous: str = PREVIOUS) -> Path:
    root = make_mail_site(tmp_path / "hospital")
    path = root / "content" / "schedules" / "naika.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + previous, encoding="utf-8")
    return root


def section(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i:text.index(end, i + len(start))]


def test_the_newsletter_lists_only_the_slots_that_changed(tmp_path):
    root = site_with_previous(tmp_path)
    run(Project.at(root), BuildOptions(today=TODAY, outputs=("site", "mail")))
    txt = (root / "build/mail/2026-11-no2/index.txt").read_text(encoding="utf-8")
    part = section(txt, "■ 外来担当医表の変更", "全診療科の外来担当医表")
    lines = [line.strip() for line in part.splitlines() if "曜 " in line]
    assert lines == [
        "月曜 午前：2診 田中 花子 → 2診 鈴木 一郎",
        "火曜 午後：3診 木村 太郎 → （終了）",
        "水曜 午後：（新設） → 禁煙外来",
    ]
    assert "山田" not in part  # his slots did not change: not repeated
    assert "2026年10月1日からの変更点" in part
    html = (root / "build/mail/2026-11-no2/index.html").read_text(encoding="utf-8")
    mail_part = section(html, "からの変更点です", "全診療科の外来担当医表")
    assert "木村 太郎" in mail_part and "（終了）" in mail_part and "（新設）" in mail_part
    assert "山田 太郎" not in re.sub(r"<[^>]+>", "", mail_part)
    web = (root / "build/site/newsletters/2026-11-no2.html").read_text(encoding="utf-8")
    assert "2026年10月1日からの変更点" in web and "木村 太郎" in web


def test_without_previous_the_newsletter_prints_the_whole_table(tmp_path):
    root = make_mail_site(tmp_path / "hospital")
    run(Project.at(root), BuildOptions(today=TODAY, outputs=("mail",)))
    txt = (root / "build/mail/2026-11-no2/index.txt").read_text(encoding="utf-8")
    part = section(txt, "■ 外来担当医表の変更", "全診療科の外来担当医表")
    assert "山田 太郎" in part and "変更点" not in part


def test_an_unchanged_renewal_says_so(tmp_path):
    same = PREVIOUS.replace("doctor: tanaka-hanako}", "doctor: suzuki-ichiro}").replace(
        "    - {day: 火, time: 午後, room: 3診, doctor: kimura-taro, name: 木村 太郎}\n",
        "    - {day: 水, time: 午後, clinic: 禁煙外来}\n")
    root = site_with_previous(tmp_path, same)
    run(Project.at(root), BuildOptions(today=TODAY, outputs=("mail",)))
    txt = (root / "build/mail/2026-11-no2/index.txt").read_text(encoding="utf-8")
    assert "担当医の変更はありません（期間の更新のみです）" in txt


@pytest.mark.parametrize("today, shown", [(dt.date(2026, 10, 20), True), (dt.date(2026, 12, 1), True),
                                          (dt.date(2026, 12, 3), False)])
def test_the_web_shows_changes_for_two_months_after_the_new_schedule_starts(tmp_path, today, shown):
    root = site_with_previous(tmp_path)
    run(Project.at(root), BuildOptions(today=today, outputs=("site",)))
    for page in ("departments/naika.html", "schedule.html"):
        text = (root / "build/site" / page).read_text(encoding="utf-8")
        assert ("2026年10月1日からの変更点" in text) == shown, page


def test_the_previous_schedule_is_checked_with_file_and_line(tmp_path):
    bad = PREVIOUS.replace("start: 2026-04-01, end: 2026-09-30", "start: 2026-10-01").replace(
        "doctor: kimura-taro, name: 木村 太郎", "doctor: kimura-taro").replace("doctor: tanaka-hanako", "doctor: tanaka-hanak")
    root = site_with_previous(tmp_path, bad)
    with pytest.raises(ContentError) as err:
        run(Project.at(root), BuildOptions(today=TODAY, outputs=("site",)))
    text = "\n".join(str(p) for p in err.value.errors)
    lines = (root / "content/schedules/naika.yaml").read_text(encoding="utf-8").splitlines()
    at = {k: next(i for i, t in enumerate(lines, 1) if k in t) for k in ("tanaka-hanak", "kimura-taro", "start: 2026-10-01}")}
    assert f"content/schedules/naika.yaml:{at['tanaka-hanak']}: previous.slots[1].doctor: unknown doctor 'tanaka-hanak'" in text
    assert "tanaka-hanako" in text  # did you mean
    assert f"content/schedules/naika.yaml:{at['kimura-taro']}: previous.slots[2].doctor: unknown doctor 'kimura-taro'" in text
    assert "name: 山田 太郎" in text  # how to name a doctor who has left
    assert f"naika.yaml:{at['start: 2026-10-01}']}: previous.period.start" in text
