"""Input limits that hold: a body Python-Markdown needs minutes for, or one nested thousands of levels deep
(which crashed the MJML compiler with a segfault), is a content error with its file and line, in bounded time."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sitegen.content.markdown_html import MAX_DEPTH, BodyError, MarkdownRenderer

SITES = Path(__file__).resolve().parent / "sites"
# Bodies Python-Markdown needed minutes for. Markdown 3.11.4 converts some of them at once (brackets, images,
# headings, bracket lines): whatever the version, each must end in bounded time. "links" still takes minutes.
SLOW = {"brackets": "[" * 16_000, "links": "<a" * 150_000, "images": "![" * 8_000, "headings": "# a\n" * 20_000,
        "autolinks": "<http://" * 10_000, "bracket lines": "[x\n" * 8_000}
STILL_SLOW = SLOW["links"]  # over a minute with every Markdown version sitegen allows (3.5 to 3.11.4)


@pytest.fixture()
def renderer():
    r = MarkdownRenderer(budget=1.0)
    yield r
    r.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_pathological_bodies_end_within_the_budget(renderer, name):
    """Refused once the budget is spent, or converted within it (a newer Markdown is fast on some): never minutes."""
    started = time.perf_counter()
    try:
        renderer(SLOW[name])
    except BodyError as exc:
        assert "took longer than 1 s" in str(exc)
    assert time.perf_counter() - started < 20  # the budget plus starting the worker on a busy machine


@pytest.mark.slow
def test_a_body_slower_than_the_budget_is_refused(renderer):
    started = time.perf_counter()
    with pytest.raises(BodyError, match="took longer than 1 s"):
        renderer(STILL_SLOW)
    assert time.perf_counter() - started < 20


def test_the_renderer_still_works_after_a_timeout(renderer):
    with pytest.raises(BodyError):
        renderer(STILL_SLOW)
    assert "<strong>ok</strong>" in renderer("**ok**")
    renderer.budget = 10.0  # what follows is about the restarted worker's HTML, not about time on a busy machine
    long_ok = "ご紹介ください。\n\n" * 2000  # long but ordinary: converted in the worker, same HTML
    in_process = MarkdownRenderer()._md.convert(long_ok)
    assert str(renderer(long_ok)) == in_process  # the worker gives the same HTML
    assert str(renderer(long_ok)).count("<p>") == 2000


@pytest.mark.parametrize("body", ["<div>" * 9000 + "x" + "</div>" * 9000, "> " * 200 + "x",
                                  "".join("    " * i + "- a\n" for i in range(100))])
def test_deep_nesting_is_refused(body):
    # the default time budget: this is about depth, and on a busy machine starting the worker alone can take 1 s
    renderer = MarkdownRenderer()
    try:
        with pytest.raises(BodyError, match=f"at most {MAX_DEPTH}"):
            renderer(body)
    finally:
        renderer.close()


def test_the_depth_limit_holds_to_the_level(renderer):
    """A body is parsed for its depth only when it has more start tags than MAX_DEPTH: at the limit and one over
    it, with and without text and siblings around, the count decides nothing the parse would not."""
    def nested(levels: int, around: str = "") -> str:
        return around + "<div>" * levels + "x" + "</div>" * levels + around

    for around in ("", "前<b>太字</b>後\n\n", "<br>" * 5):
        assert "<div>" * MAX_DEPTH + "x" in str(renderer(nested(MAX_DEPTH, around)))
        with pytest.raises(BodyError, match=f"nests elements {MAX_DEPTH + 1} levels deep"):
            renderer(nested(MAX_DEPTH + 1, around))
    many = "".join(f"<b>{n}</b> " for n in range(MAX_DEPTH * 3))  # many elements, none inside another
    assert str(renderer(many)).count("<b>") == MAX_DEPTH * 3


def test_ordinary_nesting_is_fine(renderer):
    assert "<blockquote>" in renderer("> > > 引用\n")
    assert renderer("- a\n    - b\n        - c\n").count("<ul>") == 3


def run_build(root: Path, *outputs: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "sitegen", "build", "--source", str(root), "--date", "2026-11-25"]
    for o in outputs:
        args += ["--only", o]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_a_newsletter_body_nested_9000_levels_is_an_error_not_a_segfault(tmp_path):
    from mail_fixtures import make_mail_site

    root = make_mail_site(tmp_path / "site")
    issue = root / "content" / "newsletters" / "2026-11-no2.md"
    issue.write_text(issue.read_text(encoding="utf-8") + "\n" + "<div>" * 9000 + "x" + "</div>" * 9000 + "\n",
                     encoding="utf-8")
    result = run_build(root, "mail")
    assert result.returncode == 1, result.stderr  # not -11
    assert "content/newsletters/2026-11-no2.md:" in result.stderr and "levels deep" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_slow_department_body_fails_the_build_with_its_line_in_bounded_time(tmp_path):
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    dept = root / "content" / "departments" / "geka.md"
    dept.write_text(dept.read_text(encoding="utf-8") + STILL_SLOW + "\n", encoding="utf-8")
    started = time.perf_counter()
    result = run_build(root, "site")
    assert time.perf_counter() - started < 60
    assert result.returncode == 1 and "content/departments/geka.md:7: body: converting this text took longer" \
        in result.stderr, result.stderr
    assert not (root / "build").exists()
