"""`sitegen send` against a real SMTP server (aiosmtpd on 127.0.0.1), including SIGKILL and resume.

The server is real; some tests configure it to fail (421/451/550 for given addresses, a dropped
connection, a DATA that blocks until the test kills the sender).
"""
from __future__ import annotations

import asyncio
import csv
import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from markupsafe import escape

from mail_fixtures import REPO, Handler, Received, SMTPServer, make_mail_site, numbered_partners, write_partners
from sitegen.build import BuildOptions, run
from sitegen.cli import main
from sitegen.content.newsletter_models import Recipient
from sitegen.content.partners import token
from sitegen.mail.message import HeaderInjection, Manifest, build_message, message_id
from sitegen.project import Project

TODAY = dt.date(2026, 11, 25)
ISSUE = "2026-11-no2"
SECRET = "test-secret-0123456789abcdef"


# --- a real server that can be told to fail ---------------------------------------------------


@dataclass
class FailingHandler(Handler):
    """Handler + drop the connection at RCPT (`drops`), drop it after taking a message (`drop_after_data`),
    or block the Nth DATA until released (`block_at`; with `record_blocked` the message counts as received)."""

    drops: dict = field(default_factory=dict)  # address -> how many times to drop at RCPT
    drop_after_data: set = field(default_factory=set)
    rcpt_log: list = field(default_factory=list)
    arrivals: list = field(default_factory=list)
    block_at: int | None = None
    record_blocked: bool = True
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    datas: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_log.append(address.lower())
        if self.drops.get(address.lower(), 0) > 0:
            self.drops[address.lower()] -= 1
            server.transport.close()
            return "421 4.4.2 dropped"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        self.datas += 1
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        if self.block_at is not None and self.datas == self.block_at:
            if self.record_blocked:
                with self.lock:
                    self.received.append(received)
            self.blocked.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return "451 4.3.0 too late"
        with self.lock:
            self.received.append(received)
            self.arrivals.append(time.monotonic())
        if received.rcpt_tos and received.rcpt_tos[0].lower() in self.drop_after_data:
            self.drop_after_data.discard(received.rcpt_tos[0].lower())
            server.transport.close()  # the message was taken, the reply never comes
        return "250 2.0.0 queued"

    def per_address(self) -> Counter:
        with self.lock:
            return Counter(r.rcpt_tos[0].lower() for r in self.received)


@pytest.fixture()
def server():
    with SMTPServer(FailingHandler()) as s:
        yield s


@pytest.fixture(scope="module")
def built_template(tmp_path_factory) -> Path:
    """The mail sample site with 40 partners, built once; each test gets a copy."""
    site = make_mail_site(tmp_path_factory.mktemp("send") / "hospital")
    write_partners(site / "partners.csv", numbered_partners(40))
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail", "site")))
    return site


@pytest.fixture()
def site(built_template, tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(built_template, dest)
    return dest


def env_for(server) -> dict:
    return {"SITEGEN_SMTP_PORT": str(server.port), "SITEGEN_SMTP_HOST": "127.0.0.1", "SITEGEN_SMTP_SECURITY": "none"}


def cli(site: Path, server, *args: str):
    result = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), *args], env=env_for(server) if server else {})
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.output
    return result


def send_process(site: Path, server, *args: str) -> subprocess.Popen:
    env = {**os.environ, **env_for(server)}
    return subprocess.Popen([sys.executable, "-m", "sitegen", "send", ISSUE, "--source", str(site), "--yes", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def emails(n: int = 40) -> list[str]:
    return [p["email"] for p in numbered_partners(n)]


def journal_states(site: Path) -> dict[str, str]:
    db = sqlite3.connect(site / ".sitegen" / "send" / "journal.sqlite")
    try:
        return dict(db.execute("SELECT address, state FROM deliveries WHERE issue = ?", (ISSUE,)).fetchall())
    finally:
        db.close()


# --- the happy path ---------------------------------------------------------------------------


@pytest.mark.slow
def test_example_list_of_840_delivered_and_parsed_back(site, server):
    shutil.copy(REPO / "private" / "partners.csv", site / "partners.csv")
    with open(site / "partners.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 800
    expected = {r["email"] for r in rows if r["status"] == "subscribed" and re.fullmatch(r"[^@]+@[a-z0-9-]+(\.[a-z0-9-]+)+", r["email"])}
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes"],
                                env={**env_for(server), "SITEGEN_UNSUBSCRIBE_SECRET": SECRET})
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert f"sent: {len(expected)} " in result.output
    assert "uketsuke@example" in result.output and "info@@example.jp" in result.output  # listed as invalid
    got = server.handler.received
    assert sorted(r.rcpt_tos[0] for r in got) == sorted(expected)
    print(f"\n{len(got)} messages through aiosmtpd in {elapsed:.2f}s ({len(got) / elapsed:.0f}/s incl. load and check)")
    manifest = Manifest(**__import__("json").loads((site / "build/mail" / ISSUE / "manifest.json").read_text("utf-8")))
    by_address = {r["email"]: r for r in rows}
    for r in got:
        address = r.rcpt_tos[0]
        row = by_address[address]
        msg = r.message
        assert msg["Subject"] == manifest.subject
        assert msg["Message-ID"] == message_id(manifest, address)
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert all(p.get_content_charset() == "utf-8" for p in msg.iter_parts())
        to = msg["To"].addresses
        assert len(to) == 1 and to[0].addr_spec == address  # a comma or <…> in a name adds no recipient
        assert r.mail_from == "renkei@example.jp"
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        greeting = f"{row['institution']} {row['contact']}先生" if row["contact"] else f"{row['institution']} ご担当者様"
        assert greeting in text
        assert str(escape(greeting)) in html
        head = r.data.split(b"\r\n\r\n", 1)[0]
        # on the wire: two plain URLs, not RFC 2047 encoded words, with the address's signed token
        t = token(manifest.list_id, address, SECRET.encode()).encode()
        assert (b"\r\nList-Unsubscribe: <mailto:teishi@example.jp?subject=unsubscribe-" + t + b">,\r\n"
                b" <https://www.example.jp/renkei/teishi?u=" + t + b">\r\n") in head, head
        assert b"List-Unsubscribe-Post" not in head  # newsletter.one_click is not set: no endpoint takes the POST
        assert b"=?" not in re.search(rb"List-Unsubscribe:.*?\r\n(?! )", head, re.S).group(0)
    odd = next(r for r in got if '"湊"' in by_address[r.rcpt_tos[0]]["institution"])
    html = odd.message.get_body(("html",)).get_content()
    assert "&lt;clinic@example.jp&gt;" in html and "<clinic@example.jp>" not in html  # escaped in the salutation
    # Japanese display names and characters outside JIS X 0208 (髙, 﨑) survive
    assert any("髙" in r.message["To"].addresses[0].display_name for r in got)
    assert any("﨑" in r.message.get_body(("plain",)).get_content() for r in got)


def test_rerun_after_completion_sends_nothing(site, server):
    assert cli(site, server, "--yes").exit_code == 0
    assert server.handler.count() == 40
    again = cli(site, server, "--yes")
    assert again.exit_code == 0, again.output
    assert "skipped: 40 already sent" in again.output and "nothing to send" in again.output
    assert server.handler.count() == 40


def test_confirmation_shows_the_count_and_no_sends_nothing(site, server):
    result = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site)], input="n\n", env=env_for(server))
    assert "to send: 40" in result.output and "Send to 40 recipient(s)" in result.output
    assert result.exit_code == 1 and server.handler.count() == 0
    result = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site)], input="y\n", env=env_for(server))
    assert result.exit_code == 0 and server.handler.count() == 40


def test_segments(site, server):
    result = cli(site, server, "--yes", "--segment", "area=港区", "--segment", "specialty=外科")
    assert result.exit_code == 0, result.output
    wanted = {p["email"] for p in numbered_partners(40) if p["area"] == "港区" and "外科" in p["specialties"].split("・")}
    assert {r.rcpt_tos[0] for r in server.handler.received} == wanted and wanted
    typo = cli(site, server, "--dry-run", "--segment", "area=湊区")
    assert "no partner on partners.csv has this area" in typo.output


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", ["451 4.7.1 greylisted", "421 4.3.2 closing the connection"])
def test_temporary_failure_is_retried_then_delivered(site, server, reply):
    a = emails()[5]
    server.handler.replies[a] = [reply]
    result = cli(site, server, "--yes")
    assert result.exit_code == 0, result.output
    assert "sent: 40 " in result.output and "1 retries" in result.output
    assert server.handler.per_address()[a] == 1 and server.handler.rcpt_log.count(a) == 2


@pytest.mark.slow
def test_dropped_connection_reconnects(site, server):
    a = emails()[7]
    server.handler.drops[a] = 2
    result = cli(site, server, "--yes")
    assert result.exit_code == 0, result.output
    assert server.handler.per_address() == Counter({e: 1 for e in emails()})


def test_permanent_failure_bounces_and_is_never_retried(site, server):
    a = emails()[3]
    server.handler.replies[a] = ["550 5.1.1 no such user"]
    result = cli(site, server, "--yes")
    assert result.exit_code == 0, result.output
    assert "bounced: 1 " in result.output and a in result.output
    assert server.handler.rcpt_log.count(a) == 1
    assert journal_states(site)[a] == "bounced"
    # the next issue skips the address too
    again = CliRunner().invoke(main, ["send", "2026-10-no1", "--source", str(site), "--yes"], env=env_for(server))
    assert again.exit_code == 0, again.output
    assert "skipped: 1 bounced earlier" in again.output and server.handler.rcpt_log.count(a) == 1


def test_drop_after_the_message_was_handed_over_is_ambiguous(site, server):
    a = emails()[9]
    server.handler.drop_after_data.add(a)
    result = cli(site, server, "--yes")
    assert result.exit_code == 1
    assert "ambiguous: 1 " in result.output and a in result.output and "--resolve-ambiguous" in result.output
    assert server.handler.per_address() == Counter({e: 1 for e in emails()})  # the server did take it
    again = cli(site, server, "--yes")
    assert again.exit_code == 1 and a in again.output and server.handler.count() == 40
    resolved = cli(site, server, "--yes", "--resolve-ambiguous", "sent")
    assert resolved.exit_code == 0, resolved.output
    assert server.handler.count() == 40 and journal_states(site)[a] == "sent"


def test_unsubscribed_and_bounced_rows_are_skipped_and_invalid_listed(site, server):
    rows = numbered_partners(6)
    rows[1]["status"] = "unsubscribed"
    rows[2]["status"] = "bounced"
    rows[3]["email"] = "nobody@@example.jp"
    write_partners(site / "partners.csv", rows)
    result = cli(site, server, "--yes")
    assert result.exit_code == 0, result.output
    assert "partners.csv:5: 'nobody@@example.jp'" in result.output
    assert result.output.index("nobody@@example.jp") < result.output.index("sent: 3 ")
    assert {r.rcpt_tos[0] for r in server.handler.received} == {rows[i]["email"] for i in (0, 4, 5)}


def test_rate_limit_holds(site, server):
    write_partners(site / "partners.csv", numbered_partners(10))
    result = cli(site, server, "--yes", "--rate", "20")
    assert result.exit_code == 0, result.output
    arrivals = server.handler.arrivals
    assert len(arrivals) == 10
    # a lower bound only (the machine may be slower); from the 2nd message, as the 1st also waited for the connection
    assert arrivals[-1] - arrivals[1] >= 8 / 20 * 0.95


def test_server_down_stops_early_and_resumes(site, server):
    from sitegen.send import run as send
    from sitegen.send.journal import Journal, journal_dir

    dead = send.SmtpConfig("127.0.0.1", 1, "none", None, None, 5.0)  # nothing listens on port 1
    with Journal(journal_dir(Project.at(site)), ISSUE) as journal:
        plan = send.prepare(Project.at(site), ISSUE, journal=journal)
        report = send.deliver(plan, journal, dead, send.Pace(rate=1000, backoff=0.001))
    assert report.sent == 0 and "cannot connect" in report.stopped and len(report.failed) == 1
    result = cli(site, server, "--yes")
    assert result.exit_code == 0, result.output
    assert server.handler.per_address() == Counter({e: 1 for e in emails()})


# --- refusals ---------------------------------------------------------------------------------


def test_stale_build_is_refused(site, server):
    issue = site / "content" / "newsletters" / f"{ISSUE}.md"
    issue.write_text(issue.read_text(encoding="utf-8").replace("subject:", "subject: 【改】", 1), encoding="utf-8")
    result = cli(site, server, "--yes")
    assert result.exit_code == 1
    assert "changed since build/mail/2026-11-no2 was built" in result.output and "sitegen build" in result.output
    assert "Traceback" not in result.output and server.handler.count() == 0


def test_unbuilt_issue_and_bad_options_are_explained(site, server):
    r = CliRunner().invoke(main, ["send", "2026-11-no3", "--source", str(site), "--yes"], env=env_for(server))
    assert r.exit_code == 1 and "has not been built (did you mean '2026-11-no2'?)" in r.output
    r = cli(site, server, "--segment", "ward=港区")
    assert r.exit_code == 1 and "KEY one of area, specialty, registered, status" in r.output
    r = cli(site, server, "--test-to", "not-an-address")
    assert r.exit_code == 1 and "not a valid e-mail address" in r.output
    assert server.handler.count() == 0


@pytest.mark.parametrize("where, message", [
    ("../outside.csv", "is outside the site folder"),
    ("content/partners.csv", "is under content/"),
    ("build/partners.csv", "is under build/"),
])
def test_recipient_list_must_stay_private(site, server, where, message):
    target = (site / where).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(site / "partners.csv", target)
    r = cli(site, server, "--yes", "--recipients", str(target))
    assert r.exit_code == 1 and message in r.output, r.output
    yaml = site / "site.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("recipients: partners.csv", f"recipients: {where}"), encoding="utf-8")
    r = cli(site, server, "--yes")
    assert r.exit_code == 1 and message in r.output, r.output
    assert server.handler.count() == 0


def test_header_injection_is_refused(site, server):
    (site / "partners.csv").write_text(
        "institution,contact,email,area,specialties,registered,opted_in,status\n"
        '"悪い医院\r\nBcc: victim@example.com",山田,a@example.jp,港区,内科,false,2025-04-01,subscribed\n'
        'いい医院,"山田\nCc: x@example.com",b@example.jp,港区,内科,false,2025-04-01,subscribed\n',
        encoding="utf-8", newline="")
    r = cli(site, server, "--yes")
    assert r.exit_code == 1 and r.output.count("must be one line of text") == 2, r.output
    assert server.handler.count() == 0
    m = Manifest(**__import__("json").loads((site / "build/mail" / ISSUE / "manifest.json").read_text("utf-8")))
    ok = Recipient(institution="医院", email="a@example.jp")
    for bad in (dict(subject_prefix="x\r\nBcc: v@example.com "), dict(to_address="a@example.jp\r\nBcc: v@example.com"),
                dict(to_address="a@example.jp, v@example.com")):
        with pytest.raises(HeaderInjection):
            build_message(m, "<p></p>", "", ok, **bad)


def test_draft_is_refused_but_can_be_previewed(site, server):
    issue = site / "content" / "newsletters" / f"{ISSUE}.md"
    issue.write_text(issue.read_text(encoding="utf-8").replace("\nsubject:", "\ndraft: true\nsubject:", 1), encoding="utf-8")
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail",)))
    r = cli(site, server, "--yes")
    assert r.exit_code == 1 and "is a draft" in r.output
    assert cli(site, server, "--test-to", "me@example.jp").exit_code == 0
    assert server.handler.count() == 1


# --- looking before sending ------------------------------------------------------------------


def test_dry_run_writes_eml_and_sends_nothing(site, server, tmp_path):
    out = tmp_path / "preview"
    r = cli(site, server, "--dry-run", "--out-dir", str(out))
    assert r.exit_code == 0, r.output
    files = sorted(out.glob("0*.eml"))
    assert len(files) == 40
    assert b"clinic0001@example.jp" in files[1].read_bytes()
    assert cli(site, server, "--dry-run", "--out-dir", str(out)).exit_code == 0  # its own folder: replaced
    assert len(sorted(out.glob("0*.eml"))) == 40
    assert server.handler.count() == 0 and not (site / ".sitegen" / "send" / "journal.sqlite").exists()
    assert cli(site, server, "--yes").exit_code == 0 and server.handler.count() == 40
    published = cli(site, server, "--dry-run", "--out-dir", str(site / "build" / "site" / "eml"))
    assert published.exit_code == 1 and "must not be published" in published.output
    assert not (site / "build" / "site" / "eml").exists()


@pytest.mark.parametrize("where", ["foreign", "root", "site", "above"])
def test_dry_run_refuses_a_folder_it_did_not_make(site, server, tmp_path, where):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "00001-keep.eml").write_text("keep me")
    folder = {"foreign": foreign, "root": Path("/"), "site": site, "above": site.parent}[where]
    r = cli(site, server, "--dry-run", "--out-dir", str(folder))
    assert r.exit_code == 1 and "--out-dir: " in r.output and ("refusing" in r.output or "not empty" in r.output), r.output
    assert (foreign / "00001-keep.eml").read_text() == "keep me"


def test_test_to_sends_exactly_one_and_leaves_the_journal(site, server):
    r = cli(site, server, "--test-to", "me@example.jp")
    assert r.exit_code == 0, r.output
    (got,) = server.handler.received
    assert got.rcpt_tos == ["me@example.jp"] and got.message["Subject"].startswith("[テスト送信] ")
    assert cli(site, server, "--yes").exit_code == 0 and server.handler.count() == 41


def test_the_recipient_list_is_not_published(site, example_build):
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site", "mail")))
    with open(REPO / "private" / "partners.csv", encoding="utf-8") as f:
        example = [r["email"].encode() for r in csv.DictReader(f)][::97]
    ours = [e.encode() for e in emails()[::7]]
    for folder, addresses in ((site / "build", ours), (example_build, example)):
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files
        for p in files:
            data = p.read_bytes()
            for a in addresses:
                assert a not in data, f"{a.decode()} in {p}"


# --- crash safety: a real process killed with SIGKILL ----------------------------------------


def reported_ambiguous(stderr: str) -> list[str]:
    """The addresses listed under "N ambiguous (…):" in the final report."""
    block = stderr.rsplit("ambiguous (", 1)
    if len(block) == 1:
        return []
    return [line.strip() for line in block[1].splitlines()[1:] if line.startswith("  ") and "@" in line and " " not in line.strip()]


def run_to_completion(site, server, *args) -> subprocess.CompletedProcess:
    p = send_process(site, server, *args)
    out, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("kill_at, record", [(1, True), (17, False), (40, True)])
def test_killed_in_flight_then_resumed(site, server, kill_at, record):
    h = server.handler
    h.block_at, h.record_blocked = kill_at, record
    p = send_process(site, server)
    assert h.blocked.wait(60), p.communicate()
    p.kill()  # SIGKILL while the message is in flight
    p.wait()
    h.release.set()
    h.block_at = None
    in_flight = emails()[kill_at - 1]
    look = cli(site, server, "--dry-run")  # a dry run reads the journal without the lock and changes nothing
    assert look.exit_code == 0 and reported_ambiguous(look.output) == [in_flight], look.output
    resumed = run_to_completion(site, server)
    assert reported_ambiguous(resumed.stderr) == [in_flight], resumed.stderr
    assert resumed.returncode == 1
    counts = h.per_address()
    assert counts[in_flight] == (1 if record else 0)
    assert {a: c for a, c in counts.items() if a != in_flight} == {e: 1 for e in emails() if e != in_flight}
    # a person checked the server: it arrived (record) or did not
    decided = run_to_completion(site, server, "--resolve-ambiguous", "sent" if record else "resend")
    assert decided.returncode == 0, decided.stderr
    assert h.per_address() == Counter({e: 1 for e in emails()})
    assert run_to_completion(site, server).returncode == 0 and h.count() == 40


@pytest.mark.slow
@pytest.mark.parametrize("after", [3, 22])
def test_killed_at_a_random_moment_then_resumed(site, server, after):
    h = server.handler
    p = send_process(site, server, "--rate", "200")
    deadline = time.monotonic() + 60
    while h.count() < after and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.0005)
    p.kill()
    p.wait()
    assert after <= h.count() < 40  # killed part-way
    resumed = run_to_completion(site, server)
    ambiguous = reported_ambiguous(resumed.stderr)
    assert len(ambiguous) <= 1, resumed.stderr
    counts = h.per_address()
    for e in emails():
        if e in ambiguous:
            assert counts[e] <= 1
        else:
            assert counts[e] == 1, (e, counts[e], resumed.stdout, resumed.stderr)


def test_concurrent_send_of_the_same_issue_is_refused(site, server):
    h = server.handler
    h.block_at = 2
    first = send_process(site, server)
    try:
        assert h.blocked.wait(60)
        second = run_to_completion(site, server)
        assert second.returncode == 1
        assert f"another `sitegen send {ISSUE}` is running (process {first.pid})" in second.stderr
        other = CliRunner().invoke(main, ["send", "2026-10-no1", "--source", str(site), "--dry-run"], env=env_for(server))
        assert other.exit_code == 0  # a dry run (or another issue) is not blocked
    finally:
        first.kill()
        first.wait()
        h.release.set()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_comes_from_the_environment(site):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from mail_fixtures import free_port

    def authenticator(server, session, envelope, mechanism, auth_data):
        given = tuple(v.decode() if isinstance(v, bytes) else v for v in (auth_data.login, auth_data.password))
        return AuthResult(success=given == ("renkei", "s3cret"), handled=False)  # handled=False: aiosmtpd replies 535

    handler = FailingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=True)  # plain text on loopback only: a test
    controller.start()
    try:
        base = {"SITEGEN_SMTP_PORT": str(port), "SITEGEN_SMTP_HOST": "127.0.0.1", "SITEGEN_SMTP_SECURITY": "none"}
        wrong = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes"],
                                   env={**base, "SITEGEN_SMTP_USER": "renkei", "SITEGEN_SMTP_PASSWORD": "wrong"})
        assert wrong.exit_code == 1 and "SMTP login to 127.0.0.1" in wrong.output and "Traceback" not in wrong.output
        assert handler.count() == 0 and set(journal_states(site).values()) == {"pending"}  # not ambiguous
        right = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes"],
                                   env={**base, "SITEGEN_SMTP_USER": "renkei", "SITEGEN_SMTP_PASSWORD": "s3cret"})
        assert right.exit_code == 0, right.output
        assert handler.per_address() == Counter({e: 1 for e in emails()})
    finally:
        controller.stop()
    assert "s3cret" not in (site / "site.yaml").read_text(encoding="utf-8")


def test_password_over_an_unencrypted_connection_is_refused():
    from sitegen.content.newsletter_models import SmtpSettings
    from sitegen.send.run import SendError, SmtpConfig

    env = {"SITEGEN_SMTP_USER": "renkei", "SITEGEN_SMTP_PASSWORD": "x"}
    with pytest.raises(SendError, match="unencrypted"):
        SmtpConfig.from_settings(SmtpSettings(host="smtp.example.jp", security="none"), env)
    c = SmtpConfig.from_settings(SmtpSettings(host="smtp.example.jp", user_env="MY_USER", password_env="MY_PASS"),
                                 {"MY_USER": "u", "MY_PASS": "p", "SITEGEN_SMTP_USER": "ignored"})
    assert (c.user, c.password, c.security, c.port) == ("u", "p", "starttls", 587)


def test_a_linked_state_folder_keeps_no_journal_and_no_dry_run(site, tmp_path):
    """.sitegen as a symbolic link would put the partners' addresses and the journal outside the site."""
    from sitegen.errors import SitegenError
    from sitegen.send import run as send
    from sitegen.send.journal import journal_dir

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(site / ".sitegen", ignore_errors=True)
    (site / ".sitegen").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(SitegenError, match="symbolic link"):
        journal_dir(Project.at(site))
    with pytest.raises(SitegenError, match="symbolic link"):
        send.dry_run_dir(Project.at(site), ISSUE)
    assert list(elsewhere.iterdir()) == []


def test_links_planted_in_the_send_folders_are_never_written_through(site, server, tmp_path):
    """The send lock, the journal's files and a dry run's files are never opened through a symbolic link."""
    outside = tmp_path / "outside"
    outside.write_text("mine")
    dry = site / ".sitegen" / "dry-run" / ISSUE
    dry.mkdir(parents=True)
    (dry / ".sitegen-dry-run").symlink_to(outside)
    assert cli(site, server, "--dry-run").exit_code == 0
    assert outside.read_text() == "mine" and not (dry / ".sitegen-dry-run").is_symlink()
    send = site / ".sitegen" / "send"
    send.mkdir(parents=True, exist_ok=True)
    for name in (f"{ISSUE}.lock", "journal.sqlite"):
        (send / name).symlink_to(outside)
        r = cli(site, server, "--yes")
        assert r.exit_code == 1 and "symbolic link" in r.output, r.output
        assert outside.read_text() == "mine" and server.handler.count() == 0
        (send / name).unlink()
