"""A small IMAP4rev1 server over TLS on 127.0.0.1 for the tests, and bounce messages as mail servers write them.

The server speaks what a read-only client needs (CAPABILITY, LOGIN, SELECT/EXAMINE, SEARCH, FETCH with
RFC822, BODY[] or BODY.PEEK[], NOOP, CLOSE, LOGOUT) and records every command, so a test can check that
the client selected read-only and never stored a flag or expunged. Its certificate comes from a throwaway
CA (trustme); the client trusts it only through the CA file it is given.
"""
from __future__ import annotations

import re
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

import trustme


@dataclass
class Mailbox:
    user: str = "renkei"
    password: str = "imap-pass"
    folders: dict[str, list[bytes]] = field(default_factory=lambda: {"INBOX": []})
    commands: list[str] = field(default_factory=list)  # "EXAMINE INBOX", "FETCH 1 (BODY.PEEK[])" …
    lock: threading.Lock = field(default_factory=threading.Lock)


_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _args(text: str) -> list[str]:
    return [m.group(1).replace('\\"', '"').replace("\\\\", "\\") if m.group(1) is not None else m.group(2)
            for m in _TOKEN.finditer(text)]


class _Handler(socketserver.StreamRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        box = self.server.mailbox
        selected: list[bytes] | None = None
        self._write(b"* OK [CAPABILITY IMAP4rev1] sitegen test IMAP ready\r\n")
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            with box.lock:
                box.commands.append(f"{command} {arguments}".strip() if command != "LOGIN" else "LOGIN")
            args = _args(arguments)
            if command == "CAPABILITY":
                self._write(b"* CAPABILITY IMAP4rev1\r\n" + f"{tag} OK CAPABILITY completed\r\n".encode())
            elif command == "NOOP":
                self._write(f"{tag} OK NOOP completed\r\n".encode())
            elif command == "LOGIN":
                if len(args) == 2 and args[0] == box.user and args[1] == box.password:
                    self._write(f"{tag} OK LOGIN completed\r\n".encode())
                else:
                    self._write(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n".encode())
            elif command in ("SELECT", "EXAMINE"):
                name = args[0] if args else ""
                if name not in box.folders:
                    self._write(f"{tag} NO [NONEXISTENT] no such folder\r\n".encode())
                    continue
                selected = box.folders[name]
                mode = "READ-ONLY" if command == "EXAMINE" else "READ-WRITE"
                self._write(f"* {len(selected)} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
                            f"* FLAGS (\\Seen \\Deleted)\r\n{tag} OK [{mode}] {command} completed\r\n".encode())
            elif command == "SEARCH" and selected is not None:
                numbers = " ".join(str(i) for i in range(1, len(selected) + 1))
                self._write(f"* SEARCH {numbers}\r\n{tag} OK SEARCH completed\r\n".encode())
            elif command == "FETCH" and selected is not None and args and args[0].isdigit():
                n = int(args[0])
                if not 1 <= n <= len(selected):
                    self._write(f"{tag} BAD no such message\r\n".encode())
                    continue
                data = selected[n - 1]
                item = "RFC822" if "RFC822" in arguments.upper() else "BODY[]"
                self._write(f"* {n} FETCH ({item} {{{len(data)}}}\r\n".encode() + data + b")\r\n"
                            + f"{tag} OK FETCH completed\r\n".encode())
            elif command == "CLOSE":
                selected = None
                self._write(f"{tag} OK CLOSE completed\r\n".encode())
            elif command == "LOGOUT":
                self._write(b"* BYE logging out\r\n" + f"{tag} OK LOGOUT completed\r\n".encode())
                return
            else:
                self._write(f"{tag} BAD {command} is not supported here\r\n".encode())

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox, context: ssl.SSLContext):
        self.mailbox = mailbox
        self.context = context
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True), address


class IMAPServer:
    """`with IMAPServer(tmp_path) as server:` -> server.port, server.ca_file, server.mailbox."""

    def __init__(self, folder: Path, mailbox: Mailbox | None = None):
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self.ca_file = folder / "imap-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self.mailbox = mailbox or Mailbox()
        self._server = _Server(self.mailbox, context)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "IMAPServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


# --- messages that come back ----------------------------------------------------------------------------


def crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def dsn_bounce(address: str, *, to: str, status: str = "5.1.1", action: str = "failed",
               issue_message_id: str = "<2026-11-no2.0123456789abcdef01234567@example.jp>",
               diagnostic: str = "550 5.1.1 <{a}>: Recipient address rejected: User unknown in local recipient table",
               when: str = "Fri, 20 Nov 2026 09:00:05 +0900") -> bytes:
    """A Postfix delivery status notification (RFC 3464), as it arrives in the bounce mailbox."""
    diag = diagnostic.format(a=address)
    return crlf(f"""Return-Path: <>
Delivered-To: {to}
Received: from mx.example.jp (mx.example.jp [192.0.2.25]) by mail.example.jp; {when}
Date: {when}
From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="8A3C21E0F2.1763596805/mx.example.jp"
Message-Id: <20261120000005.8A3C21E0F2@mx.example.jp>

This is a MIME-encapsulated message.

--8A3C21E0F2.1763596805/mx.example.jp
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.jp.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{address}>: host mx.clinic.example.jp[192.0.2.80] said: {diag} (in reply to RCPT TO command)

--8A3C21E0F2.1763596805/mx.example.jp
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.jp
X-Postfix-Queue-ID: 8A3C21E0F2
X-Postfix-Sender: rfc822; {to}
Arrival-Date: {when}

Final-Recipient: rfc822; {address}
Original-Recipient: rfc822;{address}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.clinic.example.jp
Diagnostic-Code: smtp; {diag}

--8A3C21E0F2.1763596805/mx.example.jp
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: =?utf-8?b?44G/44Gq44Go5Lit5aSu55eF6Zmi?= <renkei@example.jp>
To: {address}
Subject: =?utf-8?b?56ysMuWPtw==?=
Message-ID: {issue_message_id}

--8A3C21E0F2.1763596805/mx.example.jp--
""")


def qmail_bounce(address: str, *, to: str) -> bytes:
    """A bounce that is no delivery report: qmail's "failure notice" with a 'no mailbox' line."""
    return crlf(f"""Return-Path: <>
Delivered-To: {to}
Date: 20 Nov 2026 00:00:09 -0000
From: MAILER-DAEMON@mail.clinic.example.jp
To: {to}
Subject: failure notice

Hi. This is the qmail-send program at mail.clinic.example.jp.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{address}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <{to}>
From: renkei@example.jp
To: {address}
Subject: newsletter
""")


def auto_reply(address: str, *, to: str) -> bytes:
    """An out-of-office answer (不在通知), sent to the envelope sender like a bounce, naming the address."""
    return crlf(f"""Return-Path: <>
Delivered-To: {to}
Date: Fri, 20 Nov 2026 09:01:00 +0900
From: =?utf-8?b?5bGx55Sw?= <{address}>
To: {to}
Subject: =?utf-8?b?6Ieq5YuV5b+c562UOiDkuI3lnKjjga7jgYrnn6XjgonjgZs=?=
Auto-Submitted: auto-replied
X-Autoreply: yes
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

11月23日まで不在にしております。{address} 宛のメールは戻り次第拝見します。
(This mailbox is unavailable until 23 November: user unknown to the front desk.)
""")


def unsubscribe_reply(token: str, *, sender: str, to: str = "teishi@example.jp") -> bytes:
    """What a mail program sends for the mailto link of List-Unsubscribe."""
    return crlf(f"""Return-Path: <{sender}>
Date: Sat, 21 Nov 2026 10:00:00 +0900
From: {sender}
To: {to}
Subject: unsubscribe-{token}
Message-ID: <{token[:8]}@clinic.example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

This message was automatically generated by the mail program to unsubscribe.
""")
