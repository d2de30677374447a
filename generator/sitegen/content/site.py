"""The assembled site: frozen data that every output reads.

`assemble` builds it from the validated files, `newsletters.resolve` adds the
newsletter issues; web, pdf and mail only read it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from markupsafe import Markup

from sitegen.content.calendar import Closure, ClosureSpan, closed_slots, spans
from sitegen.content.config import SiteFile
from sitegen.content.models import NewsItem, Qualification, Slot

T = TypeVar("T")
_MISSING = object()


@dataclass(frozen=True, eq=False)
class Entry:
    """A content item: its slug, validated fields (`data`), source file and body HTML.

    Attribute access falls through to `data`, so templates write `doctor.name`.
    """

    slug: str
    data: Any
    source: str
    html: Markup

    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("data")
        if name.startswith("__") or data is None:
            raise AttributeError(name)
        value = getattr(data, name)
        _read_through(type(self), type(data), name)
        return value


def _read_through(cls: type, model: type, name: str) -> None:
    """Let `cls` read the field `name` of its entries' data without `__getattr__`: a property of the class (in C:
    `operator.attrgetter`) instead of a failed lookup, an exception and a call per read — templates read 700,000
    such attributes at 10,000 pages, and this took 6 % off rendering. An entry whose data has no such field still
    gets AttributeError from the property and goes on to `__getattr__`, as before. Never for a name the class or a
    subclass has (a property would hide a field of the entry's own, and could not be set)."""
    if name.startswith("_") or name not in getattr(model, "model_fields", ()) or hasattr(cls, name) \
            or name in _fields_below(cls):
        return
    setattr(cls, name, property(operator.attrgetter("data." + name), doc=f"data.{name}"))


def _fields_below(cls: type) -> set[str]:
    """The fields of dataclass `cls` and of every subclass of it."""
    names = {f.name for f in dataclasses.fields(cls)}
    subclasses: list[type] = type.__subclasses__(cls)
    for sub in subclasses:
        names |= _fields_below(sub)
    return names


@dataclass(frozen=True)
class OutpatientSlot:
    """One slot of the schedule, resolved: used for tables and for doctors' outpatient days."""

    department: str
    day: str
    time: str
    slot: Slot

    @property
    def weeks_label(self) -> str:
        return weeks_label(self.slot.weeks)


@dataclass(frozen=True)
class SlotChange:
    """One weekday session whose slots differ from the previous schedule: only the slots that changed.

    `before` are slots that ended, `after` slots that are new (「1診 佐藤 健一（初診・紹介・予約制）」);
    slots that stay as they were are left out. An empty side means a slot was added or ended.
    """

    day: str
    time: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleTable:
    department: str
    period: Any
    notes: tuple[str, ...]
    days: tuple[str, ...]  # columns, 月〜土 (日 only when used)
    rows: tuple[tuple[str, tuple[tuple[OutpatientSlot, ...], ...]], ...]  # (午前, cells per day)
    source: str
    changes: tuple[SlotChange, ...] = ()  # against `previous:` in the schedule file, by weekday and session
    previous_period: Any = None

    @property
    def slots(self) -> tuple[OutpatientSlot, ...]:
        return tuple(s for _, cells in self.rows for cell in cells for s in cell)


@dataclass(frozen=True, eq=False)
class DepartmentEntry(Entry):
    doctors: tuple[str, ...] = ()
    schedule: ScheduleTable | None = None


@dataclass(frozen=True, eq=False)
class DoctorEntry(Entry):
    qualifications: tuple[Qualification, ...] = ()
    outpatient: tuple[OutpatientSlot, ...] = ()


@dataclass(frozen=True)
class ResolvedSection:
    type: str
    title: str
    data: Any  # the section's model
    html: Markup = Markup("")  # Markdown body (text, event)
    doctors: tuple[DoctorEntry, ...] = ()
    departments: tuple[DepartmentEntry, ...] = ()  # department spotlight, or departments with a new schedule
    news: tuple[Entry, ...] = ()
    published: frozenset = frozenset()  # news slugs that have a page on the website

    def __getattr__(self, name: str) -> Any:
        data = self.__dict__.get("data")
        if name.startswith("__") or data is None:
            raise AttributeError(name)
        return getattr(data, name)


@dataclass(frozen=True, eq=False)
class Issue(Entry):
    series: str = ""
    sections: tuple[ResolvedSection, ...] = ()
    since: dt.date | None = None  # "since the previous issue": after this date
    previous: str | None = None  # slug of the previous issue


@dataclass(frozen=True)
class Site:
    config: SiteFile
    today: dt.date
    departments: tuple[DepartmentEntry, ...]
    doctors: tuple[DoctorEntry, ...]
    guides: tuple[Entry, ...]
    news: tuple[Entry, ...]  # published only, newest first
    assets: tuple[str, ...]
    newsletters: tuple[Issue, ...] = ()  # every issue, oldest first (drafts included)
    logo_size: tuple[int, int] | None = None  # the logo's pixel size, to show it at its own aspect ratio
    closures: tuple[Closure, ...] = ()  # holidays and closed days from today for calendar.show_days
    clinics: tuple = ()  # the public rows of content/clinics.csv (登録医・連携医療機関一覧)
    equipment: tuple[Entry, ...] = ()  # content/equipment: exams partner clinics book directly (共同利用), in order
    pathways: tuple[Entry, ...] = ()  # content/pathways: 地域連携クリニカルパス, in order
    preview: bool = False  # built for `sitegen serve`: news drafts and news dated later are shown, marked
    _by_slug: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def settings(self):
        return self.config.site

    @property
    def hospital(self):
        return self.config.hospital

    @property
    def office(self):
        return self.config.office

    def logo_box(self, height: int, max_width: int) -> tuple[int, int]:
        """The logo's display size: `height` tall at its own aspect ratio, at most `max_width` wide."""
        if not self.logo_size or not all(self.logo_size):
            return height, height
        w, h = self.logo_size
        scale = min(height / h, max_width / w)
        return max(1, round(w * scale)), max(1, round(h * scale))

    def absences(self, doctor: str | None = None, department: str | None = None) -> tuple[Entry, ...]:
        """Published 休診・代診 notices (news with `absence`), by the first absent day; of one doctor or of
        the doctors of one department."""
        by_doctor = self.memo(("absences",), self._absences_by_doctor)  # every doctor's page asks
        found = by_doctor.get(doctor, ()) if doctor else by_doctor[None]
        if department:
            found = tuple(n for n in found if department in self.doctor(n.data.absence.doctor).departments)
        return found

    def _absences_by_doctor(self) -> dict:
        notices = sorted((n for n in self.news if n.data.absence is not None),
                         key=lambda n: (min(n.data.absence.dates), n.slug))
        by_doctor: dict = {None: tuple(notices)}
        for n in notices:
            by_doctor[n.data.absence.doctor] = by_doctor.get(n.data.absence.doctor, ()) + (n,)
        return by_doctor

    def memo(self, key: tuple, make: Callable[[], T]) -> T:
        """`make()`, worked out once for this site (a rebuild makes a new Site, so it is never stale)."""
        kept = self._by_slug.get(("memo", key), _MISSING)
        if kept is _MISSING:
            kept = self._by_slug["memo", key] = make()
        return kept

    @property
    def short_names(self) -> dict[str, str]:
        """Doctors by family name for tight tables (佐藤), the full name where two share a family name."""
        family = {d.slug: d.name.replace("\u3000", " ").split(" ")[0] for d in self.doctors}
        counts: dict[str, int] = {}
        for name in family.values():
            counts[name] = counts.get(name, 0) + 1
        return {slug: name if counts[name] == 1 else self.doctor(slug).name for slug, name in family.items()}

    @property
    def closure_spans(self) -> tuple[ClosureSpan, ...]:
        """The coming closed days, consecutive days of one closure as one span."""
        return spans(self.closures)

    def closed_slots(self, department: str) -> tuple[tuple[ClosureSpan, tuple[OutpatientSlot, ...]], ...]:
        """The coming closures that close some of a department's outpatient slots, with those slots."""
        table = self.department(department).schedule
        if table is None:
            return ()
        return closed_slots(self.closures, table.slots, table.period)

    def recent_changes(self, department: str, days: int = 62) -> tuple[SlotChange, ...]:
        """A department's schedule changes while they are news: from the new period's start for `days` days."""
        table = self.department(department).schedule
        if table is None or table.previous_period is None:
            return ()
        return table.changes if (self.today - table.period.start).days <= days else ()

    def department(self, slug: str) -> DepartmentEntry:
        return self._by_slug["department", slug]

    def doctor(self, slug: str) -> DoctorEntry:
        return self._by_slug["doctor", slug]

    def contact(self, contact_id: str):
        return self._by_slug["contact", contact_id]

    @property
    def published_newsletters(self) -> tuple[Issue, ...]:
        """Issues for the web archive: not drafts and not dated after the build date, newest first."""
        return tuple(sorted((i for i in self.newsletters if not i.draft and i.date <= self.today),
                            key=lambda i: (i.date, i.slug), reverse=True))

    def unpublished(self, item: Entry) -> str:
        """Why a news item shown in the preview is not on the published site: "draft", "scheduled" (dated after
        today), or "" (published)."""
        if getattr(item.data, "draft", False):
            return "draft"
        return "scheduled" if item.date > self.today else ""

    @property
    def featured(self) -> tuple[DoctorEntry, ...]:
        return tuple(d for d in self.doctors if d.featured)

    @property
    def groups(self) -> tuple[tuple[str, tuple[DepartmentEntry, ...]], ...]:
        return tuple(
            (g, tuple(d for d in self.departments if d.group == g)) for g in self.settings.department_groups
        )


def slot_label(slot: Slot, name: str) -> str:
    """「1診 佐藤 健一（第1・3週、初診・紹介・予約制）」: one slot in words, for lists of changes."""
    head = " ".join(part for part in (slot.room, slot.clinic, name) if part)
    details = "、".join(part for part in (weeks_label(slot.weeks), "・".join(p for p in (slot.visit, slot.booking) if p), slot.note) if part)
    return f"{head}（{details}）" if details else head


def weeks_label(weeks) -> str:
    return "第" + "・".join(str(w) for w in sorted(weeks)) + "週" if weeks else ""


def is_published(item: NewsItem, today: dt.date, preview: bool = False) -> bool:
    """Not a draft, dated today or earlier, not expired; a 休診・代診 notice expires after its last day. In the
    preview (`preview`) drafts and items dated later are shown too, marked as such (`Site.unpublished`)."""
    expires = item.expires or (max(item.absence.dates) if item.absence else None)
    return (preview or (not item.draft and item.date <= today)) and (expires is None or expires >= today)
