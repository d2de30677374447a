"""Links from YAML only go where a link may go: http(s) addresses (plus mailto:/tel: the theme makes from typed
contacts). A script URL or a bare host is a content error with its line; `check` reports unsafe links the theme
makes; no page of the built site (read by a real browser) and no PDF link annotation carries a script URL."""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.check.run import CheckOptions, run_check
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)
SAFE = re.compile(r"^(https?:|mailto:|tel:|#|[^:]*$)", re.I)


def site_with(tmp_path: Path, website: str | None = None, web_contact: str | None = None, tel: str | None = None) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    text = (root / "site.yaml").read_text(encoding="utf-8")
    if website is not None:
        text = text.replace("  designations:", f"  website: '{website}'\n  designations:", 1)
    if web_contact is not None:
        text = text.replace("    - id: fax\n", f"    - id: web\n      type: web\n      label: Web予約\n      value: '{web_contact}'\n"
                            "    - id: fax\n", 1)
    if tel is not None:
        text = text.replace("      value: 03-0000-1001", f"      value: '{tel}'", 1)
    (root / "site.yaml").write_text(text, encoding="utf-8")
    return root


def build(root: Path, *outputs: str) -> None:
    run(Project.at(root, root / "build"), BuildOptions(today=TODAY, outputs=outputs or ("site",)))


BAD_URLS = ["javascript:alert(document.domain)//", "JavaScript:alert(1)", " javascript:alert(1)", "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>", "file:///etc/passwd", "www.example.jp/renkei/yoyaku",
            "//evil.example/x", "https://www.example.jp/a b", 'https://www.example.jp/"onmouseover="alert(1)']


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("where", ["website", "web_contact"])
def test_unsafe_or_bare_urls_in_site_yaml_are_content_errors_with_their_line(tmp_path, url, where):
    root = site_with(tmp_path, **{where: url})
    with pytest.raises(ContentError) as exc:
        build(root)
    lines = exc.value.lines()
    field = "hospital.website" if where == "website" else "office.contacts[1].value"
    assert any(re.match(rf"site\.yaml:\d+: {re.escape(field)}: ", line) for line in lines), lines
    assert not (root / "build").exists()


def test_a_bare_host_gets_the_fix_in_the_message(tmp_path):
    with pytest.raises(ContentError) as exc:
        build(site_with(tmp_path, website="www.example.jp/renkei/"))
    assert "write https://www.example.jp/renkei/" in "\n".join(exc.value.lines())


@pytest.mark.parametrize("tel", ["javascript:alert(1)", "電話してください", "03-0000-1001\nBcc: x"])
def test_a_phone_contact_must_be_a_number(tmp_path, tel):
    with pytest.raises(ContentError) as exc:
        build(site_with(tmp_path, tel=tel))
    assert any("office.contacts[0].value" in line for line in exc.value.lines())


@pytest.mark.parametrize("url", ["https://www.example.jp/", "http://intra.example.jp:8080/yoyaku?x=1#top",
                                 "https://例え.jp/予約"])
def test_ordinary_addresses_still_build(tmp_path, url):
    build(site_with(tmp_path, website=url, web_contact=url))


def test_check_reports_a_script_link_the_theme_makes(tmp_path):
    root = site_with(tmp_path)
    web = root / "themes" / "default" / "web"
    web.mkdir(parents=True)
    (web / "home.html").write_text('{% extends "!theme/home.html" %}{% block content %}'
                                   '<a href="javascript:alert(1)">x</a>{{ super() }}{% endblock %}', encoding="utf-8")
    report = run_check(Project.at(root), CheckOptions(today=TODAY, skip=frozenset({"a11y", "ad"})))
    unsafe = [f for f in report.findings if f.rule == "links.unsafe"]
    assert unsafe and unsafe[0].severity == "error" and "javascript:" in unsafe[0].message


def test_no_link_in_the_built_site_is_a_script_url_in_a_real_browser(tmp_path, browser):
    root = site_with(tmp_path, website="https://www.example.jp/", web_contact="https://www.example.jp/yoyaku/")
    build(root)
    page = browser.new_page()
    try:
        bad = []
        pages = sorted((root / "build" / "site").rglob("*.html"))
        assert len(pages) > 10
        for html in pages:
            page.goto(html.as_uri())
            hrefs = page.eval_on_selector_all("a[href], area[href], form[action], iframe[src]",
                                              "els => els.map(e => e.getAttribute('href') || e.getAttribute('action') || e.getAttribute('src'))")
            bad += [(html.name, h) for h in hrefs if not SAFE.match(h.strip())]
        assert not bad, bad[:10]
    finally:
        page.close()


def test_pdf_link_annotations_only_open_web_pages_mail_or_phone(tmp_path, chromium_path):
    from pypdf import PdfReader

    root = site_with(tmp_path)
    print_dir = root / "themes" / "default" / "print"
    print_dir.mkdir(parents=True)
    (print_dir / "leaflet.html").write_text(
        '{% extends "!theme/leaflet.html" %}{% block body %}<p><a href="javascript:alert(1)">js</a> '
        '<a href="file:///etc/passwd">file</a> <a href="https://www.example.jp/ok">ok</a></p>{{ super() }}{% endblock %}',
        encoding="utf-8")
    build(root, "pdf")
    uris = []
    for pdf in (root / "build" / "pdf").rglob("*.pdf"):
        for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages:
            for annot in page.get("/Annots") or []:
                action = annot.get_object().get("/A")
                if action is not None and "/URI" in action.get_object():
                    uris.append(str(action.get_object()["/URI"]))
    assert "https://www.example.jp/ok" in uris  # links are there at all
    assert all(re.match(r"^(https?|mailto|tel):", u) for u in uris), [u for u in uris if not u.startswith("http")]
