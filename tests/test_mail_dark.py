"""The newsletter in a mail program's dark mode: every text run keeps WCAG AA contrast on its background,
in light and in dark, measured in a real browser with prefers-color-scheme emulated."""
from __future__ import annotations

import datetime as dt

import pytest

from mail_fixtures import make_mail_site
from sitegen.build import BuildOptions, run
from sitegen.project import Project

CONTRAST = """() => {
  const lum = c => { const m = c.match(/[\\d.]+/g).map(Number);
    const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]); };
  const bg = el => { while (el) { const c = getComputedStyle(el).backgroundColor;
      if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c; el = el.parentElement; }
    return 'rgb(255, 255, 255)'; };
  const low = []; let runs = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const r = el.getBoundingClientRect(); if (!r.width || !r.height) continue;
    runs++;
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push([el.tagName, el.textContent.trim().slice(0, 20), ratio.toFixed(2)]);
  }
  return {runs, low, body: bg(document.body)};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_newsletter_text_keeps_its_contrast_in_light_and_dark_mode(tmp_path, browser, scheme):
    root = make_mail_site(tmp_path / "hospital")
    run(Project.at(root), BuildOptions(today=dt.date(2026, 11, 25), outputs=("mail",)))
    html = root / "build/mail/2026-11-no2/index.html"
    assert 'name="color-scheme" content="light dark"' in html.read_text(encoding="utf-8")
    page = browser.new_page(color_scheme=scheme, viewport={"width": 600, "height": 900})
    try:
        page.goto(html.as_uri())
        found = page.evaluate(CONTRAST)
    finally:
        page.close()
    assert found["runs"] > 30
    assert found["low"] == []
    dark_body = found["body"] == "rgb(18, 20, 23)"
    assert dark_body == (scheme == "dark")
