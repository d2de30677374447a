"""`sitegen serve` driven for real: a server process, headless Chromium, edits on disk.

The browser tests serve tests/sites/minimal; test_served_pages_carry_the_script_and_other_outputs_are_previewed
serves the whole example hospital (with its newsletters)."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, SITES, TODAY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`sitegen serve` as a subprocess; its output is collected for failure messages."""

    def __init__(self, source: Path, tmp: Path | None = None):
        self.port = free_port()
        env = None if tmp is None else {**os.environ, "TMPDIR": str(tmp)}  # where its temporary files go
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sitegen", "serve", "--source", str(source), "--port", str(self.port),
             "--date", TODAY.isoformat()],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8", env=env)
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(60):
            self.stop()
            raise AssertionError("serve did not start:\n" + self.output)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            match = re.search(r"Serving (http://\S+)", line)
            if match:
                self.url = match.group(1)
                self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def status(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__sitegen/status", timeout=10) as r:
            return json.loads(r.read())

    def get(self, path: str) -> tuple[int, bytes, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=20) as r:
                return r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type", "")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture()
def example_copy(tmp_path) -> Path:
    """The example hospital (repo root) when it is there, else tests/sites/minimal."""
    dest = tmp_path / "site"
    if (REPO / "site.yaml").is_file() and (REPO / "content").is_dir():
        dest.mkdir()
        shutil.copy(REPO / "site.yaml", dest / "site.yaml")
        shutil.copytree(REPO / "content", dest / "content")
        if (REPO / "themes").is_dir():
            shutil.copytree(REPO / "themes", dest / "themes")
    else:
        shutil.copytree(SITES / "minimal", dest)
    return dest


@pytest.fixture()
def short_tmp():
    """An empty folder with a short path, for a server's TMPDIR."""
    with tempfile.TemporaryDirectory(prefix="sg") as folder:
        yield Path(folder)


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p
    context.close()


def a_doctor(site: Path) -> tuple[Path, str]:
    doctor = sorted((site / "content" / "doctors").glob("*.md"))[0]
    return doctor, doctor.stem


@pytest.mark.browser
def test_edit_reloads_the_page_and_an_error_shows_as_an_overlay_until_fixed(copy_site, page):
    site = copy_site("minimal")
    doctor, slug = a_doctor(site)
    original = doctor.read_text(encoding="utf-8")
    server = Server(site)
    try:
        page.goto(f"{server.url}doctors/{slug}.html")
        page.wait_for_function("() => window.document.querySelector('script[data-key]') !== null")

        # 1. an edit shows without touching the browser
        marker = "ライブリロードの確認です"
        doctor.write_text(re.sub(r"^message:.*$", f"message: {marker}", original, flags=re.M)
                          if re.search(r"^message:", original, re.M) else original.replace("\n---", f"\nmessage: {marker}\n---", 1),
                          encoding="utf-8")
        page.wait_for_function("m => document.body && document.body.innerText.includes(m)", arg=marker)

        # 2. a YAML mistake: the overlay names file and line; the server keeps running
        broken = doctor.read_text(encoding="utf-8").replace("name: ", "name: [", 1)
        doctor.write_text(broken, encoding="utf-8")
        overlay = page.locator("#sitegen-overlay")
        overlay.wait_for(state="visible")
        line = next(i for i, text in enumerate(broken.splitlines(), 1) if text.startswith("name: ["))
        rel = f"content/doctors/{slug}.md"
        page.wait_for_function("t => document.querySelector('#sitegen-overlay').innerText.includes(t)", arg=rel)
        text = overlay.inner_text()
        assert re.search(rf"{re.escape(rel)}:{line}: YAML syntax error", text) or re.search(rf"{re.escape(rel)}:\d+: ", text), text
        assert server.proc.poll() is None

        # 3. a mistake whose message quotes the author's text: shown as text, not HTML
        doctor.write_text(original.replace("---\n", "---\nfeatured: <img src=x onerror=alert(1)>\n", 1), encoding="utf-8")
        page.wait_for_function("() => document.querySelector('#sitegen-overlay').innerText.includes('featured')")
        assert page.locator("#sitegen-overlay img").count() == 0

        # 4. fixed: the overlay goes and the page shows the fixed content
        doctor.write_text(original, encoding="utf-8")
        page.wait_for_function("() => !document.querySelector('#sitegen-overlay')")
        assert marker not in page.inner_text("body")
        assert server.status()["errors"] == []
    finally:
        server.stop()
    assert not (site / "build").exists()  # serve writes nothing into the site


def test_served_pages_carry_the_script_and_other_outputs_are_previewed(example_copy):
    server = Server(example_copy)
    try:
        status, body, ctype = server.get(server.url.split(str(server.port), 1)[1] + "index.html")
        assert status == 200 and "text/html" in ctype
        assert body.count(b"/__sitegen/live.js") == 1
        status, body, _ = server.get("/")
        assert status == 200 and b"/__sitegen/live.js" in body  # redirected to the base path
        status, body, _ = server.get(server.url.split(str(server.port), 1)[1] + "no-such-page.html")
        assert status == 404 and b"/__sitegen/live.js" in body
        status, body, _ = server.get("/__sitegen/mail/")
        html = body.decode()
        if (example_copy / "content" / "newsletters").is_dir():
            assert html.count('width="600"') == html.count('width="375"') >= 1
            src = re.search(r'<iframe src="([^"]+)"', html).group(1)
            status, mail_html, ctype = server.get(src)
            assert status == 200 and b"<html" in mail_html.lower() and b"live.js" not in mail_html
            assert f"http://127.0.0.1:{server.port}/".encode() in mail_html  # images from this server, not the public site
        status, body, _ = server.get("/__sitegen/pdf/")
        assert status == 200 and "PDF" in body.decode()
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_pdf_preview_rebuilds_in_the_background(copy_site, page, chromium_path, poppler, short_tmp):
    site = copy_site("minimal")
    tmp = short_tmp  # Chromium's sockets there too: a path under pytest's tmp_path is too long for them
    server = Server(site, tmp)
    try:
        page.goto(f"http://127.0.0.1:{server.port}/__sitegen/pdf/")
        page.wait_for_function("() => document.body.innerText.includes('再生成中') || document.body.innerText.includes('最新')")
        page.wait_for_function("() => document.body.innerText.includes('最新')", timeout=90_000)
        links = page.locator("a[href$='guidebook.pdf']")
        assert links.count() >= 1
        status, png, ctype = server.get("/__sitegen/pdf/page/1/guidebook.pdf")
        assert status == 200 and ctype == "image/png" and png.startswith(b"\x89PNG")  # drawn by pdftoppm
        # an edit while the preview is open: rebuilding is shown, then the new PDF
        news = next((site / "content" / "news").glob("*.md"))
        news.write_text(news.read_text(encoding="utf-8") + "\n追記\n", encoding="utf-8")
        page.wait_for_function("() => document.body.innerText.includes('再生成中')", timeout=30_000)
        page.wait_for_function("() => document.body.innerText.includes('最新')", timeout=90_000)
        assert any(p.name.startswith("sitegen-serve-pdf-") for p in tmp.iterdir()), "page images are in a temporary folder"
    finally:
        server.stop()
    # stopped by SIGTERM (a service manager, `kill`): it stops as on Ctrl-C and its page images go
    assert server.proc.returncode == 0 and "stopped" in server.output, server.output
    assert not any(p.name.startswith("sitegen-serve-pdf-") for p in tmp.iterdir())


@pytest.mark.browser
def test_a_site_that_does_not_load_at_start_is_served_once_fixed(copy_site, page):
    site = copy_site("minimal")
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    good = doctor.read_text(encoding="utf-8")
    doctor.write_text(good.replace("name:", "nmae:", 1), encoding="utf-8")
    server = Server(site)
    try:
        page.goto(f"{server.url}doctors/yamada-taro.html")
        page.locator("#sitegen-overlay").wait_for(state="visible")
        assert "content/doctors/yamada-taro.md:" in page.inner_text("#sitegen-overlay")
        doctor.write_text(good, encoding="utf-8")
        page.wait_for_function("() => !document.querySelector('#sitegen-overlay') && document.title.includes('山田')")
    finally:
        server.stop()


@pytest.mark.browser
def test_a_theme_edit_reloads_and_a_template_mistake_shows_in_the_overlay(copy_site, page):
    site = copy_site("minimal")
    server = Server(site)
    try:
        page.goto(f"{server.url}doctors/yamada-taro.html")
        page.wait_for_selector("script[data-key]", state="attached")
        override = site / "themes" / "default" / "web" / "doctor.html"
        override.parent.mkdir(parents=True)
        override.write_text('{% extends "!theme/doctor.html" %}\n{% block head %}<meta name="x-theme-edit" content="1">'
                            '{% endblock %}\n', encoding="utf-8")
        page.wait_for_selector("meta[name='x-theme-edit']", state="attached")
        override.write_text('{% extends "!theme/doctor.html" %}\n{% block head %}{{ doctor.phnoe }}{% endblock %}\n',
                            encoding="utf-8")
        page.locator("#sitegen-overlay").wait_for(state="visible")
        assert "template error" in page.inner_text("#sitegen-overlay")
        override.unlink()
        page.wait_for_function("() => !document.querySelector('#sitegen-overlay')")
        assert page.locator("meta[name='x-theme-edit']").count() == 0
    finally:
        server.stop()


def test_a_rebuild_renders_the_changed_page_first_and_publishes_only_changed_pages(copy_site):
    from sitegen.project import Project
    from sitegen.serve.preview import Preview

    site = copy_site("minimal")
    preview = Preview(Project.at(site), TODAY)
    assert preview.rebuild(None).errors == []
    version_before = preview.versions["guides/referral.html"]
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("---\n", "---\nmessage: 新しいメッセージ\n", 1)
                      if "message:" not in doctor.read_text(encoding="utf-8")
                      else re.sub(r"^message:.*$", "message: 新しいメッセージ", doctor.read_text(encoding="utf-8"), flags=re.M),
                      encoding="utf-8")
    report = preview.rebuild({"content/doctors/yamada-taro.md"})
    assert report.errors == [] and report.first_pages == 1  # the doctor's own page, before the rest
    assert "doctors/yamada-taro.html" in report.changed
    assert "guides/referral.html" not in report.changed and "index.html" not in report.changed
    assert preview.versions["guides/referral.html"] == version_before  # open tabs of other pages do not reload
    assert preview.get("site", "doctors/yamada-taro.html")[0].sources == ("content/doctors/yamada-taro.md",)
    assert "新しいメッセージ".encode() in preview.get("site", "doctors/yamada-taro.html")[0].data
    assert preview.versions["doctors/yamada-taro.html"] > preview.versions.get("guides/referral.html", 0)


def test_a_rebuild_renders_again_only_the_pages_whose_inputs_changed(copy_site, tmp_path):
    """serve keeps what each page read (web/deps.py): after an edit, step 2 renders only the pages that read what
    changed, and every page served is what a build from scratch makes."""
    import shutil

    from sitegen.build import BuildOptions, run
    from sitegen.project import Project
    from sitegen.serve.preview import Preview

    site = copy_site("minimal")
    (site / "content/news/2027-01-01-future.md").unlink()  # the preview shows it, marked 公開前; a build does not
    preview = Preview(Project.at(site), TODAY)
    first = preview.rebuild(None)
    assert first.errors == [] and first.rendered > 0
    doctor = site / "content" / "doctors" / "tanaka-hanako.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n追記しました。\n", 1), encoding="utf-8")
    report = preview.rebuild({"content/doctors/tanaka-hanako.md"})
    assert report.errors == [] and 0 < report.rendered < first.rendered // 2

    clean = tmp_path / "clean"
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns("build", ".sitegen"))
    built = run(Project.at(clean), BuildOptions(today=TODAY, outputs=("site",), dry_run=True))
    expected = {a.path: a.read() for a in built.artifacts["site"] if a.path.endswith(".html")}
    served = {path: preview.get("site", path)[0].read() for path in expected}
    assert served == expected


def test_an_error_raised_by_the_sites_own_template_shows_as_a_template_error(copy_site):
    """An error a theme override makes sitegen's code raise (a date filter given text) is shown at the template's
    line, as Jinja's own errors are, and not logged as an internal error of the server."""
    from sitegen.project import Project
    from sitegen.serve.preview import Preview

    site = copy_site("minimal")
    preview = Preview(Project.at(site), TODAY)
    logged: list[str] = []
    preview.log = logged.append
    assert preview.rebuild(None).errors == []
    override = site / "themes" / "default" / "web" / "doctor.html"
    override.parent.mkdir(parents=True)
    override.write_text('{% extends "!theme/doctor.html" %}\n{% block head %}\n{{ doctor.name | date_ja }}{% endblock %}\n',
                        encoding="utf-8")
    report = preview.rebuild({"themes/default/web/doctor.html"})
    assert len(report.errors) == 1 and report.errors[0].startswith("template error: "), report.errors
    assert "doctor.html:3: AttributeError" in report.errors[0] and not logged


def test_serve_lists_each_warning_in_the_terminal(copy_site):
    site = copy_site("minimal")
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    text = doctor.read_text(encoding="utf-8")
    doctor.write_text(text.replace("name: 山田 太郎", "name: （氏名を入力）", 1), encoding="utf-8")
    server = Server(site)
    try:
        deadline = time.monotonic() + 30
        while "warning(s)" not in server.output and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        assert "1 warning(s):" in server.output, server.output
        assert "content/doctors/yamada-taro.md:2: warning: name: 「（氏名を入力）」" in server.output, server.output
    finally:
        server.stop()


def test_serve_stopped_by_sigterm_or_a_busy_port_leaves_no_temporary_files(copy_site, tmp_path):
    site = copy_site("minimal")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    server = Server(site, tmp)
    server.stop()  # SIGTERM: stopped as on Ctrl-C
    assert server.proc.returncode == 0 and "stopped" in server.output, server.output
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "sitegen", "serve", "--source", str(site), "--port", str(port)],
                                capture_output=True, text=True, encoding="utf-8", timeout=60,
                                env={**os.environ, "TMPDIR": str(tmp)})
    assert result.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr
    assert list(tmp.iterdir()) == []


@pytest.mark.browser
def test_an_edit_swaps_the_page_in_place_and_a_stylesheet_edit_reloads_it(copy_site, page):
    """A content edit replaces the page's body where the reader is (no reload: the scroll position and the
    window stay); an edited stylesheet reloads the page so the new style applies."""
    site = copy_site("minimal")
    doctor, slug = a_doctor(site)
    original = doctor.read_text(encoding="utf-8")
    server = Server(site)
    try:
        page.set_viewport_size({"width": 600, "height": 300})
        page.goto(f"{server.url}doctors/{slug}.html")
        page.wait_for_selector("script[data-key]", state="attached")
        page.evaluate("() => { window.__stillHere = true; document.body.style.minHeight = '3000px';"
                      " window.scrollTo(0, 200); }")
        marker = "その場で差し替わる本文です"
        doctor.write_text(re.sub(r"^message:.*$", f"message: {marker}", original, flags=re.M)
                          if re.search(r"^message:", original, re.M)
                          else original.replace("\n---", f"\nmessage: {marker}\n---", 1), encoding="utf-8")
        page.wait_for_function("m => document.body.innerText.includes(m)", arg=marker)
        assert page.evaluate("() => window.__stillHere === true")  # swapped, not reloaded
        assert page.evaluate("() => document.querySelectorAll('script[data-key]').length") == 1
        page.wait_for_function("() => document.querySelector('script[data-key]').dataset.version !== '0'")

        css = site / "themes" / "default" / "static" / "css" / "site.css"
        css.parent.mkdir(parents=True)
        css.write_text((REPO / "themes" / "default" / "static" / "css" / "site.css").read_text(encoding="utf-8")
                       + "\nbody { outline: 7px solid rgb(1, 2, 3); }\n", encoding="utf-8")
        page.wait_for_function("() => getComputedStyle(document.body).outlineWidth === '7px'")
        assert page.evaluate("() => window.__stillHere === undefined")  # reloaded for the new stylesheet
    finally:
        server.stop()


def test_a_rebuild_reads_validates_and_converts_only_the_files_that_changed(copy_site, monkeypatch):
    """serve keeps each file's parsed and validated result and each body's HTML in memory (load.READ,
    markdown_html.MARKDOWN): after an edit only the edited file is validated and only its body converted."""
    from sitegen.content import load
    from sitegen.content.markdown_html import MarkdownRenderer
    from sitegen.project import Project
    from sitegen.serve.preview import Preview

    site = copy_site("minimal")
    preview = Preview(Project.at(site), TODAY)
    assert preview.rebuild(None).errors == []
    validated: list[str] = []
    converted: list[str] = []
    real_validate, real_convert = load.validate, MarkdownRenderer._convert
    monkeypatch.setattr(load, "validate", lambda source, model, *rest: validated.append(source.path)
                        or real_validate(source, model, *rest))
    monkeypatch.setattr(MarkdownRenderer, "_convert", lambda self, text: converted.append(text)
                        or real_convert(self, text))
    doctor = site / "content" / "doctors" / "tanaka-hanako.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n追記しました。\n", 1), encoding="utf-8")
    assert preview.rebuild({"content/doctors/tanaka-hanako.md"}).errors == []
    assert [p for p in validated if p.startswith("content/") and p != "content/qualifications.yaml"] \
        == ["content/doctors/tanaka-hanako.md"]
    assert len(converted) == 1 and "追記しました。" in converted[0]
    assert "追記しました。".encode() in preview.get("site", "doctors/tanaka-hanako.html")[0].data


def test_a_file_the_watcher_names_is_read_again_even_when_its_stamp_did_not_change(copy_site):
    """Two saves within one tick of the file system's clock can leave the same modification time and size:
    the files the watcher reports are read again whatever their stamp; the others are kept."""
    from sitegen.content import load
    from sitegen.project import Project
    from sitegen.serve.preview import Preview

    site = copy_site("minimal")
    preview = Preview(Project.at(site), TODAY)
    assert preview.rebuild(None).errors == []
    rel = "content/doctors/tanaka-hanako.md"
    doctor = site / rel
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\n一度目の追記。\n", 1), encoding="utf-8")
    kept = preview._memo[(load.READ, rel)]
    stamp = load._stamp(doctor)
    preview._memo[(load.READ, rel)] = (stamp, kept[1])  # as if the edit had kept the stamp the file was read at

    assert preview.rebuild(set()).errors == []  # nothing named: the kept result stands
    assert "一度目の追記。".encode() not in preview.get("site", "doctors/tanaka-hanako.html")[0].data
    assert preview.rebuild({rel}).errors == []
    assert "一度目の追記。".encode() in preview.get("site", "doctors/tanaka-hanako.html")[0].data


def test_the_preview_shows_news_drafts_and_later_news_marked_and_the_build_does_not(copy_site):
    from sitegen.build import BuildOptions, run
    from sitegen.project import Project
    from sitegen.serve.preview import Preview

    site = copy_site("minimal")
    (site / "content/news/2026-11-20-draft.md").write_text(
        "---\ntitle: 下書きのお知らせ\ndate: 2026-11-20\ndraft: true\n---\n準備中です。\n", encoding="utf-8")
    preview = Preview(Project.at(site), TODAY)
    assert preview.rebuild(None).errors == []

    def page(path: str) -> str:
        found = preview.get("site", path)
        assert found is not None and found[0] is not None, path
        return found[0].data.decode("utf-8")

    listing = page("news/index.html")
    assert "下書きのお知らせ" in listing and "未来のお知らせ" in listing and "連携室の受付時間を延長しました" in listing
    assert listing.count('class="preview-tag"') == 2
    assert "下書きです" in page("news/2026-11-20-draft.html")
    assert "2027年1月1日から公開" in page("news/2027-01-01-future.html")
    assert "preview-note" not in page("news/2026-10-01-open.html")

    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    built = site / "build" / "site"
    assert not (built / "news/2026-11-20-draft.html").exists() and not (built / "news/2027-01-01-future.html").exists()
    published = "".join(p.read_text(encoding="utf-8") for p in built.rglob("*.html"))
    assert "下書きのお知らせ" not in published and "preview-" not in published
