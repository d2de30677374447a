"""Accessibility of the built website (WCAG 2.1 AA / JIS X 8341-3 AA).

axe-core checks one page of every type in a real browser; the checks below it cover what axe misses:
vague link text (「こちら」), alt text that says nothing (「写真」), schedule tables without header cells
(the parser and word lists are sitegen.a11y, which `sitegen check` uses on every page).
"""
from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from conftest import REPO, TODAY
from sitegen.build import load_site
from sitegen.check.a11y import Audit, is_vague_alt, is_vague_link_text
from sitegen.project import Project
from sitegen.web.render import pages as site_pages

KINDS = ["home", "departments", "department", "doctors", "featured", "doctor", "schedule", "guides", "guide",
         "news", "news_item", "access", "not_found"]


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


@pytest.mark.browser
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


@pytest.mark.browser
@pytest.mark.slow
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
            assert not is_vague_link_text(text), f"{rel}: link text 「{text}」 to {href}"


def test_image_alts_describe_the_image(audits):
    seen = 0
    for rel, audit in audits.items():
        for img in audit.images:
            seen += 1
            assert "alt" in img, f"{rel}: <img src={img.get('src')}> has no alt"
            alt = img["alt"].strip()
            assert not is_vague_alt(alt), f"{rel}: <img src={img.get('src')}> alt 「{alt}」 says nothing"
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
