"""The send journal: one durable row per (issue, recipient), in SQLite outside build/.

The file is SITE/.sitegen/send/journal.sqlite (in .gitignore; keep it: it is the memory of who got which issue).

States of a delivery:
  sending    written (and committed) just before the message goes to the server
  sent       written only after the server accepted the message (250 after the end of DATA)
  pending    a temporary failure; tried again
  failed     temporary failures until the attempts ran out; tried again on the next run
  bounced    a permanent failure (5xx); never tried again (the address is skipped in later issues too)
  ambiguous  the message may or may not have reached the server: either the next run found the row still
             in `sending` (the process died with this message in flight), or the connection dropped after
             the whole message was handed over. Reported by address; a person decides with
             `sitegen send ISSUE --resolve-ambiguous sent` (it did arrive) or `... resend`.

A lock file per issue (flock, released by the OS when the process dies, even by SIGKILL) refuses a second
`sitegen send` of the same issue while one is running. `JournalView` reads without the lock (dry runs).

Besides the deliveries, the journal keeps what comes back after sending (`Records`, no issue lock):
  bounces       addresses that failed permanently, from the relay's reply or a bounce message in the
                office's mailbox (`sitegen bounces`); skipped in every later issue until cleared
  unsubscribes  addresses that opted out through the one-click endpoint or by mail (`sitegen unsubscribes`);
                skipped in every later issue. The partner list itself is never rewritten.
  mail_read     a digest of every mailbox message already read, per purpose, so reading a mailbox
                again records nothing twice (and a cleared bounce is not recorded again from old mail)
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sitegen.errors import SitegenError
from sitegen.project import Project

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    issue TEXT NOT NULL, address TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '', message_id TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL,
    PRIMARY KEY (issue, address));
CREATE TABLE IF NOT EXISTS bounces (
    address TEXT PRIMARY KEY, issue TEXT NOT NULL, error TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unsubscribes (
    address TEXT PRIMARY KEY, token TEXT NOT NULL, via TEXT NOT NULL, requested TEXT NOT NULL, recorded TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mail_read (
    digest TEXT NOT NULL, purpose TEXT NOT NULL, outcome TEXT NOT NULL, read TEXT NOT NULL,
    PRIMARY KEY (digest, purpose));
"""
STATES = ("sending", "sent", "pending", "failed", "bounced", "ambiguous")


class SendLocked(SitegenError):
    """Another `sitegen send` of this issue is running."""


def journal_dir(project: Project) -> Path:
    """<site>/.sitegen/send; a symbolic link on the way is refused (the journal is never kept outside the site)."""
    folder = project.state_path("send")
    if folder is None:
        raise SitegenError(f"{project.rel(project.root / '.sitegen' / 'send')}: .sitegen or .sitegen/send is a "
                           "symbolic link; sitegen keeps the send journal only in a real folder inside the site "
                           "(remove the link; move the journal.sqlite it points at into .sitegen/send/ to keep it)")
    return folder


def _refuse_links(folder: Path, *more: str) -> None:
    """Refuse a journal (or its SQLite side files, or `more` names) that is a symbolic link: SQLite would write
    through it, outside the site."""
    for name in ("journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm", "journal.sqlite-journal", *more):
        if (folder / name).is_symlink():
            raise SitegenError(f"{folder / name}: is a symbolic link; sitegen keeps the send journal only in real "
                               "files inside the site (remove the link; move the file it points at there to keep it)")


class JournalView:
    """Read-only look at the journal (no lock): what a dry run needs."""

    def __init__(self, folder: Path, issue: str):
        self.issue = issue
        path = folder / "journal.sqlite"
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) if path.is_file() else None

    def states(self) -> dict[str, str]:
        """address -> state for this issue; a row in `sending` shows as ambiguous (or in flight right now)."""
        if self._db is None:
            return {}
        rows = self._db.execute("SELECT address, state FROM deliveries WHERE issue = ?", (self.issue,)).fetchall()
        return {a: ("ambiguous" if s == "sending" else s) for a, s in rows}

    def bounced(self) -> set[str]:
        """Addresses that failed permanently in any issue."""
        if self._db is None:
            return set()
        return {r[0] for r in self._db.execute("SELECT address FROM bounces")}

    def unsubscribed(self) -> set[str]:
        """Addresses that opted out through the unsubscribe link or by mail (`sitegen unsubscribes`)."""
        if self._db is None:
            return set()
        try:
            return {r[0] for r in self._db.execute("SELECT address FROM unsubscribes")}
        except sqlite3.OperationalError:  # a journal written before the table existed, read without the lock
            return set()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


class Journal(JournalView):
    """The journal of one issue, held exclusively for one `sitegen send` run."""

    def __init__(self, folder: Path, issue: str):
        self.folder = folder
        self.issue = issue
        folder.mkdir(parents=True, exist_ok=True)
        _refuse_links(folder, f"{issue}.lock")
        try:  # never through a link: the pid written into it would go to the file the link points at
            fd = os.open(folder / f"{issue}.lock", os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
        except OSError as exc:
            raise SitegenError(f"{folder / f'{issue}.lock'}: cannot open the send lock ({exc.strerror})") from None
        self._lock_file = os.fdopen(fd, "a+")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip()
            self._lock_file.close()
            raise SendLocked(f"another `sitegen send {issue}` is running{f' (process {holder})' if holder else ''}; "
                             "wait for it to finish") from None
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(str(os.getpid()))
        self._lock_file.flush()
        self._db = sqlite3.connect(folder / "journal.sqlite", isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a kill
        self._db.executescript(SCHEMA)
        # we hold the lock: a row still in `sending` means an earlier run died with that message in flight
        self._db.execute("UPDATE deliveries SET state = 'ambiguous', updated = ?,"
                         " error = 'the sending process stopped while this message was in flight'"
                         " WHERE issue = ? AND state = 'sending'", (_now(), issue))

    @property
    def _rw(self) -> sqlite3.Connection:
        """The connection, open from __init__ to close (JournalView's may be None)."""
        assert self._db is not None
        return self._db

    def close(self) -> None:
        self._rw.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        self._lock_file.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def mark(self, address: str, state: str, *, error: str = "", message_id: str = "", attempt: bool = False) -> None:
        """Record a state durably (each call is one committed transaction)."""
        assert state in STATES, state
        self._rw.execute(
            "INSERT INTO deliveries (issue, address, state, attempts, error, message_id, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (issue, address) DO UPDATE SET state = excluded.state,"
            " attempts = attempts + ?, error = excluded.error,"
            " message_id = CASE WHEN excluded.message_id = '' THEN message_id ELSE excluded.message_id END,"
            " updated = excluded.updated",
            (self.issue, address, state, int(attempt), error, message_id, _now(), int(attempt)))
        if state == "bounced":
            self._rw.execute("INSERT OR REPLACE INTO bounces VALUES (?, ?, ?, ?)", (address, self.issue, error, _now()))

    def unbounce(self, address: str, *, error: str = "") -> None:
        """Undo a bounce recorded by this issue (it was the relay refusing everyone, not the address)."""
        self._rw.execute("DELETE FROM bounces WHERE address = ? AND issue = ?", (address, self.issue))
        self.mark(address, "pending", error=error)

    def ambiguous(self) -> list[str]:
        rows = self._rw.execute("SELECT address FROM deliveries WHERE issue = ? AND state = 'ambiguous'"
                                " ORDER BY address", (self.issue,))
        return [r[0] for r in rows]

    def resolve_ambiguous(self, decision: str, only: set[str] | None = None) -> list[str]:
        """A person checked: 'sent' (it arrived: never send it again) or 'resend' (send it in this run).

        Returns the addresses changed. `only` limits the decision to some addresses."""
        if decision not in ("sent", "resend"):
            raise ValueError(decision)
        chosen = [a for a in self.ambiguous() if only is None or a in only]
        state = "sent" if decision == "sent" else "pending"
        note = "marked sent by a person after a crash" if decision == "sent" else "to be sent again, decided by a person"
        for address in chosen:
            self.mark(address, state, error=note)
        return chosen


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Bounce:
    address: str
    issue: str
    error: str
    recorded: str  # ISO time


@dataclass(frozen=True)
class Unsubscribe:
    address: str
    via: str  # one-click, page, mail
    requested: str  # ISO time the reader asked
    recorded: str  # ISO time it was imported


class Records:
    """Bounces, unsubscribes and mailbox messages already read, across issues (no issue lock: SQLite's own
    locking is enough for these short transactions, also while a `sitegen send` runs)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        _refuse_links(folder)
        self._db = sqlite3.connect(folder / "journal.sqlite", isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Records":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def delivered(self) -> dict[str, list[tuple[str, str]]]:
        """address -> [(issue, state)], newest first: every address the journal has mailed or tried."""
        out: dict[str, list[tuple[str, str]]] = {}
        for address, issue, state in self._db.execute(
                "SELECT address, issue, state FROM deliveries ORDER BY updated DESC, issue DESC"):
            out.setdefault(address, []).append((issue, state))
        return out

    # --- mailbox messages already read -----------------------------------------------------------

    def was_read(self, digest: str, purpose: str) -> bool:
        row = self._db.execute("SELECT 1 FROM mail_read WHERE digest = ? AND purpose = ?", (digest, purpose)).fetchone()
        return row is not None

    def mark_read(self, digest: str, purpose: str, outcome: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO mail_read VALUES (?, ?, ?, ?)", (digest, purpose, outcome, _now()))

    # --- bounces ------------------------------------------------------------------------------

    def add_bounce(self, address: str, issue: str, error: str) -> bool:
        """Record a permanent failure; False when the address was recorded already (kept as it was)."""
        cur = self._db.execute("INSERT OR IGNORE INTO bounces VALUES (?, ?, ?, ?)", (address, issue, error, _now()))
        return cur.rowcount == 1

    def bounces(self) -> list[Bounce]:
        return [Bounce(*r) for r in self._db.execute(
            "SELECT address, issue, error, updated FROM bounces ORDER BY updated, address")]

    def clear_bounce(self, address: str) -> tuple[bool, list[str]]:
        """Forget a bounce: the address is mailed again. Its `bounced` deliveries become `pending` (so a rerun of
        that issue mails it too). Returns (whether it was in bounces, the issues whose delivery was reset)."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            removed = self._db.execute("DELETE FROM bounces WHERE address = ?", (address,)).rowcount == 1
            issues = [r[0] for r in self._db.execute(
                "SELECT issue FROM deliveries WHERE address = ? AND state = 'bounced' ORDER BY issue", (address,))]
            self._db.execute("UPDATE deliveries SET state = 'pending', updated = ?,"
                             " error = 'bounce cleared by a person (sitegen bounces --clear); was: ' || error"
                             " WHERE address = ? AND state = 'bounced'", (_now(), address))
        return removed, issues

    # --- unsubscribes ------------------------------------------------------------------------

    def add_unsubscribe(self, address: str, token: str, via: str, requested: str) -> bool:
        """Record an opt-out; False when the address had opted out already (the first request is kept)."""
        cur = self._db.execute("INSERT OR IGNORE INTO unsubscribes VALUES (?, ?, ?, ?, ?)",
                               (address, token, via, requested, _now()))
        return cur.rowcount == 1

    def unsubscribes(self) -> list[Unsubscribe]:
        return [Unsubscribe(*r) for r in self._db.execute(
            "SELECT address, via, requested, recorded FROM unsubscribes ORDER BY recorded, address")]

    def clear_unsubscribe(self, address: str) -> bool:
        return self._db.execute("DELETE FROM unsubscribes WHERE address = ?", (address,)).rowcount == 1

