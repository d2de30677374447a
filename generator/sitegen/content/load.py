"""Read site.yaml and every file under content/ into validated models.

Nothing here stops at the first mistake: each file is read and validated on its
own and every problem goes into the shared ProblemList. Cross-references between
files are checked later, in `assemble.py`.
"""
from __future__ import annotations

import os
import re
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Generic, TypeVar

from sitegen.content import active, field_markup, partners, placeholders
from sitegen.content.config import SiteFile
from sitegen.content.models import Department, Doctor, Equipment, Guide, NewsItem, Pathway, Qualification, Schedule
from sitegen.content.newsletter_models import Newsletter
from sitegen.content.sources import PARSE_CACHE, Source, load_markdown_file, load_yaml_file
from sitegen.content.validate import validate
from sitegen.cores import fork_map, workers
from sitegen.errors import Location, ProblemList, did_you_mean
from sitegen.project import Project
from sitegen.urls import PATTERNS

T = TypeVar("T")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# folder under content/ -> (model, file suffix)
COLLECTIONS = {
    "departments": (Department, ".md"),
    "doctors": (Doctor, ".md"),
    "schedules": (Schedule, ".yaml"),
    "guides": (Guide, ".md"),
    "equipment": (Equipment, ".md"),
    "pathways": (Pathway, ".md"),
    "news": (NewsItem, ".md"),
    "newsletters": (Newsletter, ".md"),
}
ASSET_FOLDERS = ("images", "files")
RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def _site_pages() -> dict[str, dict[str, str]]:
    """folder -> {name: the page} of the pages the site makes itself in a folder that also has a page per content
    file (doctors/index.html, doctors/featured.html beside doctors/<slug>.html): a file of that name in content/
    would be given the same page."""
    per_file = {p.rpartition("/")[0] for p in PATTERNS.values() if "{slug}" in p}
    out: dict[str, dict[str, str]] = {}
    for path in PATTERNS.values():
        folder, _, name = path.rpartition("/")
        if "{slug}" not in path and folder in per_file and name.endswith(".html"):
            out.setdefault(folder, {})[name.removesuffix(".html")] = path
    return out


SITE_PAGES = _site_pages()


@dataclass(frozen=True)
class Loaded(Generic[T]):
    slug: str
    model: T
    source: Source


@dataclass(frozen=True)
class Content:
    """Everything read from the site, validated file by file."""

    site: SiteFile
    site_source: Source
    qualifications: dict[str, Qualification]
    qualifications_source: Source | None
    collections: dict[str, list[Loaded]]
    assets: tuple[str, ...]  # files under content/images and content/files, relative to content/
    invalid: dict[str, set[str]]  # folder -> slugs of files that exist but failed validation

    def exists(self, folder: str, slug: str) -> bool:
        """True for any file of that slug, valid or not (so one mistake is not reported twice)."""
        return slug in self.invalid.get(folder, ()) or any(i.slug == slug for i in self.collections[folder])


def load_content(project: Project, problems: ProblemList) -> Content | None:
    """Load and validate every file; returns None when site.yaml itself is unusable, or content/ is a symbolic link
    out of the site (nothing under it is read). A folder of the site or of a theme that a link takes out of where
    it belongs (`Project.link_escapes`) is an error, whatever sitegen would read from it."""
    collections_spec = COLLECTIONS
    escapes = project.link_escapes()
    for rel, message in escapes:
        problems.error(Location(rel), "", message)
    site, site_source = _load_site(project, problems)
    if site_source is not None:
        _check_recipients_place(project, site_source, problems)
    if any(rel == "content" for rel, _ in escapes):
        return None
    qualifications, qual_source = _load_qualifications(project, problems)
    collections: dict[str, list[Loaded]] = {}
    invalid: dict[str, set[str]] = {}
    for folder, (model, suffix) in collections_spec.items():
        collections[folder], invalid[folder] = _load_collection(project, folder, model, suffix, problems)
    _check_stray_files(project, set(collections_spec), problems)
    assets = _list_assets(project, problems)
    if site is None or site_source is None:
        return None
    return Content(site, site_source, qualifications, qual_source, collections, assets, invalid)


def read_site_source(project: Project) -> Source | None:
    """site.yaml parsed but not validated, with its line numbers (None when missing, unreadable, or a symbolic link
    out of the site)."""
    if not project.site_file.is_file() or project.link_problem(project.site_file, project.root) is not None:
        return None
    source, _ = load_yaml_file(project.site_file, "site.yaml")
    return source


def read_site_data(project: Project) -> dict:
    """site.yaml as plain data, without validation: for tools that must work on a site with mistakes
    (`sitegen new` lists ids, `check` finds the partner list, `serve` its base path). {} when unreadable."""
    source = read_site_source(project)
    return source.data if source is not None and isinstance(source.data, dict) else {}


def load_settings(project: Project) -> SiteFile:
    """site.yaml alone, validated (for commands that need no content, such as `sitegen bounces`).
    Raises ContentError listing every problem."""
    problems = ProblemList()
    site, _ = _load_site(project, problems)
    problems.raise_if_errors()
    assert site is not None, "a site.yaml that did not load reports a problem"
    return site


def read_qualification_ids(project: Project) -> list[str]:
    """The ids in content/qualifications.yaml, without validation ([] when missing or unreadable)."""
    path = project.content / "qualifications.yaml"
    if not path.is_file() or not project.inside(path):
        return []
    source, _ = load_yaml_file(path, "content/qualifications.yaml")
    return sorted(str(k) for k in source.data) if source is not None and isinstance(source.data, dict) else []


def read_doctor_departments(project: Project) -> dict[str, list[str]]:
    """Each doctor file's `departments`, without validation (for scaffolds; unreadable files are left out)."""
    out: dict[str, list[str]] = {}
    for path in sorted((project.content / "doctors").glob("*.md")):
        if not SLUG.match(path.stem) or not project.inside(path):
            continue
        source, _ = load_markdown_file(path, project.rel(path))
        listed = source.data.get("departments") if source is not None and isinstance(source.data, dict) else None
        if isinstance(listed, list):
            out[path.stem] = [str(d) for d in listed]
    return out


def read_schedule_slots(project: Project) -> set[tuple]:
    """(doctor, day, time) of every slot in content/schedules/, without validation (for scaffolds)."""
    busy: set[tuple] = set()
    for path in sorted((project.content / "schedules").glob("*.yaml")):
        if not project.inside(path):
            continue
        source, _ = load_yaml_file(path, project.rel(path))
        slots = source.data.get("slots") if source is not None and isinstance(source.data, dict) else None
        for slot in slots if isinstance(slots, list) else []:
            taken = (slot.get("doctor"), slot.get("day"), slot.get("time")) if isinstance(slot, dict) else ()
            if taken and all(isinstance(part, str) for part in taken):  # not a list a mistake put there
                busy.add(taken)
    return busy


def _load_site(project: Project, problems: ProblemList) -> tuple[SiteFile | None, Source | None]:
    if not project.site_file.is_file():
        problems.error(Location("site.yaml"), "", f"no site.yaml in {project.root}: is this a sitegen site folder?")
        return None, None
    outside = project.link_problem(project.site_file, project.root)
    if outside is not None:
        problems.error(Location("site.yaml"), "", outside)
        return None, None
    source, found = load_yaml_file(project.site_file, "site.yaml")
    problems.extend(found)
    if source is None:
        return None, None
    model, found = validate(source, SiteFile)
    problems.extend(found)
    return model, source


def _check_recipients_place(project: Project, source: Source, problems: ProblemList) -> None:
    """newsletter.recipients may not name a file in a folder that is published or built (content/, themes/, the
    build folder, links followed): the build would publish the partner list. An error at its line, before anything
    is written, also when site.yaml has other mistakes (where else the list may not be is `send`'s to say:
    `partners.locate`)."""
    settings = source.data.get("newsletter") if isinstance(source.data, dict) else None
    if not isinstance(settings, dict):
        return  # no newsletter, no partner list
    problem = partners.published_setting(project, settings.get("recipients"))  # None: the default
    if problem is not None:
        problems.error(source.location(("newsletter", "recipients")), "newsletter.recipients", problem)


def _load_qualifications(project: Project, problems: ProblemList) -> tuple[dict[str, Qualification], Source | None]:
    path = project.content / "qualifications.yaml"
    rel = project.rel(path)
    if not path.is_file():
        return {}, None
    if not project.inside(path, project.content):
        problems.error(Location(rel), "", _outside(path))
        return {}, None
    source, found = load_yaml_file(path, rel)
    problems.extend(found)
    if source is None:
        return {}, None
    if not isinstance(source.data, dict):
        problems.error(source.location(), "", "expected qualification ids, each with name, issuer and advertisable")
        return {}, source
    result = {}
    for key, value in source.data.items():
        if not SLUG.match(str(key)):
            problems.error(source.location((key,)), str(key), "an id must be lowercase letters, digits and hyphens")
            continue
        model, found = validate(source, Qualification, value if value is not None else {}, (key,))
        problems.extend(found)
        if model is not None:
            result[key] = model
    return result, source


def _content_files(project: Project, folder: str, suffix: str, problems: ProblemList):
    """(path, path relative to the site, file name) of each file of a collection; paths as plain strings, since
    making a Path of each of 10,000 files was a tenth of serve's rebuild."""
    base = project.content / folder
    if not base.is_dir():
        return
    outside = project.link_problem(base, project.content)
    if outside is not None:  # one error for the folder, not one per file (the files are not read)
        problems.error(Location(project.rel(base)), "", outside)
        return
    folder_inside: dict[str, bool] = {}  # resolved once per folder: resolving every file took a second at 10,000
    shown = project.rel(base)
    for parts, entry in _entries(base):
        name = entry.name
        if name.startswith("."):
            continue
        linked = entry.is_symlink()
        if not linked and entry.is_dir():
            continue
        rel = "/".join((shown, *parts))
        parent = os.path.dirname(entry.path)
        if parent not in folder_inside:
            folder_inside[parent] = project.inside(Path(parent), project.content)
        plain = folder_inside[parent] and not linked  # inside, with no link to follow
        if not plain and not project.inside(Path(entry.path), project.content):
            problems.error(Location(rel), "", _outside(entry.path))
            continue
        if linked and os.path.isdir(entry.path):
            continue  # a linked folder inside content/ is not followed
        if os.path.splitext(name)[1] != suffix:
            problems.warning(Location(rel), "", f"ignored: files in content/{folder}/ must end in {suffix}")
            continue
        yield entry.path, rel, name


def _entries(base: Path) -> list[tuple[tuple[str, ...], os.DirEntry]]:
    """Every entry under `base` (its parts below `base`, and the entry), in the order of sorted(base.rglob("*")):
    folders are entered, linked folders are listed but not entered. os.scandir, because pathlib's stat calls for
    10,000 files took half a second."""
    found: list[tuple[tuple[str, ...], os.DirEntry]] = []
    # the folders still to list: a recursive function is a cycle, and held every entry until a garbage
    # collection (a rebuild, which skips the one after loading, kept 10,000 entries to its end)
    folders: list[tuple[str, tuple[str, ...]]] = [(str(base), ())]
    while folders:
        folder, parts = folders.pop()
        with os.scandir(folder) as listing:
            entries = list(listing)
        for entry in entries:
            found.append(((*parts, entry.name), entry))
            if not entry.is_symlink() and entry.is_dir():
                folders.append((entry.path, (*parts, entry.name)))
    found.sort(key=lambda item: item[0])
    return found


MAX_SLUG = 100  # a page is <slug>.html in a folder; file systems allow 255 bytes per name, URLs should stay short


def _load_collection(project: Project, folder: str, model, suffix: str, problems: ProblemList):
    loaded: list[Loaded] = []
    invalid: set[str] = set()
    first_seen: dict[str, str] = {}
    todo: list[tuple[str, str]] = []
    slugs: list[str] = []  # of the files in todo
    for path, rel, name in _content_files(project, folder, suffix, problems):
        slug = name[:-len(suffix)]
        if not SLUG.match(slug):
            problems.error(
                Location(rel), "",
                f"file name '{name}' must use only lowercase letters, digits and hyphens (like yamada-taro{suffix})",
            )
            continue
        if len(slug) > MAX_SLUG:
            problems.error(Location(rel), "", f"the file name is {len(slug)} characters long (at most {MAX_SLUG}): "
                           "its page and the paths under build/ would be too long for the disk; shorten it")
            continue
        if slug.upper() in RESERVED_NAMES:
            problems.error(Location(rel), "", f"'{slug}' is a reserved device name on Windows (the site could not be "
                           "copied or opened there); choose another file name")
            continue
        page = SITE_PAGES.get(folder, {}).get(slug)
        if page is not None:
            problems.error(Location(rel), "", f"the name '{slug}' is used by the site's own page {page}; "
                           "rename the file")
            continue
        if slug in first_seen:
            problems.error(Location(rel), "", f"duplicate slug '{slug}': {first_seen[slug]} has the same name")
            continue
        first_seen[slug] = rel
        todo.append((path, rel))
        slugs.append(slug)
    read = partial(_read_file, load_markdown_file if suffix == ".md" else load_yaml_file, model)
    memo = KEPT_FILES.get()
    if memo is None:
        memo = PARSE_CACHE.get()
    stamps = [_stamp(path) for path, _ in todo] if memo is not None else []  # taken before reading
    results = _remembered(memo, todo, stamps) if memo is not None else [None] * len(todo)
    missing = [job for job, result in zip(todo, results) if result is None]
    # thousands of files are read and validated in forked processes (the results in file order, as from one)
    fresh = iter(fork_map(read, missing, workers("SITEGEN_LOAD_WORKERS")) or [read(job) for job in missing])
    results = [result if result is not None else next(fresh) for result in results]
    if memo is not None:
        _remember(memo, todo, stamps, results)
    for slug, (source, item, found) in zip(slugs, results):
        problems.extend(found)
        if source is None or item is None:
            invalid.add(slug)
        else:
            loaded.append(Loaded(slug, item, source))
    return loaded, invalid


# `sitegen serve` keeps each file's (source, model, problems) in its memo (sources.PARSE_CACHE) under
# (READ, path), with the file's stamp: after an edit only the files whose stamp changed are read and validated
# again. The preview also forgets the files its watcher saw change (`forget`), so an edit within the clock's
# tick is not missed. Models and sources are frozen, so a kept result is never changed by a later step.
READ = "read"
# A build's memo of the files alone (content/kept.py keeps it on disk), without serve's memo of parsed texts
KEPT_FILES: ContextVar[dict | None] = ContextVar("sitegen_kept_files", default=None)


def _stamp(path: str) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino


def _remembered(memo: dict, todo: list[tuple[str, str]], stamps: list) -> list:
    out = []
    for (_, rel), stamp in zip(todo, stamps):
        key = (READ, rel)
        kept = memo[key] if key in memo else None
        out.append(kept[1] if kept is not None and stamp is not None and kept[0] == stamp else None)
    return out


def _remember(memo: dict, todo: list[tuple[str, str]], stamps: list, results: list) -> None:
    for (_, rel), stamp, result in zip(todo, stamps, results):
        if stamp is not None:
            memo[(READ, rel)] = (stamp, result)


class Memo(dict):
    """A parse memo (sources.PARSE_CACHE) that notes which keys a load used; `prune` drops the others (the files
    deleted since, the texts no longer there)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.used: set = set()

    def __contains__(self, key):
        self.used.add(key)
        return super().__contains__(key)

    def prune(self) -> None:
        for key in [k for k in self if k not in self.used]:
            del self[key]
        self.used = set()


def forget(memo: dict, paths: set[str] | None) -> None:
    """Drop the kept files among `paths` (relative to the site; None: every file) from a memo."""
    for key in [k for k in memo if len(k) == 2 and k[0] == READ and (paths is None or k[1] in paths)]:
        del memo[key]


def _read_file(reader, model, job: tuple[str, str]):
    """(source, validated model, problems) of one content file; None for what could not be read or validated."""
    path, rel = job
    source, found = reader(Path(path), rel)
    item = None
    if source is not None:
        item, more = validate(source, model)
        left = ProblemList()  # placeholders left from `sitegen init` / `new`, markup in fields: the file's warnings
        placeholders.check([source], left)
        field_markup.check([source], left)
        found = [*found, *more, *left.items]
    return source, item, found


def _check_stray_files(project: Project, folders: set[str], problems: ProblemList) -> None:
    if not project.content.is_dir():
        problems.error(Location("content"), "", "the content/ folder is missing")
        return
    known = folders | set(ASSET_FOLDERS) | {"qualifications.yaml", "clinics.csv"}
    for path in sorted(project.content.iterdir()):
        if path.name.startswith(".") or path.name in known:
            continue
        hint = did_you_mean(path.name, sorted(known))
        problems.warning(Location(project.rel(path)), "", f"ignored: not a content folder{hint}")


def _list_assets(project: Project, problems: ProblemList) -> tuple[str, ...]:
    found: list[str] = []
    lowered: dict[str, str] = {}
    for folder in ASSET_FOLDERS:
        base = project.content / folder
        if not base.is_dir():
            continue
        outside = project.link_problem(base, project.content)
        if outside is not None:
            problems.error(Location(project.rel(base)), "", outside)
            continue
        for path in sorted(base.rglob("*")):
            if path.name.startswith(".") or (path.is_dir() and not path.is_symlink()):
                continue
            if not project.inside(path, project.content):
                problems.error(Location(project.rel(path)), "", _outside(path, copied=True))
                continue
            if path.is_dir():
                continue  # a linked folder inside content/ is not followed
            name = path.relative_to(project.content).as_posix()
            problem = _unportable(name, lowered)
            if problem:
                problems.error(Location(project.rel(path)), "", problem)
                continue
            lowered[name.lower()] = name
            found.append(name)
            _check_active(project, path, problems)
    return tuple(found)


def _check_active(project: Project, path: Path, problems: ProblemList) -> None:
    """A file that would run in a visitor's browser (HTML, JavaScript, an SVG with a script) is an error at the
    file (at each line of an SVG that has something to remove): it is published as it is, on the hospital's site.
    It stays listed, so a page naming it is not told that it is missing."""
    rel = project.rel(path)
    why = active.runnable_problem(path.name)
    if why is not None:
        problems.error(Location(rel), "", why)
    elif path.suffix.lower() == active.SVG:
        for line, what in active.svg_findings(str(path)):
            problems.error(Location(rel, line), "", f"{what}: {active.ADVICE}")


def _outside(path: str | Path, copied: bool = False) -> str:
    """The error of a file under content/ that a symbolic link takes out of it, naming where it points."""
    target = os.path.realpath(path)
    if copied:
        return f"points outside content/ (symbolic link to {target}); not copied"
    return f"points outside content/ (symbolic link to {target}); not read"


def _unportable(name: str, seen: dict[str, str]) -> str:
    """Why a published file name would break on Windows, macOS or a web server ('' when it is fine)."""
    for part in name.split("/"):
        stem = part.split(".", 1)[0]
        if stem.upper() in RESERVED_NAMES:
            return f"'{part}' is a reserved device name on Windows; rename it"
        if part.endswith((".", " ")) or any(c in part for c in '<>:"|?*\\') or any(ord(c) < 32 for c in part):
            return f"'{part}' has a character that file systems or web servers refuse (< > : \" | ? * \\, a final dot or space); rename it"
    if name.lower() in seen:
        return f"differs from content/{seen[name.lower()]} only in upper/lower case (one would overwrite the other on Windows and macOS); rename one"
    return ""
