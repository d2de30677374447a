"""`sitegen new` and `sitegen init`: new content files and new sites, commented in Japanese.

The texts live in `data/new/` (one per kind) and `data/init/` (a small site). Every file they
produce validates as written: the placeholders are text like 「（氏名を入力）」, ids point at
things that exist, and optional parts are left empty with an example in a comment. Nothing
here prints; the CLI reports what was written.
"""
from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from pathlib import Path
from string import Template

from sitegen.content.load import SITE_PAGES, SLUG, read_doctor_departments, read_qualification_ids, read_schedule_slots, read_site_data
from sitegen.errors import SitegenError, did_you_mean
from sitegen.project import Project

DATA = Path(__file__).resolve().parent / "data"
KINDS = ("department", "doctor", "guide", "equipment", "pathway", "news", "newsletter", "schedule")
FOLDERS = {"department": "departments", "doctor": "doctors", "guide": "guides", "equipment": "equipment",
           "pathway": "pathways", "news": "news", "newsletter": "newsletters", "schedule": "schedules"}
_DATED = re.compile(r"^\d{4}-\d{2}-\d{2}-")


class ScaffoldError(SitegenError):
    pass


def check_slug(name: str) -> None:
    if not SLUG.match(name) or len(name) > 80:
        raise ScaffoldError(f"'{name}' cannot be a file name: use lowercase letters, digits and hyphens, "
                            "starting with a letter or digit (like yamada-taro)")


def new_file(project: Project, kind: str, name: str | None, today: dt.date) -> tuple[Path, str]:
    """(path, text) of a new content file of `kind`. Refuses a name that is taken; writes nothing."""
    if kind not in KINDS:
        raise ScaffoldError(f"unknown kind '{kind}'; choose from {', '.join(KINDS)}")
    if not project.site_file.is_file():
        raise ScaffoldError(f"no site.yaml in {project.root}: run this in a site folder, or use --source DIR "
                            "(a new site is made with `sitegen init DIR`)")
    if kind == "newsletter":
        proposed, text = _draft_newsletter(project, today)
        name = name or proposed.removesuffix(".md")
    elif not name:
        raise ScaffoldError(f"give the new {kind}'s id: sitegen new {kind} NAME")
    check_slug(name)
    if kind == "news" and not _DATED.match(name):
        name = f"{today.isoformat()}-{name}"  # news files are named <date>-<id>.md
    page = SITE_PAGES.get(FOLDERS[kind], {}).get(name)
    if page is not None:
        raise ScaffoldError(f"'{name}' cannot be a file name here: the site's own page {page} has it; choose another")
    suffix = ".yaml" if kind == "schedule" else ".md"
    path = project.content / FOLDERS[kind] / f"{name}{suffix}"
    _refuse_existing(project, path)
    if kind == "schedule":
        text = Template((DATA / "new" / "schedule.yaml").read_text(encoding="utf-8")).substitute(
            _schedule_values(project, name, today))
    elif kind != "newsletter":
        text = Template((DATA / "new" / f"{kind}.md").read_text(encoding="utf-8")).substitute(
            _values(project, kind, name, today))
    return path, text


def write_new(path: Path, text: str) -> None:
    """Write a new file; never replaces one (also not one made in the meantime)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8", newline="\n") as f:
            f.write(text)
    except FileExistsError:
        raise ScaffoldError(f"{path} already exists; nothing was written (choose another name or edit that file)") from None


def _refuse_existing(project: Project, path: Path) -> None:
    rel = project.rel(path)
    if path.exists():
        raise ScaffoldError(f"{rel} already exists; nothing was written (choose another name or edit that file)")
    other = path.with_suffix(".yaml") if path.suffix == ".md" else None
    if other is not None and other.exists():
        raise ScaffoldError(f"{project.rel(other)} already has this id; nothing was written")


def _values(project: Project, kind: str, slug: str, today: dt.date) -> dict[str, str]:
    settings = read_site_data(project)
    groups = [str(g) for g in (settings.get("site") or {}).get("department_groups") or []]
    contacts = [str(c.get("id")) for c in (settings.get("office") or {}).get("contacts") or [] if isinstance(c, dict)]
    departments = _ids(project, "departments")
    if kind == "doctor" and not departments:
        raise ScaffoldError("a doctor belongs to a department, and there is none yet: "
                            "first make one with `sitegen new department ID`")
    if kind == "department" and not groups:
        raise ScaffoldError("site.yaml has no site.department_groups; add them first (e.g. [内科系, 外科系])")
    quals = read_qualification_ids(project)
    return {
        "slug": slug,
        "today": today.isoformat(),
        "department": departments[0] if departments else "",
        "department_choices": _choices(departments, "診療科"),
        "qualification_choices": _choices(quals, "資格"),
        "group": groups[0] if groups else "",
        "group_choices": "、".join(groups),
        "contact_choices": "、".join(contacts) or "（site.yaml に連絡先がありません）",
    }


def _schedule_values(project: Project, department: str, today: dt.date) -> dict[str, str]:
    """A schedule is named after its department and lists that department's doctors."""
    departments = _ids(project, "departments")
    if department not in departments:
        raise ScaffoldError(f"no department '{department}'{did_you_mean(department, departments)}: a schedule file is "
                            "named after its department (content/departments/<id>.md); make the department first")
    doctors = [slug for slug, listed in read_doctor_departments(project).items() if department in listed]
    busy = read_schedule_slots(project)  # the new file must not put a doctor in two places at once
    free = [(doc, day, time) for day in "月火水木金土" for time in ("午前", "午後") for doc in doctors
            if (doc, day, time) not in busy]
    if free:
        doc, day, time = free[0]
        first = f"    doctor: {doc}{' ' * max(1, 20 - len(doc))}# 医師の id（または clinic: ○○外来）"
    else:
        day, time = "月", "午前"
        first = "    clinic: （外来名を入力）       # 医師の id を書くなら doctor: 医師の id"
    return {"slug": department, "today": today.isoformat(), "first_slot": first, "day": day, "time": time,
            "doctor_choices": _choices(doctors, "この診療科の医師")}


def _choices(ids: list[str], what: str, limit: int = 12) -> str:
    if not ids:
        return f"いまある{what}: なし"
    shown = ", ".join(ids[:limit]) + (f" ほか{len(ids) - limit}件" if len(ids) > limit else "")
    return f"いまある{what}: {shown}"


def _ids(project: Project, folder: str) -> list[str]:
    base = project.content / folder
    return sorted(p.stem for p in base.glob("*.md") if SLUG.match(p.stem)) if base.is_dir() else []


def _draft_newsletter(project: Project, today: dt.date) -> tuple[str, str]:
    from sitegen.build import load_site  # the draft needs the whole, valid site
    from sitegen.mail.draft import draft_next_issue

    site, _ = load_site(project, today)
    return draft_next_issue(project, site, today)


# --- sitegen init ------------------------------------------------------------------------------


def init_site(dest: Path, today: dt.date) -> list[Path]:
    """Create a small, buildable site in `dest` (missing or empty). Returns the files written."""
    dest = dest.resolve()
    if dest.exists():
        if not dest.is_dir():
            raise ScaffoldError(f"{dest} exists and is not a folder")
        if any(dest.iterdir()):
            raise ScaffoldError(f"{dest} is not empty; sitegen init only fills a new or empty folder")
    values = {"today": today.isoformat(), "year": str(today.year), "next_year": str(today.year + 1)}
    written: list[Path] = []
    base = DATA / "init"
    for src in sorted(p for p in base.rglob("*") if p.is_file()):
        rel = src.relative_to(base).as_posix().replace("TODAY", values["today"])
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(src.read_text(encoding="utf-8")).substitute(values), encoding="utf-8", newline="\n")
        written.append(target)
    for folder in ("images", "files"):
        (dest / "content" / folder).mkdir(parents=True, exist_ok=True)
    logo = dest / "content" / "images" / "logo.png"
    logo.write_bytes(placeholder_logo())
    written.append(logo)
    ignore = dest / ".gitignore"
    ignore.write_text("# built files, send journal and dry runs, and the partner list (personal data)\n"
                      "build/\n.sitegen/\nprivate/\n", encoding="utf-8")
    written.append(ignore)
    return written


def placeholder_logo(size: int = 96, colour: tuple[int, int, int] = (0x0B, 0x5C, 0x8C)) -> bytes:
    """A square PNG: a white cross on the primary colour. Replace it with the hospital's logo."""
    white = (255, 255, 255)
    bar = range(size * 3 // 8, size * 5 // 8)
    inner = range(size // 6, size - size // 6)
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter: none
        for x in range(size):
            cross = (x in bar and y in inner) or (y in bar and x in inner)
            row += bytes(white if cross else colour)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))
