"""`sitegen check`: content errors, links and anchors, what axe misses, axe-core in Chromium, the
partner list, external links against a local server, exit codes and the JSON format."""
from __future__ import annotations

import functools
import http.server
import json
import shutil
import socket
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, SITES, TODAY
from sitegen.check.run import CheckOptions, run_check
from sitegen.cli import main
from sitegen.project import Project

DATE = TODAY.isoformat()


def sitegen(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def site_with(tmp_path: Path, *overlays: str) -> Path:
    """tests/sites/minimal with tests/sites/<overlay>/ copied over it."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    for name in overlays:
        shutil.copytree(SITES / name, root, dirs_exist_ok=True)
    return root


def check(root: Path, **kw):
    skip = kw.pop("skip", ("a11y",))
    return run_check(Project.at(root), CheckOptions(today=TODAY, skip=frozenset(skip), **kw))


def rules(report) -> set[tuple[str, int | None, str]]:
    return {(f.file, f.line, f.rule) for f in report.findings}


# --- content and exit codes ------------------------------------------------------------------------


def test_a_clean_site_passes_strict(tmp_path):
    root = site_with(tmp_path)
    result = sitegen("check", "--source", str(root), "--date", DATE, "--strict", "--skip", "a11y")
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_content_errors_are_the_build_messages_and_links_are_skipped(tmp_path):
    root = site_with(tmp_path)
    doctor = root / "content/doctors/tanaka-hanako.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("departments: [geka]", "departments: [gekka]"),
                      encoding="utf-8")
    result = sitegen("check", "--source", str(root), "--date", DATE, "--skip", "a11y")
    assert result.exit_code == 1
    assert ("content/doctors/tanaka-hanako.md:4: error: [content] departments[0]: unknown department 'gekka' "
            "(did you mean 'geka'?)") in result.output
    assert "Traceback" not in result.output
    report = check(root)
    assert report.skipped["links"].startswith("the content has errors")


def test_warnings_fail_only_with_strict(tmp_path):
    root = site_with(tmp_path)
    site_yaml = root / "site.yaml"
    site_yaml.write_text(site_yaml.read_text(encoding="utf-8").replace(
        "  department_groups:", "  colours:\n    primary: \"#7CC242\"\n  department_groups:"), encoding="utf-8")
    args = ["check", "--source", str(root), "--date", DATE, "--skip", "a11y"]
    relaxed = sitegen(*args)
    assert relaxed.exit_code == 0, relaxed.output
    assert "warning: [a11y.contrast] site.colours.primary: #7CC242 on #FFFFFF has a contrast of 2.18:1" in relaxed.output
    strict = sitegen(*args, "--strict")
    assert strict.exit_code == 1 and "--strict" in strict.output


def test_not_a_site_and_bad_date_are_one_line_errors(tmp_path):
    result = sitegen("check", "--source", str(tmp_path))
    assert result.exit_code == 1 and "no site.yaml" in result.output and "Traceback" not in result.output
    result = sitegen("check", "--source", str(site_with(tmp_path)), "--date", "25.11.2026")
    assert result.exit_code == 1 and "--date: expected YYYY-MM-DD" in result.output


# --- 医療広告ガイドライン through the command ---------------------------------------------------------


def test_ad_findings_fail_and_accepted_ones_are_listed_with_verbose(tmp_path):
    root = site_with(tmp_path, "check-ad")
    result = sitegen("check", "--source", str(root), "--date", DATE, "--skip", "a11y")
    assert result.exit_code == 1
    assert "content/departments/geka.md:8: error: [ad.hikaku] features[1]: 「ＮＯ．１」: 比較優良" in result.output
    assert "fix: 順位や「唯一」「最高」を使わず" in result.output
    assert "県内唯一" not in result.output  # accepted: only shown with --verbose
    verbose = sitegen("check", "--source", str(root), "--date", DATE, "--skip", "a11y", "--verbose")
    assert "info: [ad.hikaku] summary: 「県内唯一」: 比較優良 — accepted by 広報委員会 佐藤 on 2026-10-01" in verbose.output
    # the build's own warning about the qualification is not repeated
    assert verbose.output.count("qualifications[1]") == 1


def test_json_lists_every_finding_with_its_fields(tmp_path):
    root = site_with(tmp_path, "check-ad")
    result = sitegen("check", "--source", str(root), "--date", DATE, "--skip", "a11y", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    keys = {"file", "line", "field", "rule", "severity", "message", "hint"}
    assert data["findings"] and all(keys <= set(f) for f in data["findings"])
    accepted = [f for f in data["findings"] if f.get("accepted")]
    assert accepted[0]["accepted"]["approved_by"] == "広報委員会 佐藤" and accepted[0]["severity"] == "info"
    assert data["errors"] == sum(f["severity"] == "error" for f in data["findings"])
    seiseki = next(f for f in data["findings"] if f["rule"] == "ad.seiseki")
    assert (seiseki["file"], seiseki["line"], seiseki["field"]) == ("content/departments/geka.md", 25, "body")


# --- links and what axe misses -------------------------------------------------------------------------


def test_broken_links_anchors_forms_and_images_point_at_the_content_line(tmp_path):
    root = site_with(tmp_path, "check-links")
    report = check(root)
    page = "content/guides/links.md"
    assert {(f, n, r) for f, n, r in rules(report) if r.startswith("links.")} == {
        (page, 11, "links.anchor"),  # referral.html#no-such-heading
        (page, 12, "links.link"),  # ../departments/ganka.html
        (page, 13, "links.form"),  # ../files/missing-form.pdf
        (page, 19, "links.image"),  # ../images/no-such-map.png
    }
    messages = " ".join(f.message for f in report.findings)
    assert "files/missing-form.pdf" in messages and "(on site/guides/links.html)" in messages
    # the working links (referral.html, #main on the home page, the real form) are not reported
    assert not [f for f in report.findings if "referral.pdf" in f.message and f.rule.startswith("links")]


def test_vague_link_text_alt_and_tables_without_header_cells(tmp_path):
    root = site_with(tmp_path, "check-links")
    report = check(root, skip=("links",), browser=str(tmp_path / "no-browser"))  # the checks without a browser
    got = {(f.file, f.line, f.rule) for f in report.findings if f.rule.startswith("a11y.")}
    assert ("content/guides/links.md", 14, "a11y.link-text") in got  # [こちら]
    assert ("content/guides/links.md", 17, "a11y.alt") in got  # ![写真]
    assert ("content/guides/links.md", 21, "a11y.table-header") in got  # <table> of <td>
    assert report.failed(strict=False)


def test_the_example_site_passes_check_strict():
    """Everything but the browser pass (tests/test_web_a11y.py runs axe on every kind of page)."""
    result = sitegen("check", "--source", str(REPO), "--date", DATE, "--strict", "--skip", "a11y")
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


# --- axe-core in Chromium ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
def test_axe_runs_on_every_page_with_a_progress_bar(tmp_path, chromium_path):
    root = site_with(tmp_path, "check-links")
    page = root / "content/guides/links.md"
    page.write_text(page.read_text(encoding="utf-8") + '\n<img src="../images/logo.png">\n', encoding="utf-8")
    seen = []
    report = run_check(Project.at(root), CheckOptions(today=TODAY, skip=frozenset({"links"})),
                       lambda stage, done, total, item: seen.append((stage, done, total)))
    assert "a11y" not in report.skipped, report.skipped
    assert report.stats["a11y_pages"] == report.stats["pages"] == seen[-1][2] == seen[-1][1]
    axe = [f for f in report.findings if f.rule.startswith("a11y.axe.")]
    assert [f.rule for f in axe] == ["a11y.axe.image-alt"]
    assert axe[0].file == "content/guides/links.md" and axe[0].severity == "error"
    result = sitegen("check", "--source", str(root), "--date", DATE, "--skip", "links")
    assert "accessibility (axe-core)" in result.output  # the progress bar's label


def test_no_browser_is_a_clear_warning(tmp_path):
    root = site_with(tmp_path)
    env = {"SITEGEN_CHROMIUM": str(tmp_path / "no-such-chrome")}
    result = sitegen("check", "--source", str(root), "--date", DATE, env=env)
    assert result.exit_code == 0, result.output
    assert "warning: [a11y.skipped] accessibility was not checked in a browser (axe-core)" in result.output
    assert sitegen("check", "--source", str(root), "--date", DATE, "--strict", env=env).exit_code == 1


# --- the partner list -----------------------------------------------------------------------------------


NEWSLETTER = """
newsletter:
  series: 連携だより
  from_name: みなと中央病院 地域医療連携室
  from_address: renkei@example.jp
  recipients: private/partners.csv
  unsubscribe_url: https://www.example.jp/renkei/teishi
  one_click: true
  unsubscribe_mailto: teishi@example.jp
"""


def test_partner_list_duplicates_invalid_addresses_and_missing_opt_in(tmp_path):
    root = site_with(tmp_path)
    with open(root / "site.yaml", "a", encoding="utf-8") as f:
        f.write(NEWSLETTER)
    (root / "private").mkdir()
    (root / "private/partners.csv").write_text(
        "institution,contact,email,area,specialties,registered,opted_in,status\n"
        "Aクリニック,山田,a@example.jp,港区,内科,true,2025-04-01,subscribed\n"
        "Bクリニック,,b@example,港区,内科,false,2025-04-01,subscribed\n"
        "Cクリニック,,A@example.jp,港区,内科,false,2025-04-01,subscribed\n"
        "Dクリニック,,d@example.jp,港区,内科,false,,subscribed\n"
        "Eクリニック,,e@example.jp,港区,内科,false,,unsubscribed\n"
        "Fクリニック,,f@@example.jp,港区,内科,false,2025-04-01,bounced\n", encoding="utf-8")
    report = check(root)
    got = {(f.line, f.rule, f.severity) for f in report.findings if f.file == "private/partners.csv"}
    assert got == {(3, "recipients.address", "warning"), (4, "recipients.duplicate", "warning"),
                   (5, "recipients.opt-in", "error"), (7, "recipients.address", "info")}
    assert "特定電子メール法" in next(f.message for f in report.findings if f.rule == "recipients.opt-in")


def test_a_missing_private_list_is_not_a_failure(tmp_path):
    root = site_with(tmp_path)
    with open(root / "site.yaml", "a", encoding="utf-8") as f:
        f.write(NEWSLETTER)
    report = check(root)
    assert "not found" in report.skipped["recipients"] and not report.failed(strict=True)


# --- external links ---------------------------------------------------------------------------------------


@pytest.fixture()
def http_server(tmp_path):
    docroot = tmp_path / "www"
    docroot.mkdir()
    (docroot / "ok.html").write_text("<p>ok</p>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(docroot)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_external_links_only_with_external(tmp_path, http_server):
    root = site_with(tmp_path)
    dead = f"http://127.0.0.1:{_closed_port()}/x"
    news = root / "content/news/2026-10-01-open.md"
    news.write_text(news.read_text(encoding="utf-8") + f"\n\n[学会の案内]({http_server}/ok.html)\n"
                    f"[古い案内]({http_server}/gone.html)\n[休止中のサイト]({dead})\n", encoding="utf-8")
    offline = check(root)
    assert "external" in offline.skipped and not offline.failed(strict=True)
    result = sitegen("check", "--source", str(root), "--date", DATE, "--skip", "a11y", "--external", "--timeout", "3")
    assert result.exit_code == 1
    assert f"content/news/2026-10-01-open.md:9: error: [links.external] external link {http_server}/gone.html: HTTP 404" in result.output
    assert f"content/news/2026-10-01-open.md:10: warning: [links.external] external link {dead}: not reachable" in result.output
    assert "ok.html" not in result.output


def test_external_link_with_japanese_and_a_broken_server_are_findings_not_crashes(http_server):
    """A Japanese path is sent percent-encoded; a server that answers garbage is a warning."""
    from sitegen.check.links import _status

    status, reason = _status(f"{http_server}/連携室/案内.html", 3)
    assert status == 404, reason  # reached the server: not "not reachable: ordinal not in range(128)"

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def garbage():  # one reply with a 70 kB header line: http.client gives up (LineTooLong)
            conn, _ = listener.accept()
            with conn:
                conn.recv(4096)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n")
                except OSError:
                    pass  # the client hung up half-way through

        thread = threading.Thread(target=garbage, daemon=True)
        thread.start()
        status, reason = _status(f"http://127.0.0.1:{listener.getsockname()[1]}/", 3)
        thread.join(5)
    assert status is None and reason.startswith("not reachable")


@pytest.mark.browser
@pytest.mark.slow
def test_axe_runs_while_another_playwright_session_is_open(tmp_path, browser):
    """The test session's own browser (a sync Playwright on this thread) once made axe report itself skipped."""
    root = site_with(tmp_path, "check-links")
    report = run_check(Project.at(root), CheckOptions(today=TODAY, skip=frozenset({"links", "ad"})))
    assert "a11y" not in report.skipped, report.skipped
    assert report.stats["a11y_pages"] == report.stats["pages"]


def test_a_new_draft_newsletter_checks_clean_but_its_own_broken_links_are_found(tmp_path):
    # `sitegen new newsletter` writes a draft whose 「ブラウザで見る」 link points at a web copy that is
    # published only with the issue: that is not an error; a broken link in the draft's body still is.
    root = site_with(tmp_path)
    with open(root / "site.yaml", "a", encoding="utf-8") as f:
        f.write(NEWSLETTER)
    made = sitegen("new", "newsletter", "--source", str(root), "--date", DATE)
    assert made.exit_code == 0, made.output
    draft = next((root / "content/newsletters").glob("*.md"))
    report = check(root)
    assert not [f for f in report.findings if f.severity == "error"], report.findings
    assert draft.stem in report.skipped["links.web_copy"]
    text = draft.read_text(encoding="utf-8")
    draft.write_text(text + "\n[申込書](https://www.example.jp/renkei/files/nai.pdf)\n", encoding="utf-8")
    report = check(root)
    errors = [f for f in report.findings if f.severity == "error"]
    assert [(f.file, f.rule) for f in errors] == [(f"content/newsletters/{draft.name}", "links.form")]
    assert errors[0].line == len(text.splitlines()) + 2


@pytest.mark.browser
@pytest.mark.slow
def test_colour_contrast_is_checked_once_per_text_style_but_on_every_new_one(tmp_path, chromium_path):
    """Colour contrast depends on the stylesheets and each text's element path: texts in paths an earlier page had
    are left out; a text in a new path (a new class, an inline style) is checked, on a page that also repeats old
    ones too, and a page whose only new text is legible reports nothing again."""
    from sitegen.check.a11y import AxeRunner

    css = "body { background: #fff; } .pale { color: #d0d0d0; } .ok { color: #222; }"
    (tmp_path / "s.css").write_text(css, encoding="utf-8")

    def page(name: str, body: str) -> Path:
        path = tmp_path / name
        path.write_text(f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{name}</title>'
                        f'<link rel="stylesheet" href="s.css"></head><body><main><h1>見出し</h1>{body}</main></body>'
                        "</html>", encoding="utf-8")
        return path

    files = [page("a.html", '<p class="ok">本文です。</p><p class="pale">薄い文字</p>'),
             page("b.html", '<p class="ok">別の本文です。</p><p class="pale">同じ薄い文字</p>'),
             page("c.html", '<p class="ok">本文です。</p><p><span class="pale">新しい場所の薄い文字</span></p>'),
             page("d.html", '<p class="ok">本文です。</p><p style="color:#e0e0e0">インラインの薄い文字</p>'),
             page("e.html", '<p class="pale">薄い文字</p><h2 class="ok">新しい見出し</h2>')]
    with AxeRunner(chromium_path) as axe:
        found = axe.check_all(files, parallel=2)
    contrast = [any(v.id == "color-contrast" for v in page) for page in found]
    assert contrast == [True, False, True, True, False]
    # the element reported on d.html is the new inline one, not the repeated pale paragraph
    d = next(v for v in found[3] if v.id == "color-contrast")
    assert "インライン" in d.html and len(d.targets) == 1


@pytest.mark.browser
@pytest.mark.slow
def test_pages_swapped_into_a_loaded_one_run_their_scripts_and_are_checked_in_full(tmp_path, chromium_path):
    """Pages of one folder with the same stylesheets and scripts are checked by swapping the body into a page already
    loaded (axe-core stays compiled): their scripts run again, so what a script adds is checked on every page."""
    from sitegen.check.a11y import AxeRunner, frame_key

    (tmp_path / "s.css").write_text("body { background: #fff; color: #222; }", encoding="utf-8")
    (tmp_path / "add.js").write_text("(function () { var i = document.createElement('img'); i.src = 'x.png';"
                                     " document.querySelector('main').appendChild(i); })();", encoding="utf-8")

    def page(name: str, body: str, script: str = '<script src="add.js" defer></script>') -> Path:
        path = tmp_path / name
        path.write_text(f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{name}</title>'
                        f'<meta name="description" content="{name}">'
                        f'<link rel="stylesheet" href="s.css"></head><body><main><h1>見出し</h1>{body}</main>{script}'
                        "</body></html>", encoding="utf-8")
        return path

    files = [page("a.html", "<p>一</p>"), page("b.html", '<p>二</p><a href="c.html"></a>'), page("c.html", "<p>三</p>"),
             page("d.html", "<p>四</p>", "<script>document.title = 'x';</script>")]
    keys = [frame_key(f.read_text(encoding="utf-8")) for f in files]
    assert keys[0] == keys[1] == keys[2] and keys[0] is not None  # the description differs: only the frame counts
    assert keys[3] is None  # an inline script cannot be run again by a swap: that page is loaded
    with AxeRunner(chromium_path) as axe:
        found = axe.check_all(files, parallel=1)
    ids = [{v.id for v in page} for page in found]
    assert all("image-alt" in page for page in ids[:3]) and "image-alt" not in ids[3]
    assert "link-name" in ids[1] and "link-name" not in ids[0] | ids[2]
