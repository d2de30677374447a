"""`sitegen send`: mail a built issue to the partner list, exactly once per recipient.

1. `prepare` (plan.py) says what will happen: the built issue, checked against the current
   content, and who gets it (consent, segments, the journal).
2. `deliver` sends one message per recipient through one SMTP connection (smtp.py), at a
   fixed rate, recording each recipient in the journal before (`sending`) and after (`sent`)
   the server accepted it. Temporary failures are retried with backoff; permanent ones mark the
   address bounced. `dry_run` and `send_test` are the two ways to look before sending for real.
3. `run` is the whole send as the CLI asks for it: journal, plan, confirmation, delivery.

No printing here: the plan and progress go to callbacks and the result is a SendReport.
"""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from sitegen.mail.message import JST, build_message, message_id, to_bytes
from sitegen.project import Project, replacing
from sitegen.send.journal import Journal, JournalView, journal_dir
from sitegen.send.plan import Plan, StaleBuild, prepare
from sitegen.send.smtp import AMBIGUOUS, HINTS, PERMANENT, REFUSED, RELAY, SENT, UNREACHABLE, Link, SendError, SmtpConfig
from sitegen.send.unsubscribes import SECRET_ENV

__all__ = ["SendError", "StaleBuild", "Plan", "SendReport", "Pace", "SmtpConfig", "prepare", "deliver", "dry_run",
           "send_test", "dry_run_dir", "run", "preview", "Outcome", "unsubscribe_secret", "SECRET_ENV"]


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
    not_tried: int = 0  # recipients a stopped run did not get to


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


REFUSED_STREAK = 3  # the same unexplained 5xx for this many different recipients in a row: the relay refuses all


class _Window:
    """Pacing: each message starts at least 1/rate after the one before, and no one-second window
    (however it is placed) holds more than max(1, floor(rate)) starts."""

    def __init__(self, pace: Pace):
        self.pace = pace
        self.limit = max(1, math.floor(pace.rate))
        self.starts: collections.deque[float] = collections.deque(maxlen=self.limit)

    def wait(self) -> None:
        now = self.pace.clock()
        earliest = now
        if self.starts:
            earliest = max(earliest, self.starts[-1] + 1.0 / self.pace.rate)
        if len(self.starts) == self.limit:
            earliest = max(earliest, self.starts[0] + 1.0 + 1e-3)
        if earliest > now:
            self.pace.sleep(earliest - now)
        self.starts.append(max(self.pace.clock(), earliest))


def _signature(reply: str) -> str:
    """A reply without what differs per recipient (addresses, numbers, ids)."""
    return re.sub(r"\S+@\S+|[0-9A-F]{6,}|\d+", "#", reply.split(" ", 1)[-1]).strip().lower() + reply[:3]


def deliver(plan: Plan, journal, smtp: SmtpConfig, pace: Pace, progress: Progress | None = None,
            connect: Callable | None = None) -> SendReport:
    """Send `plan.to_send`, one journal transaction before and after each message.

    A recipient is marked `sending` only once the connection is up. A refusal of the relay itself
    (login, relaying, policy, content; or the same unexplained 5xx for several recipients in a row)
    stops the run and marks nobody bounced; only a recipient-specific 5xx bounces that address."""
    report = SendReport(skipped=dict(plan.skipped), ambiguous=list(plan.ambiguous))
    link = Link(connect or smtp.connect, smtp.where)
    window = _Window(pace)
    started = pace.clock()
    total = len(plan.to_send)
    m = plan.manifest
    streak: list[tuple[str, str]] = []  # (key, address) refused with the same unexplained reply, in a row
    streak_sig = ""

    def stop(why: str, done: int) -> SendReport:
        report.stopped = why
        report.not_tried = total - done
        return report

    try:
        for done, partner in enumerate(plan.to_send, 1):
            data = to_bytes(build_message(m, plan.html, plan.text, partner.recipient, date=pace.now(), secret=plan.secret))
            mid = message_id(m, partner.email)
            attempt = 0
            while True:
                window.wait()
                attempt += 1
                try:
                    problem = link.open()
                    if problem:
                        outcome, error = UNREACHABLE, problem
                    else:
                        journal.mark(partner.key, "sending", message_id=mid, attempt=True)
                        outcome, error = link.send(smtp.sender_for(m.from_address, partner.email), partner.email, data)
                except SendError as exc:  # nothing can be sent: this one was not either
                    journal.mark(partner.key, "pending", error=str(exc))
                    return stop(str(exc), done - 1)
                if outcome == RELAY:
                    journal.mark(partner.key, "pending", error=error)
                    return stop(relay_refusal(smtp.where, error), done - 1)
                if outcome == REFUSED:
                    sig = _signature(error)
                    streak = streak if sig == streak_sig else []
                    streak_sig = sig
                    streak.append((partner.key, partner.email))
                    if len(streak) >= REFUSED_STREAK:
                        refused = {address for _, address in streak}
                        for key, _ in streak:
                            journal.unbounce(key, error="refused like the others: not counted as a bounce")
                        report.bounced = [b for b in report.bounced if b[0] not in refused]
                        return stop(relay_refusal(smtp.where, error, len(streak)), done - len(streak))
                    outcome = PERMANENT
                elif outcome == SENT:
                    streak, streak_sig = [], ""
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
                        return stop(f"{error} ({attempt} attempts); run the same command again later", done)
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


def relay_refusal(where: str, reply: str, recipients: int = 1) -> str:
    """Why the run stopped when the relay refuses everyone, with what to do."""
    who = f"{recipients} recipients in a row" if recipients > 1 else "the message"
    hint = HINTS["auth"] if re.search(r"\b5\.7\.[01]\b|relay|auth", reply, re.I) else HINTS["content"]
    return f"{where} refused {who} for a reason that is not the address ({reply}); {hint}"


# --- looking before sending ---------------------------------------------------------------


DRY_RUN_MARKER = ".sitegen-dry-run"


def dry_run_dir(project: Project, issue: str, out_dir: str | Path | None = None) -> Path:
    """The folder of a dry run: --out-dir, or next to the journal. Never under content/, themes/ or build/
    (the files hold the partners' addresses), never the site or a folder above it, and never a folder with
    other files in it that an earlier dry run did not make."""
    if out_dir is None:
        folder = project.state_path("dry-run", issue)
        if folder is None:
            raise SendError(".sitegen or a folder under it is a symbolic link; the dry run writes only inside the "
                            "site: remove the link, or choose a folder with --out-dir")
        return folder
    folder = Path(out_dir).resolve()
    for published in (project.content, project.themes, project.out):
        if folder == published.resolve() or published.resolve() in folder.parents:
            raise SendError(f"--out-dir: {folder} is under {project.rel(published)}/; the messages hold the partners' "
                            "addresses and must not be published or built: choose another folder")
    if folder == project.root or folder in project.root.parents or (folder / ".git").exists() \
            or (folder / "site.yaml").exists():
        raise SendError(f"--out-dir: refusing {folder}: it holds the site or a repository; choose an empty folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / DRY_RUN_MARKER).exists():
        raise SendError(f"--out-dir: {folder} is not empty and was not made by a dry run; choose an empty folder")
    if folder.exists() and not folder.is_dir():
        raise SendError(f"--out-dir: {folder} is a file")
    return folder


_DRY_NAME = re.compile(r"\d{5}-.+\.eml")


def dry_run(plan: Plan, folder: Path, now: dt.datetime) -> list[Path]:
    """Write the exact messages to `folder` (one .eml per recipient); send nothing.

    Only .eml files an earlier dry run wrote (numbered names) are replaced; nothing else is touched."""
    folder.mkdir(parents=True, exist_ok=True)
    with replacing(folder / DRY_RUN_MARKER) as marker:  # never through a link planted under one of these names
        marker.write(b"Messages written by `sitegen send --dry-run`; replaced by the next one.\n")
    for old in folder.glob("*.eml"):
        if _DRY_NAME.fullmatch(old.name):
            old.unlink()
    written = []
    for i, p in enumerate(plan.to_send, 1):
        path = folder / f"{i:05d}-{re.sub(r'[^A-Za-z0-9._-]', '_', p.key)}.eml"
        with replacing(path) as out:
            out.write(to_bytes(build_message(plan.manifest, plan.html, plan.text, p.recipient, date=now,
                                             secret=plan.secret)))
        written.append(path)
    return written


def send_test(plan: Plan, smtp: SmtpConfig, address: str, now: dt.datetime, connect: Callable | None = None) -> str:
    """One real message, personalised as for the first recipient, to `address`. Returns its Message-ID.

    The journal is not touched: a test send does not count as sent to anyone."""
    sample = plan.to_send[0].recipient if plan.to_send else None
    msg = build_message(plan.manifest, plan.html, plan.text, sample, to_address=address, date=now,
                        subject_prefix="[テスト送信] ", secret=plan.secret)
    link = Link(connect or smtp.connect, smtp.where)
    try:
        outcome, error = link.send(smtp.sender_for(plan.manifest.from_address, address), address, to_bytes(msg))
    finally:
        link.close()
    if outcome != SENT:
        raise SendError(f"the test message to {address} was not accepted ({outcome}): {error}")
    return msg["Message-ID"]


def with_rate(pace: Pace, rate: float | None) -> Pace:
    return dataclasses.replace(pace, rate=rate) if rate else pace


# --- the whole send, as the CLI asks for it ---------------------------------------------------


@dataclass
class Outcome:
    plan: Plan
    journal: str  # the journal's folder, as shown to people
    report: SendReport | None = None  # None: nothing was sent (nothing to send, or not confirmed)
    resolved: list[tuple[str, str]] = field(default_factory=list)  # (address, 'sent' or 'resend') decided by a person
    confirmed: bool = True
    where: str = ""  # the SMTP server


def run(project: Project, issue: str, *, recipients: str | Path | None = None,
        segments: Mapping[str, set[str]] | None = None, rate: float | None = None,
        resolve_ambiguous: Sequence[tuple[str | None, str]] = (), show: Callable[[Plan, str], None] = lambda plan, journal: None,
        confirm: Callable[[Plan, str], bool] = lambda plan, where: True, progress: Progress | None = None,
        environ: Mapping[str, str] | None = None, connect: Callable | None = None) -> Outcome:
    """Send `issue` to everyone on the list who has not had it: lock the journal, apply the decisions about
    ambiguous recipients ((address or None for all, 'sent' or 'resend')), make the plan, `show` it, ask
    `confirm(plan, server)`, deliver."""
    jdir = journal_dir(project)
    shown = project.rel(jdir)
    with Journal(jdir, issue) as journal:
        waiting = set(journal.ambiguous())
        unknown = [a for a, _ in resolve_ambiguous if a is not None and a.lower() not in waiting]
        if unknown:
            raise SendError(f"--resolve-ambiguous: not ambiguous in {issue}: {', '.join(unknown)}"
                            + (f" (ambiguous: {', '.join(sorted(waiting))})" if waiting else " (none is)"))
        resolved = [(address, decision) for who, decision in resolve_ambiguous
                    for address in journal.resolve_ambiguous(decision, None if who is None else {who.lower()})]
        env = os.environ if environ is None else environ
        plan = prepare(project, issue, journal=journal, recipients=recipients, segments=segments)
        if plan.to_send:
            plan = with_secret(plan, env, real=True)
        smtp = SmtpConfig.from_settings(plan.smtp, env, project.root)
        show(plan, shown)
        outcome = Outcome(plan, shown, resolved=resolved, where=smtp.where)
        if not plan.to_send:
            return outcome
        if not confirm(plan, smtp.where):
            outcome.confirmed = False
            return outcome
        pace = with_rate(Pace(rate=plan.smtp.rate if plan.smtp else 5.0), rate)
        outcome.report = deliver(plan, journal, smtp, pace, progress, connect=connect)
        return outcome


def preview(project: Project, issue: str, *, recipients: str | Path | None = None,
            segments: Mapping[str, set[str]] | None = None, environ: Mapping[str, str] | None = None) -> Plan:
    """The plan of a dry run or test send (drafts allowed), read from the journal without locking it.
    Without SITEGEN_UNSUBSCRIBE_SECRET its unsubscribe links carry a placeholder token (said in the warnings)."""
    view = JournalView(journal_dir(project), issue)
    try:
        plan = prepare(project, issue, journal=view, recipients=recipients, segments=segments, allow_draft=True)
    finally:
        view.close()
    return with_secret(plan, os.environ if environ is None else environ, real=False)


# --- the unsubscribe secret ---------------------------------------------------------------------

MIN_SECRET_LENGTH = 16
# dry runs and test sends without the secret: links that look real but that `sitegen unsubscribes` never accepts
PLACEHOLDER_SECRET = b"sitegen placeholder, not the office's secret"


def unsubscribe_secret(environ: Mapping[str, str], *, one_click: bool, real: bool) -> tuple[bytes | None, str]:
    """(the key that signs unsubscribe tokens, a warning or ''), from SITEGEN_UNSUBSCRIBE_SECRET.

    A real send with one-click unsubscribe refuses without it: the endpoint could not be mapped back to anyone.
    Without one-click a real send goes out with plain links (no token); a dry run or test send uses a placeholder."""
    value = environ.get(SECRET_ENV, "")
    if value:
        if len(value) < MIN_SECRET_LENGTH or not value.isascii():
            raise SendError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} ASCII characters; make one with "
                            "`python3 -c 'import secrets; print(secrets.token_hex(32))'` and keep it (a new one "
                            "makes the links in earlier issues unknown)")
        return value.encode("ascii"), ""
    if not real:
        return PLACEHOLDER_SECRET, (f"{SECRET_ENV} is not set: the unsubscribe links in these messages carry a "
                                    "placeholder token that `sitegen unsubscribes` does not accept")
    if one_click:
        raise SendError(f"newsletter.one_click is on, but {SECRET_ENV} is not set: the unsubscribe endpoint's tokens "
                        "could not be traced back to anyone. Set it (the same value for every issue; see README: "
                        "Sending for real) and send again; nothing was sent")
    return None, (f"{SECRET_ENV} is not set: the unsubscribe links carry no token, so opt-outs by mail must be "
                  "matched by hand (set it to let `sitegen unsubscribes` read them)")


def with_secret(plan: Plan, environ: Mapping[str, str], *, real: bool) -> Plan:
    secret, note = unsubscribe_secret(environ, one_click=plan.manifest.one_click, real=real)
    return dataclasses.replace(plan, secret=secret, warnings=plan.warnings + ((note,) if note else ()))
