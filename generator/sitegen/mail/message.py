"""One built issue + one recipient -> one email message (bytes), for the sample .eml and for sending.

The HTML and text were compiled once per issue (outputs/mail.py); personalising only
replaces two markers with escaped values. Headers are built from objects
(`email.headerregistry.Address`), and every value that reaches a header is checked
for line breaks first, so a partner's name cannot add headers or recipients.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as _SMTP
from email.utils import format_datetime, formataddr

from markupsafe import escape

from sitegen.content.fields import has_encoded_word, is_one_line, is_valid_address
from sitegen.content.newsletter_models import Recipient
from sitegen.content.partners import salutation, token
from sitegen.errors import SitegenError

SALUTATION = "%%SITEGEN_SALUTATION%%"
UNSUBSCRIBE = "%%SITEGEN_UNSUBSCRIBE%%"
MARKERS = (SALUTATION, UNSUBSCRIBE)
JST = dt.timezone(dt.timedelta(hours=9))
# Headers we set from objects are folded by the policy as usual. The one header we store pre-folded
# (List-Unsubscribe, see below) must go out exactly as written: "none" keeps `email` from refolding it
# into RFC 2047 encoded words, which mail programs do not read as URLs (CPython #85725).
SMTP = _SMTP.clone(refold_source="none")
MAX_HEADER_LINE = 998  # RFC 5322


class HeaderInjection(SitegenError):
    """A value meant for one header would have started another."""


@dataclass(frozen=True)
class Manifest:
    """What `sitegen build` recorded about an issue (build/mail/<issue>/manifest.json)."""

    issue: str
    series: str
    number: int
    date: str  # ISO date of the issue
    subject: str
    from_name: str
    from_address: str
    reply_to: str | None
    list_id: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    web_url: str
    build_date: str
    draft: bool
    one_click: bool = False  # newsletter.one_click: the unsubscribe URL takes RFC 8058's POST

    @property
    def domain(self) -> str:
        return self.from_address.rsplit("@", 1)[1]


def one_line(value: str, what: str) -> str:
    if not is_one_line(value):
        raise HeaderInjection(f"{what} contains a line break or control character: {value!r}")
    return value


def unsubscribe_links(m: Manifest, address: str | None, secret: bytes | None = None) -> tuple[str, str]:
    """(https URL, mailto URL) for one address; short, so mail programs keep them on one line.

    With the office's secret each carries the address's signed token (`u=` and the subject
    `unsubscribe-<token>`); without it (the build's generic sample) they are the plain links."""
    sep = "&" if "?" in m.unsubscribe_url else "?"
    if address is None or secret is None:
        return m.unsubscribe_url, f"mailto:{m.unsubscribe_mailto}?subject=unsubscribe"
    t = token(m.list_id, address, secret)
    return f"{m.unsubscribe_url}{sep}u={t}", f"mailto:{m.unsubscribe_mailto}?subject=unsubscribe-{t}"


def personalise(html: str, text: str, m: Manifest, recipient: Recipient | None,
                secret: bytes | None = None) -> tuple[str, str]:
    """Fill the markers of the compiled issue for one recipient (None: the generic preview)."""
    greeting = salutation(recipient)
    url, _mailto = unsubscribe_links(m, recipient.email if recipient else None, secret)
    html = html.replace(SALUTATION, str(escape(greeting))).replace(UNSUBSCRIBE, str(escape(url)))
    text = text.replace(SALUTATION, greeting).replace(UNSUBSCRIBE, url)
    return html, text


def message_id(m: Manifest, address: str) -> str:
    """The same (issue, recipient) always gets the same Message-ID."""
    digest = hashlib.sha256(f"{m.series}\n{m.issue}\n{address.lower()}".encode()).hexdigest()[:24]
    return f"<{m.issue}.{digest}@{m.domain}>"


def build_message(m: Manifest, html: str, text: str, recipient: Recipient | None, *, to_address: str | None = None,
                  date: dt.datetime | None = None, subject_prefix: str = "", secret: bytes | None = None) -> EmailMessage:
    """A multipart/alternative UTF-8 message. `to_address` overrides the recipient's (test sends). `secret` signs
    the unsubscribe token (SITEGEN_UNSUBSCRIBE_SECRET; None: links without a token)."""
    address = to_address or (recipient.email if recipient else None)
    if not address or not is_valid_address(address):
        raise HeaderInjection(f"not a valid e-mail address: {address!r}")
    display = ""
    if recipient is not None and to_address is None:
        display = one_line(recipient.institution, "institution")
        if recipient.contact:
            display += " " + one_line(recipient.contact, "contact")
    html, text = personalise(html, text, m, recipient, secret)
    fixed = _fixed_headers(m, subject_prefix)
    msg = EmailMessage(policy=SMTP)
    msg.set_raw("From", fixed["From"])
    msg.set_raw("To", to_header(display, address))
    if "Reply-To" in fixed:
        msg.set_raw("Reply-To", fixed["Reply-To"])
    msg.set_raw("Subject", fixed["Subject"])
    msg.set_raw("Date", format_datetime(date or issue_datetime(m)))  # ASCII and short: no folding needed
    msg.set_raw("Message-ID", message_id(m, address))
    url, mailto = unsubscribe_links(m, address if recipient is not None else None, secret)
    msg.set_raw("List-Unsubscribe", list_unsubscribe(mailto, url))
    if m.one_click:  # RFC 8058: only when the URL takes the POST (a static page would answer 404 or 405)
        msg.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    msg.set_raw("List-Id", fixed["List-Id"])
    msg.set_content(text, charset="utf-8", cte="base64")  # 7-bit clean on any relay
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    msg.set_boundary("=_sitegen_" + message_id(m, address)[1:25].replace(".", "_"))  # deterministic bytes
    return msg


@functools.lru_cache(maxsize=16)
def _fixed_headers(m: Manifest, subject_prefix: str) -> dict[str, str]:
    """The headers that are the same for every recipient, folded (and RFC 2047-encoded) once per issue.

    Folding Japanese headers is most of the cost of a message; the folded values are stored raw."""
    tmp = EmailMessage(policy=SMTP)
    tmp["From"] = Address(one_line(m.from_name, "from_name"), addr_spec=one_line(m.from_address, "from_address"))
    if m.reply_to:
        tmp["Reply-To"] = Address(addr_spec=one_line(m.reply_to, "reply_to"))
    tmp["Subject"] = one_line(subject_prefix + m.subject, "subject")
    tmp["List-Id"] = f"<{one_line(m.list_id, 'list_id')}>"
    out = {}
    for name, header in tmp.items():
        folded = header.fold(policy=SMTP)  # "Name: value\r\n continued\r\n"
        value = folded[len(name) + 1:].removesuffix(SMTP.linesep)
        out[name] = value[1:] if value.startswith(" ") else value
    return out


def to_header(display: str, address: str) -> str:
    """The To: value. A Japanese name is encoded as a whole, so every space (「クリニック 山田 一郎」) sits inside
    an encoded word: `email`'s own folding may put a space between two encoded words, where RFC 2047 readers drop it."""
    if not display:
        return address
    if display.isascii() and not has_encoded_word(display):
        return formataddr((display, address))
    # Japanese, or text that looks like an encoded word (=?utf-8?b?...?= in the partner list): written raw, a mail
    # program would decode it as one and show other words; encoded, it shows as typed
    return f"{Header(display, 'utf-8', header_name='To').encode(linesep=SMTP.linesep)} <{address}>"


def list_unsubscribe(mailto: str, url: str) -> str:
    """The List-Unsubscribe value, folded by hand between the two URLs and never RFC 2047-encoded.

    Both URLs come from validated settings (no spaces or line breaks); they must be ASCII and fit a line."""
    for value in (mailto, url):
        one_line(value, "unsubscribe link")
        if not value.isascii() or " " in value or len(value) + 20 > MAX_HEADER_LINE:
            raise HeaderInjection(f"the unsubscribe link must be a short ASCII URL without spaces "
                                  f"(percent-encode Japanese characters): {value!r}")
    return f"<{mailto}>,\r\n <{url}>"


def issue_datetime(m: Manifest) -> dt.datetime:
    """The sample's Date: 9:00 JST on the issue date (no wall clock in the build)."""
    d = dt.date.fromisoformat(m.date)
    return dt.datetime(d.year, d.month, d.day, 9, 0, tzinfo=JST)


def to_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=SMTP)
