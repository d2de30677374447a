"""The example newsletters as mail programs meet them: valid MJML for the official compiler,
and a layout that reads at phone (375 px) and desktop (600 px) width in a real Chromium.

The official validator is the `mjml` npm package in tools/mjml-validator (installed by
`make test`; the `mjml_validator` fixture in conftest.py, tests marked `node`); mjml-python compiles
unknown tags and attributes silently, the validator does not.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import REPO, TODAY
from sitegen.build import BuildOptions, run
from sitegen.project import Project


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example-mail") / "build"
    run(Project.at(REPO, out), BuildOptions(today=TODAY, outputs=("mail",)))
    issues = sorted(p for p in (out / "mail").iterdir() if p.is_dir())
    assert issues, "the example site has no newsletter issues"
    return out / "mail"


def issues(mail_dir: Path) -> list[Path]:
    return sorted(p for p in mail_dir.iterdir() if (p / "newsletter.mjml").is_file())


def validate(mjml: Path, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(mjml), "--validate", str(path)], capture_output=True, text=True, timeout=120)


def test_every_section_type_is_in_the_example(mail_dir):
    # so that validating the example issues validates every section template of the theme
    from sitegen.content.newsletter_models import SECTION_MODELS

    used = set()
    for issue in issues(mail_dir):
        used |= {line.split(":", 1)[1].strip() for line in
                 (REPO / "content" / "newsletters" / f"{issue.name}.md").read_text(encoding="utf-8").splitlines()
                 if line.strip().startswith("- type:")}
    assert used == set(SECTION_MODELS)


@pytest.mark.node
def test_theme_mjml_passes_the_official_validator(mail_dir, mjml_validator):
    for issue in issues(mail_dir):
        result = validate(mjml_validator, issue / "newsletter.mjml")
        assert result.returncode == 0 and not result.stderr.strip(), f"{issue.name}:\n{result.stdout}{result.stderr}"


@pytest.mark.node
def test_the_validator_catches_what_mjml_python_lets_through(mail_dir, tmp_path, mjml_validator):
    source = (issues(mail_dir)[0] / "newsletter.mjml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.mjml"
    broken.write_text(source.replace("<mj-text ", '<mj-text colour="#000" ', 1), encoding="utf-8")
    result = validate(mjml_validator, broken)
    assert result.returncode != 0
    assert "Attribute colour is illegal" in result.stdout + result.stderr


@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 600])
def test_layout_reads_at_phone_and_desktop_width(browser, mail_dir, tmp_path, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("http*://**", lambda route: route.abort())  # mail programs load remote images; no network here
    try:
        for issue in issues(mail_dir):
            page.goto((issue / "index.html").as_uri())
            shot = tmp_path / f"{issue.name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000, "blank screenshot"
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{issue.name} is {scroll}px wide at {width}px"
            # the text wraps inside the column instead of shrinking to an unreadable size
            size = page.evaluate("""Math.min(...[...document.querySelectorAll('body *')]
                .filter(e => e.offsetHeight > 0 && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim().length > 20))
                .map(e => parseFloat(getComputedStyle(e).fontSize)))""")
            assert size >= 12, f"{issue.name}: smallest text {size}px at {width}px"
            widest = page.evaluate("Math.max(...[...document.querySelectorAll('body *')]"
                                   ".map(e => e.getBoundingClientRect().right))")
            assert widest <= width + 1, f"{issue.name}: content reaches {widest}px at {width}px"
            assert page.locator("text=配信停止").first.is_visible() or page.locator("text=配信を停止").first.is_visible()
    finally:
        page.close()
