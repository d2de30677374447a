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

    @classmethod
    def from_settings(cls, settings: SmtpSettings | None, environ: Mapping[str, str]) -> "SmtpConfig":
        """site.yaml `smtp:`; the login only from the environment variables it names."""
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
        if user and security == "none" and host not in LOOPBACK:
            raise SendError(f"smtp.security is none: the password for {host} would cross the network unencrypted; "
                            "use starttls or ssl")
        return cls(host, port, security, user, environ.get(s.password_env) or None, s.timeout)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
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


class Link:
    """One SMTP connection, opened on first use and again after it dropped."""

    def __init__(self, connect: Callable[[], smtplib.SMTP], where: str = "the SMTP server"):
        self._connect = connect
        self._conn: smtplib.SMTP | None = None
        self.where = where

    def send(self, sender: str, address: str, data: bytes) -> tuple[str, str]:
        """Returns (outcome, detail). Raises SendError when no message can go (login failed, sender refused)."""
        if self._conn is None:
            try:
                self._conn = self._connect()
            except smtplib.SMTPAuthenticationError as exc:
                raise SendError(f"SMTP login to {self.where} failed: {exc.smtp_code} {_text(exc.smtp_error)}") from None
            except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
                return UNREACHABLE, f"cannot connect to {self.where}: {exc or type(exc).__name__}"
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
                return (PERMANENT if code >= 500 else TEMPORARY), f"{code} {_text(reply)}"
            code, reply = conn.docmd("data")
            if code != 354:
                self._reset(code)
                return (PERMANENT if code >= 500 else TEMPORARY), f"{code} {_text(reply)}"
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
                return AMBIGUOUS, f"the connection dropped after the message was handed over: {exc or type(exc).__name__}"
            return TEMPORARY, f"the connection dropped: {exc or type(exc).__name__}"
        if code == 250:
            return SENT, ""
        if code == 421:
            self.close(polite=False)
        return (PERMANENT if code >= 500 else TEMPORARY), f"{code} {_text(reply)}"

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
