"""The built website: every page exists, every link resolves, metadata parses, schedules agree, phones fit.

All checks run on the example hospital (repo root) built once by the `example_build` fixture.
"""
from __future__ import annotations

import json
import posixpath
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from conftest import REPO, TODAY  # the example site and the date its content is written for
from sitegen.build import load_site
from sitegen.project import Project
from sitegen.web.opendata import DATASETS
from sitegen.web.render import pages as site_pages

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


# --- helpers ------------------------------------------------------------------------------------------


class Doc(HTMLParser):
    """The parts of a page the checks need: links, ids, scripts, tables, elements with attributes."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.ids: set[str] = set()
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None
        self._script_text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        if "id" in a:
            self.ids.add(a["id"])
        for attr in ("href", "src"):
            if a.get(attr) is not None:
                self.links.append((tag, attr, a[attr]))
        if tag == "script":
            self._script, self._script_text = a, []

    def handle_data(self, data):
        if self._script is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._script_text)))
            self._script = None


def is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


@pytest.fixture(scope="module")
def site_dir(example_build) -> Path:
    return example_build / "site"


@pytest.fixture(scope="module")
def site():
    loaded, _warnings = load_site(Project.at(REPO), TODAY)
    return loaded


@pytest.fixture(scope="module")
def html_files(site_dir) -> dict[str, str]:
    files = {p.relative_to(site_dir).as_posix(): p.read_text(encoding="utf-8") for p in sorted(site_dir.rglob("*.html"))}
    assert files, "no HTML pages were built"
    return files


def page_of(site_dir: Path, rel: str) -> Doc:
    return Doc((site_dir / rel).read_text(encoding="utf-8"))


# --- pages and links ----------------------------------------------------------------------------------


def test_every_page_of_the_site_is_built(site, site_dir):
    expected = list(site_pages(site))
    kinds = {p.kind for p in expected}
    assert kinds >= {"home", "departments", "department", "doctors", "featured", "doctor", "schedule", "guides",
                     "guide", "news", "news_item", "access", "not_found"}, kinds
    for p in expected:
        path = site_dir / p.path
        assert path.is_file(), p.path
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>"), p.path
        assert '<html lang="ja">' in text, p.path
        assert text.count("<h1") == 1, f"{p.path}: expected exactly one h1"
        assert "<title>" in text and 'name="viewport"' in text and "assets/css/site.css" in text, p.path
    for name in ("sitemap.xml", "feed.xml", "robots.txt", "assets/css/site.css", "assets/js/schedule-filter.js"):
        assert (site_dir / name).is_file(), name


def test_every_internal_link_and_image_resolves(site, site_dir, html_files):
    base_path = urlsplit(site.settings.base_url).path  # the 404 page links from the server root
    ids_of: dict[str, set[str]] = {}
    checked = 0
    problems = []
    for rel, text in html_files.items():
        for tag, attr, url in Doc(text).links:
            if is_external(url):
                continue
            parts = urlsplit(url)
            path = unquote(parts.path)
            if not path:
                target = rel
            elif path.startswith("/"):
                assert rel == "404.html", f"{rel}: root-relative link {url} (pages must link relatively)"
                assert path.startswith(base_path), f"{rel}: {url} is outside the site's base path {base_path}"
                target = path[len(base_path):]
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
            checked += 1
            file = site_dir / target
            if target.startswith("..") or not file.is_file():
                problems.append(f"{rel}: <{tag} {attr}={url!r}> -> {target} does not exist")
                continue
            if parts.fragment and target.endswith(".html"):
                if target not in ids_of:
                    ids_of[target] = page_of(site_dir, target).ids
                if parts.fragment not in ids_of[target]:
                    problems.append(f"{rel}: {url} -> no id {parts.fragment!r} in {target}")
    assert not problems, "\n".join(problems)
    assert checked > 100  # the check really looked at links


def test_pages_load_nothing_from_outside(site_dir, html_files):
    for rel, text in html_files.items():
        doc = Doc(text)
        for tag, a in doc.elements:
            if tag == "a" or (tag == "link" and a.get("rel") in ("canonical", "alternate")):
                continue  # links to other pages are fine; loading resources from elsewhere is not
            for attr in ("src", "href", "srcset", "poster", "data"):
                if a.get(attr):
                    assert not is_external(a[attr]), f"{rel}: <{tag} {attr}={a[attr]!r}> loads an external resource"
    css = (site_dir / "assets" / "css" / "site.css").read_text(encoding="utf-8")
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(https?:)?//", css)


def test_no_private_data_is_published(site, site_dir, html_files):
    """Only the office's published addresses appear; no recipient lists or source files end up on the web."""
    open_data = {f"data/{n}.csv" for n in DATASETS}  # published on purpose, without any address
    for path in site_dir.rglob("*"):
        name = path.name.lower()
        if path.relative_to(site_dir).as_posix() in open_data:
            assert "@" not in path.read_text(encoding="utf-8"), path
            continue
        assert "recipient" not in name and not name.endswith((".csv", ".yaml", ".yml", ".md")), path
    email = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    # addresses published on purpose: site.yaml's site/hospital/office sections and the pages' content files
    config = yaml.safe_load((REPO / "site.yaml").read_text(encoding="utf-8"))
    texts = [json.dumps([config[k] for k in ("site", "hospital", "office")], ensure_ascii=False, default=str)]
    texts += [f.read_text(encoding="utf-8") for f in (REPO / "content").glob("*/*.md")]
    allowed = {m.group(0).lower() for t in texts for m in email.finditer(t)}
    for rel, text in html_files.items():
        found = {m.group(0).lower() for m in email.finditer(text)}
        assert found <= allowed, f"{rel}: unexpected e-mail addresses {sorted(found - allowed)}"
    for rel, text in html_files.items():
        assert "recipients" not in text.lower(), rel


def test_office_contacts_appear_on_every_page(site, html_files):
    for rel, text in html_files.items():
        for c in site.office.contacts:
            assert c.value in text, f"{rel}: contact {c.id} ({c.value}) missing from the footer"
        assert site.hospital.address.text in text, rel


# --- metadata -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind, expected_type", [("home", "Hospital"), ("department", "MedicalWebPage"),
                                                 ("doctor", "Physician")])
def test_json_ld_parses(site, site_dir, kind, expected_type):
    paths = [p.path for p in site_pages(site) if p.kind == kind]
    assert paths
    for path in paths:
        blocks = [text for attrs, text in page_of(site_dir, path).scripts if attrs.get("type") == "application/ld+json"]
        assert len(blocks) == 1, path
        data = json.loads(blocks[0])
        assert data["@type"] == expected_type, path
        assert data["@context"] == "https://schema.org"


def test_head_has_canonical_and_social_meta(site, site_dir):
    base = site.settings.base_url
    for p in site_pages(site):
        if p.kind == "not_found":
            continue
        meta = {(a.get("property") or a.get("name")): a.get("content") for t, a in page_of(site_dir, p.path).elements if t == "meta"}
        links = {a.get("rel"): a.get("href") for t, a in page_of(site_dir, p.path).elements if t == "link"}
        assert links["canonical"] == meta["og:url"], p.path
        assert links["canonical"].startswith(base), p.path
        assert meta["og:title"] and meta["twitter:card"], p.path
        if "og:image" in meta:
            assert meta["og:image"].startswith(base), p.path
        assert meta["description"], p.path


def test_sitemap_lists_every_page_with_absolute_urls(site, site_dir):
    base = site.settings.base_url
    root = ET.parse(site_dir / "sitemap.xml").getroot()
    locs = [e.text for e in root.iter(SITEMAP + "loc")]
    assert locs and all(loc.startswith(base) for loc in locs), locs
    assert len(locs) == len(set(locs))
    expected = {p.path for p in site_pages(site) if p.kind != "not_found"}
    assert len(locs) == len(expected)
    assert base + "schedule.html" in locs and base in locs


def test_atom_feed_has_the_news(site, site_dir):
    base = site.settings.base_url
    root = ET.parse(site_dir / "feed.xml").getroot()
    assert root.tag == ATOM + "feed"
    entries = root.findall(ATOM + "entry")
    assert [e.findtext(ATOM + "title") for e in entries] == [n.title for n in site.news]
    for e in entries:
        assert e.findtext(ATOM + "id").startswith(base)
        assert e.find(ATOM + "link").get("href").startswith(base)
    for link in root.findall(ATOM + "link"):
        assert link.get("href").startswith(base)
    assert site.news, "the example site should have news"
    # the newest item's date, not the time of the build
    assert root.findtext(ATOM + "updated").startswith(max(n.date for n in site.news).isoformat())


def test_robots_points_at_the_sitemap(site, site_dir):
    text = (site_dir / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {site.settings.base_url}sitemap.xml" in text.splitlines()


# --- schedule -----------------------------------------------------------------------------------------


class Tables(HTMLParser):
    """Each <table>: its caption text and its header cells as (scope, text)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self._cell = None
        self._caption = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append({"caption": "", "th": [], "id": a.get("id"), "class": a.get("class", "")})
        elif tag == "caption":
            self._caption = True
        elif tag == "th":
            self._cell = [a.get("scope"), ""]

    def handle_data(self, data):
        if self._caption:
            self.tables[-1]["caption"] += data
        if self._cell is not None:
            self._cell[1] += data

    def handle_endtag(self, tag):
        if tag == "caption":
            self._caption = False
        elif tag == "th" and self._cell is not None:
            self.tables[-1]["th"].append((self._cell[0], self._cell[1].strip()))
            self._cell = None


def test_schedule_tables_have_header_cells(site, site_dir):
    tables = [t for t in Tables((site_dir / "schedule.html").read_text(encoding="utf-8")).tables
              if t.get("class") == "schedule-table"]
    scheduled = [d for d in site.departments if d.schedule]
    assert scheduled
    assert len(tables) == len(scheduled)
    for d, t in zip(scheduled, tables):
        assert d.name in t["caption"], t
        cols = [text for scope, text in t["th"] if scope == "col"]
        rows = [text for scope, text in t["th"] if scope == "row"]
        assert [c.removesuffix("曜日") for c in cols[1:]] == list(d.schedule.days), cols
        assert rows == ["午前", "午後"], rows


def schedule_files() -> dict[str, list[dict]]:
    """Slots per doctor, read straight from content/schedules/*.yaml (not through sitegen)."""
    by_doctor: dict[str, list[dict]] = {}
    for path in sorted((REPO / "content" / "schedules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for slot in data["slots"]:
            if slot.get("doctor"):
                by_doctor.setdefault(slot["doctor"], []).append({"department": path.stem, **slot})
    return by_doctor


class OutpatientList(HTMLParser):
    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self.text = ""
        self._depth = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "ul" and "outpatient-days" in (a.get("class") or "").split():
            self._depth = 1
        elif self._depth:
            if tag == "ul":
                self._depth += 1
            if tag == "li" and "data-day" in a:
                self.items.append((a["data-day"], a["data-time"]))

    def handle_data(self, data):
        if self._depth:
            self.text += data

    def handle_endtag(self, tag):
        if self._depth and tag == "ul":
            self._depth -= 1


def test_doctor_outpatient_days_match_the_schedule_files(site, site_dir):
    slots = schedule_files()
    assert slots, "the example site should have schedules"
    for doctor in site.doctors:
        page = OutpatientList((site_dir / "doctors" / f"{doctor.slug}.html").read_text(encoding="utf-8"))
        expected = Counter((s["day"], s["time"]) for s in slots.get(doctor.slug, []))
        assert Counter(page.items) == expected, doctor.slug
        for day, time in expected:
            assert f"{day}曜 {time}" in page.text, (doctor.slug, day, time)
        for s in slots.get(doctor.slug, []):
            assert site.department(s["department"]).name in page.text, (doctor.slug, s)


# --- in a browser (marked `browser`) -------------------------------------------------------------------------------------


def one_page_per_kind(site) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in site_pages(site):
        out.setdefault(p.kind, p.path)
    return out


@pytest.mark.browser
def test_schedule_filter_with_javascript(browser, site, site_dir):
    scheduled = [d for d in site.departments if d.schedule]
    assert len(scheduled) >= 2, "the filter needs two departments to show anything"
    page = browser.new_page()
    try:
        page.goto((site_dir / "schedule.html").as_uri())
        select = page.locator("select#schedule-filter-select")
        assert select.is_visible()
        for d in scheduled:
            assert page.locator(f'[data-department="{d.slug}"] table.schedule-table').is_visible()
        chosen = scheduled[1]
        select.select_option(chosen.slug)
        assert page.locator(f'[data-department="{chosen.slug}"] table.schedule-table').is_visible()
        for d in scheduled:
            if d.slug != chosen.slug:
                assert page.locator(f'[data-department="{d.slug}"] table.schedule-table').is_hidden(), d.slug
        select.select_option("")
        for d in scheduled:
            assert page.locator(f'[data-department="{d.slug}"] table.schedule-table').is_visible(), d.slug
    finally:
        page.close()


@pytest.mark.browser
def test_schedule_without_javascript_shows_every_table(browser, site, site_dir):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((site_dir / "schedule.html").as_uri())
        assert page.locator("select#schedule-filter-select").is_hidden()  # it would do nothing without JS
        tables = page.locator("table.schedule-table")
        assert tables.count() == len([d for d in site.departments if d.schedule])
        for i in range(tables.count()):
            assert tables.nth(i).is_visible()
        # the jump list is plain links to the tables
        first = page.locator(".schedule-jump a").first
        assert first.get_attribute("href").startswith("#dept-")
    finally:
        context.close()


@pytest.mark.browser
def test_pages_open_from_disk_with_styles(browser, site, site_dir):
    page = browser.new_page()
    try:
        for kind, path in one_page_per_kind(site).items():
            if kind == "not_found":
                continue  # links from the server root; checked above
            page.goto((site_dir / path).as_uri())
            # the stylesheet loaded: the skip link is moved off screen
            top = page.evaluate("getComputedStyle(document.querySelector('.skip-link')).top")
            assert top.startswith("-"), (path, top)
            # lazy images below the fold load only when scrolled to: ask for them all, then wait
            page.evaluate("Promise.all([...document.images].map(i => { i.loading = 'eager'; "
                          "return i.decode().catch(() => null); }))")
            broken = page.evaluate("[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
            assert not broken, (path, broken)
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("width", [375, 1280])
def test_no_horizontal_overflow(browser, site, site_dir, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        for kind, path in one_page_per_kind(site).items():
            page.goto((site_dir / path).as_uri())
            shot = tmp_path / f"{kind}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{path} is {scroll}px wide at {width}px"
    finally:
        page.close()


# --- brand colours ------------------------------------------------------------------------------------


def contrast_on_white(hex_colour: str) -> float:
    from sitegen.colour import contrast

    return contrast(hex_colour, "#FFFFFF")


@pytest.mark.parametrize("brand", ["#0B5C8C", "#7CC242", "#00A0E9", "#E60012", "#FFFFFF", "#FFD700"])
def test_brand_colours_are_darkened_until_text_passes_aa(brand):
    from sitegen.templates import make_environment

    macros = make_environment(Project.at(REPO), "default", "web").get_template("_macros.html").module
    ink = str(macros.ink(brand))
    assert re.fullmatch(r"#[0-9A-F]{6}", ink), ink
    assert contrast_on_white(ink) >= 5.5, (brand, ink)
    if contrast_on_white(brand) >= 5.5:
        assert ink == brand  # a colour that already passes is used as it is


def test_brand_colours_reach_the_pages(site, html_files):
    style = re.search(r"<style>(.*?)</style>", html_files["index.html"], re.S).group(1)
    assert f"--c-primary:{site.settings.colours.primary}" in style
    for var in ("--c-primary-ink", "--c-accent-ink", "--c-text"):
        value = re.search(var + r":(#[0-9A-F]{6})", style).group(1)
        assert contrast_on_white(value) >= 4.5, (var, value)
