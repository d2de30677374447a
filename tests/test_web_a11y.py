"""Accessibility of the built website (WCAG 2.1 AA / JIS X 8341-3 AA).

axe-core checks one page of every type in a real browser; the checks below it cover what axe misses:
vague link text (「こちら」), alt text that says nothing (「写真」), schedule tables without header cells.
"""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from sitegen.build import load_site
from sitegen.outputs.web import pages as site_pages
from sitegen.project import Project

from conftest import REPO, TODAY

KINDS = ["home", "departments", "department", "doctors", "featured", "doctor", "schedule", "guides", "guide",
         "news", "news_item", "access", "not_found"]
VAGUE_LINK_TEXT = {"こちら", "詳しくはこちら", "ここ", "こちらをクリック", "ここをクリック", "詳細", "click here", "here"}
VAGUE_ALT = {"写真", "画像", "image", "photo", "img", "picture", "イメージ", "ロゴ", "logo"}


@pytest.fixture(scope="module")
def site_dir(example_build) -> Path:
    return example_build / "site"


@pytest.fixture(scope="module")
def first_of_kind() -> dict[str, str]:
    site, _ = load_site(Project.at(REPO), TODAY)
    out: dict[str, str] = {}
    for p in site_pages(site):
        out.setdefault(p.kind, p.path)
    return out


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.mark.parametrize("kind", KINDS)
def test_axe_finds_no_violations(browser, axe, site_dir, first_of_kind, kind):
    path = first_of_kind[kind]
    page = browser.new_page()
    try:
        page.goto((site_dir / path).as_uri())
        result = axe.run(page)
        assert result.violations_count == 0, f"{path}:\n{result.generate_report()}"
    finally:
        page.close()


@pytest.mark.parametrize("width", [375])
def test_axe_on_a_phone(browser, axe, site_dir, first_of_kind, width):
    """Layout changes on phones (navigation grid, stacked tables) must stay accessible too."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        for kind in ("home", "schedule", "doctor"):
            path = first_of_kind[kind]
            page.goto((site_dir / path).as_uri())
            result = axe.run(page)
            assert result.violations_count == 0, f"{path} at {width}px:\n{result.generate_report()}"
    finally:
        page.close()


class Audit(HTMLParser):
    """Collects link texts, image alts, tables with their th/td counts, headings and landmarks."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text incl. img alts)
        self.images: list[dict] = []
        self.tables: list[dict] = []
        self.headings: list[int] = []
        self.tags: list[tuple[str, dict]] = []
        self._link: list | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "a":
            self._link = [a.get("href"), a.get("aria-label") or ""]
        elif tag == "img":
            self.images.append(a)
            if self._link is not None:
                self._link[1] += a.get("alt") or ""
        elif tag == "table":
            self.tables.append({"th": 0, "td": 0, "caption": False, "scoped": 0, "class": a.get("class", "")})
        elif tag in ("th", "td") and self.tables:
            self.tables[-1][tag] += 1
            if tag == "th" and a.get("scope") in ("col", "row"):
                self.tables[-1]["scoped"] += 1
        elif tag == "caption" and self.tables:
            self.tables[-1]["caption"] = True
        elif len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.headings.append(int(tag[1]))

    def handle_data(self, data):
        if self._link is not None:
            self._link[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links.append((self._link[0], " ".join(self._link[1].split())))
            self._link = None


@pytest.fixture(scope="module")
def audits(site_dir) -> dict[str, Audit]:
    pages = {p.relative_to(site_dir).as_posix(): Audit(p.read_text(encoding="utf-8")) for p in sorted(site_dir.rglob("*.html"))}
    assert len(pages) >= len(KINDS)
    return pages


def test_link_texts_say_where_they_go(audits):
    for rel, audit in audits.items():
        assert audit.links, rel
        for href, text in audit.links:
            assert text, f"{rel}: link to {href} has no text"
            assert text.strip("。．.、 ").lower() not in VAGUE_LINK_TEXT, f"{rel}: link text 「{text}」 to {href}"


def test_image_alts_describe_the_image(audits):
    seen = 0
    for rel, audit in audits.items():
        for img in audit.images:
            seen += 1
            assert "alt" in img, f"{rel}: <img src={img.get('src')}> has no alt"
            alt = img["alt"].strip()
            assert alt.lower() not in VAGUE_ALT, f"{rel}: <img src={img.get('src')}> alt 「{alt}」 says nothing"
    assert seen  # the example site has a logo, doctors' photos and a map


def test_every_table_has_header_cells_and_a_caption(audits):
    schedule_tables = 0
    for rel, audit in audits.items():
        for t in audit.tables:
            assert t["th"] > 0, f"{rel}: table without <th>"
            if "schedule-table" in t["class"]:
                schedule_tables += 1
                assert t["caption"], f"{rel}: schedule table without caption"
                assert t["scoped"] == t["th"], f"{rel}: schedule table header cells need scope"
                assert t["th"] >= 8, f"{rel}: schedule table needs day columns and 午前/午後 row headers"
    assert schedule_tables > 0


def test_one_h1_and_no_skipped_heading_levels(audits):
    for rel, audit in audits.items():
        assert audit.headings.count(1) == 1, f"{rel}: {audit.headings.count(1)} h1 elements"
        previous = 1
        for level in audit.headings[audit.headings.index(1) + 1:]:
            assert level <= previous + 1, f"{rel}: heading jumps from h{previous} to h{level}"
            previous = level


def test_landmarks_and_skip_link(audits):
    for rel, audit in audits.items():
        tags = [t for t, _ in audit.tags]
        assert tags.count("main") == 1 and "header" in tags and "footer" in tags and "nav" in tags, rel
        main_id = next(a.get("id") for t, a in audit.tags if t == "main")
        assert any(t == "a" and a.get("href") == f"#{main_id}" for t, a in audit.tags[:40]), f"{rel}: no skip link"
        assert ("html", {"lang": "ja"}) in audit.tags, rel
