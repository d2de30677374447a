"""Newsletters: build/mail/<issue>/ files, the compiled HTML, the plain-text part, errors for authors."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO
from mail_fixtures import make_mail_site
from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError, SitegenError
from sitegen.mail.message import MARKERS
from sitegen.mail.mjml_compile import MjmlError, byte_offset_to_line_col, compile_mjml
from sitegen.project import Project
from sitegen.web.opendata import DATASETS

TODAY = dt.date(2026, 11, 25)
ISSUES = ("2026-10-no1", "2026-11-no2")
FILES = ("index.html", "index.txt", "newsletter.mjml", "sample.eml", "template.html", "template.txt", "manifest.json")


def build(site: Path, outputs=("site", "mail")):
    return run(Project.at(site), BuildOptions(today=TODAY, outputs=outputs))


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    site = make_mail_site(tmp_path_factory.mktemp("mail") / "hospital")
    report = build(site)
    assert not report.warnings, report.warnings
    return site / "build"


class Html(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, name):
        return [a for t, a in self.tags if t == name]


def test_every_issue_has_its_files(built):
    for issue in ISSUES:
        for name in FILES:
            assert (built / "mail" / issue / name).is_file(), f"{issue}/{name}"


@pytest.mark.parametrize("issue", ISSUES)
def test_compiled_html(built, issue):
    raw = (built / "mail" / issue / "index.html").read_bytes()
    assert len(raw) < 102 * 1024, f"{len(raw)} bytes: Gmail would clip it"
    html = raw.decode("utf-8")
    doc = Html(html)
    assert html.startswith("<!DOCTYPE html>") and '<html lang="ja"' in html
    assert len(doc.all("h1")) == 1
    assert "max-width:600px" in html.replace(" ", "")
    for tag in ("script", "form", "input", "iframe", "object", "embed"):
        assert not doc.all(tag), tag
    for marker in MARKERS:
        assert marker not in html
    assert "{{" not in html and "{%" not in html and "%%" not in html and "<mj-" not in html
    images = doc.all("img")
    assert images
    for img in images:
        assert img.get("alt", "").strip(), img
        assert img.get("width"), img
        assert img["src"].startswith("https://"), img
    links = [a["href"] for a in doc.all("a")]
    assert links
    for href in links:
        assert re.match(r"(https://|mailto:|tel:)", href), href
    text = "".join(doc.text)
    assert "配信停止" in text and "いつでも配信を停止できます" in text  # 特定電子メール法: the opt-out sentence
    assert "みなと中央病院 地域医療連携室" in text and "東京都湊区中央1-2-3" in text and "03-0000-1001" in text
    assert "https://www.example.jp/renkei/teishi" in links
    assert f"https://www.example.jp/renkei/newsletters/{issue}.html" in links  # ブラウザで見る
    assert "ご担当者様" in text
    # css from <mj-style inline="inline"> really is inlined
    assert re.search(r"<h2 style=\"[^\"]*border-left", html)


def test_issue_sections_are_filled_from_the_content(built):
    html = (built / "mail" / "2026-11-no2" / "index.html").read_text(encoding="utf-8")
    assert "山田 太郎" in html and "https://www.example.jp/renkei/images/yamada-taro.png" in html
    assert "内科部長 山田太郎医師の写真" in html  # the photo's alt text from the doctor's file
    assert "禁煙外来" in html  # the schedule
    assert "連携室の受付時間を延長しました" in html  # the news item
    assert "https://www.example.jp/renkei/form/kai5" in html  # RSVP
    assert "https://www.example.jp/renkei/guides/referral.html" in html  # a relative Markdown link, made absolute
    first = (built / "mail" / "2026-10-no1" / "index.html").read_text(encoding="utf-8")
    assert "内科全般の診療を行っています。" in first  # department spotlight from content/departments/naika.md


def test_plain_text_part(built):
    text = (built / "mail" / "2026-11-no2" / "index.txt").read_text(encoding="utf-8")
    assert "<" not in text and "&amp;" not in text and "&lt;" not in text
    assert "■ 注目のドクター" in text and "■ 外来担当医表の変更" in text
    assert "月曜 午前：山田 太郎［初診・紹介制］、鈴木 一郎\n" in text
    assert "土曜 午前：山田 太郎（第1・3週）" in text
    assert "https://www.example.jp/renkei/doctors/yamada-taro.html" in text
    assert "当日のプログラム（https://www.example.jp/renkei/guides/referral.html）" in text
    assert "配信停止：https://www.example.jp/renkei/teishi" in text
    assert "ご担当者様" in text
    for marker in MARKERS:
        assert marker not in text


def test_sample_eml(built):
    raw = (built / "mail" / "2026-11-no2" / "sample.eml").read_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["Subject"] == "第2号：注目のドクターと外来担当医表の変更"
    assert msg["Date"] == "Fri, 20 Nov 2026 09:00:00 +0900"
    parts = {p.get_content_type(): p.get_content() for p in msg.iter_parts()}
    assert "第5回 地域医療連携の会" in parts["text/plain"] and "第5回 地域医療連携の会" in parts["text/html"]
    assert msg["List-Unsubscribe-Post"] is None  # only with newsletter.one_click (tests/test_unsubscribe.py)


def test_builds_are_byte_identical(built, tmp_path):
    site = make_mail_site(tmp_path / "again")
    build(site)
    for issue in ISSUES:
        for name in FILES:
            a = (built / "mail" / issue / name).read_bytes()
            b = (site / "build" / "mail" / issue / name).read_bytes()
            assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), f"{issue}/{name}"


def test_web_archive_pages(built):
    index = (built / "site" / "newsletters" / "index.html").read_text(encoding="utf-8")
    assert "2026-11-no2.html" in index and "2026-10-no1.html" in index
    page = (built / "site" / "newsletters" / "2026-11-no2.html").read_text(encoding="utf-8")
    assert page.count("<h1") == 1 and "<main" in page
    assert "teishi@example.jp" not in page  # no opt-out machinery on the web
    assert 'src="https://' not in page  # the web copy loads images from the site itself
    open_data = {f"data/{n}.csv" for n in DATASETS}  # the published open data (tests/test_opendata.py)
    for p in (built / "site").rglob("*"):
        rel = p.relative_to(built / "site").as_posix()
        assert not p.name.endswith((".csv", ".eml")) or rel in open_data, p  # the partner list never reaches the website
        if rel in open_data:
            assert "@" not in p.read_text(encoding="utf-8"), p


def test_values_are_escaped_in_mjml(tmp_path):
    site = make_mail_site(tmp_path / "h")
    f = site / "content" / "newsletters" / "2026-11-no2.md"
    f.write_text(f.read_text(encoding="utf-8").replace("subject: 第2号：", "subject: <script>alert(1)</script>&第2号："),
                 encoding="utf-8")
    build(site, ("mail",))
    html = (site / "build" / "mail" / "2026-11-no2" / "index.html").read_text(encoding="utf-8")
    assert not Html(html).all("script")  # no live element (css-inline leaves '<' unescaped inside quoted attributes)
    assert "<h1" in html and "&lt;script&gt;alert(1)&lt;/script&gt;&amp;第2号" in html


def _issue_errors(tmp_path: Path, number: int, sections: str) -> list[str]:
    """The content errors of a third issue with these sections (YAML) added to the mail site."""
    site = make_mail_site(tmp_path / "h")
    (site / "content" / "newsletters" / "2026-12-no3.md").write_text(
        f"---\nnumber: {number}\ndate: 2026-12-01\nsubject: 第3号\nsections:\n{sections}---\n", encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        build(site)
    return exc.value.lines()


def test_content_mistakes_are_reported_with_file_and_line(tmp_path):
    lines = _issue_errors(tmp_path, 2, "  - type: doctor\n    doctor: yamada-tarou\n"
                                       "  - type: departmnt\n    department: naika\n"
                                       "  - type: news\n    itmes: [x]\n"
                                       "  - type: event\n    title: 会\n    date: 2026-12-11\n    place: 講堂\n"
                                       "    rsvp: javascript:alert(1)\n")
    assert lines == [
        "content/newsletters/2026-12-no3.md:2: number: みなと連携だより No.2 is also content/newsletters/2026-11-no2.md",
        "content/newsletters/2026-12-no3.md:7: sections[0].doctor: unknown doctor 'yamada-tarou' (did you mean 'yamada-taro'?); doctors are files in content/doctors/",
        "content/newsletters/2026-12-no3.md:8: sections[1].type: unknown section type 'departmnt' (did you mean 'department'?); one of text, doctor, department, new_doctors, schedule_changes, news, event",
        "content/newsletters/2026-12-no3.md:11: sections[2].itmes: unknown field 'itmes' (did you mean 'items'?)",
        "content/newsletters/2026-12-no3.md:16: sections[3].rsvp: 'javascript:' addresses are not allowed here; write an address starting with https://, found the text 'javascript:alert(1)'",
    ], lines


def test_a_section_type_of_any_kind_is_a_content_error_at_its_line(tmp_path):
    """A type written as a list or a set of fields (which cannot be looked up among the kinds of section), a
    number, true, or nothing: each is an error at its line, with the others, never an internal error."""
    lines = _issue_errors(tmp_path, 3, "  - type: [text]\n    title: 一\n"
                                       "  - type: {text: 1}\n    title: 二\n"
                                       "  - type: 3\n    title: 三\n"
                                       "  - type: true\n    title: 四\n"
                                       "  - type:\n    title: 五\n"
                                       "  - type: text\n    title: 六\n    body: 本文\n")
    kinds = "one of text, doctor, department, new_doctors, schedule_changes, news, event"
    assert lines == [
        f"content/newsletters/2026-12-no3.md:6: sections[0].type: a section's type is a word, found a list; {kinds}",
        f"content/newsletters/2026-12-no3.md:8: sections[1].type: a section's type is a word, found a set of fields; {kinds}",
        f"content/newsletters/2026-12-no3.md:10: sections[2].type: a section's type is a word, found the number 3; {kinds}",
        f"content/newsletters/2026-12-no3.md:12: sections[3].type: a section's type is a word, found true/false; {kinds}",
        f"content/newsletters/2026-12-no3.md:14: sections[4].type: a section needs a type; {kinds}",
    ]


def test_size_over_gmail_clip_is_a_warning(tmp_path):
    site = make_mail_site(tmp_path / "h")
    f = site / "content" / "newsletters" / "2026-11-no2.md"
    big = "\n\n".join(f"段落{i}：" + "地域の先生方と連携して診療を進めています。" * 20 for i in range(150))
    f.write_text(f.read_text(encoding="utf-8") + "\n" + big + "\n", encoding="utf-8")
    report = build(site, ("mail",))
    messages = [str(w) for w in report.warnings]
    assert any("Gmail clips" in m and m.startswith("content/newsletters/2026-11-no2.md") for m in messages), messages


def test_template_mistake_reaches_the_author_with_file_and_line(tmp_path):
    site = make_mail_site(tmp_path / "h")
    override = site / "themes" / "default" / "mail" / "sections"
    override.mkdir(parents=True)
    (override / "news.mjml").write_text("<mj-section>\n  <mj-column>\n    {{ section.titel }}\n", encoding="utf-8")
    with pytest.raises(SitegenError) as exc:
        build(site, ("mail",))
    assert "themes/default/mail/sections/news.mjml:3" in str(exc.value)


@pytest.mark.parametrize("style", ['style="%;"', 'style="color: red; ;;: {"', 'style=":"'])
def test_a_style_the_css_inliner_cannot_read_names_the_sites_own_mail_templates(tmp_path, style):
    """A style attribute of a site's section template that css-inline cannot parse: an error saying so, naming the
    site's own mail templates, with exit status 1 — not an internal error."""
    from click.testing import CliRunner

    from sitegen.cli import main

    site = make_mail_site(tmp_path / "h")
    packaged = (REPO / "themes" / "default" / "mail" / "sections" / "event.mjml").read_text(encoding="utf-8")
    override = site / "themes" / "default" / "mail" / "sections" / "event.mjml"
    override.parent.mkdir(parents=True)
    override.write_text(packaged.replace('style="width: 22%;"', style, 1), encoding="utf-8")
    assert override.read_text(encoding="utf-8") != packaged
    result = CliRunner().invoke(main, ["build", "--source", str(site), "--only", "mail", "--date", "2026-11-25"])
    assert result.exit_code == 1 and "internal error" not in result.output, result.output
    assert "cannot be read" in result.output and "themes/default/mail/sections/event.mjml" in result.output


def test_mjml_errors_become_line_and_column():
    text = "<mjml>\n<mj-head>\n<mj-title>日本語の題名</mj-title>\n<mj-foo/>\n</mj-head>\n</mjml>"
    with pytest.raises(MjmlError) as exc:
        compile_mjml(text)
    assert exc.value.line == 4 and "mj-foo" in str(exc.value)
    # MRML's own position (a byte offset) is converted with the Japanese text in mind
    assert byte_offset_to_line_col("日本\n語x", len("日本\n語".encode())) == (2, 2)
    with pytest.raises(MjmlError) as exc:
        compile_mjml("<mjml><mj-body>\n<mj-section>\n<mj-column>\n<mj-text>あ</mj-text>\n</mj-section></mj-body></mjml>")
    assert exc.value.line == 5 and "does not match" in str(exc.value)


def test_a_news_item_dated_after_the_issue_is_refused(tmp_path):
    """Listed by name in a news section, a news item dated later than the issue would be mailed and put on the web
    archive before its own date (the site does not show it yet)."""
    lines = _issue_errors(tmp_path, 3, "  - type: news\n    items: [2027-01-01-future, 2026-10-01-open]\n")
    assert lines == [
        "content/newsletters/2026-12-no3.md:7: sections[0].items[0]: news item '2027-01-01-future' is dated 2027-01-01, "
        "after this issue (2026-12-01): the issue and its web copy would publish it before its own date; send it in a "
        "later issue"], lines
