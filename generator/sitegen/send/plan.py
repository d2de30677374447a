"""What `sitegen send` will do: the built issue, checked against the current content, and who gets it.

`prepare` reads the built issue (build/mail/<issue>/), renders it again in memory from the
current content and refuses when the two differ (the content changed since the build);
reads the partner list, applies consent, segments and the journal, and says what will happen.
Consent decides first: only a row with status `subscribed` and an opt-in date is mailed
(特定電子メール法); a row without a status or a date is listed as unclear and not mailed.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from sitegen.build import load_site
from sitegen.content import partners
from sitegen.content.newsletter_models import SmtpSettings
from sitegen.errors import ContentError, ProblemList, did_you_mean
from sitegen.mail.message import Manifest
from sitegen.mail.render import render_issue
from sitegen.project import Project
from sitegen.send.journal import JournalView
from sitegen.send.smtp import SendError


class StaleBuild(SendError):
    """The built issue is not what the content gives now."""


@dataclass(frozen=True)
class Plan:
    manifest: Manifest
    html: str
    text: str
    smtp: SmtpSettings | None
    recipients_path: str
    to_send: tuple[partners.Partner, ...]
    skipped: dict[str, int]  # reason -> count (unsubscribed, bounced, already sent, not in the segment)
    invalid: tuple[partners.InvalidRow, ...]  # unusable addresses: listed, never mailed
    ambiguous: tuple[str, ...]  # in flight at an earlier crash; not sent until a person decides
    warnings: tuple[str, ...] = ()
    unclear: tuple[partners.Partner, ...] = ()  # no status or no opt-in date: listed, never mailed
    secret: bytes | None = field(default=None, repr=False)  # signs the unsubscribe tokens (run.unsubscribe_secret)


# --- 1. what will be sent ---------------------------------------------------------------


def read_built(project: Project, issue: str) -> tuple[Manifest, str, str]:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", issue):
        raise SendError(f"{issue!r} is not an issue id; issues are the file names in content/newsletters/ without .md")
    folder = project.out / "mail" / issue
    if not (folder / "manifest.json").is_file():
        known = sorted(p.parent.name for p in (project.out / "mail").glob("*/manifest.json"))
        hint = did_you_mean(issue, known) or (f" (built: {', '.join(known)})" if known else "")
        raise SendError(f"{project.rel(folder)} has not been built{hint}: run `sitegen build` first")
    try:
        manifest = Manifest(**json.loads((folder / "manifest.json").read_text(encoding="utf-8")))
        html = (folder / "template.html").read_text(encoding="utf-8")
        text = (folder / "template.txt").read_text(encoding="utf-8")
    except (OSError, ValueError, TypeError) as exc:
        raise StaleBuild(f"{project.rel(folder)} is incomplete or from another sitegen version ({exc}); "
                         "run `sitegen build`") from None
    return manifest, html, text


def load_current(project: Project, manifest: Manifest):
    try:
        site, _ = load_site(project, dt.date.fromisoformat(manifest.build_date))
    except ContentError as exc:
        raise SendError("the content has errors now; fix them and run `sitegen build`:\n" + "\n".join(exc.lines())) from None
    return site


def check_fresh(project: Project, site, manifest: Manifest) -> None:
    """Render the issue again from the current content (as of the build's date) and compare byte for byte."""
    issue = next((i for i in site.newsletters if i.slug == manifest.issue), None)
    if issue is None:
        raise StaleBuild(f"issue {manifest.issue} is no longer in content/newsletters/; run `sitegen build`")
    folder = project.out / "mail" / manifest.issue
    changed = [a.path for a in render_issue(project, site, issue)
               if not (project.out / "mail" / a.path).is_file() or (project.out / "mail" / a.path).read_bytes() != a.data]
    if changed:
        names = ", ".join(p.split("/", 1)[1] for p in changed)
        raise StaleBuild(f"the content or theme changed since {project.rel(folder)} was built ({names} would differ); "
                         "run `sitegen build`, look at the result, then send")


def prepare(project: Project, issue: str, *, journal: JournalView | None = None, recipients: str | Path | None = None,
            segments: Mapping[str, set[str]] | None = None, allow_draft: bool = False) -> Plan:
    manifest, html, text = read_built(project, issue)
    site = load_current(project, manifest)
    check_fresh(project, site, manifest)
    if manifest.draft and not allow_draft:
        raise SendError(f"{issue} is a draft (draft: true); remove the flag, build, then send "
                        "(--dry-run and --test-to work on drafts)")
    n = site.config.newsletter
    try:
        path, shown = partners.locate(project, n.recipients if n else None, recipients)
    except partners.RecipientListError as exc:
        raise SendError(str(exc)) from None
    problems = ProblemList()
    loaded = partners.load(path, shown, problems)
    problems.raise_if_errors()
    assert loaded is not None
    warnings = [str(w) for w in problems.warnings] + _segment_warnings(loaded, segments or {})
    states = journal.states() if journal else {}
    bounced = journal.bounced() if journal else set()
    unsubscribed = journal.unsubscribed() if journal else set()
    skipped: dict[str, int] = {}
    to_send, ambiguous, unclear = [], [], []

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for p in loaded.partners:
        state = states.get(p.key)
        if segments and not partners.matches(p.recipient, segments):
            skip("not in the segment")
        elif p.recipient.status in partners.OPTED_OUT:
            skip(p.recipient.status)
        elif p.key in unsubscribed:
            skip("unsubscribed")  # through the link or by mail (sitegen unsubscribes)
        elif not p.mailable:
            unclear.append(p)
        elif state == "sent":
            skip("already sent")
        elif p.key in bounced or state == "bounced":
            skip("bounced earlier")
        elif state == "ambiguous":
            ambiguous.append(p.email)
        else:
            to_send.append(p)
    return Plan(manifest, html, text, site.config.smtp, shown, tuple(to_send), skipped, loaded.invalid,
                tuple(ambiguous), tuple(warnings), tuple(unclear))


def _segment_warnings(loaded: partners.RecipientList, segments: Mapping[str, set[str]]) -> list[str]:
    """A value nobody on the list has is most likely a typo (湊区 for 港区)."""
    known = {"area": {p.recipient.area for p in loaded.partners},
             "specialty": {s for p in loaded.partners for s in p.recipient.specialties},
             "status": {"subscribed", "unsubscribed", "bounced"}, "registered": {"true", "false"}}
    out = []
    for key, values in segments.items():
        for v in sorted(values):
            if key in known and (v.lower() if key == "registered" else v) not in known[key]:
                out.append(f"--segment {key}={v}: no partner on {loaded.path} has this {key}"
                           f"{did_you_mean(v, known[key])}")
    return out


