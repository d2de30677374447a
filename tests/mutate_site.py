"""A site with mistakes made at random, three ways, built for real: shared by tests/test_fuzz.py (fixed seeds, a few
dozen sites) and bench/bench_mutate.py (many more, on the example site).

- "values": one to three values of the YAML files (site.yaml, the front matter, schedules) replaced by a value of
  another kind (a list, a set of fields, a number, a date, an overlong text …) or deleted;
- "characters": YAML syntax and odd characters typed into, or cut out of, the YAML text (a tab, a quote, an
  anchor, a BOM, a duplicated line …);
- "themes": one or two templates of the packaged theme copied into the site's themes/ and broken (Jinja syntax,
  calls with arguments of the wrong kind, filters given text, MJML tags, CSS).

Whatever the mistake, a build ends in a site or in an error that names it (a content error, a template error):
never in sitegen's internal error. Found this way: a newsletter section `type:` written as a list, a doctor's
`date:` field, a style attribute css-inline cannot read, a template calling `site.doctor(site)`.
"""
from __future__ import annotations

import copy
import datetime as dt
import random
import re
import shutil
from pathlib import Path

import yaml

from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError, SitegenError
from sitegen.project import Project

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "themes" / "default"
TODAY = dt.date(2026, 11, 25)
KINDS = ("values", "characters", "themes")

VALUES = [None, True, 0, -1, 10**30, 1.5, float("nan"), "", " ", "x", "2026-02-30", "25:00", "日本一", [], [1], ["a", "b"],
          {}, {"a": 1}, dt.date(1900, 1, 1), dt.date(2100, 12, 31), "../../etc/passwd", "<script>", "a" * 500, [[]], [{}],
          {"": None}, "__DELETE__"]
CHARACTERS = [":", ": ", "-", "- ", "[", "]", "{", "}", "'", '"', "\t", "\n", "\n  ", "&a ", "*a", "!", "%", "@", "|", ">", "#",
              "\ufeff", "\r", "\r\n", "  ", "?", ",", "\\", "\x00", "\x85", "\u2028", "<<: *a", "&a", "~", "null", "1e9999",
              "0x1F", "2026-13-45", "12:30:00", ".inf", "yes", "=", "---", "...", "!!binary ", "😀", "ｱ"]
TEMPLATE_BITS = ["{{", "}}", "{%", "%}", "{#", "{{ x }}", "{{ site.nothing.more }}", "{% if %}", "{% endif %}",
                 "{% for x in 3 %}{% endfor %}", "{{ 1/0 }}", "{{ [].__class__ }}", "{{ x|nofilter }}",
                 "{% include 'missing.html' %}", "{% block content %}", "{% endblock %}", "{{ self }}",
                 "{{ site.doctors[0].name }}", "{{ 'a'|date_ja }}", "{{ none.x }}", "<", ">", "\x00", "}}{{",
                 "{% set x = site.doctor('nope') %}{{ x.name }}", "{{ ''.format }}", "{% raw %}", "{{ site.doctor(site) }}",
                 "{% for x in site.doctors[0] %}{% endfor %}", "{{ url('nowhere') }}", "<mj-section>", "</mj-column>",
                 "<mj-text", 'style="%;"', "{{ cycler.__init__.__globals__ }}"]


def mutated_site(dest: Path, kind: str, seed: int, source: Path) -> Path:
    """A copy of the site at `source` (site.yaml, content/, themes/) in `dest`, with mistakes of `kind` made by
    `seed`."""
    rng = random.Random(f"{kind}-{seed}")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copytree(source / "content", dest / "content", symlinks=True)
    shutil.copy(source / "site.yaml", dest / "site.yaml")
    if (source / "themes").is_dir():
        shutil.copytree(source / "themes", dest / "themes", symlinks=True)
    if kind == "themes":
        templates = sorted(p.relative_to(THEME) for p in THEME.rglob("*")
                           if p.is_file() and p.suffix in (".html", ".mjml", ".txt", ".xml", ".css"))
        for rel in rng.sample(templates, rng.randint(1, 2)):
            target = dest / "themes" / "default" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_typed(rng, (THEME / rel).read_text(encoding="utf-8"), TEMPLATE_BITS), encoding="utf-8")
        return dest
    files = [dest / "site.yaml"] + sorted(p for p in (dest / "content").rglob("*") if p.suffix in (".md", ".yaml"))
    for path in rng.sample(files, rng.randint(1, 3)):
        text = path.read_text(encoding="utf-8")
        front = path.suffix == ".md"
        head, body = _split(text) if front else (text, None)
        head = _other_values(rng, head) if kind == "values" else _typed(rng, head, CHARACTERS)
        path.write_text(head if body is None else f"---\n{head}---\n{body}", encoding="utf-8", newline="")
    return dest


def outcome(site: Path, outputs: tuple[str, ...] = ("site", "mail")) -> str:
    """"built", "content error", "printing failed" (the brochures' browser step failed: a browser's fault, or an
    error of sitegen's own that the report hides, to be looked at) or "other error" (a template error, an output
    that cannot be made) of building `outputs`; anything else raises, as it would out of `sitegen build` (sitegen's
    internal error)."""
    try:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=outputs, dry_run=True))
    except ContentError:
        return "content error"
    except SitegenError as exc:
        return "printing failed" if str(exc).startswith("pdf: printing with") else "other error"
    return "built"


def _split(text: str) -> tuple[str, str | None]:
    m = re.match(r"---\n(.*?\n)---\n?(.*)", text, re.S)
    return (m.group(1), m.group(2)) if m else (text, None)


def _typed(rng: random.Random, text: str, bits: list[str]) -> str:
    """Bits typed in and pieces cut out at random places, a line now and then doubled."""
    for _ in range(rng.randint(1, 4)):
        at, roll = rng.randint(0, len(text)), rng.random()
        if roll < 0.55:
            text = text[:at] + rng.choice(bits) + text[at:]
        elif roll < 0.85:
            text = text[:at] + text[at + rng.randint(1, 12):]
        else:
            lines = text.split("\n")
            line = rng.randrange(len(lines))
            lines.insert(line, lines[line])
            text = "\n".join(lines)
    return text


def _other_values(rng: random.Random, text: str) -> str:
    """The YAML `text` with one to three values (at any depth) replaced by a value of another kind, or deleted."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if not isinstance(data, (dict, list)):
        return text
    for _ in range(rng.randint(1, 3)):
        places = list(_places(data))
        if not places:
            break
        parent, key = rng.choice(places)
        value = copy.deepcopy(rng.choice(VALUES))  # a list of VALUES itself could end up inside itself
        if value == "__DELETE__":
            del parent[key]
        else:
            parent[key] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _places(node):
    """(container, key) of every value in `node`, at any depth."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        yield node, key
        yield from _places(value)
