"""What `sitegen bounces` and `sitegen unsubscribes` share: the site's settings, the partner list, and telling
apart the kinds of mail that come back (bounces, auto-replies, replies written by people)."""
from __future__ import annotations

import datetime as dt
import email
import email.errors
import email.message
import email.utils
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from pathlib import Path

from sitegen.content import partners
from sitegen.content.load import load_settings
from sitegen.content.newsletter_models import NewsletterSettings, SmtpSettings
from sitegen.content.partners import Partner, RecipientList
from sitegen.errors import ContentError, Location, Problem, ProblemList, SitegenError
from sitegen.project import Project
from sitegen.send.journal import Records, journal_dir


@dataclass(frozen=True)
class Context:
    """The site's newsletter and SMTP settings and its partner list, as `sitegen send` sees them."""

    newsletter: NewsletterSettings
    smtp: SmtpSettings
    partners: RecipientList
    warnings: tuple[str, ...] = ()

    def on_list(self) -> dict[str, Partner]:
        return {p.key: p for p in self.partners.partners}


def load_context(project: Project, recipients: str | Path | None = None) -> Context:
    settings = load_settings(project)
    if settings.newsletter is None:
        raise ContentError([Problem(Location("site.yaml"), "newsletter", "no newsletter: section (see README: Newsletters and sending)")])
    try:
        path, shown = partners.locate(project, settings.newsletter.recipients, recipients)
    except partners.RecipientListError as exc:
        raise SitegenError(str(exc)) from None
    problems = ProblemList()
    loaded = partners.load(path, shown, problems)
    problems.raise_if_errors()
    assert loaded is not None
    return Context(settings.newsletter, settings.smtp or SmtpSettings(), loaded, tuple(str(w) for w in problems.warnings))


def records(project: Project) -> Records:
    return Records(journal_dir(project))


# --- reading a message -------------------------------------------------------------------------

DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail.delivery.system")
_AUTO_SUBJECT = re.compile(r"^\s*(自動応答|自動返信|不在|out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|"
                           r"auto:|abwesenheit|vacation)", re.I)


def parse(data: bytes) -> email.message.Message:
    """The message as the `email` package's classic API gives it (what flufl.bounce reads)."""
    return email.message_from_bytes(data)


def header_text(msg: email.message.Message, name: str) -> str:
    """A header decoded (RFC 2047) to one line, '' when absent or unreadable."""
    value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), None)
    if value is None:
        return ""
    # raw 8-bit bytes (a Japanese subject sent without encoding) come as surrogate escapes: read them as UTF-8
    try:
        value = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # already text
        pass
    try:
        text = str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, email.errors.MessageError):  # a broken encoded word: as written
        text = value
    return " ".join(text.split())


def sender(msg: email.message.Message) -> str:
    return email.utils.parseaddr(header_text(msg, "From"))[1].lower()


def is_delivery_report(msg: email.message.Message) -> bool:
    """RFC 3464: multipart/report; report-type=delivery-status."""
    return msg.get_content_type() == "multipart/report" and \
        str(msg.get_param("report-type", "")).lower() == "delivery-status"


def from_mail_system(msg: email.message.Message) -> bool:
    local = sender(msg).split("@", 1)[0]
    return local in DAEMONS or "mailer-daemon" in header_text(msg, "From").lower()


def is_auto_reply(msg: email.message.Message) -> bool:
    """An out-of-office or other automatic answer by a person's mail program (RFC 3834 and the usual
    non-standard marks). A delivery report or a message from the mail system is never one: bounces carry
    `Auto-Submitted: auto-replied` too."""
    if is_delivery_report(msg) or from_mail_system(msg):
        return False
    auto = header_text(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return True
    if any(msg.get(h) is not None for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress-Reply")):
        return True
    if header_text(msg, "Precedence").lower() == "auto_reply":
        return True
    return bool(_AUTO_SUBJECT.match(header_text(msg, "Subject")))


def sent_at(msg: email.message.Message) -> str:
    """The Date: of the message as ISO time ('' when missing or unreadable)."""
    try:
        when = email.utils.parsedate_to_datetime(header_text(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.isoformat(timespec="seconds")
