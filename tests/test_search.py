"""サイト内検索 and 症状から探す: the index (folding, only published pages, deterministic) and the pages in a
real browser at phone and desktop widths, opened from file://."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.project import Project
from sitegen.web.search import fold

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)
DRAFT = """---
title: 下書きの秘密のお知らせ
date: 2026-11-01
draft: true
---
まだ公開しない本文です。
"""


@pytest.fixture()
def site_dir(tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    (dest / "content/news/2026-11-01-draft.md").write_text(DRAFT, encoding="utf-8")
    for name, symptoms in (("naika", "[胸痛, むくみ, 動悸]"), ("geka", "[腹痛, ムクミ]")):
        path = dest / "content/departments" / f"{name}.md"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("\nsummary:", f"\nsymptoms: {symptoms}\nsummary:", 1), encoding="utf-8")
    run(Project.at(dest), BuildOptions(today=TODAY, outputs=("site",)))
    return dest


def index(site_dir: Path) -> list[dict]:
    text = (site_dir / "build/site/assets/search-index.js").read_text(encoding="utf-8")
    assert text.startswith("window.SITEGEN_SEARCH=") and text.endswith(";\n")
    return json.loads(text[len("window.SITEGEN_SEARCH="):-2])


@pytest.mark.parametrize("raw, folded", [("ヤマダ タロウ", "やまだたろう"), ("ﾔﾏﾀﾞ", "やまだ"), ("ＭＲＩ", "mri"),
                                          ("胸痛・動悸", "胸痛・動悸"), ("Ｎｏ．１", "no.1"), ("ヴ", "ゔ")])
def test_fold(raw, folded):
    assert fold(raw) == folded


def test_index_has_departments_doctors_by_kana_and_no_drafts(site_dir):
    entries = index(site_dir)
    kinds = {e["k"] for e in entries}
    assert {"診療科", "医師", "ご紹介の方法", "お知らせ"} <= kinds
    yamada = next(e for e in entries if e["t"] == "山田 太郎")
    assert "やまだたろう" in yamada["x"] and yamada["u"] == "doctors/yamada-taro.html"
    assert not any("秘密" in e["t"] or "秘密" in e["x"] for e in entries)  # a draft is never indexed
    assert not any("@" in e["x"] for e in entries if e["k"] != "ページ")  # no mail addresses of the partner list
    first = (site_dir / "build/site/assets/search-index.js").read_bytes()
    run(Project.at(site_dir), BuildOptions(today=TODAY, outputs=("site",)))
    assert (site_dir / "build/site/assets/search-index.js").read_bytes() == first  # deterministic


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("query, expected", [("ヤマダ", "山田 太郎"), ("やまだ", "山田 太郎"), ("ﾔﾏﾀﾞ", "山田 太郎")])
def test_search_finds_a_doctor_by_kana_from_file(site_dir, browser, width, query, expected):
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        page.goto((site_dir / "build/site/search.html").as_uri())
        page.fill("#search-q", query)
        results = page.locator(".search-result a")
        assert results.count() >= 1
        assert results.first.inner_text() == expected
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        results.first.click()
        assert page.url.endswith("doctors/yamada-taro.html")
    finally:
        page.close()


@pytest.mark.browser
def test_header_search_box_and_query_in_the_address(site_dir, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto((site_dir / "build/site/doctors/yamada-taro.html").as_uri())
        page.click(".global-nav a[href$='search.html']")
        assert page.url.endswith("search.html")
        page.goto((site_dir / "build/site/search.html").as_uri() + "?q=%E7%A6%81%E7%85%99")  # 禁煙
        assert "件" in page.locator("[data-search-status]").inner_text()
        page.fill("#search-q", "存在しないことば")
        assert "一致するページはありません" in page.locator("[data-search-status]").inner_text()
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("typed", ["むくみ", "ﾑｸﾐ", "ムクミ"])
def test_symptoms_page_lists_departments_and_doctors_and_filters_by_any_width(site_dir, browser, width, typed):
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        page.goto((site_dir / "build/site/symptoms.html").as_uri())
        assert page.locator("[data-symptom]").count() == 4  # むくみ and ムクミ are one symptom
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.fill("#symptom-q", typed)
        shown = page.locator("[data-symptom]:not([hidden])")
        assert shown.count() == 1
        text = shown.first.inner_text()
        assert "内科" in text and "外科" in text  # both departments that treat it
        assert "山田 太郎" in text and "月午前" in text  # a doctor of the department and the day he is in
        page.fill("#symptom-q", "zzz存在しない")
        assert page.locator("[data-symptom]:not([hidden])").count() == 0
    finally:
        page.close()


@pytest.mark.browser
def test_a_department_is_found_by_a_symptom_in_full_and_half_width(site_dir, browser):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    try:
        for typed in ("胸痛", "ﾑｸﾐ", "むくみ"):
            page.goto((site_dir / "build/site/search.html").as_uri())
            page.fill("#search-q", typed)
            titles = [page.locator(".search-result a").nth(i).inner_text() for i in range(page.locator(".search-result a").count())]
            assert "内科" in titles, (typed, titles)
    finally:
        page.close()
