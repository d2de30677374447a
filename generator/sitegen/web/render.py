"""Site -> the public liaison guidebook website, as artifacts in memory."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Callable, Iterator

import jinja2
from markupsafe import Markup

from sitegen import urls
from sitegen.artifacts import Artifact, Rendered, RenderOptions
from sitegen.content import clinics
from sitegen.content.site import Site
from sitegen.cores import fork_map, workers
from sitegen.project import Project, read_state
from sitegen.templates import ThemeError, inside_theme, make_environment, static_dirs
from sitegen.web import deps, jsonld, opendata, search


@dataclass(frozen=True)
class Page:
    kind: str
    template: str
    slug: str | None = None
    title: str = ""
    description: str = ""
    # extra (name, value) pairs for the template, or a function that makes them when first needed (`sitegen serve`
    # renders the pages of a changed file before the others, and need not make the symptoms' or clinics' lists)
    context: tuple | Callable[[], tuple] = ()
    sources: tuple[str, ...] = ()
    # the page's schema.org data: a function of `jsonld` applied to the site (and the first context value, if the page
    # has one) when the page renders (so that what it reads from the site is noted like the templates' reads, not made up front)
    schema: str | None = None

    # what the dependency record fingerprints (web/deps.py): the context as made, not the function that makes it
    __fingerprint_fields__ = ("kind", "template", "slug", "title", "description", "extra", "sources", "schema")

    @cached_property
    def path(self) -> str:
        return urls.page_path(self.kind, self.slug)

    @cached_property
    def extra(self) -> tuple:
        """The extra (name, value) pairs for the template."""
        return self.context() if callable(self.context) else self.context


def pages(site: Site) -> Iterator[Page]:
    """Every HTML page of the site, in a fixed order."""
    s = site.settings
    yield Page("home", "home.html", title=s.title, description=s.description, sources=("site.yaml",), schema="hospital")
    yield Page("departments", "departments.html", title="診療科のご案内", description=f"{site.hospital.name}の診療科一覧")
    for d in site.departments:
        yield Page("department", "department.html", d.slug, d.name, d.summary, (("department", d),), (d.source,),
                   "specialty")
    yield Page("doctors", "doctors.html", title="医師紹介", description=f"{site.hospital.name}の医師一覧")
    yield Page("featured", "featured.html", title="注目のドクター", description="紹介元の先生方にご紹介したい医師")
    for doc in site.doctors:
        dept_names = "・".join(site.department(x).name for x in doc.departments)
        yield Page("doctor", "doctor.html", doc.slug, f"{doc.name}（{dept_names}）",
                   f"{dept_names} {doc.title} {doc.name}".replace("  ", " "), (("doctor", doc),), (doc.source,),
                   "physician")
    yield Page("schedule", "schedule.html", title="外来担当医表", description="診療科別の外来担当医表")
    yield Page("symptoms", "symptoms.html", title="症状から探す",
               description="患者さんの症状から、診療科と外来担当医を探せます", context=partial(_named, "symptoms", search.symptoms, site))
    yield Page("guides", "guides.html", title="医療機関の皆様へ", description="患者さんのご紹介方法と連携のご案内")
    for g in site.guides:
        yield Page("guide", "guide.html", g.slug, g.title, g.summary or g.title, (("guide", g),), (g.source,))
    if site.equipment:
        sources = tuple(e.source for e in site.equipment)
        yield Page("equipment", "equipment.html", title="検査のご予約（共同利用）",
                   description="CT・MRIなどの検査を先生方から直接ご予約いただけます", sources=sources)
        yield Page("equipment_form", "equipment_form.html", title="検査予約申込書（FAX用）",
                   description="共同利用の検査予約申込書（印刷してFAXでお送りください）", sources=sources)
    if site.pathways:
        yield Page("pathways", "pathways.html", title="地域連携クリニカルパス",
                   description="急性期から回復期・在宅まで、地域の医療機関で患者さんを支える連携パスのご案内",
                   sources=tuple(p.source for p in site.pathways))
    yield Page("news", "news.html", title="お知らせ", description=f"{site.office.name}からのお知らせ")
    for n in site.news:
        yield Page("news_item", "news_item.html", n.slug, n.title, n.summary or n.title, (("item", n),), (n.source,))
    yield from newsletter_pages(site)
    yield Page("access", "access.html", title="交通アクセス・お問い合わせ", description=f"{site.hospital.name}へのアクセスと連絡先")
    if site.clinics:
        yield Page("clinics", "clinics.html", title="登録医・連携医療機関のご案内",
                   description=f"{site.hospital.name}と連携している医療機関の一覧（地域・診療科別）",
                   context=partial(_named, "areas", clinics.by_area, site.clinics), sources=("content/clinics.csv",))
    yield Page("search", "search.html", title="サイト内検索", description=f"{site.office.name}のサイト内検索")
    yield Page("opendata", "opendata.html", title="オープンデータ",
               description="診療科・医師・外来担当医表・休診のお知らせを JSON と CSV で提供しています",
               context=partial(_named, "datasets", opendata.listing, site))
    yield Page("not_found", "404.html", title="ページが見つかりません")


def _named(name: str, make: Callable[[Any], Any], arg: Any) -> tuple:
    return ((name, make(arg)),)


def newsletter_pages(site: Site) -> Iterator[Page]:
    """The newsletter back numbers (the mail's 「ブラウザで見る」 link): an index and one page per published issue."""
    if not site.newsletters:
        return
    published = site.published_newsletters
    title = f"{site.config.newsletter.series}（バックナンバー）" if site.config.newsletter else "連携だより"
    yield Page("newsletters", "newsletters.html", title=title,
               description=f"{site.office.name}が連携医療機関の皆様にお送りしているメールマガジンのバックナンバー",
               context=(("issues", published),))
    for issue in published:
        yield Page("newsletter", "newsletter.html", issue.slug, f"{issue.series} 第{issue.number}号 {issue.subject}",
                   issue.preheader or issue.subject, (("issue", issue),), (issue.source,))


def environment(project: Project, site: Site):
    """The web templates' environment; each template a page loads is noted in its dependency record."""
    return deps.noting_templates(make_environment(project, site.settings.theme, "web"))


def render_page(env, site: Site, page: Page) -> Artifact:
    """One HTML page (`sitegen serve` renders the pages a change touches first, one by one)."""
    return Artifact(page.path, _render(env, site, page)[0], sources=page.sources)


def _render(env, site: Site, page: Page) -> tuple[bytes, tuple[str, ...]]:
    """A page's bytes and what its templates read from the site (for the dependency record)."""
    with deps.recording() as seen:
        context = _context(deps.Reads(site), page)
        context["once"] = partial(_once, env, site, page, context)
        html = env.get_template(page.template).render(context)
    return html.encode("utf-8"), deps.listed(seen)  # sorted here (in the render processes); a tuple is small


def _once(env, site: Site, page: Page, context: dict, name: str, *by: Any) -> Markup:
    """A partial that is the same on every page of a folder (the footer: the office and the menu, its links
    relative to the folder), rendered once per folder, template and build; every page that shows it counts
    what it read. `by`: what else of the page it shows (the header marks the menu entry of `page.kind`), rendered
    once per folder and each value of those."""
    if not all(value is None or isinstance(value, (str, int, float)) for value in by):
        raise jinja2.TemplateRuntimeError(f"once({name!r}, …): give texts or numbers after the partial's name "
                                          "(it is rendered once per folder and each value of those)")
    template = env.get_template(name)
    folder = page.path.rpartition("/")[0]

    def make() -> tuple[Markup, frozenset[str]]:
        with deps.recording() as seen:
            html = Markup(template.render(context))
        return html, frozenset(seen)

    html, seen = site.memo(("once", template, folder, page.kind == "not_found", by), make)
    deps.note(seen)
    return html


def render(project: Project, site: Site, options: RenderOptions | None = None, env=None,
           previous: deps.Previous | None = None) -> Rendered:
    """Every file of the website. A page whose inputs are those recorded for it last time is the file made then,
    not rendered again (web/deps.py): in a build that may keep files (`options.previous`, the record in
    .sitegen/), or from `previous` (`sitegen serve` keeps its last render in memory)."""
    env = env or environment(project, site)
    out: list[Artifact] = []
    all_pages = list(pages(site))
    whole = Published(site, tuple(p for p in all_pages if p.kind != "not_found"))
    record_file = project.state_file("web-pages.json")
    if previous is None and record_file is not None and options is not None and options.previous is not None:
        previous = deps.Previous(read_state(record_file), partial(deps.published, options.previous))
    record = None
    if record_file is not None or previous is not None:
        shared = deps.shared_fingerprint(project, site.settings.theme, site.today)
        record = deps.Record(whole, shared, previous.record if previous is not None else None,
                             partial(deps.template_source, env))
    units = site_files(env, whole)
    if record is None:  # nothing is recorded: the files made from the whole site read it untraced
        out.extend(render_pages(env, site, all_pages))
        out.extend(a for unit in units for a in _with_sources(unit, unit.make(whole)))
    else:
        out.extend(_recorded(env, site, whole, all_pages, units, record, previous))
    out.extend(_static(project, site))
    rendered = Rendered(out, counts={"pages": len(all_pages)})
    if record is not None:
        rendered.kept = record.reused
        rendered.record = record
        if record_file is not None and record.worth_saving():
            rendered.on_written = record.saving(record_file, in_child=web_workers() > 1)
    return rendered


class Published:
    """The site with its published pages (`pages`: every page but the 404 page), as the files made from the whole
    site see it; anything else is the site's own. The dependency record reads the site through it, so that what
    the sitemap read of the pages is read again like any other read."""

    def __init__(self, site: Site, published: tuple[Page, ...]) -> None:
        self.site = site
        self.pages = published

    def __getattr__(self, name: str) -> Any:
        return getattr(self.site, name)


@dataclass(frozen=True)
class SiteFile:
    """A file (or several) made from the whole site: the sitemap, the feed, the search index, the open data.
    `make` is given the site as a template sees it and returns the files, `paths` in that order. Like a page, it is
    kept from the last build when nothing it read changed (a doctor's text is in no open-data file)."""

    name: str
    paths: tuple[str, ...]
    make: Callable[[Any], list[Artifact]]
    sources: tuple[str, ...] = ()  # the content files it names, as its artifacts say (for messages)


def site_files(env, site: Published) -> list[SiteFile]:
    """The files made from the whole site, in order."""
    def template(kind: str, name: str) -> SiteFile:
        def make(site: Any) -> list[Artifact]:
            base = site.settings.base_url  # read once, not once per page the sitemap lists
            text = env.get_template(name).render(site=site, pages=site.pages, abs_url=partial(_absolute, base))
            return [Artifact(urls.page_path(kind), text.encode("utf-8"))]
        return SiteFile(kind, (urls.page_path(kind),), make)

    index = urls.asset_path("search-index.js")
    return [
        template("sitemap", "sitemap.xml"),
        template("feed", "feed.xml"),
        template("robots", "robots.txt"),
        SiteFile("search", (index,), lambda site: [Artifact(index, search.index_script(site))],
                 tuple(p.sources[0] for p in site.pages if p.sources)),
        SiteFile("opendata", opendata.paths(), opendata.artifacts),
    ]


def _with_sources(unit: SiteFile, made: list[Artifact]) -> list[Artifact]:
    """`unit`'s files as made, checked against the paths it names, each naming the content files it shows."""
    if tuple(a.path for a in made) != unit.paths:
        raise AssertionError(f"{unit.name} made {[a.path for a in made]}, not {list(unit.paths)}")
    return [dataclasses.replace(a, sources=unit.sources) for a in made]


def _kept(unit: SiteFile, unit_fp: str | None, record: deps.Record, previous: deps.Previous | None) -> list[Artifact] | None:
    """The last build's files of `unit`, when the record says nothing it read changed and they are all there as
    recorded; else None."""
    if previous is None or not all(record.unchanged(path, unit_fp) for path in unit.paths):
        return None
    old = [previous.file(path, record.stamp(path)) for path in unit.paths]
    kept = [artifact for artifact in old if artifact is not None]
    if len(kept) != len(old):
        return None
    for path in unit.paths:
        record.keep(path)
    return kept


def _recorded(env, site: Site, whole: Published, all_pages: list[Page], units: list[SiteFile],
              record: deps.Record, previous: deps.Previous | None) -> list[Artifact]:
    """The pages' files, then the files made from the whole site, in order: each kept from the last render where
    the record allows, the others made — pages and whole-site files alike shared out among processes on a large
    site (the search index and the open data are a tenth of the work at 10,000 pages: made first, in one process
    while the others render pages, they held every page back). The check is made here, once for all: each read
    the record lists is worked out once (`Record.changed_keys`), and a file is kept when none of its reads
    changed."""
    kept: dict[str, list[Artifact]] = {}  # by page path or unit name
    fingerprints: dict[str, str | None] = {}
    if previous is not None and record.previous_pages:
        checked = iter(record.check([unit.name for unit in units] + all_pages, web_workers()))
        for unit in units:
            unit_fp = fingerprints[unit.name] = next(checked)
            files = _kept(unit, unit_fp, record, previous)
            if files is not None:
                kept[unit.name] = files
        for page in all_pages:
            page_fp = fingerprints[page.path] = next(checked)
            if record.unchanged(page.path, page_fp):
                old = previous.file(page.path, record.stamp(page.path))
                if old is not None:
                    kept[page.path] = [dataclasses.replace(old, sources=page.sources)]
    todo: list[SiteFile | Page] = [unit for unit in units if unit.name not in kept]
    todo += [page for page in all_pages if page.path not in kept]
    make = partial(_made, env, site, whole, record, fingerprints)
    results = fork_map(make, todo, web_workers(), PARALLEL_MIN_PAGES)
    if results is None:
        results = [make(job) for job in todo]
    made = {job.name if isinstance(job, SiteFile) else job.path: result for job, result in zip(todo, results)}
    out = []
    for page in all_pages:
        if page.path in kept:
            out.extend(kept.pop(page.path))
            record.keep(page.path)
            continue
        page_fp, data, seen, values = made.pop(page.path)  # let go as it goes
        record.learn(values)
        record.add(page.path, page_fp, seen)
        out.append(Artifact(page.path, data, sources=page.sources))
    for unit in units:
        if unit.name in kept:
            files = kept.pop(unit.name)
        else:
            unit_fp, files, seen, values = made.pop(unit.name)
            record.learn(values)
            for artifact in files:
                record.add(artifact.path, unit_fp, seen)
        out.extend(_with_sources(unit, files))
    return out


def _made(env, site: Site, whole: Published, record: deps.Record, fingerprints: dict[str, str | None],
          job: SiteFile | Page) -> tuple:
    """A page (`_fingerprinted`) or the files of a `SiteFile`, made: (the fingerprint the record keeps for it,
    its bytes or files, what it read, the fingerprints of the values it read that this process had not worked
    out yet)."""
    if isinstance(job, Page):
        return _fingerprinted(env, site, record, fingerprints, job)
    unit_fp = fingerprints[job.name] if job.name in fingerprints else record.page(job.name)
    with deps.recording() as seen:
        files = job.make(deps.Reads(whole))
    reads = deps.listed(seen)
    return unit_fp, files, reads, record.new_values(reads)


def _fingerprinted(env, site: Site, record: deps.Record, fingerprints: dict[str, str | None], page: Page) -> tuple:
    """A page rendered: (its fingerprint, its bytes, what it read, the fingerprints of the values it read that this
    process had not worked out yet). The values are worked out here, in the processes that render, so that the
    record is saved without working out every page's reads again in one process."""
    page_fp = fingerprints[page.path] if page.path in fingerprints else record.page(page)
    data, seen = _render(env, site, page)
    return page_fp, data, seen, record.new_values(seen)


PARALLEL_MIN_PAGES = 400  # below this, starting processes costs more than it saves


def web_workers() -> int:
    """Processes to render pages with: one per core, at most 4 (SITEGEN_WEB_WORKERS overrides; 1 renders in this
    process only)."""
    return workers("SITEGEN_WEB_WORKERS")


def render_pages(env, site: Site, todo: list[Page], workers: int | None = None) -> list[Artifact]:
    """Every page rendered, in order (see `_render_all`)."""
    return [Artifact(page.path, data, sources=page.sources)
            for page, (data, _) in zip(todo, _render_all(env, site, todo, workers))]


def _render_all(env, site: Site, todo: list[Page], workers: int | None = None) -> list[tuple[bytes, tuple[str, ...]]]:
    """Pages' bytes and reads, in order. A large site is shared out among forked processes (they inherit the
    loaded site and compiled templates, so nothing is sent to them; each sends back its pages' bytes). The files
    are the same as from one process; if a child fails, this process renders everything itself, so a template
    error is reported as in a serial build."""
    workers = web_workers() if workers is None else workers
    shared = fork_map(lambda page: _render(env, site, page), todo, workers, PARALLEL_MIN_PAGES)
    if shared is None:
        return [_render(env, site, page) for page in todo]
    return shared


def _absolute(base: str, kind: str, slug: str | None = None) -> str:
    return urls.absolute(base, urls.page_path(kind, slug))


def _context(site: Any, page: Page) -> dict:
    """The page's template context; `site` is the site as templates see it (`deps.Reads`)."""
    base = site.settings.base_url
    here = page.path
    assets = frozenset(site.assets)
    if page.kind == "not_found":
        # a 404 page is served at any depth: links from the server root
        link: Callable[[str], str] = partial(urls.root_relative, base)
    else:
        link = partial(urls.relative, here)
    ctx = {
        "site": site,
        "page": page,
        "title": page.title,
        "description": page.description,
        "canonical": urls.absolute(base, here),
        "url": lambda kind, slug=None: link(urls.page_path(kind, slug)),
        "asset": lambda name: link(urls.asset_path(name)),
        "file": lambda name: link(urls.content_file_path(name)),
        "abs_url": partial(_absolute, base),
        "abs_file": lambda name: urls.absolute(base, urls.content_file_path(name)),
        "jsonld": _jsonld(site, page),
        # Markdown bodies name images and forms from the content folder (images/…): made relative to this page
        "prose": lambda html: Markup(urls.content_links(html, here, assets)),
    }
    ctx.update(dict(page.extra))
    return ctx


def _jsonld(site: Any, page: Page) -> Markup | None:
    """The page's schema.org data (`Page.schema`): the hospital on the home page, a doctor or a department on theirs."""
    if page.schema is None:
        return None
    return jsonld.to_script(jsonld.DESCRIBE[page.schema](site, *(value for _, value in page.extra[:1])))


def _static(project: Project, site: Site) -> list[Artifact]:
    """Theme static files (site theme overrides packaged) and content images/forms."""
    files: dict[str, Path] = {}
    for folder in static_dirs(project, site.settings.theme):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                if not inside_theme(path, folder):
                    raise ThemeError(f"{project.rel(path)}: points outside the theme folder (symbolic link); not copied")
                files[urls.asset_path(path.relative_to(folder).as_posix())] = path
    out = [Artifact(name, copy_from=path) for name, path in sorted(files.items())]
    for name in site.assets:
        out.append(Artifact(urls.content_file_path(name), copy_from=project.content / name, sources=("content/" + name,)))
    return out
