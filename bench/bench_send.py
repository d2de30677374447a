"""Newsletter benchmark: build one issue, personalise 800 / 10,000 messages, send 800 to a local aiosmtpd.

    .venv/bin/python bench/bench_send.py [--recipients 840]

Uses the example site (site.yaml, content/, private/partners.csv) copied to a temporary folder.
Prints wall-clock seconds; the machine's load matters, so run it twice.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from mail_fixtures import SMTPServer, numbered_partners  # noqa: E402
from sitegen.build import BuildOptions, run  # noqa: E402
from sitegen.content.newsletter_models import Recipient  # noqa: E402
from sitegen.mail.message import build_message, personalise, to_bytes  # noqa: E402
from sitegen.project import Project  # noqa: E402
from sitegen.send import run as send  # noqa: E402
from sitegen.send.journal import Journal, journal_dir  # noqa: E402

TODAY = dt.date(2026, 11, 25)
ISSUE = "2026-11-no2"


def timed(label: str, fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    dt_ = time.perf_counter() - t0
    print(f"{label:<52} {dt_:8.3f} s")
    return out, dt_


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sync", choices=["FULL", "NORMAL"], default="FULL", help="journal fsync mode to measure")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        for name in ("site.yaml", "content", "private"):
            (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, site / name)
        project = Project.at(site)
        timed("build the mail output (load + 2 issues)", run, project, BuildOptions(today=TODAY, outputs=("mail",)))
        plan, _ = timed("prepare: load, re-render to check freshness, read list", send.prepare, project, ISSUE)
        m = plan.manifest
        people = [p.recipient for p in plan.to_send]
        many = [Recipient(**{**r, "registered": r["registered"] == "true", "specialties": r["specialties"].split("・")})
                for r in numbered_partners(10_000)]
        for label, group in ((f"personalise HTML+text, {len(people)} recipients", people),
                             ("personalise HTML+text, 10,000 recipients", many)):
            timed(label, lambda g: [len(personalise(plan.html, plan.text, m, r)[0]) for r in g], group)  # not kept
        timed(f"whole messages (headers, MIME, bytes), {len(people)}",
              lambda: [len(to_bytes(build_message(m, plan.html, plan.text, r))) for r in people])
        size = len(to_bytes(build_message(m, plan.html, plan.text, people[0])))
        print(f"{'one message':<52} {size:8,d} bytes")

        with SMTPServer() as server:
            smtp = send.SmtpConfig("127.0.0.1", server.port, "none", None, None, 30)
            with Journal(journal_dir(site), ISSUE) as journal:
                journal._db.execute(f"PRAGMA synchronous={args.sync}")
                report, secs = timed(f"send {len(plan.to_send)} to local aiosmtpd (journal {args.sync})", send.deliver,
                                     plan, journal, smtp, send.Pace(rate=1000))
            assert report.sent == len(plan.to_send) == server.handler.count(), report
            print(f"{'throughput':<52} {report.sent / secs:8.1f} msg/s")


if __name__ == "__main__":
    main()
