"""Site -> email newsletters (build/mail/<issue>/). Their web archive pages are web pages (web/render.py).

Per issue, Jinja renders the theme's `mail/newsletter.mjml` and `mail/newsletter.txt`, MRML
compiles the MJML once (mjml_compile.py), and the result is kept with two markers
(salutation, unsubscribe link) in `template.html` / `template.txt`. `sitegen send`
fills the markers per recipient. The files a person looks at are the same template
filled for a generic reader:

  index.html     the email as HTML            index.txt    the plain-text part
  newsletter.mjml  the MJML that was compiled   sample.eml   a complete sample message
  template.html, template.txt, manifest.json   what `sitegen send` reads
"""
from __future__ import annotations

import json
from dataclasses import asdict
from functools import partial

import jinja2
from markupsafe import Markup

from sitegen import urls
from sitegen.artifacts import Artifact, Rendered, RenderOptions
from sitegen.colour import AA_TEXT, contrast
from sitegen.content.partners import list_id_for
from sitegen.content.site import Issue, Site
from sitegen.errors import Location, Problem, SitegenError
from sitegen.mail.message import SALUTATION, UNSUBSCRIBE, Manifest, build_message, personalise, to_bytes
from sitegen.mail.mjml_compile import MjmlError, compile_mjml
from sitegen.mail.plaintext import html_to_text
from sitegen.project import Project
from sitegen.templates import make_environment, theme_dirs, theme_files

GMAIL_CLIP_BYTES = 102 * 1024
TEMPLATE_MJML = "newsletter.mjml"
TEMPLATE_TEXT = "newsletter.txt"


def environment(project: Project, site: Site) -> jinja2.Environment:
    """The mail environment of the site's theme (`theme_environment`)."""
    return theme_environment(project, site.settings.theme, site.settings.base_url)


def theme_environment(project: Project, theme: str, base: str) -> jinja2.Environment:
    """The mail environment: autoescape for .mjml and .html, none for the plain text; links made absolute on
    `base`."""
    env = make_environment(project, theme, "mail", autoescape=lambda name: not (name or "").endswith(".txt"))
    env.filters["mail_html"] = lambda html: Markup(urls.absolute_links(html, base))
    env.filters["as_text"] = lambda html: html_to_text(html, base)
    return env


def render(project: Project, site: Site, options: RenderOptions | None = None) -> Rendered:
    out = Rendered()
    if not site.newsletters:
        return out
    env = environment(project, site)
    for issue in site.newsletters:
        built = render_issue(project, site, issue, env)
        out.artifacts.extend(built)
        size = len(next(a.read() for a in built if a.path.endswith("/index.html")))
        if size > GMAIL_CLIP_BYTES:
            out.warnings.append(Problem(Location(issue.source), "", f"the email is {size:,} bytes; Gmail clips messages over "
                                        f"{GMAIL_CLIP_BYTES:,} bytes (~102 KB): shorten it or move sections to the website", "warning"))
    out.counts["newsletters"] = len(site.newsletters)
    return out


def manifest_for(site: Site, issue: Issue) -> Manifest:
    n = site.config.newsletter
    assert n is not None
    return Manifest(
        issue=issue.slug, series=issue.series, number=issue.number, date=issue.date.isoformat(),
        subject=issue.subject, from_name=n.from_name, from_address=n.from_address, reply_to=n.reply_to,
        list_id=list_id_for(n), unsubscribe_url=n.unsubscribe_url,
        unsubscribe_mailto=n.unsubscribe_mailto, web_url=_abs(site, "newsletter", issue.slug),
        build_date=site.today.isoformat(), draft=issue.draft, one_click=n.one_click,
    )


def render_issue(project: Project, site: Site, issue: Issue, env: jinja2.Environment | None = None) -> list[Artifact]:
    """The files of one issue, in memory."""
    env = env or environment(project, site)
    manifest = manifest_for(site, issue)
    ctx = _context(site, issue, manifest)
    mjml_text = env.get_template(TEMPLATE_MJML).render(ctx)
    try:
        compiled = compile_mjml(mjml_text)
    except MjmlError as exc:
        where = f"{_template_path(project, site)} rendered for {issue.source}"
        own = theme_files(project, [d / "mail" for d in theme_dirs(project, site.settings.theme)[0]])
        raise SitegenError(f"{where}: {exc}" + (f" (the site's own mail templates: {', '.join(own)})" if own else "")) \
            from None
    text = env.get_template(TEMPLATE_TEXT).render(ctx)
    preview_html, preview_text = personalise(compiled.html, text, manifest, None)
    sample = build_message(manifest, compiled.html, text, None, to_address=f"sample@{manifest.domain}")
    sources = (issue.source,)
    d = issue.slug + "/"
    return [
        Artifact(d + "index.html", preview_html.encode("utf-8"), sources),
        Artifact(d + "index.txt", preview_text.encode("utf-8"), sources),
        Artifact(d + "newsletter.mjml", mjml_text.encode("utf-8"), sources),
        Artifact(d + "sample.eml", to_bytes(sample), sources),
        Artifact(d + "template.html", compiled.html.encode("utf-8"), sources),
        Artifact(d + "template.txt", text.encode("utf-8"), sources),
        Artifact(d + "manifest.json", (json.dumps(asdict(manifest), ensure_ascii=False, indent=2) + "\n").encode("utf-8"), sources),
    ]


def _template_path(project: Project, site: Site) -> str:
    site_dirs, packaged = theme_dirs(project, site.settings.theme)
    for d in site_dirs + packaged:
        if (d / "mail" / TEMPLATE_MJML).is_file():
            return project.rel(d / "mail" / TEMPLATE_MJML)
    return TEMPLATE_MJML


def _abs(site: Site, kind: str, slug: str | None = None) -> str:
    return urls.absolute(site.settings.base_url, urls.page_path(kind, slug))


def ink(hex_colour: str, background: str = "#FFFFFF", target: float = AA_TEXT) -> str:
    """The colour, darkened step by step until text in it (or white text on it) reaches AA contrast."""
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    for k in range(100, -1, -2):
        shade = "#%02X%02X%02X" % (round(r * k / 100), round(g * k / 100), round(b * k / 100))
        if contrast(shade, background) >= target + 0.3:
            return shade
    return "#000000"


def _context(site: Site, issue: Issue, manifest: Manifest) -> dict:
    base = site.settings.base_url
    c = site.settings.colours
    return {
        "site": site,
        "issue": issue,
        "sections": issue.sections,
        "subject": issue.subject,
        "preheader": issue.preheader,
        "series": issue.series,
        "settings": site.config.newsletter,
        "salutation": SALUTATION,
        "unsubscribe_url": UNSUBSCRIBE,
        "unsubscribe_mailto": manifest.unsubscribe_mailto,
        "web_url": manifest.web_url,
        "home_url": base,
        "colours": {"primary": ink(c.primary), "accent": ink(c.accent), "text": ink(c.text), "tint": "#F3F6F8"},
        "abs_url": partial(_abs, site),
        "abs_file": lambda name: urls.absolute(base, urls.content_file_path(name)),
        "department_names": lambda doctor: "・".join(site.department(s).name for s in doctor.departments),
    }
