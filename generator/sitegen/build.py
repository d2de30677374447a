"""The pipeline, top to bottom: load -> validate -> assemble -> render -> write."""
from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import importlib
import shutil
import time
from dataclasses import dataclass, field
from typing import Callable

import jinja2

from sitegen.artifacts import Artifact, Progress, Publishing, Rendered, RenderOptions
from sitegen.content.assemble import assemble
from sitegen.content.kept import FILE as CONTENT_FILE
from sitegen.content.kept import Kept
from sitegen.content.load import KEPT_FILES, load_content
from sitegen.content.site import Site
from sitegen.cores import workers
from sitegen.errors import OutputSkipped, Problem, ProblemList, SitegenError
from sitegen.project import Project
from sitegen.templates import template_error, theme_mistake
from sitegen.write import check_out_link, write_outputs

Renderer = Callable[[Project, Site, RenderOptions], Rendered]
# outputs whose failure does not stop the others: printing depends on a browser and fonts, and a clinic
# must still get the current website and newsletter when a brochure cannot be printed
ISOLATED = ("pdf",)


def _imported(module: str) -> Renderer:
    """The `render` of `module`, imported when the output is first made: `build --only site` does not import the
    printing and mail code."""
    def render(project: Project, site: Site, options: RenderOptions) -> Rendered:
        return importlib.import_module(module).render(project, site, options)
    return render


# output name -> its renderer. Each is written to build/<name>/.
OUTPUTS: dict[str, Renderer] = {
    "site": _imported("sitegen.web.render"),
    "mail": _imported("sitegen.mail.render"),
    "pdf": _imported("sitegen.pdf.render"),
}


@dataclass(frozen=True)
class BuildOptions:
    today: dt.date
    outputs: tuple[str, ...] = tuple(OUTPUTS)
    dry_run: bool = False
    browser: str | None = None  # explicit Chromium path (else found by sitegen.chromium)
    press: bool = False  # print-shop edition of the brochures (bleed and crop marks)
    clean: bool = False  # forget what earlier builds kept (.sitegen/ caches) and write every file anew
    progress: Progress | None = field(default=None, compare=False)

    @property
    def render(self) -> RenderOptions:
        return RenderOptions(today=self.today, browser=self.browser, press=self.press, progress=self.progress)


@dataclass
class OutputReport:
    name: str
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    unchanged: int = 0  # files with the same bytes as in the previous build (kept as they were)
    kept: int = 0  # files not rendered again: nothing they were made from changed (a subset of `unchanged`)
    skipped: str = ""  # why it was not built
    failed: str = ""  # why it failed (an isolated output; its previous files are kept)
    counts: dict[str, int] = field(default_factory=dict)  # what the output says it made ({"pages": 77})


@dataclass
class BuildReport:
    outputs: dict[str, OutputReport] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    load_seconds: float = 0.0
    artifacts: dict[str, list[Artifact]] = field(default_factory=dict)

    @property
    def skipped(self) -> list[OutputReport]:
        return [r for r in self.outputs.values() if r.skipped]

    @property
    def failed(self) -> list[OutputReport]:
        return [r for r in self.outputs.values() if r.failed]

    @property
    def counts(self) -> dict[str, int]:
        """Everything the outputs made, by what it is (pages, PDFs, newsletters)."""
        total: dict[str, int] = {}
        for entry in self.outputs.values():
            for what, n in entry.counts.items():
                total[what] = total.get(what, 0) + n
        return total


def load_site(project: Project, today: dt.date, preview: bool = False) -> tuple[Site, list[Problem]]:
    """Read and check everything. Raises ContentError listing every problem. `preview`: the site as `sitegen serve`
    shows it (news drafts and news dated later included, marked)."""
    problems = ProblemList()
    content = load_content(project, problems)
    if content is None:
        problems.raise_if_errors()
        raise AssertionError("load_content returned None without reporting an error")
    site = assemble(project, content, today, problems, preview)
    problems.raise_if_errors()
    return site, problems.warnings


def _load_keeping(project: Project, today: dt.date) -> tuple[Site, list[Problem], bool, Callable[[], bool] | None]:
    """`load_site`, reading again only the files changed since the last build (content/kept.py); whether any file
    was kept, and what waits until the content is kept for the next build (by another process: what is kept is
    let go here before rendering, the sources of 10,000 files are tens of megabytes)."""
    kept = Kept(project)
    token = KEPT_FILES.set(kept.memo)
    try:
        site, warnings = load_site(project, today)
    finally:
        KEPT_FILES.reset(token)
    return site, warnings, kept.found, kept.saving(in_child=workers("SITEGEN_LOAD_WORKERS") > 1)


def render_output(name: str, project: Project, site: Site, options: RenderOptions) -> Rendered:
    """One output in memory; a theme mistake becomes a `template:line: message` error (also an error raised while
    a template of the site's own theme ran: `templates.theme_mistake`)."""
    try:
        return OUTPUTS[name](project, site, options)
    except jinja2.TemplateError as exc:
        raise template_error(exc) from exc
    except SitegenError:
        raise
    except Exception as exc:
        mistake = theme_mistake(exc, project)
        if mistake is None:
            raise
        raise mistake from exc


def forget_build_state(project: Project) -> None:
    """`build --clean`: the compiled templates, the kept prints of the brochures, the guidebook's kept page numbers,
    the record of what each web page read, the kept HTML of Markdown bodies and the kept content go (never check's
    or send's files)."""
    state = project.state_path()
    if state is None:  # a symbolic link: nothing was kept there, and nothing outside the site is removed
        return
    for folder in ("templates", "pdf-prints"):
        kept = project.state_path(folder)
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
    for name in ("guidebook-pages.json", "web-pages.json", "markdown-html.json", CONTENT_FILE):
        (state / name).unlink(missing_ok=True)


# after loading, a full collection waits for ten times as many younger ones: the previous build's dependency record
# (read after the freeze) was walked twice in every 10,000-page rebuild, and none of it is ever garbage
FULL_COLLECTIONS_RARER = 10


class _Collector:
    """Python's cycle collector during a build. While the content loads it is off: loading makes hundreds of
    thousands of objects that all stay, and each full collection walked every one of them again (at 10,000 pages a
    rebuild spent about a third of its time there). Once the site is loaded, one collection frees what loading
    left in cycles (without it the peak of a first build at 10,000 pages was 5 MB higher; a build that kept the
    files it did not read again leaves little, and skips it: 0.15 s), the rest is frozen (`gc.freeze`: it lives to
    the end of the build and is not walked again) and the collector runs again for what rendering makes and drops,
    its full collections rarer (FULL_COLLECTIONS_RARER). Afterwards everything is as it was; a caller that froze objects itself (`sitegen serve`) keeps its own."""

    def __enter__(self) -> _Collector:
        self.enabled, self.froze, self.thresholds = gc.isenabled(), False, gc.get_threshold()
        gc.disable()
        return self

    def loaded(self, collect: bool = True) -> None:
        if collect:
            gc.collect()
        if gc.get_freeze_count() == 0:
            gc.freeze()
            self.froze = True
        young, middle, old = self.thresholds
        gc.set_threshold(young, middle, old * FULL_COLLECTIONS_RARER)
        if self.enabled:
            gc.enable()

    def __exit__(self, *exc: object) -> None:
        gc.set_threshold(*self.thresholds)
        if self.froze:
            gc.unfreeze()
        if self.enabled:
            gc.enable()


def run(project: Project, options: BuildOptions) -> BuildReport:
    unknown = [o for o in options.outputs if o not in OUTPUTS]
    if unknown:
        raise SitegenError(f"unknown output {', '.join(unknown)}; choose from {', '.join(OUTPUTS)}")
    with _Collector() as collector:
        return _run(project, options, collector)


def _run(project: Project, options: BuildOptions, collector: _Collector) -> BuildReport:
    report = BuildReport()
    started = time.perf_counter()
    if not options.dry_run:
        check_out_link(project.out)  # before anything is read from the previous build through the link
        if options.clean:
            forget_build_state(project)
        project = project.with_template_cache()
    saved: Callable[[], bool] | None = None  # waits until the content is kept for the next build
    if project.keeps_state:
        site, report.warnings, kept, saved = _load_keeping(project, options.today)
    else:
        (site, report.warnings), kept = load_site(project, options.today), False
    collector.loaded(collect=not kept)
    report.load_seconds = time.perf_counter() - started

    written: list[tuple[str, Publishing]] = []  # told where each output was published, or None
    published = False
    try:
        _render_outputs(project, options, site, report, written)
        if not options.dry_run and report.artifacts:
            for _, publishing in written:
                publishing.begin()
            unchanged: dict[str, int] = {}

            def tell() -> None:
                for name, publishing in written:
                    publishing.tell(project.out / name)

            sizes = write_outputs(project.out, project.root, report.artifacts, reuse=not options.clean,
                                  unchanged=unchanged, on_published=tell)
            published = True
            for name, size in sizes.items():
                report.outputs[name].bytes = size
                report.outputs[name].unchanged = unchanged.get(name, 0)
    finally:
        for name, after in written:
            after(project.out / name if published else None)
        if saved is not None:
            saved()
    return report


def _render_outputs(project: Project, options: BuildOptions, site: Site, report: BuildReport,
                    written: list[tuple[str, Publishing]]) -> None:
    """Every output rendered in memory, into `report`; `written` gets what each wants done once it is published."""
    for name in options.outputs:
        t0 = time.perf_counter()
        entry = report.outputs[name] = OutputReport(name)
        render_options = options.render
        if not options.dry_run and not options.clean:
            render_options = dataclasses.replace(render_options, previous=project.out / name)
        try:
            rendered = render_output(name, project, site, render_options)
        except OutputSkipped as exc:
            entry.skipped = str(exc)
            continue
        except SitegenError as exc:
            if name not in ISOLATED or len(options.outputs) == 1:
                exc.warnings = list(report.warnings)  # type: ignore[attr-defined]  # shown with the failure
                raise
            entry.failed = str(exc)  # the others are still written; build/<name>/ keeps the previous files
            continue
        entry.seconds = time.perf_counter() - t0
        entry.files = len(rendered.artifacts)
        entry.counts = dict(rendered.counts)
        entry.kept = rendered.kept
        if rendered.on_written is not None:
            written.append((name, rendered.on_written))
        report.warnings.extend(rendered.warnings)  # e.g. a newsletter over Gmail's size limit
        report.artifacts[name] = rendered.artifacts
