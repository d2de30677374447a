"""Newsletter issues -> `Site.newsletters`: sections checked and filled from the content.

A section that pulls from the rest of the content (a doctor, a department, new
doctors, schedule changes, news) is resolved here once, against the same
entries the website shows. "Since the previous issue" means after the date of
the latest earlier issue of the series (drafts do not count); the first issue
looks back `FIRST_ISSUE_WINDOW` days. Every mistake becomes a Problem with the
file and line of the section.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sitegen.content.load import Content, Loaded
from sitegen.content.markdown_html import MarkdownRenderer
from sitegen.content.newsletter_models import (
    SECTION_MODELS,
    DepartmentSection,
    DoctorSection,
    EventSection,
    NewDoctorsSection,
    Newsletter,
    NewsSection,
    ScheduleChangesSection,
    TextSection,
)
from sitegen.content.site import DepartmentEntry, DoctorEntry, Entry, Issue, ResolvedSection, Site, is_published
from sitegen.content.sources import dotted
from sitegen.content.validate import described, validate
from sitegen.errors import Location, ProblemList, did_you_mean

FIRST_ISSUE_WINDOW = dt.timedelta(days=92)


def resolve(content: Content, site: Site, problems: ProblemList, render: MarkdownRenderer) -> Site:
    """Resolve content/newsletters/ and return the Site with its `newsletters`."""
    loaded: list[Loaded[Newsletter]] = sorted(content.collections.get("newsletters", ()),
                                              key=lambda i: (i.model.date, i.model.number, i.slug))
    if not loaded:
        return site
    settings = site.config.newsletter
    if settings is None:
        problems.error(content.site_source.location(), "newsletter",
                       "content/newsletters/ has issues but site.yaml has no newsletter: section "
                       "(series, from_name, from_address, unsubscribe_url, unsubscribe_mailto)")
        return site
    seen: dict[tuple[str, int], str] = {}
    result: list[Issue] = []
    for item in loaded:
        n = item.model
        series = n.series or settings.series
        if (series, n.number) in seen:
            problems.error(item.source.location(("number",)), "number",
                           f"{series} No.{n.number} is also {seen[series, n.number]}")
        seen[series, n.number] = item.source.path
        earlier = [i for i in result if i.series == series and not i.draft and i.date < n.date]
        previous = earlier[-1] if earlier else None
        since = previous.date if previous else n.date - FIRST_ISSUE_WINDOW
        sections = tuple(s for s in (_section(content, site, item, i, raw, since, render, problems)
                                     for i, raw in enumerate(n.sections)) if s is not None)
        html = render.at(item.source.body, Location(item.source.path, item.source.body_line), "body", problems)
        result.append(Issue(item.slug, n, item.source.path, html, series=series,
                            sections=sections, since=since, previous=previous.slug if previous else None))
    return dataclasses.replace(site, newsletters=tuple(result))


def _section(content, site, item, index, raw, since, render, problems) -> ResolvedSection | None:
    src = item.source
    loc = ("sections", index)
    where = src.location(loc)
    kind = raw.get("type") if isinstance(raw, dict) else None
    if not isinstance(kind, str) or kind not in SECTION_MODELS:
        if kind is not None and not isinstance(kind, str):  # a list or a set of fields cannot even be looked up
            what = f"a section's type is a word, found {described(kind)}"
        else:
            what = f"unknown section type '{kind}'{did_you_mean(str(kind), SECTION_MODELS)}" if kind else "a section needs a type"
        problems.error(src.location(loc + ("type",)) if kind else where, dotted(loc + ("type",)),
                       f"{what}; one of {', '.join(SECTION_MODELS)}")
        return None
    model, found = validate(src, SECTION_MODELS[kind], raw, loc)
    problems.extend(found)
    if model is None:
        return None
    date = item.model.date

    def err(field: str | tuple, message: str) -> None:
        path = loc + (field if isinstance(field, tuple) else (field,))
        problems.error(src.location(path), dotted(path), message)

    if isinstance(model, (TextSection, EventSection)):
        html = render.at(model.body, src.location(loc + ("body",)), dotted(loc + ("body",)), problems)
        return ResolvedSection(kind, model.title, model, html=html)
    if isinstance(model, DoctorSection):
        doc = _doctor(content, site, model.doctor, lambda m: err("doctor", m))
        return ResolvedSection(kind, model.title, model, doctors=(doc,) if doc else ())
    if isinstance(model, DepartmentSection):
        dep = _department(content, site, model.department, lambda m: err("department", m))
        return ResolvedSection(kind, model.title, model, departments=(dep,) if dep else ())
    if isinstance(model, NewDoctorsSection):
        if model.doctors is None:
            docs = tuple(d for d in site.doctors if d.joined and since < d.joined <= date)
        else:
            docs = tuple(d for i, slug in enumerate(model.doctors)
                         if (d := _doctor(content, site, slug, lambda m, i=i: err(f"doctors[{i}]", m))))
        return ResolvedSection(kind, model.title, model, doctors=tuple(sorted(docs, key=lambda d: (d.joined or date, d.kana))))
    if isinstance(model, ScheduleChangesSection):
        if model.departments is None:
            deps = tuple(d for d in site.departments if d.schedule and since < d.schedule.period.start <= date)
        else:
            listed: list[DepartmentEntry] = []
            for i, slug in enumerate(model.departments):
                dep = _department(content, site, slug, lambda m, i=i: err(f"departments[{i}]", m))
                if dep is not None and dep.schedule is None:
                    err(f"departments[{i}]", f"department '{slug}' has no schedule (content/schedules/{slug}.yaml)")
                elif dep is not None:
                    listed.append(dep)
            deps = tuple(listed)
        return ResolvedSection(kind, model.title, model, departments=deps)
    if isinstance(model, NewsSection):
        return _news_section(content, site, model, since, date, render, err, problems)
    raise AssertionError(kind)  # pragma: no cover


def _news_section(content, site, model, since, date, render, err, problems) -> ResolvedSection:
    all_news = {i.slug: i for i in content.collections["news"]}
    published = frozenset(e.slug for e in site.news)
    entries = []
    if model.items is None:
        chosen = [i for i in all_news.values() if is_published(i.model, site.today) and since < i.model.date <= date]
        chosen.sort(key=lambda i: (i.model.date, i.slug), reverse=True)
        chosen = chosen[: model.limit]
    else:
        chosen = []
        for i, slug in enumerate(model.items):
            found = all_news.get(slug)
            if found is None:
                if not content.exists("news", slug):
                    err(("items", i), f"unknown news item '{slug}'{did_you_mean(slug, all_news)}; news are files in content/news/")
            elif found.model.draft:
                err(("items", i), f"news item '{slug}' is a draft (draft: true)")
            elif found.model.date > date:
                err(("items", i), f"news item '{slug}' is dated {found.model.date}, after this issue ({date}): the "
                    "issue and its web copy would publish it before its own date; send it in a later issue")
            else:
                chosen.append(found)
    on_site = {e.slug: e for e in site.news}
    for i in chosen:
        entries.append(on_site.get(i.slug) or Entry(i.slug, i.model, i.source.path, render.at(
            i.source.body, Location(i.source.path, i.source.body_line), "body", problems)))
    return ResolvedSection("news", model.title, model, news=tuple(entries), published=published)


def _doctor(content, site, slug, err) -> DoctorEntry | None:
    try:
        return site.doctor(slug)
    except KeyError:
        if not content.exists("doctors", slug):
            err(f"unknown doctor '{slug}'{did_you_mean(slug, [d.slug for d in site.doctors])}; doctors are files in content/doctors/")
        return None


def _department(content, site, slug, err) -> DepartmentEntry | None:
    try:
        return site.department(slug)
    except KeyError:
        if not content.exists("departments", slug):
            err(f"unknown department '{slug}'{did_you_mean(slug, [d.slug for d in site.departments])}; departments are files in content/departments/")
        return None
