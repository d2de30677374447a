"""The unsubscribe round trip: signed tokens in every message, List-Unsubscribe-Post only with a working endpoint,
the WSGI endpoint behind a real wsgiref server on 127.0.0.1 (urllib POSTs as mail programs send them),
`sitegen unsubscribes import` of its store and of mailto replies in a Maildir, and the next `sitegen send`
(aiosmtpd) skipping whoever opted out. Forged and unsigned tokens are counted and ignored."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import mailbox
import re
import shutil
import threading
import urllib.error
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.validate import validator

import pytest
from click.testing import CliRunner

from imap_fixtures import crlf, unsubscribe_reply
from mail_fixtures import SMTPServer, make_mail_site, numbered_partners, write_partners
from sitegen.build import BuildOptions, run
from sitegen.check.run import CheckOptions, run_check
from sitegen.cli import main
from sitegen.content.partners import TOKEN_FORMAT, token
from sitegen.errors import ContentError
from sitegen.project import Project
from sitegen.send import unsubscribe_app

TODAY = dt.date(2026, 11, 25)
FIRST, SECOND = "2026-10-no1", "2026-11-no2"
N = 8
SECRET = "office-secret-7f3a9c2e51d04b86"
LIST_ID = "newsletter.example.jp"


def email(i: int) -> str:
    return f"clinic{i:04d}@example.jp"


def one_click(site: Path) -> None:
    text = (site / "site.yaml").read_text(encoding="utf-8")
    (site / "site.yaml").write_text(text.replace("newsletter:\n", "newsletter:\n  one_click: true\n", 1), encoding="utf-8")


def build(site: Path, **env) -> None:
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("mail",)))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = make_mail_site(tmp_path_factory.mktemp("unsubscribe") / "hospital")
    write_partners(site / "partners.csv", numbered_partners(N))
    one_click(site)
    build(site)
    return site


@pytest.fixture()
def site(built, tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(built, dest)
    return dest


def send(site: Path, issue: str, server: SMTPServer, secret: str | None = SECRET, *args: str):
    env = {"SITEGEN_SMTP_PORT": str(server.port), "SITEGEN_SMTP_HOST": "127.0.0.1", "SITEGEN_SMTP_SECURITY": "none"}
    if secret is not None:
        env["SITEGEN_UNSUBSCRIBE_SECRET"] = secret
    return CliRunner().invoke(main, ["send", issue, "--source", str(site), "--yes", *args], env=env)


def unsubscribes(site: Path, *args: str, secret: str = SECRET):
    return CliRunner().invoke(main, ["unsubscribes", "--source", str(site), *args],
                              env={"SITEGEN_UNSUBSCRIBE_SECRET": secret})


def received(server: SMTPServer) -> list[str]:
    return sorted(r.rcpt_tos[0].lower() for r in server.handler.received)


class Quiet(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:  # noqa: A002 - the stdlib's name
        pass


@pytest.fixture()
def endpoint(tmp_path):
    """The endpoint on 127.0.0.1 behind wsgiref (checked by wsgiref.validate); yields (base URL, store)."""
    store = tmp_path / "www" / "unsubscribes.jsonl"
    store.parent.mkdir()
    server = make_server("127.0.0.1", 0, validator(unsubscribe_app.make_app(store, "みなと中央病院 <地域医療連携室>")),
                         handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def request(url: str, body: bytes | None = None, content_type: str = "application/x-www-form-urlencoded",
            method: str | None = None) -> tuple[int, str, dict]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8"), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8"), dict(exc.headers)


def stored(store: Path) -> list[dict]:
    return [json.loads(line) for line in store.read_text(encoding="utf-8").splitlines()] if store.exists() else []


def list_unsubscribe(raw: bytes) -> tuple[str, str, str | None]:
    msg = message_from_bytes(raw, policy=policy.default)
    mailto, url = re.findall(r"<([^>]+)>", str(msg["List-Unsubscribe"]))
    return mailto, url, msg["List-Unsubscribe-Post"]


# --- the whole round trip -----------------------------------------------------------------------------


def test_one_click_post_then_import_means_that_clinic_is_not_mailed_next_time(site, endpoint):
    base, store = endpoint
    with SMTPServer() as server:
        first = send(site, FIRST, server)
        assert first.exit_code == 0, first.output
        by_address = {r.rcpt_tos[0].lower(): r.data for r in server.handler.received}
    assert sorted(by_address) == [email(i) for i in range(N)]
    mailto, url, post = list_unsubscribe(by_address[email(4)])
    assert post == "List-Unsubscribe=One-Click"  # newsletter.one_click: the endpoint takes the POST
    t = token(LIST_ID, email(4), SECRET.encode())
    assert url == f"https://www.example.jp/renkei/teishi?u={t}" and mailto == f"mailto:teishi@example.jp?subject=unsubscribe-{t}"
    text = message_from_bytes(by_address[email(4)], policy=policy.default).get_body(("plain",)).get_content()
    assert url in text  # the link in the text is the same signed one

    # what a mail program's unsubscribe button does (RFC 8058), at the deployed endpoint
    endpoint_url = url.replace("https://www.example.jp", base)
    status, page, headers = request(endpoint_url, b"List-Unsubscribe=One-Click")
    assert status == 200 and "配信停止を受け付けました" in page
    assert headers["Cache-Control"] == "no-store" and "default-src 'none'" in headers["Content-Security-Policy"]
    forged = "0123456789abcdef" * 2  # well-formed, but signed by nobody
    assert request(f"{base}/renkei/teishi?u={forged}", b"List-Unsubscribe=One-Click")[0] == 200
    entries = stored(store)
    assert [e["token"] for e in entries] == [t, forged] and {e["how"] for e in entries} == {"one-click"}
    assert all(set(e) == {"token", "time", "how"} for e in entries)  # no address, no IP: only the token
    assert "example.jp" not in store.read_text(encoding="utf-8")

    result = unsubscribes(site, "import", str(store))
    assert result.exit_code == 0, result.output
    assert "recorded 1 opt-out(s)" in result.output and f"  {email(4)}  one-click" in result.output
    assert "unknown tokens: 1" in result.output
    again = unsubscribes(site, "import", str(store))
    assert "recorded 0 opt-out(s)" in again.output and "already recorded: 1" in again.output
    listing = unsubscribes(site, "--list")
    assert "1 opt-out(s)" in listing.output and email(4) in listing.output

    with SMTPServer() as server:
        second = send(site, SECOND, server)
        assert second.exit_code == 0, second.output
        assert received(server) == [email(i) for i in range(N) if i != 4]
    assert "skipped: 1 unsubscribed" in second.output
    assert (site / "partners.csv").read_text(encoding="utf-8").count("subscribed") == N  # the list is not rewritten

    cleared = unsubscribes(site, "--clear", email(4))
    assert cleared.exit_code == 0 and f"cleared {email(4)}" in cleared.output
    with SMTPServer() as server:
        assert send(site, SECOND, server).exit_code == 0
        assert received(server) == [email(4)]


def test_mailto_replies_in_a_maildir_are_recorded_forged_and_unsigned_tokens_are_not(site, tmp_path):
    signed = token(LIST_ID, email(6), SECRET.encode())
    unsigned_old = hashlib.sha256(f"{LIST_ID}\n{email(2)}".encode()).hexdigest()  # the old scheme, anyone can compute
    other_secret = token(LIST_ID, email(3), b"another office's secret value")
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    for data in (unsubscribe_reply(signed, sender=email(6)), unsubscribe_reply(unsigned_old[:32], sender=email(2)),
                 unsubscribe_reply(unsigned_old[:16], sender=email(2)), unsubscribe_reply(other_secret, sender=email(3)),
                 crlf(f"From: {email(5)}\nTo: teishi@example.jp\nSubject: 配信停止希望\n\n配信停止をお願いします。\n")):
        box.add(data)
    result = unsubscribes(site, "--maildir", str(tmp_path / "Maildir"))
    assert result.exit_code == 0, result.output
    assert "recorded 1 opt-out(s)" in result.output and f"  {email(6)}  mail  asked 2026-11-21T10:00:00+09:00" in result.output
    assert "unknown tokens: 2" in result.output and "malformed: 1" in result.output
    assert "1 request(s) without a token" in result.output and email(5) in result.output
    assert "3 mail request(s) whose token matches nobody" in result.output and email(2) in result.output
    again = unsubscribes(site, "--maildir", str(tmp_path / "Maildir"))
    assert "recorded 0 opt-out(s)" in again.output and "(5 already read before)" in again.output
    with SMTPServer() as server:
        assert send(site, SECOND, server).exit_code == 0
        assert received(server) == [email(i) for i in range(N) if i != 6]


def test_import_needs_the_secret_that_signed_the_links(site, tmp_path):
    store = tmp_path / "store.jsonl"
    store.write_text(json.dumps({"token": token(LIST_ID, email(1), SECRET.encode()), "time": "2026-11-21T01:00:00+00:00"})
                     + "\nnot json\n" + json.dumps({"token": "<script>"}) + "\n", encoding="utf-8")
    wrong = unsubscribes(site, "import", str(store), secret="a different secret, 32 characters")
    assert "recorded 0 opt-out(s)" in wrong.output and "unknown tokens: 1" in wrong.output and "malformed: 2" in wrong.output
    missing = CliRunner().invoke(main, ["unsubscribes", "--source", str(site), "import", str(store)], env={})
    assert missing.exit_code == 1 and "SITEGEN_UNSUBSCRIBE_SECRET is not set" in missing.output
    right = unsubscribes(site, "import", str(store))
    assert "recorded 1 opt-out(s)" in right.output
    bad = unsubscribes(site, "export", str(store))
    assert bad.exit_code == 1 and "sitegen unsubscribes import FILE" in bad.output


# --- sending with and without the secret -----------------------------------------------------------------


def test_send_refuses_one_click_without_the_secret_and_dry_runs_use_a_placeholder(site, tmp_path):
    with SMTPServer() as server:
        refused = send(site, FIRST, server, secret=None)
        assert refused.exit_code == 1 and "SITEGEN_UNSUBSCRIBE_SECRET is not set" in refused.output, refused.output
        assert "nothing was sent" in refused.output and received(server) == []
        short = send(site, FIRST, server, secret="short")
        assert short.exit_code == 1 and "at least 16" in short.output
    dry = CliRunner().invoke(main, ["send", FIRST, "--source", str(site), "--dry-run", "--out-dir", str(tmp_path / "dry")],
                             env={"SITEGEN_UNSUBSCRIBE_SECRET": ""})
    assert dry.exit_code == 0 and "placeholder token" in dry.output, dry.output
    first = sorted((tmp_path / "dry").glob("*.eml"))[0]
    _, url, _ = list_unsubscribe(first.read_bytes())
    assert TOKEN_FORMAT.fullmatch(url.rsplit("=", 1)[1]) and url.rsplit("=", 1)[1] != token(LIST_ID, email(0), SECRET.encode())


def test_without_one_click_no_post_header_and_without_a_secret_plain_links(tmp_path):
    site = make_mail_site(tmp_path / "hospital")
    write_partners(site / "partners.csv", numbered_partners(2))
    build(site)
    sample = (site / "build/mail" / FIRST / "sample.eml").read_bytes()
    assert b"List-Unsubscribe-Post" not in sample
    with SMTPServer() as server:
        result = send(site, FIRST, server, secret=None)
        assert result.exit_code == 0, result.output
        assert "unsubscribe links carry no token" in result.output
        mailto, url, post = list_unsubscribe(server.handler.received[0].data)
    assert post is None and url == "https://www.example.jp/renkei/teishi" and mailto.endswith("?subject=unsubscribe")


def test_the_build_needs_no_secret_and_does_not_depend_on_it(site, tmp_path, monkeypatch):
    before = {p.name: p.read_bytes() for p in (site / "build/mail" / FIRST).iterdir()}
    monkeypatch.setenv("SITEGEN_UNSUBSCRIBE_SECRET", "some secret that must not matter")
    build(site)
    after = {p.name: p.read_bytes() for p in (site / "build/mail" / FIRST).iterdir()}
    assert before == after
    sample = message_from_bytes(before["sample.eml"], policy=policy.default)
    assert sample["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert json.loads(before["manifest.json"])["one_click"] is True


def test_one_click_needs_an_https_address(tmp_path):
    site = make_mail_site(tmp_path / "hospital")
    one_click(site)
    text = (site / "site.yaml").read_text(encoding="utf-8")
    (site / "site.yaml").write_text(text.replace("https://www.example.jp/renkei/teishi", "http://www.example.jp/teishi"),
                                    encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        build(site)
    assert any("site.yaml" in line and "one_click needs an unsubscribe_url starting with https://" in line
               for line in exc.value.lines()), exc.value.lines()


# --- the endpoint by itself --------------------------------------------------------------------------------


def test_get_shows_a_confirmation_page_that_stores_nothing_and_its_button_unsubscribes(endpoint):
    base, store = endpoint
    t = token(LIST_ID, email(1), SECRET.encode())
    status, page, headers = request(f"{base}/renkei/teishi?u={t}")
    assert status == 200 and stored(store) == []  # link scanners open links: a GET never unsubscribes
    assert '<html lang="ja">' in page and "<button type=\"submit\">配信停止</button>" in page
    assert "みなと中央病院 &lt;地域医療連携室&gt;" in page and "<地域医療連携室>" not in page  # escaped
    assert headers["Referrer-Policy"] == "no-referrer"
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)"', page))
    body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
    status, done, _ = request(f"{base}/renkei/teishi{action}", body)
    assert status == 200 and "配信停止を受け付けました" in done
    assert [(e["token"], e["how"]) for e in stored(store)] == [(t, "page")]
    assert request(f"{base}/renkei/teishi?u={t}", method="HEAD")[0] == 200


def test_multipart_one_click_is_accepted(endpoint):
    base, store = endpoint
    t = token(LIST_ID, email(2), SECRET.encode())
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n")
    status, _, _ = request(f"{base}/teishi?u={t}", body, "multipart/form-data; boundary=XyZ")
    assert status == 200 and [e["token"] for e in stored(store)] == [t]


@pytest.mark.parametrize("query,body,expected", [
    ("u=<script>alert(1)</script>", b"List-Unsubscribe=One-Click", 400),
    ("u=" + "0" * 16, b"List-Unsubscribe=One-Click", 400),  # the old, short, unsigned form
    ("u=" + "A" * 32, b"List-Unsubscribe=One-Click", 400),
    ("", b"List-Unsubscribe=One-Click", 400),
    ("u=" + "1" * 32 + "&u=" + "2" * 32, b"List-Unsubscribe=One-Click", 400),
    ("u=" + "1" * 32, b"List-Unsubscribe=Yes", 400),  # not the RFC 8058 body
    ("u=" + "1" * 32, b"", 400),
    ("u=" + "1" * 32, b"List-Unsubscribe=One-Click&" + b"x=1&" * 2000, 413),
])
def test_malformed_requests_are_refused_and_store_nothing(endpoint, query, body, expected):
    base, store = endpoint
    status, page, _ = request(f"{base}/teishi?{query}", body)
    assert status == expected
    assert "<script>" not in page
    assert stored(store) == []


def test_other_methods_and_a_missing_store(tmp_path):
    app = unsubscribe_app.make_app(store=None, name="")
    calls = []
    t = "1" * 32
    environ = {"REQUEST_METHOD": "PUT", "QUERY_STRING": f"u={t}", "wsgi.input": None, "wsgi.errors": open(tmp_path / "log", "w")}
    app(environ, lambda status, headers: calls.append((status, dict(headers))))
    assert calls[-1][0].startswith("405") and calls[-1][1]["Allow"] == "GET, HEAD, POST"
    import io
    body = b"List-Unsubscribe=One-Click"
    environ.update(REQUEST_METHOD="POST", CONTENT_LENGTH=str(len(body)), CONTENT_TYPE="application/x-www-form-urlencoded",
                   **{"wsgi.input": io.BytesIO(body)})
    page = b"".join(app(environ, lambda status, headers: calls.append((status, dict(headers)))))
    environ["wsgi.errors"].close()
    assert calls[-1][0].startswith("500") and "ただいま受け付けられません" in page.decode("utf-8")
    assert "SITEGEN_UNSUBSCRIBE_STORE is not set" in (tmp_path / "log").read_text()


# --- sitegen check -----------------------------------------------------------------------------------------


def check_findings(site: Path) -> list:
    report = run_check(Project.at(site), CheckOptions(today=TODAY, skip=frozenset({"a11y", "ad", "recipients"})))
    return [f for f in report.findings if f.rule == "links.unsubscribe"]


def test_check_reports_an_unsubscribe_address_inside_the_site_without_a_page(tmp_path):
    site = make_mail_site(tmp_path / "hospital")
    found = check_findings(site)
    assert len(found) == 1 and found[0].severity == "error" and found[0].file == "site.yaml" and found[0].line
    assert "https://www.example.jp/renkei/teishi" in found[0].message and "one_click" in found[0].hint
    one_click(site)
    assert check_findings(site) == []  # the endpoint is deployed there
    text = (site / "site.yaml").read_text(encoding="utf-8").replace("  one_click: true\n", "")
    (site / "site.yaml").write_text(text.replace("https://www.example.jp/renkei/teishi",
                                                 "https://www.example.jp/renkei/guides/referral.html"), encoding="utf-8")
    assert check_findings(site) == []  # a page of the site
    (site / "site.yaml").write_text(text.replace("https://www.example.jp/renkei/teishi",
                                                 "https://mail.example.jp/teishi"), encoding="utf-8")
    assert check_findings(site) == []  # another host: the relay's own unsubscribe handling
