"""`sitegen bounces`: bounce messages that arrive after the relay accepted everyone, read from a real Maildir,
mbox file and IMAP-over-TLS server, recorded in the journal, honoured by the next `sitegen send` (aiosmtpd);
`--clear` undoes. Auto-replies and temporary failures never count; reading twice records nothing new."""
from __future__ import annotations

import datetime as dt
import mailbox
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from imap_fixtures import IMAPServer, Mailbox, auto_reply, crlf, dsn_bounce, qmail_bounce
from mail_fixtures import SMTPServer, make_mail_site, numbered_partners, write_partners
from sitegen.build import BuildOptions, run
from sitegen.cli import main
from sitegen.project import Project
from sitegen.send.bounces import analyse
from sitegen.send.inbox import parse

TODAY = dt.date(2026, 11, 25)
FIRST, SECOND = "2026-10-no1", "2026-11-no2"
N = 8


def email(i: int) -> str:
    return f"clinic{i:04d}@example.jp"


def verp(address: str) -> str:
    return f"bounces+{address.replace('@', '=')}@example.jp"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = make_mail_site(tmp_path_factory.mktemp("bounces") / "hospital")
    write_partners(site / "partners.csv", numbered_partners(N))
    text = (site / "site.yaml").read_text(encoding="utf-8")
    (site / "site.yaml").write_text(text.replace("smtp:\n", "smtp:\n  envelope_from: bounces@example.jp\n  verp: true\n", 1),
                                    encoding="utf-8")
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail",)))
    return site


@pytest.fixture()
def site(built, tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(built, dest)
    return dest


def send(site: Path, issue: str, server: SMTPServer):
    env = {"SITEGEN_SMTP_PORT": str(server.port), "SITEGEN_SMTP_HOST": "127.0.0.1", "SITEGEN_SMTP_SECURITY": "none"}
    result = CliRunner().invoke(main, ["send", issue, "--source", str(site), "--yes"], env=env)
    assert result.exit_code == 0, result.output
    return result


def bounces_cli(site: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["bounces", "--source", str(site), *args], env=env or {})


def recorded(site: Path) -> dict[str, tuple[str, str]]:
    db = sqlite3.connect(site / ".sitegen" / "send" / "journal.sqlite")
    try:
        return {a: (issue, error) for a, issue, error in db.execute("SELECT address, issue, error FROM bounces")}
    finally:
        db.close()


def received(server: SMTPServer) -> list[str]:
    return sorted(r.rcpt_tos[0].lower() for r in server.handler.received)


def message_ids(server: SMTPServer) -> dict[str, str]:
    return {r.rcpt_tos[0].lower(): r.message["Message-ID"] for r in server.handler.received}


def what_comes_back(ids: dict[str, str]) -> list[bytes]:
    """The office's bounce mailbox a day after the first issue went out."""
    reply = crlf(f"""From: {email(7)}
To: renkei@example.jp
Subject: Re: newsletter
Date: Sat, 21 Nov 2026 10:00:00 +0900

いつもありがとうございます。user unknown という言葉が本文にあっても、これは返信です。
""")
    return [
        dsn_bounce(email(3), to=verp(email(3)), issue_message_id=ids[email(3)]),  # RFC 3464, 5.1.1
        qmail_bounce(email(5), to=verp(email(5))),  # no delivery report: qmail's text
        auto_reply(email(1), to=verp(email(1))),  # 不在通知: never a bounce
        dsn_bounce(email(2), to=verp(email(2)), status="4.4.1", action="delayed",
                   diagnostic="451 4.4.1 <{a}>: mailbox temporarily unavailable"),  # temporary
        dsn_bounce("someone@elsewhere.example.jp", to="bounces@example.jp"),  # not ours
        reply,
    ]


def maildir_with(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(str(path), create=True)
    for data in messages:
        box.add(data)
    box.close()
    return path


def tree(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))


def test_bounce_messages_in_a_maildir_are_recorded_and_that_clinic_is_not_mailed_next_issue(site, tmp_path):
    with SMTPServer() as server:
        send(site, FIRST, server)
        assert received(server) == sorted(email(i) for i in range(N))  # the relay accepted everyone
        ids = message_ids(server)
    box = maildir_with(tmp_path / "Maildir", what_comes_back(ids))
    before = tree(box)

    result = bounces_cli(site, "--maildir", str(box))
    assert result.exit_code == 0, result.output
    assert "read 6 message(s)" in result.output and "recorded 2 hard bounce(s)" in result.output, result.output
    assert f"temporary failures, not recorded (the address may work again): {email(2)}" in result.output
    assert "someone@elsewhere.example.jp" in result.output and "auto-replies (不在通知 …), not bounces: 1" in result.output
    assert "other messages (no bounce found in them): 1" in result.output
    got = recorded(site)
    assert sorted(got) == [email(3), email(5)]
    assert got[email(3)][0] == FIRST and "5.1.1" in got[email(3)][1] and "User unknown" in got[email(3)][1]
    assert got[email(5)][0] == FIRST
    assert tree(box) == before  # nothing moved, renamed (flags) or deleted

    again = bounces_cli(site, "--maildir", str(box))
    assert again.exit_code == 0 and "recorded 0 hard bounce(s)" in again.output
    assert "(6 already read before)" in again.output
    assert sorted(recorded(site)) == [email(3), email(5)]

    listing = bounces_cli(site, "--list")
    assert listing.exit_code == 0 and "2 bounced address(es)" in listing.output
    assert f"  {email(3)}  issue {FIRST}  " in listing.output and "5.1.1" in listing.output

    with SMTPServer() as server:
        result = send(site, SECOND, server)
        assert received(server) == sorted(email(i) for i in range(N) if i not in (3, 5))
        assert "skipped: 2 bounced earlier" in result.output

    cleared = bounces_cli(site, "--clear", email(3).upper())
    assert cleared.exit_code == 0 and f"cleared {email(3)}" in cleared.output, cleared.output
    assert sorted(recorded(site)) == [email(5)]
    # the old bounce message is not recorded again
    assert "recorded 0 hard bounce(s)" in bounces_cli(site, "--maildir", str(box)).output
    with SMTPServer() as server:
        send(site, SECOND, server)  # the same issue again: only the cleared address is still due
        assert received(server) == [email(3)]


def test_bounces_over_imap_with_tls_are_recorded_read_only(site, tmp_path):
    with SMTPServer() as server:
        send(site, FIRST, server)
        ids = message_ids(server)
    folder = "配信エラー".encode("utf-7").decode().replace("+", "&").replace("/", ",")  # modified UTF-7 (RFC 3501)
    imap_box = Mailbox(folders={"INBOX": [], folder: what_comes_back(ids)})
    env = {"SITEGEN_IMAP_USER": "renkei", "SITEGEN_IMAP_PASSWORD": "imap-pass"}
    with IMAPServer(tmp_path, imap_box) as imap:
        args = ["--imap", "127.0.0.1", "--imap-port", str(imap.port), "--imap-folder", "配信エラー"]
        untrusted = bounces_cli(site, *args, env=env)
        assert untrusted.exit_code == 1 and "--imap-ca-file" in untrusted.output, untrusted.output
        wrong = bounces_cli(site, *args, "--imap-ca-file", str(imap.ca_file), env={**env, "SITEGEN_IMAP_PASSWORD": "x"})
        assert wrong.exit_code == 1 and "IMAP login to 127.0.0.1" in wrong.output, wrong.output
        no_login = bounces_cli(site, *args, "--imap-ca-file", str(imap.ca_file))
        assert no_login.exit_code == 1 and "SITEGEN_IMAP_USER" in no_login.output
        imap_box.commands.clear()
        result = bounces_cli(site, *args, "--imap-ca-file", str(imap.ca_file), env=env)
        assert result.exit_code == 0, result.output
        assert "recorded 2 hard bounce(s)" in result.output and "IMAP 127.0.0.1" in result.output
        commands = [c.split(" ")[0] for c in imap_box.commands]
        assert f'EXAMINE "{folder}"' in imap_box.commands  # read-only, the folder's name encoded for IMAP
        assert "SELECT" not in commands and "STORE" not in commands and "EXPUNGE" not in commands
        assert all("PEEK" in c for c in imap_box.commands if c.startswith("FETCH"))  # \Seen stays as it was
        again = bounces_cli(site, *args, "--imap-ca-file", str(imap.ca_file), env=env)
        assert "recorded 0 hard bounce(s)" in again.output and "(6 already read before)" in again.output
    assert sorted(recorded(site)) == [email(3), email(5)]
    with SMTPServer() as server:
        send(site, SECOND, server)
        assert email(3) not in received(server) and email(5) not in received(server)
        assert len(received(server)) == N - 2


def test_a_bounce_read_from_an_mbox_file_and_then_over_imap_counts_once(site, tmp_path):
    with SMTPServer() as server:
        send(site, FIRST, server)
    data = dsn_bounce(email(4), to=verp(email(4)))
    box = mailbox.mbox(str(tmp_path / "bounces.mbox"), create=True)
    box.add(data)
    box.close()
    size = (tmp_path / "bounces.mbox").stat().st_size
    result = bounces_cli(site, "--mbox", str(tmp_path / "bounces.mbox"))
    assert result.exit_code == 0 and "recorded 1 hard bounce(s)" in result.output, result.output
    assert (tmp_path / "bounces.mbox").stat().st_size == size
    env = {"SITEGEN_IMAP_USER": "renkei", "SITEGEN_IMAP_PASSWORD": "imap-pass"}
    with IMAPServer(tmp_path, Mailbox(folders={"INBOX": [data]})) as imap:
        again = bounces_cli(site, "--imap", "127.0.0.1", "--imap-port", str(imap.port), "--imap-ca-file",
                            str(imap.ca_file), env=env)
    assert "recorded 0 hard bounce(s)" in again.output and "(1 already read before)" in again.output, again.output


def test_clear_undoes_a_bounce_the_relay_reported_while_sending(site):
    with SMTPServer() as server:
        server.handler.replies[email(6)] = ["550 5.1.1 <clinic0006@example.jp>: user unknown"]
        send(site, FIRST, server)
        assert email(6) not in received(server)
    assert email(6) in recorded(site)
    with SMTPServer() as server:
        send(site, FIRST, server)
        assert received(server) == []  # bounced: never retried
    cleared = bounces_cli(site, "--clear", email(6))
    assert cleared.exit_code == 0 and f"sending {FIRST} again mails it too" in cleared.output, cleared.output
    with SMTPServer() as server:
        send(site, FIRST, server)
        assert received(server) == [email(6)]
    nothing = bounces_cli(site, "--clear", email(6))
    assert nothing.exit_code == 0 and "was not recorded as bounced" in nothing.output


def test_one_action_at_a_time(site, tmp_path):
    result = bounces_cli(site, "--list", "--maildir", str(tmp_path))
    assert result.exit_code == 1 and "cannot be combined" in result.output
    assert bounces_cli(site).exit_code == 1
    missing = bounces_cli(site, "--maildir", str(tmp_path / "nothing"))
    assert missing.exit_code == 1 and "is not a Maildir" in missing.output


@pytest.mark.parametrize("make,kind", [
    (lambda: dsn_bounce(email(3), to=verp(email(3))), "bounce"),
    (lambda: qmail_bounce(email(3), to=verp(email(3))), "bounce"),
    (lambda: auto_reply(email(3), to=verp(email(3))), "auto-reply"),
    (lambda: dsn_bounce(email(3), to=verp(email(3)), status="4.2.2", action="delayed"), "temporary"),
])
def test_kinds_of_returned_mail(make, kind):
    a = analyse(parse(make()), "bounces@example.jp", make())
    assert a.kind == kind
    if kind == "bounce":
        assert a.permanent == (email(3),) and a.verp == email(3)


def test_the_verp_address_names_the_clinic_when_the_bounce_names_where_it_forwards_to(site, tmp_path):
    with SMTPServer() as server:
        send(site, FIRST, server)
    forwarded = dsn_bounce("dr.sato@old-provider.example.net", to=verp(email(4)))
    result = bounces_cli(site, "--maildir", str(maildir_with(tmp_path / "Maildir", [forwarded])))
    assert result.exit_code == 0, result.output
    got = recorded(site)
    assert list(got) == [email(4)] and "forwarded to dr.sato@old-provider.example.net" in got[email(4)][1]


def test_broken_messages_in_the_mailbox_are_read_without_a_traceback(site, tmp_path, caplog):
    """What arrives at the bounce address is written by anyone: encoded words that do not decode (bad base64, an
    unknown charset, raw bytes), a From with no address (one of flufl.bounce's detectors fails on it and logs its
    traceback), a Date that is no date. `sitegen bounces` reads them all, records the real bounce among them and
    prints no traceback."""
    with SMTPServer() as server:
        send(site, FIRST, server)
    bounce = dsn_bounce(email(3), to=verp(email(3)))
    broken_subject = bounce.replace(b"Subject: Undelivered Mail Returned to Sender",
                                    b"Subject: =?utf-8?b?44GC44GE44GG44GI4?= =?x-unknown?q?=FF?=")
    messages = [
        broken_subject,
        crlf("From: \nTo: renkei@example.jp\nSubject: =?utf-8?b?!!!?=\nDate: 99 Foo 99999 99:99:99 +9999\n\nbody\n"),
        crlf("From: =?iso-2022-jp?B?GyRC?= <x@example.jp>\nSubject: =?utf-8?q?=E3=81?=\nAuto-Submitted: =?utf-8?b?x?=\n\n.\n"),
        b"From: \xff\xfe\r\nSubject: \xe3\x81\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822;\r\nStatus: 5.1.1\r\n--b--\r\n",
    ]
    result = bounces_cli(site, "--maildir", str(maildir_with(tmp_path / "Maildir", messages)))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "Exception in detector" not in result.output, result.output
    # outside pytest, a logged traceback goes to the terminal; pytest's own handler takes it here
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("flufl")]
    assert "read 4 message(s)" in result.output and "recorded 1 hard bounce(s)" in result.output, result.output
    assert list(recorded(site)) == [email(3)]
