"""The SMTP side of `sitegen send`: settings (secrets from the environment) and one connection.

`Link.send` speaks MAIL / RCPT / DATA itself rather than calling `smtplib.sendmail`, because the
answer to "may the server have this message?" depends on *when* a connection dropped: before the
end of the message was handed over, the server cannot have accepted it (safe to retry); after
it, the server may have accepted it and the reply was lost (ambiguous: a person decides).
"""
from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from sitegen.content.newsletter_models import SmtpSettings
from sitegen.errors import SitegenError

LOOPBACK = ("localhost", "127.0.0.1", "::1")


class SendError(SitegenError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    timeout: float
    envelope_from: str | None = None  # MAIL FROM (Return-Path); None: the newsletter's From address
    verp: bool = False
    helo_name: str | None = None
    ca_file: str | None = None

    def sender_for(self, from_address: str, recipient: str) -> str:
        """The envelope sender of one message; with VERP `bounces+clinic=example.jp@hospital.jp`, so a bounce
        names its recipient even when the bounce text does not."""
        sender = self.envelope_from or from_address
        if not self.verp:
            return sender
        local, domain = sender.rsplit("@", 1)
        return f"{local}+{recipient.replace('@', '=')}@{domain}"

    @classmethod
    def from_settings(cls, settings: SmtpSettings | None, environ: Mapping[str, str],
                      root: Path | None = None) -> "SmtpConfig":
        """site.yaml `smtp:`; the login only from the environment variables it names. `root`: the site folder
        (smtp.ca_file is relative to it)."""
        s = settings or SmtpSettings()
        try:
            port = int(environ.get("SITEGEN_SMTP_PORT", s.port))
        except ValueError:
            raise SendError(f"SITEGEN_SMTP_PORT must be a number, not {environ['SITEGEN_SMTP_PORT']!r}") from None
        security = environ.get("SITEGEN_SMTP_SECURITY", s.security)
        if security not in ("starttls", "ssl", "none"):
            raise SendError("SITEGEN_SMTP_SECURITY must be starttls, ssl or none")
        host = environ.get("SITEGEN_SMTP_HOST", s.host)
        user = environ.get(s.user_env) or None
        password = environ.get(s.password_env) or None
        if user and security == "none" and host not in LOOPBACK:
            raise SendError(f"smtp.security is none: the password for {host} would cross the network unencrypted; "
                            "use starttls or ssl")
        if not user and host not in LOOPBACK and not s.open_relay:
            raise SendError(f"no login for {host}: set {s.user_env} and {s.password_env} in the environment, or write "
                            f"`open_relay: true` under smtp: in site.yaml if {host} is an internal relay that accepts "
                            "this computer without a login; nothing was sent")
        if not (user or "").isascii() or not (password or "").isascii():
            raise SendError(f"{s.user_env} or {s.password_env} contains characters outside ASCII, which the SMTP login "
                            "cannot carry; use an ASCII password (many providers offer an app password)")
        ca_file = environ.get("SITEGEN_SMTP_CA_FILE") or s.ca_file or None
        if ca_file and root is not None:
            ca_file = str(root / ca_file)
        if ca_file and not Path(ca_file).is_file():
            raise SendError(f"smtp.ca_file: {ca_file} not found (a PEM file with the relay's CA certificate)")
        if s.verp and not s.envelope_from:
            raise SendError("smtp.verp needs smtp.envelope_from (the mailbox that receives bounces, e.g. bounces@example.jp)")
        return cls(host, port, security, user, password, s.timeout, s.envelope_from, s.verp, s.helo_name, ca_file)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.helo_name,
                                                  timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, local_hostname=self.helo_name, timeout=self.timeout)
        try:
            conn.ehlo_or_helo_if_needed()
            if self.security == "starttls":
                conn.starttls(context=context)
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password or "")
        except BaseException:
            conn.close()
            raise
        return conn


# outcomes of Link.send
SENT, TEMPORARY, PERMANENT, AMBIGUOUS, UNREACHABLE = "sent", "temporary", "permanent", "ambiguous", "unreachable"
REFUSED = "refused"  # a 5xx that names no reason: permanent for this address unless the same comes for many
RELAY = "relay"  # the relay refuses everyone (authentication, relaying, policy, content): stop, bounce nobody

_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")
# RFC 3463: X.1.x addressing, X.2.1 mailbox disabled, X.4.4 no route to the domain -> this recipient;
# X.3.x mail system, X.5.x protocol, X.6.x content, X.7.x security and policy -> the relay, for everyone
_RECIPIENT_TEXT = re.compile(r"user unknown|unknown user|no such (user|mailbox|recipient)|mailbox (unavailable|not found)|"
                             r"does not exist|invalid (recipient|mailbox|address)|recipient (address )?rejected|"
                             r"address rejected|no mailbox|account (disabled|has been disabled)", re.I)
_RELAY_TEXT = re.compile(r"relay|authenticat|auth required|not permitted|policy|spam|blocked|blacklist|"
                         r"denied|refused to accept|content|virus|rejected for policy", re.I)
HINTS = {
    "auth": "the relay wants a login: set SITEGEN_SMTP_USER and SITEGEN_SMTP_PASSWORD (see README: Sending for real)",
    "content": "the relay's content filter refused the message itself; ask the mail administrator, "
               "then send again (nobody was marked bounced)",
}


def classify(code: int, reply: str, after_data: bool = False) -> str:
    """A 5xx reply to RCPT (or to the end of DATA) -> PERMANENT (this address), RELAY or REFUSED."""
    m = _ENHANCED.match(reply)
    if m:
        subject, detail = int(m.group(2)), int(m.group(3))
        if subject == 1 or (subject, detail) in ((2, 1), (4, 4)):
            return PERMANENT
        if subject in (3, 5, 6, 7):
            return RELAY
    if _RECIPIENT_TEXT.search(reply):
        return PERMANENT
    if after_data or _RELAY_TEXT.search(reply):
        return RELAY  # after the whole message, a refusal without a recipient reason is about the message
    return REFUSED


def describe(exc: BaseException) -> str:
    """An SMTP or network error as people read it (not `(421, b'4.3.2 ...')`)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{a}: {c} {_text(t)}" for a, (c, t) in exc.recipients.items())
    return str(exc) or type(exc).__name__


class Link:
    """One SMTP connection, opened on first use and again after it dropped."""

    def __init__(self, connect: Callable[[], smtplib.SMTP], where: str = "the SMTP server"):
        self._connect = connect
        self._conn: smtplib.SMTP | None = None
        self.where = where

    def open(self) -> str:
        """Connect if not connected. Returns '' when the connection is up, else why not (tried again later).
        Raises SendError when no message can go (login refused)."""
        if self._conn is not None:
            return ""
        try:
            self._conn = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(f"SMTP login to {self.where} failed: {describe(exc)}") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            return f"cannot connect to {self.where}: {describe(exc)}"
        return ""

    def send(self, sender: str, address: str, data: bytes) -> tuple[str, str]:
        """Returns (outcome, detail). Raises SendError when no message can go (login failed, sender refused)."""
        problem = self.open()
        if problem:
            return UNREACHABLE, problem
        assert self._conn is not None
        conn = self._conn
        handed_over = False
        try:
            code, reply = conn.mail(sender)
            if code != 250:
                self._reset(code)
                if code >= 500:
                    raise SendError(f"{self.where} refused the sender {sender}: {code} {_text(reply)}")
                return TEMPORARY, f"{code} {_text(reply)}"
            code, reply = conn.rcpt(address)
            if code not in (250, 251):
                self._reset(code)
                return (classify(code, _text(reply)) if code >= 500 else TEMPORARY), f"{code} {_text(reply)}"
            code, reply = conn.docmd("data")
            if code != 354:
                self._reset(code)
                return (RELAY if code >= 500 else TEMPORARY), f"{code} {_text(reply)}"
            q = dot_stuff(data)
            if not q.endswith(b"\r\n"):
                q += b"\r\n"
            conn.send(q + b".\r\n")
            handed_over = True  # from here on the server may have the message
            code, reply = conn.getreply()
        except SendError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self.close(polite=False)
            if handed_over:
                return AMBIGUOUS, f"the connection dropped after the message was handed over: {describe(exc)}"
            return TEMPORARY, f"the connection dropped: {describe(exc)}"
        if code == 250:
            return SENT, ""
        if code == 421:
            self.close(polite=False)
        return (classify(code, _text(reply), after_data=True) if code >= 500 else TEMPORARY), f"{code} {_text(reply)}"

    def _reset(self, code: int) -> None:
        """End a refused transaction; a 421 (or a failing RSET) means the connection is gone."""
        if code == 421 or self._conn is None:
            self.close(polite=False)
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self.close(polite=False)

    def close(self, polite: bool = True) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if polite:
                conn.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            conn.close()


_LINE_START_DOT = re.compile(rb"(?m)^\.")


def dot_stuff(data: bytes) -> bytes:
    """RFC 5321 4.5.2 transparency: a line that starts with "." gets one more (what smtplib.SMTP.data does)."""
    return _LINE_START_DOT.sub(b"..", data)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
