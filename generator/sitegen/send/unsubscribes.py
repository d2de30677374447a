"""`sitegen unsubscribes`: opt-outs -> the journal's unsubscribes, which every later `sitegen send` skips.

Two ways in, both carrying the signed token of an address (partners.token, keyed with
SITEGEN_UNSUBSCRIBE_SECRET):
  - the store of the one-click endpoint (send/unsubscribe_app.py): JSON lines {"token", "time", "how"};
  - replies to the mailto link, whose subject is `unsubscribe-<token>`, read from the office's mailbox.
A token is traced back to an address by signing every address of the partner list with the secret;
a token that matches nobody (forged, an old unsigned one, another list or another secret) is counted,
never recorded. The partner list is never rewritten. Importing the same file or mailbox again records
nothing new.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from sitegen.content import partners
from sitegen.errors import SitegenError
from sitegen.project import Project
from sitegen.send.inbox import Context, from_mail_system, header_text, is_auto_reply, is_delivery_report, parse, records, sender, sent_at
from sitegen.send.journal import Unsubscribe
from sitegen.send.mailbox import Mail

SECRET_ENV = "SITEGEN_UNSUBSCRIBE_SECRET"  # the same variable `sitegen send` signs with (send/run.py)
PURPOSE = "unsubscribe"
VIA = ("one-click", "page", "mail")
_SUBJECT_TOKEN = re.compile(r"(?i)\bunsubscribe-([0-9a-z]+)")  # the form is checked when recorded
_SUBJECT_WORDS = re.compile(r"(?i)\bunsubscribe\b|配信停止|配信解除|登録解除|購読解除")
MAX_STORE_BYTES = 100_000_000


@dataclass
class UnsubscribeImport:
    read: int = 0  # entries or messages looked at
    already_read: int = 0  # messages read by an earlier run: skipped
    recorded: list[Unsubscribe] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # addresses that had opted out before
    unknown: int = 0  # well-formed tokens of nobody on the list: forged, unsigned, another list or secret
    malformed: int = 0  # store lines that are not an entry, or tokens of the wrong form
    without_token: list[tuple[str, str]] = field(default_factory=list)  # (From, where): by hand
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (From, where): a reply whose token matches nobody
    other: int = 0  # messages that are no unsubscribe request (auto-replies, bounces, other mail)


def secret_from(environ: Mapping[str, str]) -> bytes:
    value = environ.get(SECRET_ENV, "")
    if not value:
        raise SitegenError(f"{SECRET_ENV} is not set: it must hold the value `sitegen send` signed the links with, "
                           "to trace the tokens back to addresses")
    return value.encode("utf-8")


def token_map(context: Context, secret: bytes) -> dict[str, str]:
    """token -> address for every address on the partner list."""
    list_id = partners.list_id_for(context.newsletter)
    return {partners.token(list_id, p.key, secret): p.key for p in context.partners.partners}


def import_store(project: Project, context: Context, files: Iterable[Path], secret: bytes) -> UnsubscribeImport:
    """Record the opt-outs of the endpoint's store files (JSON lines)."""
    result = UnsubscribeImport()
    tokens = token_map(context, secret)
    with records(project) as journal:
        for path in files:
            if not path.is_file():
                raise SitegenError(f"{path}: no such file (the endpoint's SITEGEN_UNSUBSCRIBE_STORE, copied here)")
            if path.stat().st_size > MAX_STORE_BYTES:
                raise SitegenError(f"{path} is larger than {MAX_STORE_BYTES:,} bytes; is it the unsubscribe store?")
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    if not line.strip():
                        continue
                    result.read += 1
                    entry = _entry(line)
                    if entry is None:
                        result.malformed += 1
                        continue
                    token, when, how = entry
                    _record(journal, result, tokens, token, how, when)
    return result


def import_mail(project: Project, context: Context, mails: Iterable[Mail], secret: bytes) -> UnsubscribeImport:
    """Record the opt-outs among replies to the mailto link (subject `unsubscribe-<token>`)."""
    result = UnsubscribeImport()
    tokens = token_map(context, secret)
    with records(project) as journal:
        for mail in mails:
            result.read += 1
            digest = mail.digest
            if journal.was_read(digest, PURPOSE):
                result.already_read += 1
                continue
            msg = parse(mail.data)
            subject = header_text(msg, "Subject")
            outcome = "other"
            if is_auto_reply(msg) or is_delivery_report(msg) or from_mail_system(msg):
                result.other += 1
            elif (m := _SUBJECT_TOKEN.search(subject)) is not None:
                outcome = _record(journal, result, tokens, m.group(1).lower(), "mail",
                                  sent_at(msg) or _now())
                if outcome in ("unknown", "malformed"):  # e.g. a reply to an issue sent before tokens were signed
                    result.unmatched.append((sender(msg) or "(no sender)", mail.where))
            elif _SUBJECT_WORDS.search(subject):
                result.without_token.append((sender(msg) or "(no sender)", mail.where))
                outcome = "without token"
            else:
                result.other += 1
            journal.mark_read(digest, PURPOSE, outcome)
    return result


def listed(project: Project) -> list[Unsubscribe]:
    with records(project) as journal:
        return journal.unsubscribes()


def clear(project: Project, address: str) -> bool:
    """Forget an opt-out (the clinic agreed again): the address is mailed in later issues. True if it was recorded."""
    with records(project) as journal:
        return journal.clear_unsubscribe(address.strip().lower())


def _record(journal, result: UnsubscribeImport, tokens: dict[str, str], token: str, how: str, when: str) -> str:
    if not partners.TOKEN_FORMAT.fullmatch(token):
        result.malformed += 1
        return "malformed"
    address = tokens.get(token)
    if address is None:
        result.unknown += 1
        return "unknown"
    if journal.add_unsubscribe(address, token, how, when):
        result.recorded.append(Unsubscribe(address, how, when, _now()))
        return "recorded"
    if address not in result.already:
        result.already.append(address)
    return "already"


def _entry(line: str) -> tuple[str, str, str] | None:
    """(token, time, how) of one line of the store, or None."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        return None
    when = data.get("time")
    try:
        when = dt.datetime.fromisoformat(when).isoformat(timespec="seconds") if isinstance(when, str) else ""
    except ValueError:
        when = ""
    how = data.get("how") if data.get("how") in VIA else "one-click"
    return data["token"].strip().lower(), when, str(how)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
