"""Markdown as PR staff write it: nested lists at any indent, Japanese line breaks, images from the content folder."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.content.japanese import join_cjk_lines, join_cjk_lines_html
from sitegen.content.list_indent import normalise_lists
from sitegen.content.markdown_html import MarkdownRenderer
from sitegen.pdf.markup import local_images
from sitegen.project import Project
from sitegen.urls import content_links, content_ref

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def md():
    r = MarkdownRenderer()
    yield r
    r.close()


def squash(html) -> str:
    return re.sub(r"\s+", "", str(html))


@pytest.mark.parametrize("indent", [2, 3, 4])
def test_nested_lists_at_two_to_four_spaces(md, indent):
    sp = " " * indent
    html = squash(md(f"- 予約票\n{sp}- 紹介状\n{sp}{sp}- 写し\n{sp}- 保険証\n- 受診\n"))
    assert html == ("<ul><li>予約票<ul><li>紹介状<ul><li>写し</li></ul></li><li>保険証</li></ul></li>"
                    "<li>受診</li></ul>")


@pytest.mark.parametrize("indent", [2, 3, 4])
def test_bullets_nested_under_a_numbered_step(md, indent):
    sp = " " * indent
    html = squash(md(f"1. 申込書をFAXします。\n{sp}- 予約票\n{sp}- 紹介状\n2. 予約が確定します。\n"))
    assert html == ("<ol><li>申込書をFAXします。<ul><li>予約票</li><li>紹介状</li></ul></li>"
                    "<li>予約が確定します。</li></ol>")


def test_mixed_indents_in_one_text_and_two_lists(md):
    html = squash(md("- a\n  - b\n\n本文\n\n- c\n    - d\n      - e\n"))
    assert html == ("<ul><li>a<ul><li>b</li></ul></li></ul><p>本文</p>"
                    "<ul><li>c<ul><li>d<ul><li>e</li></ul></li></ul></li></ul>")


def test_code_blocks_and_rules_are_not_lists(md):
    lines = ["```", "- a", "  - b", "```", "", "    indented code", "", "***"]
    assert normalise_lists(lines) == lines
    html = str(md("\n".join(lines) + "\n"))
    assert "<pre><code>- a\n  - b\n</code></pre>" in html and "<hr>" in html


def test_a_continuation_paragraph_stays_in_its_item(md):
    html = squash(md("- 予約\n\n  予約票をお持ちください。\n- 受診\n"))
    assert "<li><p>予約</p><p>予約票をお持ちください。</p></li>" in html


def test_japanese_soft_line_breaks_join_without_a_space(md):
    html = str(md("紹介状をお持ちください。\n受付は8時30分からです。\nPlease bring\nthe letter.\n院長 田中\n"))
    assert "ください。受付は8時30分からです。Please bring\nthe letter.院長 田中" in html


def test_line_breaks_are_kept_inside_code(md):
    html = str(md("```\n予約\n受付\n```\n"))
    assert "予約\n受付" in html


def test_one_rule_for_text_and_html():
    assert join_cjk_lines("です。\nCT検査\n  は") == "です。CT検査は"
    assert join_cjk_lines("MRI\nand CT") == "MRI\nand CT"
    assert join_cjk_lines_html("<pre>予約\n受付</pre><p>予約\n受付</p>") == "<pre>予約\n受付</pre><p>予約受付</p>"


def test_content_refs_from_the_content_folder():
    assets = {"images/map.png", "files/form a.pdf"}
    assert content_ref("images/map.png", assets) == "images/map.png"
    assert content_ref("../images/map.png", assets) == "images/map.png"
    assert content_ref("./images/map.png", assets) == "images/map.png"
    assert content_ref("files/form%20a.pdf", assets) == "files/form a.pdf"
    assert content_ref("images/other.png", assets) is None
    assert content_ref("https://example.jp/images/map.png", assets) is None
    assert content_ref("../../../etc/passwd", assets) is None
    html = '<img src="images/map.png" alt="地図"><a href="files/form%20a.pdf">様式</a><a href="toroku.html">x</a>'
    out = content_links(html, "guides/a.html", assets)
    assert 'src="../images/map.png"' in out and 'href="../files/form a.pdf"' in out and 'href="toroku.html"' in out
    assert content_links(html, "index.html", assets).startswith('<img src="images/map.png"')


def test_print_finds_an_image_written_from_the_content_folder():
    html = '<p><img src="images/map.png" alt="地図"></p>'
    assert 'src="images/map.png"' in local_images(html, "guides/a.html", {"images/map.png"})
    assert "地図" in local_images(html, "guides/a.html", set()) and "<img" not in local_images(html, "guides/a.html", set())


@pytest.fixture()
def site_with_images(tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    guide = dest / "content" / "guides" / "referral.md"
    guide.write_text(guide.read_text(encoding="utf-8") +
                     "\n\n![紹介の流れの図](images/logo.png)\n\n本文\n\n![存在しない図](images/nai.png)\n",
                     encoding="utf-8")
    return dest


def test_body_image_from_the_content_folder_works_on_a_page_in_a_folder(site_with_images):
    report = run(Project.at(site_with_images), BuildOptions(today=TODAY, outputs=("site",)))
    page = (site_with_images / "build" / "site" / "guides" / "referral.html").read_text(encoding="utf-8")
    assert 'src="../images/logo.png"' in page
    assert (site_with_images / "build" / "site" / "guides" / "../images/logo.png").resolve().is_file()
    missing = [w for w in report.warnings if "nai.png" in str(w)]
    assert len(missing) == 1, report.warnings
    text = (site_with_images / "content" / "guides" / "referral.md").read_text(encoding="utf-8").splitlines()
    line = next(i for i, t in enumerate(text, 1) if "nai.png" in t)
    assert str(missing[0].location) == f"content/guides/referral.md:{line}"
    assert "content/images/" in str(missing[0])
    assert not [w for w in report.warnings if "logo.png" in str(w)]
