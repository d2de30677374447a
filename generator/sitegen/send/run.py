"""`sitegen send`: mail a built issue to the partner list, exactly once per recipient.

1. `prepare` reads the built issue (build/mail/<issue>/), renders it again in memory from the
   current content and refuses when the two differ (the content changed since the build);
   reads the partner list, applies segments and the journal, and says what will happen.
2. `deliver` sends one message per recipient through one SMTP connection (smtp_link.py), at a
   fixed rate, recording each recipient in the journal before (`sending`) and after (`sent`)
   the server accepted it. Temporary failures are retried with backoff; permanent ones mark the
   address bounced. `dry_run` and `send_test` are the two ways to look before sending for real.

No printing here: progress goes to a callback and the result is a SendReport.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from sitegen.content import partners as rl
from sitegen.content.newsletter_models import SmtpSettings
from sitegen.errors import ContentError, ProblemList, did_you_mean
from sitegen.mail.message import JST, Manifest, build_message, message_id, to_bytes
from sitegen.project import Project
from sitegen.send.journal import JournalView
from sitegen.send.smtp import AMBIGUOUS, PERMANENT, SENT, UNREACHABLE, Link, SendError, SmtpConfig

__all__ = ["SendError", "StaleBuild", "Plan", "SendReport", "Pace", "SmtpConfig", "prepare", "deliver", "dry_run",
           "send_test", "dry_run_dir"]


class StaleBuild(SendError):
    """The built issue is not what the content gives now."""


@dataclass(frozen=True)
class Plan:
    manifest: Manifest
    html: str
    text: str
    smtp: SmtpSettings | None
    recipients_path: str
    to_send: tuple[rl.Partner, ...]
    skipped: dict[str, int]  # reason -> count (unsubscribed, bounced, already sent, not in the segment)
    invalid: tuple[tuple[int, str, str], ...]  # (line, address, reason)
    ambiguous: tuple[str, ...]  # in flight at an earlier crash; not sent until a person decides
    warnings: tuple[str, ...] = ()


@dataclass
class SendReport:
    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # temporary failures left after the retries
    bounced: list[tuple[str, str]] = field(default_factory=list)  # permanent failures
    skipped: dict[str, int] = field(default_factory=dict)
    ambiguous: list[str] = field(default_factory=list)  # earlier crash + dropped after hand-over in this run
    retries: int = 0
    seconds: float = 0.0
    stopped: str = ""  # why the run stopped early (server unreachable, login failed); rerun to continue


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
    from sitegen.build import load_site

    try:
        site, _ = load_site(project, dt.date.fromisoformat(manifest.build_date))
    except ContentError as exc:
        raise SendError("the content has errors now; fix them and run `sitegen build`:\n" + "\n".join(exc.lines())) from None
    return site


def check_fresh(project: Project, site, manifest: Manifest) -> None:
    """Render the issue again from the current content (as of the build's date) and compare byte for byte."""
    from sitegen.mail.render import render_issue

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
        path, shown = rl.locate(project, n.recipients if n else None, recipients)
    except rl.RecipientListError as exc:
        raise SendError(str(exc)) from None
    problems = ProblemList()
    loaded = rl.load(path, shown, problems)
    problems.raise_if_errors()
    assert loaded is not None
    warnings = [str(w) for w in problems.warnings] + _segment_warnings(loaded, segments or {})
    states = journal.states() if journal else {}
    bounced = journal.bounced() if journal else set()
    skipped: dict[str, int] = {}
    to_send, ambiguous = [], []

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for p in loaded.partners:
        state = states.get(p.key)
        if segments and not rl.matches(p.recipient, segments):
            skip("not in the segment")
        elif p.recipient.status != "subscribed":
            skip(p.recipient.status)
        elif state == "sent":
            skip("already sent")
        elif p.key in bounced or state == "bounced":
            skip("bounced earlier")
        elif state == "ambiguous":
            ambiguous.append(p.email)
        else:
            to_send.append(p)
    return Plan(manifest, html, text, site.config.smtp, shown, tuple(to_send), skipped, loaded.invalid,
                tuple(ambiguous), tuple(warnings))


def _segment_warnings(loaded: rl.RecipientList, segments: Mapping[str, set[str]]) -> list[str]:
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


# --- 2. sending -----------------------------------------------------------------------------

Progress = Callable[[int, int, str, str], None]  # (done, total, address, outcome)


@dataclass(frozen=True)
class Pace:
    rate: float  # messages per second
    attempts: int = 4  # per recipient and run
    backoff: float = 1.0  # seconds before the first retry; doubled each time, at most 60
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(JST)


def deliver(plan: Plan, journal, smtp: SmtpConfig, pace: Pace, progress: Progress | None = None,
            connect: Callable | None = None) -> SendReport:
    """Send `plan.to_send`, one journal transaction before and after each message."""
    report = SendReport(skipped=dict(plan.skipped), ambiguous=list(plan.ambiguous))
    link = Link(connect or smtp.connect, smtp.where)
    started = next_at = pace.clock()
    interval = 1.0 / pace.rate
    total = len(plan.to_send)
    m = plan.manifest
    try:
        for done, partner in enumerate(plan.to_send, 1):
            data = to_bytes(build_message(m, plan.html, plan.text, partner.recipient, date=pace.now()))
            mid = message_id(m, partner.email)
            attempt = 0
            while True:
                wait = next_at - pace.clock()
                if wait > 0:
                    pace.sleep(wait)
                next_at = max(next_at, pace.clock()) + interval  # each message starts >= 1/rate after the one before
                attempt += 1
                journal.mark(partner.key, "sending", message_id=mid, attempt=True)
                try:
                    outcome, error = link.send(m.from_address, partner.email, data)
                except SendError as exc:  # nothing can be sent: this one was not either
                    journal.mark(partner.key, "pending", error=str(exc))
                    report.stopped = str(exc)
                    return report
                if outcome == SENT:
                    journal.mark(partner.key, "sent")
                    report.sent += 1
                elif outcome == PERMANENT:
                    journal.mark(partner.key, "bounced", error=error)
                    report.bounced.append((partner.email, error))
                elif outcome == AMBIGUOUS:
                    journal.mark(partner.key, "ambiguous", error=error)
                    report.ambiguous.append(partner.email)
                elif attempt >= pace.attempts:
                    journal.mark(partner.key, "failed", error=error)
                    report.failed.append((partner.email, error))
                    if outcome == UNREACHABLE:  # the server is down: stop instead of failing everyone slowly
                        report.stopped = f"{error} ({attempt} attempts); run the same command again later"
                        return report
                else:
                    journal.mark(partner.key, "pending", error=error)
                    report.retries += 1
                    pace.sleep(min(pace.backoff * 2 ** (attempt - 1), 60.0))
                    continue
                break
            if progress:
                progress(done, total, partner.email, outcome if outcome in (SENT, AMBIGUOUS) else
                         "bounced" if outcome == PERMANENT else "failed")
    finally:
        link.close()
        report.seconds = pace.clock() - started
    return report


# --- looking before sending ---------------------------------------------------------------


def dry_run_dir(project: Project, issue: str, out_dir: str | Path | None = None) -> Path:
    """The folder of a dry run: --out-dir, or next to the journal. Never under content/, themes/ or build/:
    the files hold the partners' addresses."""
    if out_dir is None:
        return project.root / ".sitegen" / "dry-run" / issue
    folder = Path(out_dir).resolve()
    for published in (project.content, project.themes, project.out):
        if folder == published.resolve() or published.resolve() in folder.parents:
            raise SendError(f"--out-dir: {folder} is under {project.rel(published)}/; the messages hold the partners' "
                            "addresses and must not be published or built: choose another folder")
    return folder


_DRY_NAME = re.compile(r"\d{5}-.+\.eml")


def dry_run(plan: Plan, folder: Path, now: dt.datetime) -> list[Path]:
    """Write the exact messages to `folder` (one .eml per recipient); send nothing.

    Only .eml files an earlier dry run wrote (numbered names) are replaced; nothing else is touched."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.eml"):
        if _DRY_NAME.fullmatch(old.name):
            old.unlink()
    written = []
    for i, p in enumerate(plan.to_send, 1):
        path = folder / f"{i:05d}-{re.sub(r'[^A-Za-z0-9._-]', '_', p.key)}.eml"
        path.write_bytes(to_bytes(build_message(plan.manifest, plan.html, plan.text, p.recipient, date=now)))
        written.append(path)
    return written


def send_test(plan: Plan, smtp: SmtpConfig, address: str, now: dt.datetime, connect: Callable | None = None) -> str:
    """One real message, personalised as for the first recipient, to `address`. Returns its Message-ID.

    The journal is not touched: a test send does not count as sent to anyone."""
    sample = plan.to_send[0].recipient if plan.to_send else None
    msg = build_message(plan.manifest, plan.html, plan.text, sample, to_address=address, date=now,
                        subject_prefix="[テスト送信] ")
    link = Link(connect or smtp.connect, smtp.where)
    try:
        outcome, error = link.send(plan.manifest.from_address, address, to_bytes(msg))
    finally:
        link.close()
    if outcome != SENT:
        raise SendError(f"the test message to {address} was not accepted ({outcome}): {error}")
    return msg["Message-ID"]


def with_rate(pace: Pace, rate: float | None) -> Pace:
    return dataclasses.replace(pace, rate=rate) if rate else pace
