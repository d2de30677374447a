"""The partner list decides who is mailed: consent (特定電子メール法), opt-outs that win, a list of any size,
and names that cannot add a header line. The same rules in `sitegen check` and `sitegen send`
(real SMTP server on 127.0.0.1)."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from mail_fixtures import SMTPServer, make_mail_site, numbered_partners, write_partners
from sitegen.build import BuildOptions, run
from sitegen.check.run import CheckOptions, run_check
from sitegen.cli import main
from sitegen.content import partners
from sitegen.content.fields import is_one_line
from sitegen.errors import ProblemList
from sitegen.project import Project

TODAY = dt.date(2026, 11, 25)
ISSUE = "2026-11-no2"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = make_mail_site(tmp_path_factory.mktemp("partners") / "hospital")
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail",)))
    return site


@pytest.fixture()
def site(built, tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(built, dest)
    return dest


def send(site: Path, server: SMTPServer, *args: str):
    env = {"SITEGEN_SMTP_PORT": str(server.port), "SITEGEN_SMTP_HOST": "127.0.0.1", "SITEGEN_SMTP_SECURITY": "none"}
    return CliRunner().invoke(main, ["send", ISSUE, "--source", str(site), "--yes", *args], env=env)


def rcpts(server: SMTPServer) -> list[str]:
    return sorted(a.lower() for r in server.handler.received for a in r.rcpt_tos)


ROWS = [  # (email, opted_in, status): what each row says
    ("ok@example.jp", "2025-04-01", "subscribed"),
    ("nodate@example.jp", "", "subscribed"),  # consent not recorded
    ("nostatus@example.jp", "2025-04-01", ""),  # status not stated
    ("later-out@example.jp", "2025-04-01", "subscribed"),
    ("LATER-OUT@example.jp", "", "unsubscribed"),  # an opt-out added as a new row, other case
    ("bounced@example.jp", "2025-04-01", "bounced"),
    ("Dup@example.jp", "2025-04-01", "subscribed"),
    ("dup@example.jp", "2025-04-01", "subscribed"),
]


def write_rows(path: Path, rows=ROWS) -> None:
    write_partners(path, [{"institution": f"医院{i}", "email": e, "opted_in": d, "status": s}
                          for i, (e, d, s) in enumerate(rows)])


def test_only_rows_with_recorded_consent_are_mailed_and_the_opt_out_row_wins(site):
    write_rows(site / "partners.csv")
    with SMTPServer() as server:
        result = send(site, server)
        assert rcpts(server) == ["dup@example.jp", "ok@example.jp"], result.output
    assert result.exit_code == 1, result.output  # rows are left to fix
    assert "2 row(s) without recorded consent" in result.output
    assert "nodate@example.jp: no opt-in date" in result.output and "nostatus@example.jp: no status" in result.output
    assert "skipped: 1 unsubscribed" in result.output and "skipped: 1 bounced" in result.output


def test_check_reports_the_same_rows_as_send_leaves_out(site):
    write_rows(site / "private.csv")
    shutil.move(site / "private.csv", site / "partners.csv")
    report = run_check(Project.at(site), CheckOptions(today=TODAY, skip=frozenset({"a11y", "links", "ad"})))
    got = {(f.line, f.rule) for f in report.findings if f.file == "partners.csv"}
    assert (3, "recipients.opt-in") in got and (4, "recipients.status") in got
    assert (6, "recipients.duplicate") in got and (9, "recipients.duplicate") in got
    assert report.failed(strict=False)


def test_a_30000_row_list_over_1_mb_loads(tmp_path):
    path = write_partners(tmp_path / "partners.csv", numbered_partners(30_000))
    assert path.stat().st_size > 1_000_000
    problems = ProblemList()
    loaded = partners.load(path, "partners.csv", problems)
    assert loaded is not None and not problems.errors, problems.errors
    assert len(loaded.partners) == 30_000 and all(p.mailable for p in loaded.partners)


def test_a_list_over_the_cap_is_a_clear_error(tmp_path, monkeypatch):
    path = write_partners(tmp_path / "partners.csv", numbered_partners(50))
    monkeypatch.setattr(partners, "MAX_LIST_BYTES", 1000)  # the cap itself is 50 MB; no need to write that much
    problems = ProblemList()
    assert partners.load(path, "partners.csv", problems) is None
    assert "the partner list is too large" in problems.errors[0].message and "--recipients" in problems.errors[0].message


ENCODED = ["=?UTF-8?Q?=0D=0ABcc:_evil@attacker.example?=", "=?utf-8?b?DQpCY2M6IGV2aWxAYXR0YWNrZXIuZXhhbXBsZQ==?=",
           "医院 =?UTF-8?Q?a=0Ab?= 様", "=?iso-2022-jp?q?=0D=0A?="]


@pytest.mark.parametrize("value", ENCODED)
def test_encoded_words_that_decode_to_line_breaks_are_not_one_line(value):
    assert not is_one_line(value)


def test_ordinary_names_and_encoded_words_without_control_characters_stay_valid():
    for value in ("みなと内科クリニック", "山田 一郎", "=?UTF-8?Q?abc?=", "A=?B", "50% OFF =? no"):
        assert is_one_line(value), value


@pytest.mark.parametrize("column", ["institution", "contact"])
def test_an_encoded_line_break_in_a_partner_name_never_reaches_the_wire(site, column):
    rows = numbered_partners(3)
    rows[1][column] = ENCODED[0]
    write_partners(site / "partners.csv", rows)
    with SMTPServer() as server:
        result = send(site, server)
        received = list(server.handler.received)
    assert result.exit_code == 1 and "must be one line of text" in result.output, result.output
    assert received == []  # the list is refused as a whole: fix it, then send


@pytest.mark.parametrize("field", ["subject", "from_name"])
def test_an_encoded_line_break_in_the_newsletter_settings_fails_the_build_at_its_line(site, field):
    from sitegen.errors import ContentError

    if field == "subject":
        path, where = site / "content" / "newsletters" / f"{ISSUE}.md", f"content/newsletters/{ISSUE}.md"
        pattern, value = r"^subject:.*$", f'subject: "{ENCODED[0]}"'
    else:
        path, where = site / "site.yaml", "site.yaml"
        pattern, value = r"^  from_name:.*$", f'  from_name: "{ENCODED[1]}"'
    path.write_text(re.sub(pattern, value, path.read_text(encoding="utf-8"), count=1, flags=re.M), encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail",)))
    assert any(p.location.path == where and p.location.line and "one line" in p.message for p in exc.value.errors), \
        exc.value.lines()


def test_a_clean_message_parses_back_with_every_header_on_one_line(site):
    write_partners(site / "partners.csv", numbered_partners(2))
    with SMTPServer() as server:
        assert send(site, server).exit_code == 0
        data = [r.data for r in server.handler.received]
    for raw in data:
        msg = message_from_bytes(raw, policy=policy.default)
        assert "Bcc" not in msg and all(is_one_line(str(v)) for v in msg.values())


def rfc2047_to(raw: bytes) -> str:
    """The To: name as an RFC 2047 reader shows it (whitespace between encoded words is dropped)."""
    import re as _re
    from email.header import decode_header, make_header

    head = _re.sub(r"\r\n[ \t]", " ", raw.split(b"\r\n\r\n")[0].decode("ascii"))
    value = next(line for line in head.split("\r\n") if line.startswith("To: "))[4:]
    return str(make_header(decode_header(value)))


def test_to_names_keep_every_space_for_an_rfc2047_reader():
    from sitegen.content.newsletter_models import Recipient
    from sitegen.mail.message import Manifest, build_message, to_bytes

    m = Manifest(issue="x", series="連携だより", number=1, date="2026-11-25", subject="件名", from_name="連携室",
                 from_address="renkei@example.jp", reply_to=None, list_id="newsletter.example.jp",
                 unsubscribe_url="https://example.jp/teishi", unsubscribe_mailto="teishi@example.jp",
                 web_url="https://example.jp/n/x.html", build_date="2026-11-25", draft=False)
    import csv as _csv
    rows = list(_csv.DictReader(open(Path(__file__).parent.parent / "private" / "partners.csv", encoding="utf-8")))
    names = [(r["institution"], r["contact"]) for r in rows] + [("Clinic A, Dr. B", ""), ("みなと内科", "Yamada Ichiro")]
    lost = []
    for institution, contact in names:
        r = Recipient(institution=institution, contact=contact, email="a@example.jp", status="subscribed")
        shown = rfc2047_to(to_bytes(build_message(m, "<p></p>", "", r)))
        expected = f"{institution} {contact}".strip()
        if not shown.startswith(expected) and not shown.startswith(f'"{expected}"'):
            lost.append((expected, shown))
    assert not lost, lost[:5]


# every character str.splitlines() breaks a line at, as a double-quoted YAML value can write it
BREAKS = {"\\n": "\n", "\\r": "\r", "\\v": "\v", "\\f": "\f", "\\x1c": "\x1c", "\\x1d": "\x1d", "\\x1e": "\x1e",
          "\\x85": "\x85", "\\u2028": "\u2028", "\\u2029": "\u2029"}


def test_every_line_breaking_character_is_not_one_line():
    for char in BREAKS.values():
        assert ("x" + char + "y").splitlines() == ["x", "y"]  # the list is str.splitlines()'s own
        assert not is_one_line("件名" + char + "Bcc: x@example.jp"), repr(char)


@pytest.mark.parametrize("escape", ["\\u2028", "\\u2029", "\\x85"])
def test_a_quoted_unicode_line_break_in_the_subject_is_an_error_at_its_line(site, escape):
    path = site / "content" / "newsletters" / f"{ISSUE}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^subject:.*$", lambda _: f'subject: "件名{escape}Bcc: x@example.jp"', text, count=1,
                           flags=re.M), encoding="utf-8")
    line = next(n for n, row in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if row.startswith("subject:"))
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25", "--only", "mail"])
    assert result.exit_code == 1, result.output
    where = f"content/newsletters/{ISSUE}.md:{line}: subject: "
    # U+0085 is a control character as well: the reader names it (one message, not two)
    said = "the value contains the control character U+0085" if escape == "\\x85" else "must be one line of text"
    assert where + said in result.output, result.output
    assert "internal error" not in result.output and (escape in result.output or "U+0085" in result.output)


@pytest.mark.parametrize("field", ["name", "kana", "title"])
def test_a_quoted_line_separator_in_a_doctors_name_is_an_error_at_the_field(tmp_path, field):
    site = make_mail_site(tmp_path / "hospital")
    path = site / "content" / "doctors" / "yamada-taro.md"
    text = path.read_text(encoding="utf-8")
    if re.search(rf"^{field}:", text, flags=re.M):
        text = re.sub(rf"^{field}:.*$", lambda _: f'{field}: "山田\\u2028太郎"', text, count=1, flags=re.M)
    else:
        text = text.replace("---\n", f'---\n{field}: "山田\\u2028太郎"\n', 1)
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25", "--only", "site"])
    assert result.exit_code == 1 and f": {field}: must be one line of text" in result.output, result.output
    assert "content/doctors/yamada-taro.md:" in result.output


@pytest.mark.parametrize("char", ["\u2028", "\x85", "\u2029"])
@pytest.mark.parametrize("column", ["institution", "contact"])
def test_a_unicode_line_break_in_a_partner_name_is_an_error_at_its_row(tmp_path, column, char):
    rows = numbered_partners(3)
    rows[1][column] = f"医院{char}Bcc: x@example.jp"
    path = write_partners(tmp_path / "partners.csv", rows)
    problems = ProblemList()
    loaded = partners.load(path, "partners.csv", problems)
    assert loaded is not None and len(loaded.partners) == 2
    assert [(p.location.line, p.field) for p in problems.errors] == [(3, column)], problems.errors
    assert "must be one line of text" in problems.errors[0].message


def test_a_partner_name_that_looks_like_an_encoded_word_is_encoded_in_to_not_decoded():
    from sitegen.content.newsletter_models import Recipient
    from sitegen.mail.message import Manifest, build_message, to_bytes

    m = Manifest(issue="x", series="連携だより", number=1, date="2026-11-25", subject="件名", from_name="連携室",
                 from_address="renkei@example.jp", reply_to=None, list_id="newsletter.example.jp",
                 unsubscribe_url="https://example.jp/teishi", unsubscribe_mailto="teishi@example.jp",
                 web_url="https://example.jp/n/x.html", build_date="2026-11-25", draft=False)
    word = "=?utf-8?b?5YG954mp44Gu5Yy76Zmi?="  # 「偽物の医院」 encoded
    r = Recipient(institution=word, contact="", email="a@example.jp", status="subscribed")
    raw = to_bytes(build_message(m, "<p></p>", "", r))
    assert rfc2047_to(raw).startswith(word)  # a mail program shows the name as the list has it
    assert b"To: " + word.encode() not in raw


def test_an_encoded_word_in_the_subject_is_an_error(site):
    path = site / "content" / "newsletters" / f"{ISSUE}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^subject:.*$", "subject: =?utf-8?b?5YG954mp?=", text, count=1, flags=re.M),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--date", "2026-11-25", "--only", "mail"])
    assert result.exit_code == 1 and "subject: holds text like =?utf-8?b?...?=" in result.output, result.output
