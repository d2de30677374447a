"""Crash benchmark for `sitegen send`: SIGKILL the sender at random moments, rerun, and count what a person
must decide by hand (ambiguous recipients) per crash; also a relay that is down (nothing may become ambiguous).

    .venv/bin/python bench/bench_crash.py [--kills 20] [--recipients 120] [--seed 7]

A real aiosmtpd server on 127.0.0.1 takes ~10 ms per message. Prints ambiguous per crash (mean, max),
delivered exactly once, duplicates and losses.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from mail_fixtures import Handler, SMTPServer, free_port, make_mail_site, numbered_partners, write_partners  # noqa: E402
from sitegen.build import BuildOptions, run  # noqa: E402
from sitegen.project import Project  # noqa: E402

TODAY = dt.date(2026, 11, 25)
ISSUE = "2026-11-no2"


def states(site: Path) -> dict[str, str]:
    db = site / ".sitegen" / "send" / "journal.sqlite"
    if not db.is_file():
        return {}
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT address, state FROM deliveries WHERE issue = ?", (ISSUE,)).fetchall())
    finally:
        con.close()


def sender(site: Path, port: int, *args: str) -> subprocess.Popen:
    env = {**os.environ, "SITEGEN_SMTP_PORT": str(port), "SITEGEN_SMTP_HOST": "127.0.0.1", "SITEGEN_SMTP_SECURITY": "none"}
    return subprocess.Popen([sys.executable, "-m", "sitegen", "send", ISSUE, "--source", str(site), "--yes", *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--recipients", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        site = make_mail_site(Path(tmp) / "hospital")
        write_partners(site / "partners.csv", numbered_partners(args.recipients))
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail",)))

        # 1. a relay that is down: nothing becomes ambiguous
        proc = sender(site, free_port())
        proc.wait(60)
        down = sum(1 for s in states(site).values() if s == "ambiguous")
        print(f"relay down: exit {proc.returncode}, ambiguous {down}")

        # 2. kills at random moments while sending
        handler = Handler(delay=0.01)
        per_crash: list[int] = []
        with SMTPServer(handler) as server:
            for _ in range(args.kills):
                proc = sender(site, server.port)
                time.sleep(rng.uniform(0.5, 2.5))  # start-up is ~0.5-1 s, then ~100 messages/s
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                ambiguous = sum(1 for s in states(site).values() if s in ("ambiguous", "sending"))
                per_crash.append(ambiguous)
                if ambiguous:
                    # a person checks the server's log: did it arrive?
                    received = {a.lower() for r in handler.received for a in r.rcpt_tos}
                    pending = [a for a, s in states(site).items() if s in ("ambiguous", "sending")]
                    decisions = [f"{a}={'sent' if a in received else 'resend'}" for a in pending]
                    for d in decisions:  # recorded as --resolve-ambiguous ADDRESS=sent|resend would
                        address, decision = d.rsplit("=", 1)
                        con = sqlite3.connect(site / ".sitegen" / "send" / "journal.sqlite")
                        con.execute("UPDATE deliveries SET state = ? WHERE issue = ? AND address = ?",
                                    ("sent" if decision == "sent" else "pending", ISSUE, address))
                        con.commit()
                        con.close()
            final = sender(site, server.port)
            final.wait(300)
            counts: dict[str, int] = {}
            for r in handler.received:
                for a in r.rcpt_tos:
                    counts[a.lower()] = counts.get(a.lower(), 0) + 1
        expected = {p["email"] for p in numbered_partners(args.recipients)}
        duplicates = sum(1 for a, n in counts.items() if n > 1)
        lost = len(expected - set(counts))
        print(f"kills: {len(per_crash)}; ambiguous per crash: mean {sum(per_crash) / len(per_crash):.2f}, "
              f"max {max(per_crash)}; crashes with none: {per_crash.count(0)}")
        print(f"delivered: {len(counts)} of {len(expected)}; duplicates {duplicates}; lost {lost}")


if __name__ == "__main__":
    main()
