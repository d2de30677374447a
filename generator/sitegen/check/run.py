"""`sitegen check`: everything that can be known before publishing, as one list of findings.

    run_check(project, CheckOptions(today=...), progress) -> CheckReport

Stages, each adding findings (file, line, field, rule, severity, message, hint):
  content     the same validation as `sitegen build` (load_site), rendered in memory (dry run)
  ad          the 医療広告ガイドライン linter (adcheck.py) over every published text
  links       internal links, #anchors, images and forms of the built site (linkcheck.py);
              external links only with `external=True`
  a11y        what axe misses (a11y.audit_page) on every page, and axe-core in headless Chromium
              (skipped with a warning when no browser is found); brand colour contrast is part of content
  recipients  the partner list: invalid addresses, duplicates, missing opt-in dates

Errors make the check fail; warnings fail it only when strict. `info` never fails (accepted
exceptions from `ad_review`, stages that could not run for a reason that is not a problem).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from sitegen.artifacts import Artifact
from sitegen.build import BuildOptions, BuildReport, run
from sitegen.check import admodel
from sitegen.check import adrules as adcheck
from sitegen.check import links as linkcheck
from sitegen.check.a11y import AxeRunner, AxeUnavailable, audit_page
from sitegen.chromium import BrowserNotFound, find_browser
from sitegen.content import partners
from sitegen.content.load import load_content, read_site_data, read_site_source
from sitegen.content.sources import PARSE_CACHE
from sitegen.errors import ContentError, Problem, ProblemList, SitegenError
from sitegen.project import Project, read_state, write_state

STAGES = ("content", "ad", "links", "a11y", "recipients")
SEVERITIES = ("error", "warning", "info")
Progress = Callable[[str, int, int, str], None]  # (stage, done, total, item)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    field: str
    rule: str
    severity: str  # error, warning, info
    message: str
    hint: str = ""
    phrase: str = ""
    accepted: dict | None = None  # for ad findings accepted by an ad_review entry

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field_ = f"{self.field}: " if self.field else ""
        return (f"{where}: " if where else "") + f"{self.severity}: [{self.rule}] {field_}{self.message}"

    def as_dict(self) -> dict:
        d = asdict(self)
        if d["accepted"] is None:
            del d["accepted"]
        return d

    def sort_key(self):
        return (self.file, self.line or 0, self.field, self.rule, self.message)


@dataclass(frozen=True)
class CheckOptions:
    today: dt.date
    external: bool = False
    timeout: float = 10.0  # seconds per external link
    skip: frozenset = frozenset()  # stages not to run
    browser: str | None = None
    changed: bool = False  # axe only on pages whose bytes (or the site's CSS/JS) changed since the last such check


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, object] = field(default_factory=dict)  # pages, links, texts, seconds per stage
    skipped: dict[str, str] = field(default_factory=dict)  # stage -> why it did not run

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def failed(self, strict: bool) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))

    def as_dict(self) -> dict:
        return {"findings": [f.as_dict() for f in self.findings], "stats": self.stats, "skipped": self.skipped,
                "errors": self.count("error"), "warnings": self.count("warning"), "info": self.count("info")}


def run_check(project: Project, options: CheckOptions, progress: Progress | None = None) -> CheckReport:
    report = CheckReport()
    unknown = set(options.skip) - set(STAGES)
    if unknown:
        raise SitegenError(f"unknown check {', '.join(sorted(unknown))}; choose from {', '.join(STAGES)}")
    # every stage reads site.yaml and the linter reads the content again: parse each file once per check
    token = PARSE_CACHE.set({})
    try:
        _stages(project, options, report, progress)
    finally:
        PARSE_CACHE.reset(token)
    report.findings.sort(key=Finding.sort_key)
    return report


def _stages(project: Project, options: CheckOptions, report: CheckReport, progress: Progress | None) -> None:
    ad_report = None
    if "ad" not in options.skip:
        t0 = time.perf_counter()
        ad_report = _ad(project, report)
        report.stats["ad_seconds"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    artifacts = _content(project, options, report, ad_report)
    report.stats["content_seconds"] = round(time.perf_counter() - t0, 2)
    site_files = artifacts.get("site") if artifacts else None
    for stage, func in (("links", _links), ("a11y", _a11y)):
        if stage in options.skip:
            continue
        if artifacts is None or site_files is None:
            report.skipped[stage] = "the content has errors: the site was not built"
            continue
        t0 = time.perf_counter()
        func(project, options, artifacts, report, progress)
        report.stats[f"{stage}_seconds"] = round(time.perf_counter() - t0, 2)
    if "recipients" not in options.skip:
        _recipients(project, report)


# --- content ------------------------------------------------------------------------------------------


def _from_problem(p: Problem) -> Finding:
    rule, hint = "content", ""
    if p.field.startswith("site.colours"):
        rule, hint = "a11y.contrast", "pick a darker brand colour (4.5:1 for text, JIS X 8341-3 AA)"
    return Finding(p.location.path, p.location.line, p.field, rule, p.severity, p.message, hint)


def _content(project: Project, options: CheckOptions, report: CheckReport, ad_report) -> dict | None:
    outputs = ("site", "mail")
    build: BuildReport | None = None
    try:
        build = run(project, BuildOptions(today=options.today, outputs=outputs, dry_run=True, browser=options.browser))
    except ContentError as exc:
        problems = exc.errors + exc.warnings
    except SitegenError as exc:  # a theme template error, an unusable output folder …
        report.findings.append(Finding("", None, "", "build", "error", str(exc)))
        return None
    else:
        problems = build.warnings
    # the build warns about a doctor's non-advertisable qualification; the ad linter reports it with its rule
    ad_places = {(f.path, f.line, f.field) for f in (ad_report.findings if ad_report else ())}
    for p in problems:
        if "qualifications[" in p.field and (p.location.path, p.location.line, p.field) in ad_places:
            continue
        report.findings.append(_from_problem(p))
    if build is None:
        return None
    pages = [a for a in build.artifacts.get("site", ()) if a.path.endswith(".html")]
    report.stats["pages"] = len(pages)
    return build.artifacts


# --- 医療広告ガイドライン -------------------------------------------------------------------------------


def _ad(project: Project, report: CheckReport):
    content = load_content(project, ProblemList())
    if content is None:
        report.skipped["ad"] = "site.yaml or content/ cannot be read"
        return None
    ad = adcheck.lint(content, adcheck.Analyzer(), admodel.load_model())  # loaded once per check run
    report.stats["texts"] = ad.texts
    for f in ad.findings:
        accepted = None
        severity = "error"
        if f.rule.id == "senmon-i" and f.field.startswith("qualifications["):
            severity = "warning"  # listed in the file but never shown by the build
        if f.probability:
            severity = "warning"  # the statistical model's hint: a reviewer reads the sentence
        if f.accepted is not None:
            r = f.accepted
            accepted = {"phrase": r.phrase, "approved_by": r.approved_by, "reason": r.reason, "date": r.date.isoformat()}
            severity = "info"
        message = f.message if accepted is None else (
            f"「{f.phrase}」: {f.rule.name} — accepted by {accepted['approved_by']} on {accepted['date']}: {accepted['reason']}")
        code = f"ad.hint.{f.rule.id}" if f.probability else f"ad.{f.rule.id}"
        report.findings.append(Finding(f.path, f.line, f.field, code, severity, message, f.rule.fix, f.phrase, accepted))
    for path, line, phrase in ad.unused_reviews:
        report.findings.append(Finding(path, line, "ad_review", "ad.review-unused", "warning",
                                       f"the reviewed phrase 「{phrase}」 is no longer in this file",
                                       "remove the ad_review entry, or correct its phrase"))
    return ad


# --- links ------------------------------------------------------------------------------------------------


class _Sources:
    """Find the line of a link or text in the content file a page was made from."""

    def __init__(self, project: Project, artifacts: list[Artifact]):
        self.project = project
        self.by_page = {a.path: a.sources for a in artifacts}
        self._text: dict[str, list[str]] = {}

    def locate(self, page: str, needle: str, html_line: int, prefix: str = "site") -> tuple[str, int | None]:
        for source in self.by_page.get(page, ()):
            lines = self._lines(source)
            for i, text in enumerate(lines, 1):
                if needle and needle in text:
                    return source, i
        sources = self.by_page.get(page, ())
        if len(sources) == 1 and not needle:
            return sources[0], None
        return f"{prefix}/{page}", html_line

    def page_source(self, page: str) -> str:
        """The content file a page was made from, or the page itself (site/...) for list pages."""
        sources = self.by_page.get(page, ())
        return sources[0] if len(sources) == 1 else f"site/{page}"

    def _lines(self, source: str) -> list[str]:
        if source not in self._text:
            try:
                self._text[source] = (self.project.root / source).read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._text[source] = []
        return self._text[source]


_LINK_HINTS = {
    "link": "check the page name; pages are linked relative to the page (doctors/yamada-taro.html)",
    "form": "put the file in content/files/ and link it as files/NAME (../files/NAME from a page in a folder)",
    "image": "put the image under content/images/ and check the spelling of the path",
    "asset": "a theme file is missing; check themes/<theme>/static/",
    "anchor": "link to a heading's id as it appears on the target page",
    "external": "check the address in a browser; update or remove the link",
    "unsafe": "write the address starting with https:// (site.yaml: hospital.website, office.contacts[].value)",
}


def _links(project: Project, options: CheckOptions, artifacts: dict, report: CheckReport, progress) -> None:
    site_files = artifacts["site"]
    mail_pages = [a for a in artifacts.get("mail", ()) if a.path.endswith("/index.html")]
    base = _base_url(project)
    result = linkcheck.check_site(site_files, base, mail_pages)
    broken = list(result.broken)
    report.stats["links"] = result.checked
    report.stats["external_links"] = len(result.external)
    if options.external and result.external:
        total = len(result.external)
        done = [0]

        def tick(url: str) -> None:
            done[0] += 1
            if progress:
                progress("external", done[0], total, url)

        broken += linkcheck.check_external(result.external, timeout=options.timeout, progress=tick)
    elif result.external:
        report.skipped["external"] = f"{len(result.external)} external link(s) not checked (use --external)"
    broken = _without_unpublished_copies(broken, mail_pages, {a.path for a in site_files}, base, report)
    sources = _Sources(project, site_files + mail_pages)
    for b in broken:
        prefix = "mail" if b.ref.page in {a.path for a in mail_pages} else "site"
        file, line = sources.locate(b.ref.page, b.ref.url, b.ref.line, prefix)
        message = b.message + (f" (on {prefix}/{b.ref.page})" if not file.startswith(prefix + "/") else "")
        report.findings.append(Finding(file, line, "", f"links.{b.kind}", b.severity, message, _LINK_HINTS[b.kind]))
    _unsubscribe_page(project, base, {a.path for a in site_files}, report)


def _without_unpublished_copies(broken: list, mail_pages: list, site_files: set[str], base: str,
                                report: CheckReport) -> list:
    """A draft (or future-dated) issue links to its own web copy, which the site gets only when the issue is
    published: that link is not broken yet. Every other link of a draft is checked like any other."""
    own = {a.path: f"{base}newsletters/{a.path.split('/')[0]}.html" for a in mail_pages}
    waiting = sorted({b.ref.page.split("/")[0] for b in broken
                      if b.kind == "link" and own.get(b.ref.page) == b.ref.url.split("#")[0]
                      and own[b.ref.page][len(base):] not in site_files})
    if waiting:
        report.skipped["links.web_copy"] = (
            f"the web copy of {', '.join(waiting)} is not checked: the issue is not published yet "
            "(draft: true or dated after the check date); its 「ブラウザで見る」 link works once it is")
    return [b for b in broken if b.ref.page.split("/")[0] not in waiting
            or own.get(b.ref.page) != b.ref.url.split("#")[0]]


def _unsubscribe_page(project: Project, base: str, pages: set[str], report: CheckReport) -> None:
    """newsletter.unsubscribe_url inside the site must be a page of it, unless it is the one-click endpoint
    (newsletter.one_click: true, served by sitegen.send.unsubscribe_app at that address)."""
    settings = read_site_data(project).get("newsletter")
    if not isinstance(settings, dict):
        return
    url = settings.get("unsubscribe_url")
    if not isinstance(url, str) or settings.get("one_click") is True:
        return
    target, site = urlsplit(url.strip()), urlsplit(base)
    if target.netloc.lower() != site.netloc.lower() or not (target.path + "/").startswith(site.path):
        return  # another host or outside the site's folder: not ours to check
    rel = target.path[len(site.path):].lstrip("/")
    wanted = {rel.rstrip("/") + "/index.html"} if rel.endswith("/") or not rel else {rel, rel + ".html", rel + "/index.html"}
    if wanted & pages:
        return
    source = read_site_source(project)
    line = source.line(("newsletter", "unsubscribe_url")) if source is not None else None
    report.findings.append(Finding(
        "site.yaml", line, "newsletter.unsubscribe_url", "links.unsubscribe", "error",
        f"{url} is inside the site ({base}) but the site has no page there: the unsubscribe link of every newsletter "
        "and the unsubscribe button of mail programs would lead to a missing page",
        "deploy the unsubscribe endpoint (sitegen.send.unsubscribe_app) at that address and write "
        "`one_click: true` under newsletter:, or point unsubscribe_url at a page of the site (README: Sending for real)"))


def _base_url(project: Project) -> str:
    site = read_site_data(project).get("site")
    base = str(site.get("base_url") or "") if isinstance(site, dict) else ""
    return base if base.endswith("/") else base + "/"


# --- accessibility ----------------------------------------------------------------------------------------


A11Y_PARALLEL = max(2, min(6, (os.cpu_count() or 2) * 2))  # pages checked at once (each in its own renderer)


def _a11y(project: Project, options: CheckOptions, artifacts: dict, report: CheckReport, progress) -> None:
    site_files = artifacts["site"]
    pages = [a for a in site_files if a.path.endswith(".html")]
    sources = _Sources(project, site_files)
    for a in pages:
        for issue in audit_page(a.read().decode("utf-8", "replace")):
            file, line = sources.locate(a.path, issue.needle, issue.line)
            message = issue.message + ("" if file.startswith("site/") else f" (on site/{a.path})")
            report.findings.append(Finding(file, line, "", issue.rule, issue.severity, message, issue.hint))
    try:
        executable = find_browser(options.browser)
    except BrowserNotFound as exc:
        _skip_axe(report, str(exc))
        return
    with tempfile.TemporaryDirectory(prefix="sitegen-check-") as tmp:
        root = Path(tmp)
        for a in site_files:
            target = root / a.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(a.read())
        try:
            finished = [0]

            def tick(_i: int, file: Path) -> None:
                finished[0] += 1
                if progress:
                    progress("a11y", finished[0], len(pages), file.name)

            state = project.state_path("a11y.json")
            hashes = _page_hashes(site_files, pages)
            todo = pages
            if options.changed:
                before = read_state(state) or {}
                todo = [a for a in pages if before.get(a.path) != [hashes[a.path], 0]]
                if len(todo) < len(pages):
                    report.skipped["a11y.unchanged"] = (f"{len(pages) - len(todo)} page(s) unchanged since the last "
                                                        "check --changed and without findings then: not run through axe-core")
            with AxeRunner(executable) as axe:
                found = axe.check_all([root / a.path for a in todo], parallel=A11Y_PARALLEL, done=tick)
            if options.changed:
                after = {path: value for path, value in (read_state(state) or {}).items() if path in hashes}
                after.update({a.path: [hashes[a.path], len(v)] for a, v in zip(todo, found)})
                if state is not None:  # None: .sitegen is a symbolic link, and nothing is kept
                    write_state(state, dict(sorted(after.items())))
            for a, violations in zip(todo, found):
                for v in violations:
                    severity = "error" if v.impact in ("critical", "serious") else "warning"
                    file = sources.page_source(a.path)
                    where = "" if file.startswith("site/") else f" on site/{a.path}"
                    report.findings.append(Finding(
                        file, None, "", f"a11y.axe.{v.id}", severity, f"{v.help} ({v.impact}){where}: {v.html}",
                        f"{v.help_url} — elements: {', '.join(v.targets)}"))
        except AxeUnavailable as exc:
            _skip_axe(report, str(exc))
            return
    report.stats["a11y_pages"] = len(todo)


def _page_hashes(site_files: list, pages: list) -> dict[str, str]:
    """A page's hash covers its bytes and the theme's stylesheets and scripts (a theme change re-checks every page;
    the search index, which changes with any content, does not)."""
    common = hashlib.sha256()
    for a in sorted(site_files, key=lambda a: a.path):
        if a.path.endswith(".css") or a.path.startswith("assets/js/"):  # the look and behaviour, not data
            common.update(a.path.encode() + b"\0" + a.read())
    base = common.hexdigest()
    return {a.path: hashlib.sha256(base.encode() + a.read()).hexdigest() for a in pages}


def _skip_axe(report: CheckReport, why: str) -> None:
    report.skipped["a11y"] = why
    report.findings.append(Finding("", None, "", "a11y.skipped", "warning",
                                   f"accessibility was not checked in a browser (axe-core): {why}",
                                   "install Chromium (see README: PDF brochures, Browser) and run sitegen check again"))


# --- the partner list ------------------------------------------------------------------------------------


def _recipients(project: Project, report: CheckReport) -> None:
    settings = read_site_data(project).get("newsletter")
    if not isinstance(settings, dict):
        report.skipped["recipients"] = "no newsletter: section in site.yaml"
        return
    if not isinstance(settings.get("recipients", ""), str):  # a wrong type is a content error, reported there
        report.skipped["recipients"] = "newsletter.recipients in site.yaml is not a file name"
        return
    if partners.published_setting(project, settings.get("recipients")) is not None:  # a content error already
        report.skipped["recipients"] = "newsletter.recipients names a folder that is published or built"
        return
    try:
        path, shown = partners.locate(project, settings.get("recipients"), None)
    except SitegenError as exc:
        source = read_site_source(project)
        line = source.line(("newsletter", "recipients")) if source is not None else None
        report.findings.append(Finding("site.yaml", line, "newsletter.recipients", "recipients.location", "error", str(exc)))
        return
    if not path.is_file():
        report.skipped["recipients"] = f"{shown} not found (a private list is often kept out of CI); not checked"
        return
    problems = ProblemList()
    loaded = partners.load(path, shown, problems)
    for p in problems.items:
        rule = "recipients.duplicate" if "is also on line" in p.message else "recipients.row"
        report.findings.append(Finding(p.location.path, p.location.line, p.field, rule, p.severity, p.message,
                                       "keep one row per address" if rule == "recipients.duplicate" else ""))
    if loaded is None:
        return
    for row in loaded.invalid:
        # send skips and lists such rows; it matters only for a row that is meant to be mailed
        severity = "info" if row.status in partners.OPTED_OUT else "warning"
        report.findings.append(Finding(shown, row.line, "email", "recipients.address", severity, f"{row.address!r}: {row.reason}",
                                       "correct the address, or set status to bounced or unsubscribed; "
                                       "sitegen send skips it"))
    for partner in loaded.partners:
        if partner.recipient.status is None:
            report.findings.append(Finding(
                shown, partner.line, "status", "recipients.status", "error", f"{partner.email}: {partner.unclear}",
                "write subscribed (with the opt-in date), unsubscribed or bounced; sitegen send does not mail it"))
        elif partner.unclear:
            report.findings.append(Finding(
                shown, partner.line, "opted_in", "recipients.opt-in", "error", f"{partner.email}: {partner.unclear}",
                "write the date the clinic agreed to receive the newsletter (2025-04-01), or set status to unsubscribed"))
    report.stats["recipients"] = len(loaded.partners)
