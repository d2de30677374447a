"""`sitegen bounces`: bounce messages in the office's mailbox -> the journal's bounces.

A relay accepts every recipient and reports "user unknown" later, as a bounce message to the envelope
sender. `scan` reads such messages (send/mailbox.py), finds the addresses that failed permanently with
flufl.bounce (RFC 3464 delivery reports and the non-standard formats of many mail servers) and, with
`smtp.verp`, the recipient named in the VERP address the bounce was sent to
(bounces+clinic=example.jp@hospital.jp). It records hard bounces only, and only for addresses on the
partner list or in the journal; temporary failures, auto-replies (不在通知) and other mail are counted,
never recorded. Each message is remembered (journal table mail_read), so reading the same mailbox again
records nothing new, and a bounce cleared with `clear` is not recorded again from the same old message.

No printing here: the results are returned for the CLI.
"""
from __future__ import annotations

import email.message
import logging
import re
from dataclasses import dataclass, field
from typing import Iterable

from flufl.bounce import all_failures

from sitegen.content.fields import is_valid_address
from sitegen.logs import quieted
from sitegen.project import Project
from sitegen.send.inbox import Context, header_text, is_auto_reply, is_delivery_report, parse, records, sent_at
from sitegen.send.journal import Bounce
from sitegen.send.mailbox import Mail

PURPOSE = "bounce"


@dataclass(frozen=True)
class Recorded:
    address: str
    issue: str
    error: str
    where: str  # the message it came from


@dataclass
class BounceScan:
    read: int = 0  # messages looked at
    already_read: int = 0  # read by an earlier run: skipped
    recorded: list[Recorded] = field(default_factory=list)
    known: list[str] = field(default_factory=list)  # permanent failures of addresses recorded before
    temporary: list[str] = field(default_factory=list)  # temporary failures only (4.x.x, "delayed"): not recorded
    auto_replies: int = 0  # out-of-office and other automatic answers: not bounces
    not_ours: list[str] = field(default_factory=list)  # failures of addresses neither on the list nor in the journal
    other: list[str] = field(default_factory=list)  # where: messages that are no bounce (or no recognisable one)


@dataclass(frozen=True)
class Analysis:
    kind: str  # bounce, temporary, auto-reply, other
    permanent: tuple[str, ...] = ()
    temporary: tuple[str, ...] = ()
    verp: str | None = None  # the recipient named by the VERP address the bounce went to
    issue: str | None = None  # the issue of the message that bounced (from its Message-ID), when quoted
    errors: dict[str, str] = field(default_factory=dict)  # address -> Status and Diagnostic-Code


_VERP_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_ISSUE_ID = re.compile(rb"(?im)^message-id:\s*<([a-z0-9][a-z0-9_-]*)\.[0-9a-f]{24}@")


def verp_recipient(msg: email.message.Message, envelope_from: str | None) -> str | None:
    """bounces+clinic=example.jp@hospital.jp -> clinic@example.jp (the local part of smtp.envelope_from before
    the +, when it is set). None when no header names such an address."""
    local, domain = (envelope_from.rsplit("@", 1) if envelope_from else (r"[^\s<>@+]+", r"[^\s<>@]+"))
    if envelope_from:
        local, domain = re.escape(local), re.escape(domain)
    pattern = re.compile(rf"(?i)(?<![^\s<,:;\"'])({local})\+([^\s<>@]+)=([^\s<>@=]+)@({domain})\b")
    for name in _VERP_HEADERS:
        for value in msg.get_all(name) or ():
            m = pattern.search(str(value))
            if m:
                address = f"{m.group(2)}@{m.group(3)}".lower()
                if is_valid_address(address):
                    return address
    return None


def analyse(msg: email.message.Message, envelope_from: str | None = None, raw: bytes = b"") -> Analysis:
    """What one message in the bounce mailbox says (`raw`: its bytes, to find the issue it quotes)."""
    if is_auto_reply(msg):
        return Analysis("auto-reply")
    try:
        # flufl.bounce logs the traceback of each of its detectors that fails on a message (a broken header in a
        # bounce, any mail someone sent to the address) and goes on with the others: none of it is for the office
        with quieted("flufl.bounce", logging.CRITICAL):
            temporary, permanent = all_failures(msg)
    except Exception:  # noqa: BLE001 - a malformed message must not stop the run; it is counted as other
        temporary, permanent = frozenset(), frozenset()
    perm = tuple(sorted({_address(a) for a in permanent} - {""}))
    temp = tuple(sorted({_address(a) for a in temporary} - {""} - set(perm)))
    verp = verp_recipient(msg, envelope_from)
    found = _ISSUE_ID.search(raw) if perm and raw else None
    issue = found.group(1).decode() if found else None
    errors = _dsn_errors(msg) if perm else {}
    if perm:
        return Analysis("bounce", perm, temp, verp, issue, errors)
    if temp:
        return Analysis("temporary", (), temp, verp)
    return Analysis("other", verp=verp)


def scan(project: Project, context: Context, mails: Iterable[Mail]) -> BounceScan:
    """Record the hard bounces among `mails` in the journal (see the module's description)."""
    result = BounceScan()
    on_list = context.on_list()
    with records(project) as journal:
        delivered = journal.delivered()
        for mail in mails:
            result.read += 1
            digest = mail.digest
            if journal.was_read(digest, PURPOSE):
                result.already_read += 1
                continue
            msg = parse(mail.data)
            a = analyse(msg, context.smtp.envelope_from, mail.data)
            if a.kind == "auto-reply":
                result.auto_replies += 1
            elif a.kind == "temporary":
                result.temporary.extend(a.temporary)
            elif a.kind == "other":
                result.other.append(mail.where)
            else:
                targets = set(a.permanent)
                if a.verp:  # the address we mailed; the failing one may be where it forwards to
                    targets = {a.verp} | {t for t in targets if t in on_list or t in delivered}
                for address in sorted(targets):
                    if address not in on_list and address not in delivered:
                        result.not_ours.append(address)
                        continue
                    issue = _issue(address, a.issue, delivered)
                    error = _error(address, a, msg)
                    if journal.add_bounce(address, issue, error):
                        result.recorded.append(Recorded(address, issue, error, mail.where))
                    elif address not in result.known:
                        result.known.append(address)
            journal.mark_read(digest, PURPOSE, a.kind)
    return result


def listed(project: Project) -> list[Bounce]:
    with records(project) as journal:
        return journal.bounces()


@dataclass(frozen=True)
class Cleared:
    address: str
    removed: bool  # it was in the bounces
    issues: tuple[str, ...]  # issues whose `bounced` delivery is now `pending` (a rerun of that issue mails it)
    list_line: int | None  # the partner list still says `bounced` on this line (the list wins; change it there)


def clear(project: Project, context: Context, address: str) -> Cleared:
    """Forget the bounce of `address`: it is mailed again in later issues (unless the list says otherwise)."""
    key = address.strip().lower()
    with records(project) as journal:
        removed, issues = journal.clear_bounce(key)
    partner = context.on_list().get(key)
    line = partner.line if partner is not None and partner.recipient.status == "bounced" else None
    return Cleared(key, removed, tuple(issues), line)


# --- details -----------------------------------------------------------------------------------------


def _address(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    text = text.strip().strip("<>").lower()
    return text if is_valid_address(text) else ""


def _issue(address: str, quoted: str | None, delivered: dict[str, list[tuple[str, str]]]) -> str:
    """The issue that bounced: the one the bounce quotes, else the newest one the journal sent to the address."""
    issues = [issue for issue, _ in delivered.get(address, ())]
    if quoted and (quoted in issues or not issues):
        return quoted
    return issues[0] if issues else ""


def _dsn_errors(msg: email.message.Message) -> dict[str, str]:
    """address -> 'Status; Diagnostic-Code' from the message/delivery-status part of a delivery report."""
    out: dict[str, str] = {}
    if not is_delivery_report(msg):
        return out
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        payload = part.get_payload()
        blocks = [b for b in payload if isinstance(b, email.message.Message)] if isinstance(payload, list) else []
        for block in blocks:
            recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
            address = _address(recipient.split(";", 1)[-1])
            if not address:
                continue
            status = " ".join(str(block.get("Status") or "").split())
            diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
            diagnostic = diagnostic.split(";", 1)[-1].strip() if ";" in diagnostic else diagnostic
            out[address] = "; ".join(x for x in (status, diagnostic) if x)[:300]
    return out


def _error(address: str, a: Analysis, msg: email.message.Message) -> str:
    detail = a.errors.get(address) or (next(iter(a.errors.values())) if len(a.errors) == 1 else "")
    subject = header_text(msg, "Subject")[:120]
    when = sent_at(msg)[:10]
    text = f"bounce message{f' of {when}' if when else ''}: {detail or subject or 'permanent failure'}"
    if a.verp == address and address not in a.permanent and a.permanent:
        text += f" (forwarded to {', '.join(a.permanent)})"
    return text
