"""Reading the office's mailbox, never changing it: a Maildir, an mbox file, or a folder over IMAP (TLS).

`sitegen bounces` and `sitegen unsubscribes` read bounce messages and unsubscribe replies here. Nothing
is deleted, moved or flagged: Maildir and mbox are only read (stdlib `mailbox`), IMAP selects the folder
read-only (EXAMINE) and fetches with BODY.PEEK[], which leaves the \\Seen flag as it was.

Each message comes with a digest of its bytes (line endings normalised, so the same message read from a
Maildir and over IMAP is the same), which the journal remembers so that reading again records nothing twice.
"""
from __future__ import annotations

import base64
import hashlib
import imaplib
import mailbox
import re
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from sitegen.errors import SitegenError

IMAP_USER_ENV = "SITEGEN_IMAP_USER"
IMAP_PASSWORD_ENV = "SITEGEN_IMAP_PASSWORD"
MAX_MESSAGE_BYTES = 20_000_000  # a bounce or a reply is small; a larger message is skipped unread


class MailboxError(SitegenError):
    """The mailbox cannot be read (not found, refused login, bad certificate …)."""


@dataclass(frozen=True)
class Mail:
    data: bytes
    where: str  # for people: "Maildir …/cur/1700000000.M1P2.host" or "imap.example.jp INBOX #12"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data.replace(b"\r\n", b"\n")).hexdigest()


@dataclass(frozen=True)
class ImapSource:
    host: str
    port: int = 993
    folder: str = "INBOX"
    ca_file: str | None = None  # PEM of the server's CA (an internal server's own authority)
    timeout: float = 30.0


@dataclass(frozen=True)
class Source:
    """Where to read: exactly one of a Maildir folder, an mbox file, or an IMAP server."""

    maildir: Path | None = None
    mbox: Path | None = None
    imap: ImapSource | None = None

    def describe(self) -> str:
        if self.maildir is not None:
            return f"Maildir {self.maildir}"
        if self.mbox is not None:
            return f"mbox {self.mbox}"
        assert self.imap is not None
        return f"IMAP {self.imap.host}:{self.imap.port} {self.imap.folder}"


def read(source: Source, environ: Mapping[str, str]) -> Iterator[Mail]:
    """Every message of the source, oldest first as the mailbox orders them."""
    given = [s for s in (source.maildir, source.mbox, source.imap) if s is not None]
    if len(given) != 1:
        raise MailboxError("name one mailbox: --maildir PATH, --mbox PATH or --imap HOST")
    if source.maildir is not None:
        return read_maildir(source.maildir)
    if source.mbox is not None:
        return read_mbox(source.mbox)
    assert source.imap is not None
    return read_imap(source.imap, environ)


def read_maildir(path: Path) -> Iterator[Mail]:
    if not (path / "cur").is_dir() or not (path / "new").is_dir():
        raise MailboxError(f"{path} is not a Maildir (it has no cur/ and new/ folders)")
    box = mailbox.Maildir(str(path), factory=None, create=False)
    keys = sorted(box.keys())  # unique names start with the delivery time
    for key in keys:
        try:
            data = box.get_bytes(key)
        except (KeyError, FileNotFoundError):
            continue  # moved or deleted by the mail program while we read
        if len(data) <= MAX_MESSAGE_BYTES:
            yield Mail(data, f"Maildir {path}/{key}")


def read_mbox(path: Path) -> Iterator[Mail]:
    if not path.is_file():
        raise MailboxError(f"{path}: no such mbox file")
    box = mailbox.mbox(str(path), factory=None, create=False)  # never flushed: the file is not changed
    try:
        for i, key in enumerate(box.keys(), 1):
            data = box.get_bytes(key)
            if len(data) <= MAX_MESSAGE_BYTES:
                yield Mail(data, f"mbox {path} #{i}")
    finally:
        box.close()


def read_imap(source: ImapSource, environ: Mapping[str, str]) -> Iterator[Mail]:
    """The folder over IMAP with implicit TLS (port 993), read-only; the login from the environment."""
    user, password = environ.get(IMAP_USER_ENV, ""), environ.get(IMAP_PASSWORD_ENV, "")
    if not user or not password:
        raise MailboxError(f"set {IMAP_USER_ENV} and {IMAP_PASSWORD_ENV} in the environment to read {source.host} "
                           "(never in site.yaml)")
    where = f"{source.host}:{source.port}"
    if source.ca_file and not Path(source.ca_file).is_file():
        raise MailboxError(f"--imap-ca-file: {source.ca_file} not found (a PEM file with the server's CA certificate)")
    try:
        context = ssl.create_default_context(cafile=source.ca_file or None)
        conn = imaplib.IMAP4_SSL(source.host, source.port, ssl_context=context, timeout=source.timeout)
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(f"the certificate of {where} is not trusted ({exc.verify_message}); for a server with its "
                           "own certificate authority give its CA with --imap-ca-file") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"cannot connect to {where} over TLS: {exc}") from None
    try:
        try:
            conn.login(user, password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"IMAP login to {where} as {user} failed: {_text(exc)}") from None
        typ, data = conn.select(quote_folder(source.folder), readonly=True)
        if typ != "OK":
            raise MailboxError(f"{where}: cannot open the folder {source.folder!r}: {_text(data)}")
        typ, data = conn.search(None, "ALL")
        if typ != "OK":
            raise MailboxError(f"{where}: SEARCH failed: {_text(data)}")
        numbers = data[0].split() if data and data[0] else []
        for number in numbers:
            typ, parts = conn.fetch(number.decode(), "(BODY.PEEK[])")
            if typ != "OK":
                raise MailboxError(f"{where}: FETCH {number.decode()} failed: {_text(parts)}")
            body = next((p[1] for p in parts if isinstance(p, tuple) and len(p) == 2), None)
            if isinstance(body, bytes) and len(body) <= MAX_MESSAGE_BYTES:
                yield Mail(body, f"{source.host} {source.folder} #{number.decode()}")
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise MailboxError(f"the connection to {where} dropped: {exc}") from None
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error, socket.timeout):
            pass


def quote_folder(name: str) -> str:
    """A folder name as IMAP wants it: modified UTF-7 (RFC 3501 5.1.3) for 配信エラー, quoted."""
    encoded = encode_utf7_imap(name)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_utf7_imap(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def _text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, imaplib.IMAP4.error):
        return _text(value.args[0]) if value.args else str(value)
    return re.sub(r"^b'(.*)'$", r"\1", str(value))
