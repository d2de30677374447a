"""The `calendar:` section of site.yaml and the closed days it yields.

Japanese public holidays (国民の祝日, 振替休日, 国民の休日) come from the maintained
`jpholiday` library, never from a hand-typed list; the hospital adds its own
closed days (年末年始, 創立記念日, a half day of 院内研修) and the holidays on which
it opens anyway.

    calendar:
      public_holidays: true        # 祝日・振替休日は外来休診
      closed:
        - {date: 2026-12-29, to: 2027-01-03, name: 年末年始}
        - {date: 2027-02-19, name: 創立記念日}
        - {date: 2027-01-22, sessions: [午後], name: 院内研修}
      open: [2027-03-22]           # a holiday with outpatient clinics as usual
      show_days: 92                # how far ahead from the build date closed days are listed

`closures(settings, start, end)` lists the closed days in a window;
`closed_slots(closures, slots, period)` says which outpatient slots each closes,
honouring 第N週 slots, half-day closures and the schedule's own period.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

import jpholiday
from pydantic import Field, StrictBool, model_validator

from sitegen.content.models import WEEKDAYS, Model, Session, Text

HOLIDAY = "祝日"
CLOSED = "休診日"


class ClosedDays(Model):
    """One closed day, or a run of them (`to` is the last day, inclusive)."""

    date: dt.date
    to: dt.date | None = None
    name: Text  # 年末年始, 創立記念日
    sessions: list[Session] = []  # empty = the whole day

    @model_validator(mode="after")
    def _ordered(self):
        if self.to is not None and self.to < self.date:
            raise ValueError(f"'to' ({self.to}) is before 'date' ({self.date}); write the first day as date, the last as to")
        if self.to is not None and (self.to - self.date).days > 366:
            raise ValueError("a closed period longer than a year; check the dates")
        return self


class CalendarSettings(Model):
    public_holidays: StrictBool = True  # 国民の祝日・振替休日 close the outpatient clinics
    closed: list[ClosedDays] = []
    open: list[dt.date] = []  # holidays on which the outpatient clinics open as usual
    show_days: int = Field(default=92, ge=7, le=400)


@dataclass(frozen=True)
class Closure:
    """A day (or part of one) without outpatient clinics."""

    date: dt.date
    name: str
    kind: str  # 祝日 or 休診日
    sessions: tuple[str, ...] = ()  # empty = the whole day

    @property
    def weekday(self) -> str:
        return WEEKDAYS[self.date.weekday()]

    def closes(self, session: str) -> bool:
        return not self.sessions or session in self.sessions


@dataclass(frozen=True)
class ClosureSpan:
    """Consecutive closures with the same name and sessions, for display: 12月29日（火）〜1月3日（日） 年末年始."""

    first: Closure
    last: Closure

    @property
    def name(self) -> str:
        return self.first.name

    @property
    def kind(self) -> str:
        return self.first.kind

    @property
    def sessions(self) -> tuple[str, ...]:
        return self.first.sessions

    @property
    def days(self) -> int:
        return (self.last.date - self.first.date).days + 1


def closures(settings: CalendarSettings, start: dt.date, end: dt.date) -> tuple[Closure, ...]:
    """Every closure from `start` to `end` (inclusive), by date; the hospital's own entry wins over a holiday's name."""
    by_date: dict[dt.date, Closure] = {}
    if settings.public_holidays and start <= end:
        reopened = set(settings.open)
        for day, name in jpholiday.between(start, end):
            if day not in reopened:
                by_date[day] = Closure(day, name, HOLIDAY)
    for entry in settings.closed:
        day = max(entry.date, start)
        last = min(entry.to or entry.date, end)
        while day <= last:
            previous = by_date.get(day)
            if previous is None or previous.kind == HOLIDAY or (previous.sessions and not entry.sessions):
                by_date[day] = Closure(day, entry.name, CLOSED, tuple(entry.sessions))
            day += dt.timedelta(days=1)
    return tuple(by_date[d] for d in sorted(by_date))


def holiday_name(day: dt.date) -> str | None:
    """The public holiday's name on `day` (振替休日 included), or None."""
    return jpholiday.is_holiday_name(day)


def spans(items: Iterable[Closure]) -> tuple[ClosureSpan, ...]:
    """Group consecutive days of the same closure (年末年始 over six days is one line)."""
    out: list[ClosureSpan] = []
    for c in items:
        if out:
            last = out[-1].last
            if (c.date - last.date).days == 1 and (c.name, c.kind, c.sessions) == (last.name, last.kind, last.sessions):
                out[-1] = ClosureSpan(out[-1].first, c)
                continue
        out.append(ClosureSpan(c, c))
    return tuple(out)


def week_of_month(day: dt.date) -> int:
    """第N週 as schedules use it: the Nth such weekday of the month (1–7 → 1, 8–14 → 2, …)."""
    return (day.day - 1) // 7 + 1


def closed_slots(items: Iterable[Closure], slots, period) -> tuple[tuple[ClosureSpan, tuple], ...]:
    """(closure span, the slots it closes) for every closure that closes at least one of `slots`.

    A slot is closed when its weekday and session fall on the closure, it runs in that
    week of the month (第1・3週 slots only on the 1st and 3rd), and the schedule's
    period covers the day. Consecutive days of one closure (年末年始) are one span
    with the slots of all its days.
    """
    in_period = [c for c in items if c.date >= period.start and (period.end is None or c.date <= period.end)]
    out = []
    for span in spans(in_period):
        hit: list = []
        for c in in_period:
            if span.first.date <= c.date <= span.last.date:
                hit += [s for s in slots if s not in hit and s.day == c.weekday and c.closes(s.time)
                        and (not s.slot.weeks or week_of_month(c.date) in s.slot.weeks)]
        if hit:
            out.append((span, tuple(hit)))
    return tuple(out)
