"""A real relay's failures (aiosmtpd on 127.0.0.1): a refusal of the relay itself stops the run and bounces nobody;
only a recipient-specific 5xx bounces that address. Also the login rule, human error texts and pacing."""
from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from mail_fixtures import Handler, SMTPServer, make_mail_site, numbered_partners, write_partners
from sitegen.build import BuildOptions, run
from sitegen.cli import main
from sitegen.content.newsletter_models import SmtpSettings
from sitegen.project import Project
from sitegen.send.run import Pace, _Window
from sitegen.send.smtp import PERMANENT, REFUSED, RELAY, SendError, SmtpConfig, classify

TODAY = dt.date(2026, 11, 25)
ISSUE = "2026-11-no2"
N = 12


@dataclass
class RelayHandler(Handler):
    """Handler that can refuse every RCPT, or the end of every DATA, with one reply."""

    refuse_rcpt: str = ""
    refuse_data: str = ""
    rcpts: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts.append(address.lower())
        if self.refuse_rcpt:
            return self.refuse_rcpt
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = make_mail_site(tmp_path_factory.mktemp("relay") / "hospital")
    write_partners(site / "partners.csv", numbered_partners(N))
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail",)))
    return site


@pytest.fixture()
def site(built, tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(built, dest)
    return dest


def send(site: Path, port: int, host: str = "127.0.0.1", **env: str):
    env = {"SITEGEN_SMTP_PORT": str(port), "SITEGEN_SMTP_HOST": host, "SITEGEN_SMTP_SECURITY": "none", **env}
    return CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes"], env=env)


def bounced(site: Path) -> list[str]:
    db = site / ".sitegen" / "send" / "journal.sqlite"
    if not db.is_file():
        return []
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT address FROM bounces")]
    finally:
        con.close()


@pytest.mark.parametrize("reply", ["554 5.7.1 <clinic0000@example.jp>: Relay access denied",
                                   "530 5.7.0 Authentication required", "550 5.7.1 Client host rejected by policy"])
def test_a_relay_that_refuses_every_recipient_stops_the_run_and_bounces_nobody(site, reply):
    handler = RelayHandler(refuse_rcpt=reply)
    with SMTPServer(handler) as server:
        result = send(site, server.port)
    assert result.exit_code == 1, result.output
    assert len(handler.rcpts) == 1  # stopped at the first refusal
    assert bounced(site) == [] and "bounced: 0" in result.output
    assert "stopped early" in result.output and "not the address" in result.output
    assert f"not tried: {N}" in result.output
    assert "SITEGEN_SMTP_USER" in result.output  # what to do


def test_the_same_unexplained_refusal_for_several_recipients_stops_and_undoes_their_bounces(site):
    handler = RelayHandler(refuse_rcpt="550 Rejected")
    with SMTPServer(handler) as server:
        result = send(site, server.port)
        assert result.exit_code == 1 and "3 recipients in a row" in result.output, result.output
        assert bounced(site) == [] and len(handler.rcpts) == 3
        handler.refuse_rcpt = ""  # the relay is fixed: everyone is mailed, nobody was lost
        again = send(site, server.port)
    assert again.exit_code == 0, again.output
    assert f"sent: {N} " in again.output and handler.count() == N


def test_a_content_filter_after_data_stops_the_run_and_bounces_nobody(site):
    handler = RelayHandler(refuse_data="554 5.6.0 Message content rejected")
    with SMTPServer(handler) as server:
        result = send(site, server.port)
    assert result.exit_code == 1 and "content filter" in result.output, result.output
    assert bounced(site) == [] and handler.count() == 0


def test_a_recipient_specific_5xx_bounces_only_that_address(site):
    handler = RelayHandler()
    handler.replies["clinic0003@example.jp"] = ["550 5.1.1 <clinic0003@example.jp>: user unknown"]
    handler.replies["clinic0007@example.jp"] = ["550 Rejected"]  # unexplained, but alone: that address
    with SMTPServer(handler) as server:
        result = send(site, server.port)
    assert result.exit_code == 0, result.output
    assert sorted(bounced(site)) == ["clinic0003@example.jp", "clinic0007@example.jp"]
    assert handler.count() == N - 2 and "bounced: 2" in result.output


@pytest.mark.parametrize("reply,kind", [
    ("5.1.1 user unknown", PERMANENT), ("5.1.10 Recipient address rejected: null MX", PERMANENT),
    ("5.2.1 mailbox disabled", PERMANENT), ("5.4.4 unable to route", PERMANENT),
    ("5.7.1 Relay access denied", RELAY), ("5.7.606 Access denied, banned sending IP", RELAY),
    ("5.3.4 message too big for system", RELAY), ("5.5.2 syntax error", RELAY),
    ("Requested action not taken: mailbox unavailable", PERMANENT), ("No such user here", PERMANENT),
    ("Relaying denied", RELAY), ("Authentication required", RELAY), ("Rejected", REFUSED),
])
def test_replies_are_told_apart_by_their_enhanced_status_code_or_words(reply, kind):
    assert classify(550, reply) == kind


def test_a_remote_relay_without_login_is_refused_before_connecting(site):
    result = send(site, 9, host="mail.example.jp")  # port 9: nothing there; the refusal comes first
    assert result.exit_code == 1 and "no login for mail.example.jp" in result.output, result.output
    assert "open_relay" in result.output and "nothing was sent" in result.output


def test_an_internal_open_relay_is_allowed_when_said_so():
    config = SmtpConfig.from_settings(SmtpSettings(host="relay.hospital.local", open_relay=True), {})
    assert config.user is None and config.host == "relay.hospital.local"


def test_a_non_ascii_password_is_a_clear_error():
    with pytest.raises(SendError, match="outside ASCII"):
        SmtpConfig.from_settings(SmtpSettings(host="mail.example.jp"),
                                 {"SITEGEN_SMTP_USER": "renkei", "SITEGEN_SMTP_PASSWORD": "パスワード"})


def test_a_refused_login_reads_as_text_not_as_a_python_tuple(site):
    from aiosmtpd.smtp import AuthResult

    class Refuse:
        def __call__(self, server, session, envelope, mechanism, auth_data):
            return AuthResult(success=False, handled=False)

    from aiosmtpd.controller import Controller

    from mail_fixtures import free_port
    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=Refuse(),
                            auth_require_tls=False)
    controller.start()
    try:
        result = send(site, port, SITEGEN_SMTP_USER="renkei", SITEGEN_SMTP_PASSWORD="wrong")
    finally:
        controller.stop()
    assert result.exit_code == 1, result.output
    assert "SMTP login to 127.0.0.1" in result.output and "b'" not in result.output


@pytest.mark.parametrize("rate", [1.0, 2.0, 3.0, 5.0, 0.5])
def test_pacing_never_lets_more_than_the_rate_through_in_any_one_second_window(rate):
    now = [0.0]
    pace = Pace(rate=rate, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    window = _Window(pace)
    starts = []
    for _ in range(40):
        window.wait()
        starts.append(now[0])
    limit = max(1, int(rate))
    for i, t in enumerate(starts):
        assert sum(1 for s in starts if t <= s <= t + 1.0) <= limit, (i, starts[:12])
    assert starts[-1] <= 40 / rate + 2  # and not much slower than asked


def with_smtp(site: Path, **settings: str) -> None:
    text = (site / "site.yaml").read_text(encoding="utf-8")
    extra = "".join(f"  {k}: {v}\n" for k, v in settings.items())
    (site / "site.yaml").write_text(text.replace("smtp:\n", "smtp:\n" + extra, 1), encoding="utf-8")


@dataclass
class EnvelopeHandler(Handler):
    senders: list = field(default_factory=list)
    helos: list = field(default_factory=list)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.helos.append(hostname)
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.senders.append(address)
        envelope.mail_from = address
        return "250 OK"


def test_envelope_sender_verp_and_helo_name_reach_the_server(site):
    with_smtp(site, envelope_from="bounces@example.jp", verp="true", helo_name="renkei-pc.example.jp")
    handler = EnvelopeHandler()
    with SMTPServer(handler) as server:
        result = send(site, server.port)
    assert result.exit_code == 0, result.output
    assert sorted(handler.senders) == sorted(f"bounces+clinic{i:04d}=example.jp@example.jp" for i in range(N))
    assert set(handler.helos) == {"renkei-pc.example.jp"}
    # the From: header is still the office's
    assert all(b"From: " in r.data and b"bounces+" not in r.data.split(b"\r\n\r\n")[0] for r in handler.received)


def test_verp_without_an_envelope_sender_is_a_clear_error(site):
    with_smtp(site, verp="true")
    with SMTPServer() as server:
        result = send(site, server.port)
    assert result.exit_code == 1 and "smtp.verp needs smtp.envelope_from" in result.output


def test_ambiguous_recipients_are_decided_one_by_one(site):
    from mail_fixtures import numbered_partners as _np

    a, b = _np(N)[2]["email"], _np(N)[5]["email"]

    @dataclass
    class DropAfterData(Handler):
        drop: set = field(default_factory=lambda: {a, b})

        async def handle_DATA(self, server, session, envelope):
            result = await super().handle_DATA(server, session, envelope)
            if envelope.rcpt_tos[0].lower() in self.drop:
                self.drop.discard(envelope.rcpt_tos[0].lower())
                server.transport.close()
            return result

    handler = DropAfterData()
    with SMTPServer(handler) as server:
        first = send(site, server.port)
        assert first.exit_code == 1 and "ambiguous: 2 " in first.output, first.output
        unknown = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes", "--resolve-ambiguous",
                                            "nobody@example.jp=sent"],
                                     env={"SITEGEN_SMTP_PORT": str(server.port), "SITEGEN_SMTP_HOST": "127.0.0.1"})
        assert unknown.exit_code == 1 and "not ambiguous" in unknown.output
        env = {"SITEGEN_SMTP_PORT": str(server.port), "SITEGEN_SMTP_HOST": "127.0.0.1"}
        decided = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes", "--resolve-ambiguous",
                                            f"{a}=sent", "--resolve-ambiguous", f"{b}=resend"], env=env)
        assert decided.exit_code == 0, decided.output
        counts = [r.rcpt_tos[0].lower() for r in handler.received]
    assert counts.count(a) == 1 and counts.count(b) == 2  # b was asked to be sent again
    assert "1 ambiguous recipient(s) marked as sent" in decided.output


def test_send_reads_a_build_made_with_out(site, tmp_path):
    out = tmp_path / "elsewhere"
    run(Project.at(site, out), BuildOptions(today=TODAY, outputs=("mail",)))
    shutil.rmtree(site / "build")
    with SMTPServer() as server:
        env = {"SITEGEN_SMTP_PORT": str(server.port), "SITEGEN_SMTP_HOST": "127.0.0.1"}
        missing = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes"], env=env)
        assert missing.exit_code == 1 and "has not been built" in missing.output
        result = CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes", "--build", str(out)], env=env)
        assert result.exit_code == 0, result.output
        assert server.handler.count() == N
