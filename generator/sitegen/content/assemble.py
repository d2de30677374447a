"""Validated files -> one frozen Site (content/site.py): cross-references checked, derived data computed.

Checks here need more than one file: a doctor's department exists, a schedule's
doctor exists, nobody is in two places at once, referenced images and forms are
real files inside the site, and so on. Each problem points at the file and line
of the reference.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import stat
import warnings
from collections import defaultdict
from functools import partial
from html import unescape
from pathlib import Path
from typing import Callable

from sitegen import seal, urls
from sitegen.colour import AA_TEXT, contrast
from sitegen.content import calendar, clinics, field_markup, newsletters, pictures, placeholders
from sitegen.content.load import ASSET_FOLDERS, Content, Loaded
from sitegen.content.markdown_html import MarkdownRenderer
from sitegen.content.models import SESSIONS, WEEKDAYS, Department, Doctor, Pathway, Schedule, minutes
from sitegen.content.site import (
    DepartmentEntry,
    DoctorEntry,
    Entry,
    OutpatientSlot,
    ScheduleTable,
    Site,
    SlotChange,
    is_published,
    slot_label,
)
from sitegen.content.sources import Source, dotted
from sitegen.cores import workers
from sitegen.errors import Location, ProblemList, did_you_mean
from sitegen.project import Project


def assemble(project: Project, content: Content, today: dt.date, problems: ProblemList, preview: bool = False) -> Site:
    """The site from the loaded content; `preview`: for `sitegen serve` (news drafts and later news shown)."""
    kept = project.state_file("markdown-html.json")  # sealed: pages publish the kept HTML as it is
    render = MarkdownRenderer(kept=kept, key=seal.key(project) if kept is not None else None)
    render.prepare([item.source.body for items in content.collections.values() for item in items],
                   workers("SITEGEN_LOAD_WORKERS"))
    try:
        site = _assemble(project, content, today, problems, render, preview)
    finally:
        render.close()
    render.keep()
    return site


def _assemble(project: Project, content: Content, today: dt.date, problems: ProblemList,
              render: MarkdownRenderer, preview: bool = False) -> Site:
    assets = frozenset(content.assets)

    verdicts: dict[str, str | None] = {}  # a picture's path -> why browsers cannot show it (None: they can)

    def picture(rel: str) -> str | None:
        name = os.path.join(project.content, rel)
        if name not in verdicts:
            verdicts[name] = pictures.problem(name) or pictures.size_problem(name)
        return verdicts[name]

    def body(source: Source):
        html = render.at(source.body, Location(source.path, source.body_line), "body", problems)
        _check_body_images(source, html, assets, problems, picture)
        _check_body_file_links(source, html, assets, problems)
        return html

    check_file = partial(_check_file, project, {}, picture)
    cfg = content.site
    placeholders.check([content.site_source], problems)  # content files' placeholders are found as they load
    field_markup.check([content.site_source], problems)
    contacts = _check_contacts(content, problems)
    _check_colours(content, problems)
    _check_calendar(content, problems)
    check_file(content.site_source, ("hospital", "logo", "src"), cfg.hospital.logo, problems)
    check_file(content.site_source, ("hospital", "access", "map", "src"), cfg.hospital.access.map, problems)

    depts: dict[str, Loaded[Department]] = {d.slug: d for d in content.collections["departments"]}
    docs: dict[str, Loaded[Doctor]] = {d.slug: d for d in content.collections["doctors"]}

    members = _department_members(content, depts, docs, problems)
    outpatient, tables = _schedules(project, content, depts, docs, today, problems)
    group_order = {g: i for i, g in enumerate(cfg.site.department_groups)}

    departments = []
    for slug, item in depts.items():
        d = item.model
        if d.group not in group_order:
            problems.error(item.source.location(("group",)), "group",
                           f"unknown group '{d.group}'{did_you_mean(d.group, group_order)}; groups are listed in site.yaml under site.department_groups")
        if d.referral.urgent_contact and d.referral.urgent_contact not in contacts:
            problems.error(item.source.location(("referral", "urgent_contact")), "referral.urgent_contact",
                           f"unknown contact '{d.referral.urgent_contact}'{did_you_mean(d.referral.urgent_contact, contacts)}; contacts are defined in site.yaml under office.contacts")
        check_file(item.source, ("image", "src"), d.image, problems)
        departments.append(DepartmentEntry(slug, d, item.source.path, body(item.source),
                                           doctors=members.get(slug, ()), schedule=tables.get(slug)))
    departments.sort(key=lambda e: (group_order.get(e.group, 99), e.order, e.slug))

    doctors = []
    for slug, doc_item in docs.items():
        doc = doc_item.model
        quals = []
        for i, qid in enumerate(doc.qualifications):
            q = content.qualifications.get(qid)
            if q is None:
                problems.error(doc_item.source.location(("qualifications", i)), f"qualifications[{i}]",
                               f"unknown qualification '{qid}'{did_you_mean(qid, content.qualifications)}; the list is content/qualifications.yaml")
            elif not q.advertisable:
                problems.warning(doc_item.source.location(("qualifications", i)), f"qualifications[{i}]",
                                 f"'{q.name}' may not be advertised (医療広告ガイドライン); it is not shown")
            else:
                quals.append(q)
        check_file(doc_item.source, ("photo", "src"), doc.photo, problems)
        doctors.append(DoctorEntry(slug, doc, doc_item.source.path, body(doc_item.source),
                                   qualifications=tuple(quals), outpatient=tuple(outpatient.get(slug, ()))))
    doctors.sort(key=lambda e: (e.kana, e.slug))

    guides = []
    for guide_item in content.collections["guides"]:
        for i, form in enumerate(guide_item.model.forms):
            check_file(guide_item.source, ("forms", i, "file"), form, problems, attr="file")
        guides.append(Entry(guide_item.slug, guide_item.model, guide_item.source.path, body(guide_item.source)))
    guides.sort(key=lambda e: (e.order, e.slug))
    _check_brochure_sections(content, {g.slug for g in guides}, problems)

    equipment = [Entry(e.slug, e.model, e.source.path, body(e.source)) for e in content.collections["equipment"]]
    equipment.sort(key=lambda e: (e.order, e.slug))
    for exam in content.collections["equipment"]:
        wanted = exam.model.contact
        if wanted is not None and wanted not in contacts:
            problems.error(exam.source.location(("contact",)), "contact",
                           f"unknown contact '{wanted}'{did_you_mean(wanted, contacts)}; contacts are defined in site.yaml under office.contacts")

    pathways = []
    for loaded in content.collections["pathways"]:
        path: Pathway = loaded.model
        for i, dep in enumerate(path.departments):
            if dep not in depts and not content.exists("departments", dep):
                problems.error(loaded.source.location(("departments", i)), f"departments[{i}]",
                               f"unknown department '{dep}'{did_you_mean(dep, depts)}; departments are files in content/departments/")
        if path.contact is not None and path.contact not in contacts:
            problems.error(loaded.source.location(("contact",)), "contact",
                           f"unknown contact '{path.contact}'{did_you_mean(path.contact, contacts)}; contacts are defined in site.yaml under office.contacts")
        check_file(loaded.source, ("sheet", "file"), path.sheet, problems, attr="file")
        pathways.append(Entry(loaded.slug, path, loaded.source.path, body(loaded.source)))
    pathways.sort(key=lambda e: (e.order, e.slug))

    for item in content.collections["news"]:
        _check_absence(item, docs, content, problems)
        _check_absence_days(item, outpatient, tables, problems)
    news = [Entry(i.slug, i.model, i.source.path, body(i.source))
            for i in content.collections["news"] if is_published(i.model, today, preview)]
    news.sort(key=lambda e: (e.date, e.slug), reverse=True)

    by_slug: dict = {("department", e.slug): e for e in departments}
    by_slug.update({("doctor", e.slug): e for e in doctors})
    by_slug.update({("contact", k): v for k, v in contacts.items()})
    site = Site(cfg, today, tuple(departments), tuple(doctors), tuple(guides), tuple(news),
                content.assets, logo_size=_image_size(project, cfg.hospital.logo),
                closures=calendar.closures(cfg.calendar, today, today + dt.timedelta(days=cfg.calendar.show_days - 1)),
                clinics=clinics.load(project, problems), equipment=tuple(equipment), pathways=tuple(pathways),
                preview=preview, _by_slug=by_slug)
    return newsletters.resolve(content, site, problems, render)


def _check_contacts(content: Content, problems: ProblemList) -> dict:
    contacts: dict = {}
    for i, c in enumerate(content.site.office.contacts):
        if c.id in contacts:
            problems.error(content.site_source.location(("office", "contacts", i, "id")), f"office.contacts[{i}].id",
                           f"duplicate contact id '{c.id}'")
        contacts[c.id] = c
        for j, h in enumerate(c.hours):
            if minutes(h.open) >= minutes(h.close):
                problems.error(content.site_source.location(("office", "contacts", i, "hours", j)),
                               f"office.contacts[{i}].hours[{j}]", f"opens at {h.open} but closes at {h.close}")
    for i, service in enumerate(content.site.office.services):
        for j, wanted in enumerate(service.contacts):
            if wanted not in contacts:
                problems.error(content.site_source.location(("office", "services", i, "contacts", j)),
                               f"office.services[{i}].contacts[{j}]",
                               f"unknown contact '{wanted}'{did_you_mean(wanted, contacts)}; contacts are defined in site.yaml under office.contacts")
    return contacts


def _check_calendar(content: Content, problems: ProblemList) -> None:
    """`calendar.open` lists holidays on which the clinics open; a date that is no holiday is a likely typo."""
    for i, day in enumerate(content.site.calendar.open):
        if calendar.holiday_name(day) is None:
            problems.warning(content.site_source.location(("calendar", "open", i)), f"calendar.open[{i}]",
                             f"{day} is not a public holiday; `open` lists holidays on which the outpatient "
                             "clinics open as usual (a closed day goes under `closed`)")


def _check_brochure_sections(content: Content, guides: set[str], problems: ProblemList) -> None:
    """`guide:<id>` in brochures.guidebook.sections must name a guide in content/guides/."""
    for i, key in enumerate(content.site.brochures.guidebook.sections):
        slug = key.split(":", 1)[1] if key.startswith("guide:") else None
        if slug is not None and slug not in guides:
            problems.error(content.site_source.location(("brochures", "guidebook", "sections", i)),
                           f"brochures.guidebook.sections[{i}]",
                           f"no guide '{slug}'{did_you_mean(slug, guides)}; guides are files in content/guides/")


def _check_colours(content: Content, problems: ProblemList) -> None:
    """Brand colours are used for text on the background and as a background behind white text."""
    c = content.site.site.colours
    pairs = [("primary", c.primary, c.background), ("accent", c.accent, c.background),
             ("text", c.text, c.background), ("primary", c.primary, "#FFFFFF")]
    for name, fg, bg in dict.fromkeys(pairs):
        ratio = contrast(fg, bg)
        if ratio < AA_TEXT:
            problems.warning(content.site_source.location(("site", "colours", name)), f"site.colours.{name}",
                             f"{fg} on {bg} has a contrast of {ratio:.2f}:1; text needs at least {AA_TEXT}:1 (JIS X 8341-3 AA); choose a darker colour")


def _check_file(project: Project, folders: dict[str, bool], picture: Callable[[str], str | None],
                source: Source | None, loc: tuple, ref, problems: ProblemList, attr: str = "src") -> None:
    """A file named in content must exist under content/ and stay inside the site, and a picture (`src`) must be
    one browsers show (`picture`: why not, for its path under content/). `folders`: whether each folder met so far
    is inside content/ (resolved once per folder: resolving every doctor's photo took 0.2 s at 7,000). Paths are
    plain strings: a Path for each of 7,000 photos took longer than the checks."""
    if ref is None or source is None:
        return
    rel = getattr(ref, attr)
    content = project.content
    name = os.path.join(content, rel)
    folder = os.path.dirname(name)
    if folder not in folders:
        folders[folder] = project.inside(Path(folder), content)
    try:
        mode = os.lstat(name).st_mode
        plain = folders[folder] and not stat.S_ISLNK(mode)  # nothing more to follow
    except OSError:
        mode, plain = 0, False
    if not (plain or project.inside(Path(name), content)) or ".." in rel.split("/"):
        problems.error(source.location(loc), dotted(loc),
                       f"'{rel}' is outside content/ (or a symbolic link out of it); files must be under content/")
    elif rel.split("/", 1)[0] not in ASSET_FOLDERS:  # content/doctors/x.png is there, but never published
        problems.error(source.location(loc), dotted(loc),
                       f"'{rel}' is not in content/images/ or content/files/, the folders that are published (the "
                       "link would be broken): move the file there and write images/<name> or files/<name>")
    elif not (stat.S_ISREG(mode) if plain else os.path.isfile(name)):
        problems.error(source.location(loc), dotted(loc), f"file not found: content/{rel}{_near_file(folder, name)}")
    elif attr == "src" and (why := picture(rel)) is not None:
        problems.error(source.location(loc), dotted(loc), f"content/{rel} {why}")


def _near_file(folder: str, name: str) -> str:
    """A hint for a file that is not there: the file whose name differs only in case (the web server and the
    browser tell DOCTOR.JPG from doctor.jpg even where this computer does not), or the closest name."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return ""
    return _name_hint(os.path.basename(name), names)


def _name_hint(wanted: str, names: list[str]) -> str:
    same = [n for n in names if n.lower() == wanted.lower()]
    if same:
        return f" (there is '{same[0]}': upper and lower case must match)"
    return did_you_mean(wanted, names)


def _check_absence(item, docs, content: Content, problems: ProblemList) -> None:
    """A 休診・代診 notice names doctors that exist; its days are not before the notice itself."""
    a = item.model.absence
    if a is None:
        return
    for key in ("doctor", "substitute"):
        slug = getattr(a, key)
        if slug and slug not in docs and not content.exists("doctors", slug):
            problems.error(item.source.location(("absence", key)), f"absence.{key}",
                           f"unknown doctor '{slug}'{did_you_mean(slug, docs)}; doctors are files in content/doctors/")
    if a.substitute and a.substitute == a.doctor:
        problems.error(item.source.location(("absence", "substitute")), "absence.substitute",
                       "the substitute is the absent doctor; name the doctor who covers (代診), or leave it out")
    for i, day in enumerate(a.dates):
        if day < item.model.date:
            problems.warning(item.source.location(("absence", "dates", i)), f"absence.dates[{i}]",
                             f"{day} is before the notice's date ({item.model.date}); clinics learn of it too late")


def _check_absence_days(item, outpatient: dict, tables: dict, problems: ProblemList) -> None:
    """A 休診 day on which the doctor has no outpatient slot in the schedules (a 第1・3週 doctor given the 4th
    Tuesday, a typo in the date) is a warning at that date: clinics would read of a closure that is not one. Days
    outside every period of the doctor's schedules, and doctors with no slot at all, are not judged."""
    a = item.model.absence
    if a is None or not outpatient.get(a.doctor):
        return
    slots = outpatient[a.doctor]
    for i, day in enumerate(a.dates):
        covered = [s for s in slots if _in_period(tables[s.department].period, day)]
        if not covered:
            continue
        weekday = WEEKDAYS[day.weekday()]
        working = [s for s in covered if s.day == weekday and (not s.slot.weeks or calendar.week_of_month(day) in s.slot.weeks)
                   and (not a.sessions or s.time in a.sessions)]
        if not working:
            when = "".join(f"{s}" for s in a.sessions) if a.sessions else ""
            problems.warning(item.source.location(("absence", "dates", i)), f"absence.dates[{i}]",
                             f"{day}（{weekday}、第{calendar.week_of_month(day)}週）{when}: '{a.doctor}' has no outpatient slot "
                             "then in the schedules; check the date (the notice would announce a closure that is not one)")


def _in_period(period, day: dt.date) -> bool:
    return period.start <= day and (period.end is None or day <= period.end)


def _image_size(project: Project, image) -> tuple[int, int] | None:
    """Pixel size of a content image (None when it is missing or not a raster image Pillow reads)."""
    if image is None:
        return None
    path = project.content / image.src
    if not project.inside(path, project.content) or not path.is_file():
        return None
    from PIL import Image, UnidentifiedImageError
    try:
        with warnings.catch_warnings():  # Pillow's warnings on a damaged file (the picture check reports it)
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                return img.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):  # reported at the field
        return None


_IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]*)"')


def _check_body_images(source: Source, html: str, assets: frozenset[str], problems: ProblemList,
                       picture: Callable[[str], str | None]) -> None:
    """An image in a Markdown body that is not a file under content/, or not a picture browsers show (`picture`:
    why not, for a file's path under content/), is a warning at its line (the page still builds; the image would
    be broken on the web and missing on paper)."""
    for m in _IMG_SRC.finditer(str(html)):
        src = unescape(m.group(1))
        if urls.has_scheme(src):
            continue
        rel = urls.content_ref(src, assets)
        why = picture(rel) if rel is not None else None
        if rel is not None and why is None:
            continue
        line = _body_line(source, src)
        if why is not None:
            problems.warning(Location(source.path, line), "body", f"content/{rel} {why}")
        else:
            problems.warning(Location(source.path, line), "body",
                             f"image '{src}' not found: images are files under content/images/, written from the "
                             "content folder as images/<name> (for example images/map.png)")


def _body_line(source: Source, written: str) -> int:
    """The file's line of the first place `written` appears in the Markdown body (its first line if nowhere)."""
    at = source.body.find(written)
    return source.body_line + source.body[:at].count("\n") if at >= 0 else source.body_line


_A_HREF = re.compile(r'<a\b[^>]*?\shref="([^"]*)"')
_ASSET_LINK = re.compile(r"^(?:\.\./|\./)*(?:files|images)/")  # files/form.pdf, ../files/form.pdf


def _check_body_file_links(source: Source, html: str, assets: frozenset[str], problems: ProblemList) -> None:
    """A link in a Markdown body to a file under content/files or content/images that is not there (a typo in a
    form's name) is a warning at its line: the page still builds, and the link would be broken on the web and in
    the newsletter."""
    for m in _A_HREF.finditer(str(html)):
        href = unescape(m.group(1))
        if not _ASSET_LINK.match(href) or urls.content_ref(href, assets) is not None:
            continue
        line = _body_line(source, href)
        path = _ASSET_LINK.sub("", href, count=1)
        folder = "images" if _ASSET_LINK.match(href).group().endswith("images/") else "files"  # type: ignore[union-attr]
        near = _name_hint(path, sorted(a[len(folder) + 1:] for a in assets if a.startswith(folder + "/")))
        problems.warning(Location(source.path, line), "body",
                         f"link to '{href}': no such file under content/{folder}/{near}; the link would be broken "
                         f"(files are linked from the content folder as {folder}/<name>)")


def _department_members(content, depts, docs, problems) -> dict[str, tuple[str, ...]]:
    """Ordered doctor slugs per department: the department's list first, then the rest by kana."""
    listed: dict[str, list[str]] = {}
    for slug, item in depts.items():
        seen = []
        for i, doc_slug in enumerate(item.model.doctors):
            where = item.source.location(("doctors", i))
            if doc_slug not in docs:
                if content.exists("doctors", doc_slug):
                    continue
                problems.error(where, f"doctors[{i}]", f"unknown doctor '{doc_slug}'{did_you_mean(doc_slug, docs)}; doctors are files in content/doctors/")
            elif slug not in docs[doc_slug].model.departments:
                problems.error(where, f"doctors[{i}]",
                               f"doctor '{doc_slug}' does not list '{slug}' in departments (content/doctors/{doc_slug}.md)")
            elif doc_slug in seen:
                problems.error(where, f"doctors[{i}]", f"doctor '{doc_slug}' is listed twice")
            else:
                seen.append(doc_slug)
        listed[slug] = seen
    rest: dict[str, list] = defaultdict(list)
    for doc_slug, item in sorted(docs.items(), key=lambda kv: (kv[1].model.kana, kv[0])):
        for i, dep in enumerate(item.model.departments):
            if dep not in depts:
                if content.exists("departments", dep):
                    continue
                problems.error(item.source.location(("departments", i)), f"departments[{i}]",
                               f"unknown department '{dep}'{did_you_mean(dep, depts)}; departments are files in content/departments/")
            elif doc_slug not in listed[dep]:
                rest[dep].append(doc_slug)
    return {slug: tuple(listed[slug] + rest[slug]) for slug in depts}


def _schedules(project, content: Content, depts, docs, today, problems):
    by_doctor: dict[str, list[OutpatientSlot]] = defaultdict(list)
    taken: dict[tuple, list] = defaultdict(list)  # (doctor, day, time) -> [(weeks, where)]
    tables: dict[str, ScheduleTable] = {}
    for item in content.collections["schedules"]:
        sched: Schedule = item.model
        src = item.source
        if item.slug not in depts:
            if content.exists("departments", item.slug):
                continue
            problems.error(src.location(), "", f"no department '{item.slug}'{did_you_mean(item.slug, depts)}: a schedule file is named after its department (content/departments/{item.slug}.md)")
            continue
        if sched.period.end and sched.period.end < sched.period.start:
            problems.error(src.location(("period", "end")), "period.end", f"ends ({sched.period.end}) before it starts ({sched.period.start})")
        elif sched.period.end and sched.period.end < today:
            problems.warning(src.location(("period", "end")), "period.end",
                             f"this schedule ended on {sched.period.end}; update it or extend the period")
        resolved = []
        for i, slot in enumerate(sched.slots):
            where = src.location(("slots", i))
            if slot.doctor is None and not slot.clinic:
                problems.error(where, f"slots[{i}]", "a slot needs a doctor or a clinic name")
                continue
            if slot.doctor is not None and slot.doctor not in docs:
                if content.exists("doctors", slot.doctor):
                    continue
                problems.error(src.location(("slots", i, "doctor")), f"slots[{i}].doctor",
                               f"unknown doctor '{slot.doctor}'{did_you_mean(slot.doctor, docs)}")
                continue
            entry = OutpatientSlot(item.slug, slot.day, slot.time, slot)
            resolved.append(entry)
            if slot.doctor:
                for weeks, other in taken[slot.doctor, slot.day, slot.time]:
                    if not weeks or not slot.weeks or set(weeks) & set(slot.weeks):
                        problems.error(where, f"slots[{i}]",
                                       f"doctor '{slot.doctor}' is already in {slot.day}曜{slot.time} at {other}")
                        break
                taken[slot.doctor, slot.day, slot.time].append((slot.weeks, str(where)))
                by_doctor[slot.doctor].append(entry)
        changes = _changes(sched, src, docs, problems) if sched.previous else ()
        tables[item.slug] = _table(item.slug, sched, resolved, src.path, changes)
    order = {(d, t): (WEEKDAYS.index(d), SESSIONS.index(t)) for d in WEEKDAYS for t in SESSIONS}
    for slots in by_doctor.values():
        slots.sort(key=lambda s: (order[s.day, s.time], s.department))
    return by_doctor, tables


def _changes(sched: Schedule, src: Source, docs, problems: ProblemList) -> tuple[SlotChange, ...]:
    """What changed against `previous:`, by weekday and session; checks the previous schedule's references."""
    prev = sched.previous
    assert prev is not None
    if prev.period.start >= sched.period.start:
        problems.error(src.location(("previous", "period", "start")), "previous.period.start",
                       f"the previous schedule starts ({prev.period.start}) on or after this one ({sched.period.start})")
    before: dict[tuple[str, str], list[str]] = defaultdict(list)
    for i, slot in enumerate(prev.slots):
        if slot.doctor is None and not slot.clinic:
            problems.error(src.location(("previous", "slots", i)), f"previous.slots[{i}]", "a slot needs a doctor or a clinic name")
            continue
        name = slot.name
        if slot.doctor is not None and not name:
            if slot.doctor not in docs:
                problems.error(src.location(("previous", "slots", i, "doctor")), f"previous.slots[{i}].doctor",
                               f"unknown doctor '{slot.doctor}'{did_you_mean(slot.doctor, docs)}; for a doctor who has "
                               "left, add the name: name: 山田 太郎")
                continue
            name = docs[slot.doctor].model.name
        before[slot.day, slot.time].append(slot_label(slot, name))
    after: dict[tuple[str, str], list[str]] = defaultdict(list)
    for current in sched.slots:
        doc = docs.get(current.doctor) if current.doctor else None
        after[current.day, current.time].append(slot_label(current, doc.model.name if doc else ""))
    out = []
    for day in WEEKDAYS:
        for session in SESSIONS:
            b, a = before.get((day, session), []), after.get((day, session), [])
            gone = [x for x in b if x not in a]
            new = [x for x in a if x not in b]
            if gone or new:
                out.append(SlotChange(day, session, tuple(gone), tuple(new)))
    return tuple(out)


def _table(dept: str, sched: Schedule, slots: list[OutpatientSlot], source: str,
           changes: tuple[SlotChange, ...] = ()) -> ScheduleTable:
    days = WEEKDAYS[:6] if not any(s.day == "日" for s in slots) else WEEKDAYS
    rows = []
    for session in SESSIONS:
        cells = tuple(tuple(s for s in slots if s.day == day and s.time == session) for day in days)
        rows.append((session, cells))
    return ScheduleTable(dept, sched.period, tuple(sched.notes), tuple(days), tuple(rows), source, changes,
                         sched.previous.period if sched.previous else None)
