"""Draft the next newsletter issue from what changed in content/ since the latest one.

`draft_next_issue(project, site, today)` returns a file name under content/newsletters/ and the
text of a Markdown file with front matter. It does not write anything: `sitegen new newsletter`
(cli) decides where and whether to write.

The draft copies the section list of the latest published issue of the series and
  - fills `new_doctors`, `schedule_changes` and `news` with explicit lists of what changed after the
    latest issue's date, up to `today` (a section with nothing new is left out, with a comment),
  - proposes a doctor and a department that no earlier issue featured,
  - keeps `text` sections with their titles and an empty body to write, and turns events into a
    commented-out template (their date and place are new every time).
It is `draft: true`, so it is previewed by `sitegen build` and refused by `sitegen send` until edited.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from sitegen.content.models import WEEKDAYS
from sitegen.content.newsletters import FIRST_ISSUE_WINDOW
from sitegen.content.site import Site
from sitegen.errors import SitegenError
from sitegen.project import Project
from sitegen.templates import date_ja

FIRST_ISSUE_SECTIONS = [{"type": "new_doctors"}, {"type": "schedule_changes"}, {"type": "news"},
                        {"type": "text", "title": "編集後記"}]
TO_WRITE = "（ここに本文を書いてください）"
EVENT_TEMPLATE = """\
  # 催しのご案内があれば、次の行の # を外して書き換えてください。
  # - type: event
  #   title: 第N回 地域医療連携の会
  #   date: {date}
  #   time: "19:00〜20:30"
  #   place: 3階 講堂
  #   rsvp: https://www.example.jp/renkei/form
  #   rsvp_deadline: {date}
  #   body: テーマと内容
"""


def draft_next_issue(project: Project, site: Site, today: dt.date) -> tuple[str, str]:
    """(file name, file text) of the next issue of the site's newsletter series, dated `today`."""
    settings = site.config.newsletter
    if settings is None:
        raise SitegenError("site.yaml has no newsletter: section; add series, from_name, from_address, "
                           "unsubscribe_url and unsubscribe_mailto first")
    series = [i for i in site.newsletters if i.series == settings.series]
    published = [i for i in series if not i.draft]
    latest = published[-1] if published else None
    if latest is not None and today <= latest.date:
        raise SitegenError(f"the latest issue {latest.source} is dated {latest.date}; the next one must be dated later")
    number = max((i.number for i in series), default=0) + 1
    since = latest.date if latest else today - FIRST_ISSUE_WINDOW
    name = f"{today:%Y-%m}-no{number}.md"
    if (project.content / "newsletters" / name).exists():
        name = f"{today:%Y-%m-%d}-no{number}.md"

    changed = _changes(site, since, today)
    featured = {s.data.doctor for i in series for s in i.sections if s.type == "doctor"}
    spotlit = {s.data.department for i in series for s in i.sections if s.type == "department"}
    template = [dict(s) for s in latest.data.sections] if latest else list(FIRST_ISSUE_SECTIONS)
    for kind in ("new_doctors", "schedule_changes", "news"):
        if changed[kind] and not any(s.get("type") == kind for s in template):
            template.insert(0, {"type": kind})

    lines = []
    template = [s for s in template if not (s.get("type") == "text" and s.get("title") == CLOSURES_TITLE)]
    closures = _closures(site)  # after the schedule changes, else first
    for raw in template:
        lines.append(_section(raw, changed, site, featured, spotlit, since, today))
        if raw.get("type") == "schedule_changes":
            lines.append(closures)
    if not any(raw.get("type") == "schedule_changes" for raw in template):
        lines.insert(0, closures)
    origin = f"前号（{latest.source}、{latest.date}）" if latest else f"{since}"
    head = [
        "---",
        f"# 下書き（sitegen が {today} に作成）。{origin}以降の変更を入れてあります。",
        "# 内容を確かめて書き換え、draft: true の行を消してから sitegen build で確認してください。",
        f"number: {number}",
        f"date: {today.isoformat()}",
        _dump({"subject": f"{settings.series} 第{number}号：（件名を入力）"}).rstrip(),
        _dump({"preheader": _preheader(changed)}).rstrip(),
        "draft: true",
        "ad_review: []  # 医療広告ガイドラインの確認済みの例外（任意、sitegen check 用）",
        "sections:",
    ]
    body = "いつも患者さんをご紹介いただき、ありがとうございます。\n\n" + TO_WRITE + "\n"
    return name, "\n".join(head) + "\n" + "".join(lines) + "---\n" + body


def _changes(site: Site, since: dt.date, today: dt.date) -> dict[str, list]:
    return {
        "new_doctors": sorted((d for d in site.doctors if d.joined and since < d.joined <= today),
                              key=lambda d: (d.joined, d.kana)),
        "schedule_changes": [d for d in site.departments if d.schedule and since < d.schedule.period.start <= today],
        "news": sorted((n for n in site.news if since < n.date <= today), key=lambda n: (n.date, n.slug), reverse=True),
    }


def _section(raw: dict, changed: dict, site: Site, featured: set, spotlit: set, since: dt.date, today: dt.date) -> str:
    kind = raw.get("type")
    title = {"title": raw["title"]} if raw.get("title") else {}
    if kind in changed:
        found = changed[kind]
        if not found:
            return f"  # {kind}: {since} 以降の該当はありません\n"
        if kind == "new_doctors":
            data, note = {"doctors": [d.slug for d in found]}, "、".join(f"{d.name}（{d.joined}着任）" for d in found)
        elif kind == "schedule_changes":
            data, note = {"departments": [d.slug for d in found]}, "、".join(f"{d.name}（{d.schedule.period.start}から）" for d in found)
        else:
            data, note = {"items": [n.slug for n in found]}, "、".join(n.title for n in found)
        return f"  # {note}\n" + _item({"type": kind, **title, **data})
    if kind == "doctor":
        candidates = [d for d in changed["new_doctors"] if d.slug not in featured] + \
                     sorted((d for d in site.doctors if d.slug not in featured), key=lambda d: d.kana)
        if not candidates:
            return "  # doctor: どの医師もすでに紹介済みです\n"
        return f"  # 注目のドクター: まだ紹介していない{candidates[0].name}を候補にしました\n" + \
            _item({"type": "doctor", **title, "doctor": candidates[0].slug})
    if kind == "department":
        candidates = [d for d in site.departments if d.slug not in spotlit]
        if not candidates:
            return "  # department: どの診療科もすでに紹介済みです\n"
        return f"  # 診療科のご紹介: まだ紹介していない{candidates[0].name}を候補にしました\n" + \
            _item({"type": "department", **title, "department": candidates[0].slug})
    if kind == "event":
        return EVENT_TEMPLATE.format(date=(today + dt.timedelta(days=30)).isoformat())
    if kind == "text":
        return _item({"type": "text", **title, "body": TO_WRITE})
    return _item(raw)


CLOSURES_TITLE = "休診日のお知らせ"


def _closures(site: Site) -> str:
    """A text section listing the coming holidays and closed days (site.yaml calendar), or nothing."""
    spans = [s for s in site.closure_spans if s.days > 1 or _opens_on(site, s.first.date)]
    if not spans:
        return ""
    lines = []
    for span in spans:
        when = date_ja(span.first.date, weekday=True)
        if span.days > 1:
            when += "〜" + date_ja(span.last.date, weekday=True)
        part = "（" + "・".join(span.first.sessions) + "）" if span.first.sessions else ""
        lines.append(f"- {when}{part}　{span.name}")
    body = "次の日は外来が休診です。ご紹介・ご予約の際はご注意ください。\n\n" + "\n".join(lines)
    return "  # 休診日: site.yaml の calendar から、今後の祝日・休診日を入れてあります\n" + _item(
        {"type": "text", "title": CLOSURES_TITLE, "body": body})


def _opens_on(site: Site, day: dt.date) -> bool:
    """Whether the outpatient clinics open on that day of the week: a holiday on a Sunday when nothing opens on
    Sundays closes nothing. Open: a day of the hospital's reception hours (`hospital.outpatient`) or of any
    department's slot; without reception hours, every day but Sunday (the schedules may list only some of them)."""
    weekday = WEEKDAYS[day.weekday()]
    if any(s.day == weekday for d in site.departments if d.schedule for s in d.schedule.slots):
        return True
    outpatient = site.hospital.outpatient
    if outpatient is None:
        return weekday != "日"
    return any(weekday in h.days for h in outpatient.hours)


def _preheader(changed: dict) -> str:
    parts = []
    if changed["new_doctors"]:
        parts.append("新任医師のご紹介")
    if changed["schedule_changes"]:
        parts.append("外来担当医表の変更")
    if changed["news"]:
        parts.append("お知らせ")
    return "、".join(parts) or "（メールソフトで件名の後に表示される一文）"


class _Dumper(yaml.SafeDumper):
    """Texts of several lines as YAML blocks (`body: |`): easy to edit, and an apostrophe typed into one cannot
    end it, as it would a single-quoted text."""


def _block_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _block_text)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000)


def _item(section: dict) -> str:
    """One `- type: …` list item, indented under `sections:`."""
    text = _dump([section])
    return "".join(("  " + line if line else "") + "\n" for line in text.splitlines())
