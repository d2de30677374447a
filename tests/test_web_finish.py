"""Finishing of the web page and the mail: the logo at its own aspect ratio, closed days per contact."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from mail_fixtures import make_mail_site
from sitegen.build import BuildOptions, run
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture()
def site_dir(tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    return dest


@pytest.mark.parametrize("size, web, mail", [((400, 100), (192, 48), (100, 25)),
                                              ((100, 200), (24, 48), (32, 64)),
                                              ((64, 64), (48, 48), (64, 64))])
def test_logo_keeps_its_aspect_ratio_on_the_web_and_in_the_mail(tmp_path, size, web, mail):
    site_dir = make_mail_site(tmp_path / "hospital")
    Image.new("RGB", size, "#0055aa").save(site_dir / "content" / "images" / "logo.png")
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site", "mail")))
    page = (site_dir / "build" / "site" / "index.html").read_text(encoding="utf-8")
    tag = re.search(r'<img class="brand-logo"[^>]*>', page).group(0)
    assert f'width="{web[0]}" height="{web[1]}"' in tag
    mails = list((site_dir / "build" / "mail").glob("*/index.html"))
    assert mails
    html = mails[0].read_text(encoding="utf-8")
    logo = re.search(r'<img[^>]*images/logo\.png[^>]*>', html).group(0)
    assert f'width="{mail[0]}"' in logo and f'height="{mail[1]}"' in logo, logo


def test_each_contact_shows_its_own_closed_days_in_the_footer(site_dir):
    yaml = site_dir / "site.yaml"
    text = yaml.read_text(encoding="utf-8")
    text = text.replace("      notes: [16:15以降の受信分は翌診療日に回答します]",
                        "      notes: [16:15以降の受信分は翌診療日に回答します]\n      closed: [土曜・日曜]")
    yaml.write_text(text, encoding="utf-8")
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    page = (site_dir / "build" / "site" / "index.html").read_text(encoding="utf-8")
    footer = page[page.index('<footer class="site-footer"'):]
    items = re.findall(r"<li>.*?</li>", footer[:footer.index("</ul>")], re.S)
    assert len(items) == 2
    assert "休み：日曜・祝日、年末年始" in items[0] and "土曜・日曜" not in items[0]
    assert "休み：土曜・日曜" in items[1] and "年末年始" not in items[1]


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
def test_schedule_reads_on_a_phone_by_day_and_on_a_wide_screen_as_a_table(site_dir, browser, width):
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        page.goto((site_dir / "build" / "site" / "schedule.html").as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        days = page.locator(".schedule-days").first
        table = page.locator(".table-scroll.schedule-wide").first
        if width < 640:
            assert days.is_visible() and not table.is_visible()
            names = page.locator(".schedule-days .slot-doctor")
            assert names.count() > 0
            for i in range(names.count()):  # every doctor of every day inside the screen, no sideways scrolling
                box = names.nth(i).bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= width
            assert "土曜日" in days.inner_text() or "金曜日" in days.inner_text()
        else:
            assert table.is_visible() and not days.is_visible()
        # a department without a schedule file is still listed, with a note
        assert "外来担当医表は準備中です" in page.locator("#dept-geka").inner_text()
    finally:
        page.close()


def test_newsletter_shows_referral_numbers_first_with_tap_to_call(tmp_path):
    site_dir = make_mail_site(tmp_path / "hospital")
    guide = site_dir / "content" / "guides" / "referral.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n\n受付は8:30〜17:00、TEL 03-0000-1001 までお電話ください。\n",
                     encoding="utf-8")
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site", "mail")))
    html = sorted((site_dir / "build" / "mail").glob("*/index.html"))[-1].read_text(encoding="utf-8")
    text = sorted((site_dir / "build" / "mail").glob("*/index.txt"))[-1].read_text(encoding="utf-8")
    first = html.index("ご紹介・ご予約は")
    assert "<h2" in html and first < html.index("<h2")  # before the sections, not only in the footer
    assert re.search(r'href="tel:0300001001"[^>]*>03-0000-1001</a>', html)
    assert "white-space:nowrap" in html.replace(" ", "")
    assert "【ご紹介・ご予約は" in text and "：03-0000-1001" in text
    page = (site_dir / "build" / "site" / "guides" / "referral.html").read_text(encoding="utf-8")
    assert '<span class="nb">8:30〜17:00</span>' in page and '<span class="nb">TEL 03-0000-1001</span>' in page


@pytest.mark.browser
@pytest.mark.parametrize("weekday, first", [(dt.date(2027, 1, 13), "水曜日"), (dt.date(2027, 1, 16), "土曜日"),
                                            (dt.date(2027, 1, 17), "月曜日")])
def test_phone_schedule_starts_today_in_japan(site_dir, browser, weekday, first):
    # 13 Jan 2027 is a Wednesday, the 16th a Saturday, the 17th a Sunday (no Sunday column: Monday comes first).
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    context = browser.new_context(viewport={"width": 375, "height": 800}, timezone_id="America/Los_Angeles")
    page = context.new_page()
    try:
        # 10:00 in Tokyo is the previous evening in Los Angeles: the day must follow Japan's calendar
        page.clock.set_fixed_time(dt.datetime(weekday.year, weekday.month, weekday.day, 1, 0, tzinfo=dt.timezone.utc))
        page.goto((site_dir / "build" / "site" / "schedule.html").as_uri())
        days = page.locator(".schedule-days").first.locator(".schedule-day dt")
        texts = [days.nth(i).inner_text() for i in range(days.count())]
        assert texts[0].startswith(first)
        assert ("今日" in texts[0]) == (first != "月曜日")
        assert sorted(t.replace("今日", "").strip() for t in texts) == sorted(
            ["月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日"])
    finally:
        context.close()


@pytest.mark.browser
def test_the_symptoms_page_marks_the_doctors_who_see_patients_today_in_japan(site_dir, browser):
    # 10:00 on Monday 18 Jan 2027 in Tokyo is Sunday evening in Los Angeles: Monday's slots are today's
    naika = site_dir / "content/departments/naika.md"
    naika.write_text(naika.read_text(encoding="utf-8").replace("\nsummary:", "\nsymptoms: [むくみ, 動悸]\nsummary:", 1),
                     encoding="utf-8")
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    context = browser.new_context(viewport={"width": 375, "height": 800}, timezone_id="America/Los_Angeles")
    page = context.new_page()
    try:
        page.clock.set_fixed_time(dt.datetime(2027, 1, 18, 1, 0, tzinfo=dt.timezone.utc))
        page.goto((site_dir / "build" / "site" / "symptoms.html").as_uri())
        today = page.locator(".slot-day.is-today")
        assert today.count() > 0
        assert all(t.startswith("月") and t.endswith("（今日）") for t in today.all_inner_texts())
        others = page.locator(".slot-day:not(.is-today)").all_inner_texts()
        assert others and not any(t.startswith("月") or "今日" in t for t in others)
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
def test_tap_to_call_bar_on_phones_only_and_it_hides_nothing(site_dir, browser, width):
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    page = browser.new_page(viewport={"width": width, "height": 700})
    try:
        page.goto((site_dir / "build" / "site" / "access.html").as_uri())
        bar = page.locator(".call-bar")
        if width >= 640:
            assert not bar.is_visible()
        else:
            assert bar.is_visible()
            assert page.locator(".call-bar-tel").get_attribute("href") == "tel:0300001001"
            assert "03-0000-1002" in bar.inner_text()  # the FAX number
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            copyright_box = page.locator(".copyright").bounding_box()
            bar_box = bar.bounding_box()
            assert copyright_box["y"] + copyright_box["height"] <= bar_box["y"] + 1  # the last line is above the bar
        link = page.locator(".map-link a")
        assert "google.com/maps/search/" in link.get_attribute("href")
        assert "%E6%9D%B1%E4%BA%AC%E9%83%BD" in link.get_attribute("href")  # the address, encoded
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [320, 375])
def test_numbers_times_and_phone_numbers_never_break_on_a_phone(browser, width, tmp_path):
    """On a narrow phone every phone number, time and time range keeps to one line (on every page of the example
    that has one), and nothing makes the page scroll sideways."""
    from conftest import REPO

    run(Project.at(REPO, tmp_path / "build"), BuildOptions(today=TODAY, outputs=("site",)))
    site = tmp_path / "build" / "site"
    pages = ["index.html", "access.html", "schedule.html", "guides/index.html", "equipment/index.html",
             "pathways/index.html", "departments/junkanki.html", "doctors/featured.html", "news/index.html"]
    page = browser.new_page(viewport={"width": width, "height": 800})
    checked = 0
    try:
        for name in pages:
            if not (site / name).is_file():
                continue
            page.goto((site / name).as_uri())
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name
            broken = page.evaluate("""() => Array.from(document.querySelectorAll('.nb, a[href^="tel:"]'))
                .filter(e => e.offsetParent !== null && e.getClientRects().length > 1)
                .map(e => e.textContent.trim())""")
            assert broken == [], (name, broken)
            checked += page.evaluate("""() => document.querySelectorAll('.nb, a[href^="tel:"]').length""")
    finally:
        page.close()
    assert checked > 20


@pytest.mark.parametrize("director, label, name", [("院長 田中 一郎", "院長", "田中 一郎"),
                                                   ("山田 太郎", "病院長", "山田 太郎"),
                                                   ("理事長・病院長　𠮷田 花子", "理事長・病院長", "𠮷田 花子"),
                                                   ("長 一郎", "病院長", "長 一郎")])  # 長 is a family name
def test_the_directors_title_is_shown_once(site_dir, director, label, name):
    yaml = site_dir / "site.yaml"
    text = yaml.read_text(encoding="utf-8")
    yaml.write_text(text.replace("hospital:\n", f"hospital:\n  director: {director}\n", 1), encoding="utf-8")
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    page = (site_dir / "build" / "site" / "index.html").read_text(encoding="utf-8")
    assert f"<dt>{label}</dt>\n    <dd>{name}</dd>" in page


@pytest.mark.browser
@pytest.mark.parametrize("name", ["社会医療法人みなみ会 北上市立みなみ病院", "医療法人社団あおば会 あおば総合病院", "独立行政法人地域医療機能推進機構みなと中央病院"])
def test_the_hospitals_name_in_the_header_leaves_no_lone_character_on_a_phone(site_dir, browser, name):
    """At every phone width the name is wrapped into lines of more than one character (「北上市立みなみ病」「院」 was
    seen at 390 px)."""
    yaml = site_dir / "site.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("name: みなと中央病院", f"name: {name}", 1), encoding="utf-8")
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    page = browser.new_page(viewport={"width": 320, "height": 800})
    wrapped = 0
    try:
        page.goto((site_dir / "build" / "site" / "index.html").as_uri())
        for width in range(320, 481, 4):
            page.set_viewport_size({"width": width, "height": 800})
            lines = page.evaluate("""() => {
                const e = document.querySelector('.brand-hospital'), text = e.firstChild, tops = new Map();
                for (let i = 0; i < text.length; i++) {
                    const r = document.createRange(); r.setStart(text, i); r.setEnd(text, i + 1);
                    const top = Math.round(r.getBoundingClientRect().top);
                    tops.set(top, (tops.get(top) || '') + text.data[i]);
                }
                return Array.from(tops.values());
            }""")
            assert "".join(lines) == name
            assert all(len(line.strip()) > 1 for line in lines), (width, lines)
            wrapped += len(lines) > 1
    finally:
        page.close()
    assert wrapped  # the name did wrap at some width
