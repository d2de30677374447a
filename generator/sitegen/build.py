"""The pipeline, top to bottom: load -> validate -> assemble -> render -> write."""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Callable

import jinja2

from sitegen.artifacts import Artifact
from sitegen.content import newsletters
from sitegen.content.assemble import Site, assemble
from sitegen.content.load import load_content
from sitegen.errors import Problem, ProblemList, SitegenError
from sitegen.mail import render as mail
from sitegen.pdf import render as pdf
from sitegen.project import Project
from sitegen.templates import template_error
from sitegen.web import render as web
from sitegen.write import write_outputs

# output name -> render(project, site, options) -> artifacts. Each is written to build/<name>/.
Renderer = Callable[[Project, Site, "BuildOptions"], list[Artifact]]
OUTPUTS: dict[str, Renderer] = {
    "site": web.render,
    "mail": mail.render,
    "pdf": pdf.render,
}


class OutputSkipped(SitegenError):
    """An output cannot be made on this machine (e.g. no browser); the others still build."""


@dataclass(frozen=True)
class BuildOptions:
    today: dt.date
    outputs: tuple[str, ...] = tuple(OUTPUTS)
    dry_run: bool = False
    browser: str | None = None  # explicit Chromium path (else found by sitegen.browser)
    press: bool = False  # print-shop edition of the brochures (bleed and crop marks)
    # progress(output, done, total, item) after each slow step (each printed PDF); the CLI draws a bar
    progress: Callable[[str, int, int, str], None] | None = field(default=None, compare=False)


@dataclass
class OutputReport:
    name: str
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    skipped: str = ""  # why it was not built


@dataclass
class BuildReport:
    outputs: dict[str, OutputReport] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    load_seconds: float = 0.0
    artifacts: dict[str, list[Artifact]] = field(default_factory=dict)

    @property
    def skipped(self) -> list[OutputReport]:
        return [r for r in self.outputs.values() if r.skipped]


def load_site(project: Project, today: dt.date) -> tuple[Site, list[Problem]]:
    """Read and check everything. Raises ContentError listing every problem."""
    problems = ProblemList()
    content = load_content(project, problems)
    if content is None:
        problems.raise_if_errors()
    site = assemble(project, content, today, problems)
    site = newsletters.attach(content, site, problems)
    problems.raise_if_errors()
    return site, problems.warnings


def run(project: Project, options: BuildOptions) -> BuildReport:
    unknown = [o for o in options.outputs if o not in OUTPUTS]
    if unknown:
        raise SitegenError(f"unknown output {', '.join(unknown)}; choose from {', '.join(OUTPUTS)}")
    report = BuildReport()
    started = time.perf_counter()
    site, report.warnings = load_site(project, options.today)
    report.load_seconds = time.perf_counter() - started

    for name in options.outputs:
        t0 = time.perf_counter()
        entry = report.outputs[name] = OutputReport(name)
        try:
            artifacts = OUTPUTS[name](project, site, options)
        except OutputSkipped as exc:
            entry.skipped = str(exc)
            continue
        except jinja2.TemplateError as exc:
            raise template_error(exc) from exc
        entry.seconds = time.perf_counter() - t0
        entry.files = len(artifacts)
        report.warnings.extend(getattr(artifacts, "warnings", ()))  # e.g. a newsletter over Gmail's size limit
        report.artifacts[name] = artifacts

    if not options.dry_run and report.artifacts:
        sizes = write_outputs(project.out, project.root, report.artifacts)
        for name, size in sizes.items():
            report.outputs[name].bytes = size
    return report
