"""Hostile text in every kind of place, built for real: shared by tests/test_fuzz.py (a fixed seed, a few dozen
examples) and bench/bench_fuzz.py (many more). A build must end in a content error or a site, within a time bound,
and no built page may carry a script, an event handler or a script URL that the theme did not put there."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

from hypothesis import strategies as st

from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)
BOUND_SECONDS = 30.0
PAYLOADS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">x</a>",
    "[x](javascript:alert(1))", "![x](javascript:alert(1))", "<svg onload=alert(1)>", "<iframe src=//evil>",
    "\"><script>alert(1)</script>", "{{ 7*7 }}", "{% raw %}", "</textarea><script>1</script>", "<style>*{}</style>",
    "[x](data:text/html,<script>1</script>)", "<a href='vbscript:x'>v</a>", "&#x6a;avascript:alert(1)",
    "<details open ontoggle=alert(1)>", "`<script>`", "<!--<script>-->", "]]>", "\u202e", "\x00", "\x1b[31m",
    "ＮＯ．１", "日本一の", "[" * 50, "<" * 50, "# 見出し", "> 引用", "|a|b|\n|-|-|\n|1|2|", "- a\n  - b",
]
text = st.lists(st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=40)), max_size=12).map("".join)
_printable = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=20)
_clean = st.lists(st.one_of(st.sampled_from([p for p in PAYLOADS if p.isprintable()]), _printable),
                  min_size=1, max_size=6).map("".join).filter(lambda s: s.strip() != "")
field = st.one_of(_clean, _clean, _clean, text)  # a YAML field: mostly text a field accepts, sometimes anything


class Scripts(HTMLParser):
    """Every script element, event handler attribute and script URL on a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and not ((a.get("src") or "").startswith(("assets/", "../assets/", "/"))
                                    or a.get("type") == "application/ld+json"):
            self.found.append(f"<script {a}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction") and value and \
                    value.strip().lower().startswith(("javascript:", "vbscript:", "data:text")):
                self.found.append(f"{tag} {name}={value[:40]}")
        if tag in ("iframe", "object", "embed"):
            self.found.append(f"<{tag}>")


def build_with(tmp: Path, body: str, summary: str, name: str, title: str, condition: str) -> tuple[str, float, list]:
    """Returns (outcome, seconds, script findings)."""
    root = tmp / "site"
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(SITES / "minimal", root)
    dept = root / "content" / "departments" / "geka.md"
    q = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'  # noqa: E731
    dept.write_text(f"---\nname: {q(name)}\nname_en: Surgery\ngroup: 外科系\nsummary: {q(summary)}\n"
                    f"conditions: [{q(condition)}]\n---\n{body}\n", encoding="utf-8")
    news = root / "content" / "news" / "2026-10-01-open.md"
    text = news.read_text(encoding="utf-8")
    news.write_text(re.sub(r"^title:.*$", lambda _: f"title: {q(title)}", text, count=1, flags=re.M) + "\n" + body + "\n",
                    encoding="utf-8")
    started = time.perf_counter()
    try:
        run(Project.at(root, tmp / "out"), BuildOptions(today=TODAY, outputs=("site",)))
        outcome = "built"
    except ContentError:
        outcome = "content error"
    seconds = time.perf_counter() - started
    found = []
    if outcome == "built":
        for page in (tmp / "out" / "site").rglob("*.html"):
            parser = Scripts()
            parser.feed(page.read_text(encoding="utf-8"))
            found += [(page.name, f) for f in parser.found]
    shutil.rmtree(tmp / "out", ignore_errors=True)
    return outcome, seconds, found
