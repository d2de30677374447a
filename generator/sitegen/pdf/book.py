"""What the guidebook holds, in print order: its sections and the chapters its table of contents lists.

Computed from the Site and the `brochures.guidebook` settings before anything is
printed; the page of each chapter is filled in after the first print.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sitegen.content.site import Site

SECTION_TITLES = {
    "greeting": "ごあいさつ",
    "overview": "病院の概要",
    "contacts": "お問い合わせ・受付時間",
    "schedule": "外来担当医表（全診療科）",
    "equipment": "検査のご予約（共同利用）",
    "pathways": "地域連携クリニカルパス",
    "departments": "診療科のご案内",
    "featured": "注目のドクター",
    "access": "交通アクセス",
    "forms": "様式集（申込書・FAX用紙）",
}


@dataclass
class Chapter:
    id: str
    title: str
    level: int = 1  # 1 = chapter, 2 = entry under a chapter (a department)
    in_toc: bool = True
    page: int | None = None  # filled in after the first print


@dataclass
class Section:
    kind: str  # greeting, overview, contacts, guide, departments, featured, access
    chapter: Chapter
    guide: object | None = None  # the guide entry, for kind == "guide"


@dataclass
class Guidebook:
    title: str
    sections: list[Section] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)  # every chapter, in print order
    before_toc: list[Section] = field(default_factory=list)  # a greeting listed first comes before the contents
    forms: list = field(default_factory=list)  # (form, guide) printed in the appendix, after its title page

    @property
    def toc(self) -> list[Chapter]:
        return [c for c in self.chapters if c.in_toc]


def contents(site: Site) -> Guidebook:
    """The guidebook's sections and chapters, in print order."""
    settings = site.config.brochures.guidebook
    book = Guidebook(title=settings.title)
    guides = {g.slug: g for g in site.guides}
    named = {s.split(":", 1)[1] for s in settings.sections if s.startswith("guide:")}

    for i, key in enumerate(settings.sections):
        if key == "featured" and not site.featured:
            continue  # nobody to feature: no empty chapter
        if key == "schedule" and not any(d.schedule for d in site.departments):
            continue  # no schedule yet: no empty page
        if key == "equipment" and not site.equipment:
            continue  # no exams to book: no empty chapter
        if key == "pathways" and not site.pathways:
            continue  # no 連携パス: no empty chapter
        if key == "forms":
            continue  # the appendix is added last, after every other section (its pages are merged in after it)
        if key == "guides":
            for g in site.guides:
                if g.slug not in named:
                    _add(book, Section("guide", Chapter(f"guide-{g.slug}", g.title), g))
            continue
        if key.startswith("guide:"):
            g = guides[key.split(":", 1)[1]]
            _add(book, Section("guide", Chapter(f"guide-{g.slug}", g.title), g))
            continue
        first_greeting = key == "greeting" and i == 0
        section = Section(key, Chapter(key, SECTION_TITLES[key], in_toc=not first_greeting))
        if first_greeting:
            book.before_toc.append(section)
            book.chapters.append(section.chapter)
            continue
        _add(book, section)
        if key == "departments":
            for d in site.departments:
                book.chapters.append(Chapter(f"dept-{d.slug}", d.name, level=2))
    if "forms" in settings.sections and (forms(site) or site.equipment):
        book.forms = forms(site)
        _add(book, Section("forms", Chapter("forms", SECTION_TITLES["forms"])))
    return book


def forms(site: Site) -> list:
    """The partner guides' PDF forms, each once, in guide order: (form, guide)."""
    seen: set[str] = set()
    out = []
    for g in site.guides:
        for f in g.forms:
            if f.file.lower().endswith(".pdf") and f.file not in seen and f.file in site.assets:
                seen.add(f.file)
                out.append((f, g))
    return out


def _add(book: Guidebook, section: Section) -> None:
    book.sections.append(section)
    book.chapters.append(section.chapter)
