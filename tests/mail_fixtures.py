"""Helpers for the newsletter and send tests: a small site with issues, partner lists, a local SMTP server."""
from __future__ import annotations

import csv
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

SITES = Path(__file__).resolve().parent / "sites"
REPO = SITES.parent.parent


def make_mail_site(dest: Path) -> Path:
    """tests/sites/minimal + tests/sites/mail (newsletter settings, two issues, a small partner list)."""
    shutil.copytree(SITES / "minimal", dest)
    shutil.copytree(SITES / "mail" / "content", dest / "content", dirs_exist_ok=True)
    shutil.copy(SITES / "mail" / "partners.csv", dest / "partners.csv")
    with open(dest / "site.yaml", "a", encoding="utf-8") as f:
        f.write((SITES / "mail" / "site-extra.yaml").read_text(encoding="utf-8"))
    return dest


COLUMNS = ["institution", "contact", "email", "area", "specialties", "registered", "opted_in", "status"]


def write_partners(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    return path


def numbered_partners(n: int, domain: str = "example.jp") -> list[dict]:
    return [{"institution": f"テスト医院{i:04d}", "contact": f"試験 {i}郎" if i % 3 else "",
             "email": f"clinic{i:04d}@{domain}", "area": ["港区", "中央区", "品川区"][i % 3],
             "specialties": "内科・小児科" if i % 2 else "外科", "registered": "true" if i % 4 == 0 else "false",
             "opted_in": "2025-04-01", "status": "subscribed"} for i in range(n)]


def free_port() -> int:
    """aiosmtpd 1.4 cannot bind port 0: ask the OS for a free port first."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self):
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class Handler:
    """An aiosmtpd handler that records messages; `reply` can make the server refuse some recipients."""

    received: list[Received] = field(default_factory=list)
    replies: dict = field(default_factory=dict)  # address -> list of replies to give, in order ("451 ...")
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        queue = self.replies.get(address.lower())
        if queue:
            reply = queue.pop(0)
            if reply:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)


class SMTPServer:
    def __init__(self, handler: Handler | None = None):
        from aiosmtpd.controller import Controller

        self.handler = handler or Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, data_size_limit=10_000_000)

    def __enter__(self) -> "SMTPServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
