"""The web's dependency record (.sitegen/web-pages.json): a page is rendered again only when something it read
changed, and a build that keeps pages is still byte for byte a clean build — after any edit of any content file."""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pydantic
import pytest

from conftest import SITE_FILES
from sitegen import seal
from sitegen.build import BuildOptions, run
from sitegen.project import Project
from sitegen.web.deps import Reads, fingerprint, recording

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "tests" / "sites"
TODAY = dt.date(2026, 11, 25)


def build(site: Path, today: dt.date = TODAY, clean: bool = False):
    report = run(Project.at(site), BuildOptions(today=today, outputs=("site",), clean=clean))
    kept = {a.path for a in report.artifacts["site"] if a.path.endswith(".html") and a.data is None}
    pages = {a.path for a in report.artifacts["site"] if a.path.endswith(".html")}
    return pages, kept


def files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def clean_build(site: Path, tmp: Path, today: dt.date = TODAY) -> dict[str, bytes]:
    copy = tmp / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("build", ".sitegen"))
    build(copy, today)
    return files(copy / "build" / "site")


@pytest.fixture()
def minimal(tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    return root


def _set_message(site: Path, slug: str, message: str) -> None:
    path = site / "content" / "doctors" / f"{slug}.md"
    path.write_text(re.sub(r"(?m)^message: .*$", f"message: {message}", path.read_text(encoding="utf-8"), count=1),
                    encoding="utf-8")


def test_a_doctor_edit_renders_only_the_pages_that_read_that_doctor(minimal, tmp_path):
    build(minimal)
    _set_message(minimal, "yamada-taro", "紹介状がなくてもご相談ください。")
    pages, kept = build(minimal)
    rendered = pages - kept
    assert "doctors/yamada-taro.html" in rendered
    assert {"access.html", "guides/index.html", "news/index.html"} <= kept  # they never read a doctor
    out = minimal / "build" / "site"
    for path in rendered:  # a page rendered again shows that doctor (a link to the page, the name …)
        assert "yamada-taro" in (out / path).read_text(encoding="utf-8"), path
    assert files(out) == clean_build(minimal, tmp_path)


def test_a_doctor_body_edit_renders_only_the_pages_that_show_the_body(minimal, tmp_path):
    """Lists of doctors (the doctors' index, the department, the schedule) read names and days through
    `site.doctor(slug)`, each attribute recorded on its own: a new sentence in one doctor's text is not theirs."""
    build(minimal)
    path = minimal / "content/doctors/yamada-taro.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n紹介状の書式は問いません。\n", encoding="utf-8")
    pages, kept = build(minimal)
    out = minimal / "build" / "site"
    rendered = pages - kept
    assert rendered == {p for p in pages if "紹介状の書式は問いません" in (out / p).read_text(encoding="utf-8")}
    assert rendered == {"doctors/yamada-taro.html"}
    assert files(out) == clean_build(minimal, tmp_path)


def site_files_made(site: Path) -> set[str]:
    """Build; the files made from the whole site that were made again (not kept from the last build)."""
    report = run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    made = {a.path for a in report.artifacts["site"] if a.path in SITE_FILES and a.data is not None}
    assert {a.path for a in report.artifacts["site"]} >= SITE_FILES
    return made


def test_the_files_made_from_the_whole_site_are_kept_while_nothing_they_read_changes(minimal, tmp_path):
    """The sitemap, feed, search index and open data read the site like a page: a doctor's text is in none of
    them, a doctor's name is in the search index and the doctors' open data, a news item in the sitemap and feed."""
    out = minimal / "build" / "site"
    assert site_files_made(minimal) == SITE_FILES
    assert site_files_made(minimal) == set()
    doctor = minimal / "content/doctors/tanaka-hanako.md"
    doctor.write_text(doctor.read_text(encoding="utf-8") + "\n紹介状の書式は問いません。\n", encoding="utf-8")
    assert site_files_made(minimal) == set()
    assert files(out) == clean_build(minimal, tmp_path)
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("name: 田中", "name: 中田", 1), encoding="utf-8")
    made = site_files_made(minimal)
    assert {"assets/search-index.js", "data/doctors.json", "data/doctors.csv"} <= made  # the open data: made whole
    assert not made & {"sitemap.xml", "feed.xml", "robots.txt"}
    assert "中田" in (out / "data/doctors.csv").read_text(encoding="utf-8-sig")
    assert files(out) == clean_build(minimal, tmp_path)
    news = minimal / "content/news/2026-11-02-parking.md"
    news.write_text("---\ntitle: 駐車場のご案内\ndate: 2026-11-02\n---\n第2駐車場をご利用ください。\n", encoding="utf-8")
    made = site_files_made(minimal)
    assert {"sitemap.xml", "feed.xml", "assets/search-index.js"} <= made and "data/doctors.json" not in made
    assert "2026-11-02-parking" in (out / "sitemap.xml").read_text(encoding="utf-8")
    assert files(out) == clean_build(minimal, tmp_path)
    news.unlink()
    assert {"sitemap.xml", "feed.xml", "assets/search-index.js"} <= site_files_made(minimal)
    assert files(out) == clean_build(minimal, tmp_path)


def test_a_file_made_from_the_whole_site_is_made_again_when_its_template_or_its_published_file_changed(
        minimal, tmp_path):
    out = minimal / "build" / "site"
    site_files_made(minimal)
    override = minimal / "themes/default/web/sitemap.xml"
    override.parent.mkdir(parents=True)
    override.write_text('{% extends "!theme/sitemap.xml" %}\n', encoding="utf-8")
    assert site_files_made(minimal) == {"sitemap.xml"}  # the other files did not load it
    assert files(out) == clean_build(minimal, tmp_path)
    (out / "data/departments.csv").write_text("edited by hand\n", encoding="utf-8")
    assert "data/departments.csv" in site_files_made(minimal)  # not the file recorded: made again
    assert files(out) == clean_build(minimal, tmp_path)


def test_a_page_shows_the_change_of_something_it_only_reads_through_a_lookup(minimal, tmp_path):
    """The department page lists its doctors through `site.doctor(slug)`: renaming one must reach it."""
    build(minimal)
    path = minimal / "content/doctors/tanaka-hanako.md"
    path.write_text(path.read_text(encoding="utf-8").replace("name: 田中", "name: 中田", 1), encoding="utf-8")
    pages, kept = build(minimal)
    assert files(minimal / "build" / "site") == clean_build(minimal, tmp_path)
    assert "中田" in (minimal / "build/site/departments/geka.html").read_text(encoding="utf-8")
    assert kept and "doctors/tanaka-hanako.html" not in kept


def test_a_few_pages_rendered_leave_the_record_as_it_was_and_are_rendered_again(minimal, tmp_path, monkeypatch):
    """Writing the record of every page after one edit costs more than rendering the edited pages once more."""
    from sitegen import project

    monkeypatch.setattr(project, "LARGE", 0)  # the minimal site as if it were large
    build(minimal)
    record = minimal / ".sitegen" / "web-pages.json"
    before = record.read_bytes()
    _set_message(minimal, "yamada-taro", "紹介状がなくてもご相談ください。")
    pages, kept = build(minimal)
    rendered = pages - kept
    assert "doctors/yamada-taro.html" in rendered and len(rendered) <= project.FEW
    assert record.read_bytes() == before  # the last record stays
    assert files(minimal / "build" / "site") == clean_build(minimal, tmp_path)
    again, kept_again = build(minimal)
    assert again - kept_again == rendered  # not what the record says: rendered again, the same bytes
    assert files(minimal / "build" / "site") == clean_build(minimal, tmp_path)
    monkeypatch.setattr(project, "FEW", 0)  # any page rendered is enough to write the record
    build(minimal)
    assert record.read_bytes() != before
    pages, kept = build(minimal)
    assert kept == pages


def test_a_rebuild_without_changes_renders_nothing_and_no_page_is_untraceable(tmp_path):
    site = tmp_path / "example"
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy(ROOT / "site.yaml", site / "site.yaml")
    pages, kept = build(site)
    assert not kept
    record = json.loads((site / ".sitegen" / "web-pages.json").read_text(encoding="utf-8"))
    assert set(record["pages"]) == pages | SITE_FILES
    keys = [key for key, _, _ in record["keys"]]
    assert "!" not in keys and all(len(entry) == 3 for entry in record["pages"].values())
    reads = [key for key in keys if not key.startswith("w:")]
    assert keys[:len(reads)] == reads  # the reads first, numbered from 0; then each record read, whole
    assert max(int(i) for _, read, _ in record["pages"].values() for i in read.split(",")) == len(reads) - 1
    parents = {key[2:].partition(":")[2] if key[0] in "fp" else key[2:] for key in reads if key[:2] in ("f:", "p:", "r:")}
    assert sorted(keys[len(reads):]) == sorted("w:" + parent for parent in parents) and parents
    for key, _, whole in record["keys"]:  # beside each attribute's read, the number of its record's whole entry
        parent = key[2:].partition(":")[2] if key[:2] in ("f:", "p:") else key[2:] if key[:2] == "r:" else None
        assert (whole == -1) if parent is None else keys[whole] == "w:" + parent, key
    pages, kept = build(site)
    assert kept == pages


def test_the_build_date_a_damaged_record_or_a_file_edited_by_hand_renders_again(minimal, tmp_path):
    pages, _ = build(minimal)
    out = minimal / "build" / "site"
    access = out / "access.html"
    original = access.read_bytes()
    access.unlink()
    access.write_bytes(original.replace(b"</body>", b"<p>hand edit</p></body>"))
    _, kept = build(minimal)
    assert "access.html" not in kept and access.read_bytes() == original
    assert len(kept) == len(pages) - 1

    (minimal / ".sitegen" / "web-pages.json").write_text("{not json", encoding="utf-8")
    _, kept = build(minimal)
    assert not kept and files(out) == clean_build(minimal, tmp_path)

    record_file = minimal / ".sitegen" / "web-pages.json"
    record = json.loads(record_file.read_text(encoding="utf-8"))
    damaged = [{**record, "keys": "x"}, {**record, "keys": [[1, 2, 3]]}, {**record, "pages": []},
               {**record, "pages": {p: [e[0], str(10**9), e[2]] for p, e in record["pages"].items()}},
               {**record, "pages": {p: [e[0], "x", e[2]] for p, e in record["pages"].items()}},
               {**record, "pages": {p: [e[0], [0, 1], e[2]] for p, e in record["pages"].items()}}]
    for bad in damaged:  # not what a build wrote: nothing is kept, nothing fails
        record_file.write_text(json.dumps(bad), encoding="utf-8")
        _, kept = build(minimal)
        assert not kept and files(out) == clean_build(minimal, tmp_path)

    later = TODAY + dt.timedelta(days=1)
    _, kept = build(minimal, later)
    assert not kept and files(out) == clean_build(minimal, tmp_path, later)

    _, kept = build(minimal, later, clean=True)
    assert not kept


def test_fingerprints_see_every_field_and_not_the_order_of_a_set():
    from sitegen.content.site import Entry

    a = Entry("x", {"name": "山田", "tags": frozenset({"a", "b", "c"})}, "content/doctors/x.md", "<p>1</p>")
    same = Entry("x", {"tags": frozenset({"c", "a", "b"}), "name": "山田"}, "content/doctors/x.md", "<p>1</p>")
    other = Entry("x", {"name": "山田", "tags": frozenset({"a", "b", "c"})}, "content/doctors/x.md", "<p>2</p>")
    assert fingerprint(a) == fingerprint(same) != fingerprint(other)
    # values that print alike but are not the same to a template: each has a fingerprint of its own
    from markupsafe import Markup
    kinds = ["1", Markup("1"), 1, True, 1.0, None, ("1",), ["1"], [("1",)], {"1": 1}, frozenset({"1"}),
             dt.date(2026, 1, 1), enum.Enum("Colour", "RED").RED, ["1", "2"], ["1\x1fs1:2"]]
    assert len({fingerprint(v) for v in kinds}) == len(kinds)
    with pytest.raises(Exception, match="object"):
        fingerprint(object())


class _Inner(pydantic.BaseModel):
    text: str


class _Plain(pydantic.BaseModel):
    name: str
    day: dt.date | None = None
    tags: list[str] = []
    inner: _Inner | None = None


def test_models_are_fingerprinted_by_their_json_only_when_it_holds_every_field_in_a_fixed_order():
    from sitegen.web.deps import _as_json

    class WithSet(pydantic.BaseModel):
        tags: frozenset[str]

    class WithMapping(pydantic.BaseModel):
        extra: dict[str, int]

    class WithAnything(pydantic.BaseModel):
        value: Any

    class Hidden(pydantic.BaseModel):
        name: str
        secret: str = pydantic.Field("", exclude=True)

    class Written(pydantic.BaseModel):
        name: str

        @pydantic.field_serializer("name")
        def short(self, v: str) -> str:
            return v[:1]

    class Nested(pydantic.BaseModel):
        inner: WithSet

    assert _as_json(_Plain) and _as_json(_Inner)
    for cls in (WithSet, WithMapping, WithAnything, Hidden, Written, Nested):
        assert not _as_json(cls), cls.__name__
    base = _Plain(name="山田", day=dt.date(2026, 1, 1), tags=["a"], inner=_Inner(text="x"))
    changed = [base.model_copy(update=u) for u in ({"name": "山"}, {"day": None}, {"tags": ["a", "b"]})]
    changed.append(_Plain(name="山田", day=dt.date(2026, 1, 1), tags=["a"], inner=_Inner(text="y")))
    assert len({fingerprint(m) for m in [base, *changed]}) == 1 + len(changed)
    assert fingerprint(base) == fingerprint(_Plain(name="山田", day=dt.date(2026, 1, 1), tags=["a"],
                                                   inner=_Inner(text="x")))
    # a field written by a function of the model's own is read field by field: a change it hides still counts
    assert fingerprint(Hidden(name="a", secret="1")) != fingerprint(Hidden(name="a", secret="2"))
    assert fingerprint(Written(name="ab")) != fingerprint(Written(name="ac"))


def test_reads_notes_attributes_and_calls_with_their_arguments(minimal):
    from sitegen.build import load_site

    site, _ = load_site(Project.at(minimal), TODAY)
    with recording() as seen:
        reads = Reads(site)
        assert reads.doctor("yamada-taro").name == "山田 太郎"
        assert reads.office.name
        lookup = reads.department
        lookup("naika")
    # a record a call returns: that it is one (r:), and each attribute read from it (f:), not the record whole
    assert seen == {'r:c:["doctor", ["yamada-taro"], []]', 'f:name:c:["doctor", ["yamada-taro"], []]',
                    "r:a:office", "f:name:a:office", 'r:c:["department", ["naika"], []]'}
    with pytest.raises(AttributeError):
        reads.today = TODAY


EDITABLE = re.compile(r"(?m)^(\s*(?:name|title|summary|message|description|note|label|text|subject):[ \t]+)(\S.*)$")


def _mutate(path: Path) -> bool:
    """A small edit a writer would make: a word added to a text field or to the body. False when none fits."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md" and text.startswith("---\n") and "\n---\n" in text[4:]:
        path.write_text(text + "\n追記しました。\n", encoding="utf-8")
        return True
    match = EDITABLE.search(text)
    if path.suffix in (".yaml", ".yml") and match:
        value = match.group(2)
        if value[:1] in "\"'|>[{&*!" or value.endswith(("'", '"')):
            return False
        path.write_text(text[:match.start(2)] + value + "（改）" + text[match.end(2):], encoding="utf-8")
        return True
    return False


def _content_files() -> list[str]:
    found = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "content").rglob("*")
                   if p.suffix in (".md", ".yaml", ".yml"))
    return found


def _one_per_folder() -> list[str]:
    seen: dict[str, str] = {}
    for name in _content_files():
        seen.setdefault(name.rpartition("/")[0], name)
    return sorted(seen.values())


def _check_edit(name: str, tmp_path: Path) -> None:
    site = tmp_path / "example"
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy(ROOT / "site.yaml", site / "site.yaml")
    build(site)
    if not _mutate(site / name):
        pytest.skip(f"no text field to edit in {name}")
    try:
        build(site)
    except Exception as exc:  # noqa: BLE001 - an edit the content rules refuse proves nothing here
        pytest.skip(f"the edit of {name} is not valid content: {exc}")
    assert files(site / "build" / "site") == clean_build(site, tmp_path)


@pytest.mark.parametrize("name", _one_per_folder())
def test_an_edit_in_each_content_folder_builds_what_a_clean_build_builds(name, tmp_path):
    _check_edit(name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(_content_files()) - set(_one_per_folder())))
def test_an_edit_of_any_content_file_builds_what_a_clean_build_builds(name, tmp_path):
    _check_edit(name, tmp_path)


# --- the HTML of Markdown bodies kept between builds (.sitegen/markdown-html.json) -----------------------------

def test_body_html_is_kept_for_the_next_build_and_a_planted_entry_is_not_trusted(minimal, tmp_path):
    from sitegen.content.markdown_html import _digest

    build(minimal)
    kept_file = minimal / ".sitegen" / "markdown-html.json"
    kept = seal.read_json(seal.key(Project.at(minimal)), kept_file)
    assert kept is not None, "the kept HTML is sealed in this checkout"
    doctor = (minimal / "content/doctors/yamada-taro.md").read_text(encoding="utf-8")
    body = doctor.split("\n---\n", 1)[1]
    assert _digest(body) in kept["html"]
    assert files(minimal / "build" / "site") == clean_build(minimal, tmp_path)

    # someone commits a .sitegen/ whose HTML for this body carries a script, unsealed or sealed with another
    # checkout's key: it is converted again instead
    kept["html"][_digest(body)] = '<p>x</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
    for plant in (lambda: kept_file.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8"),
                  lambda: seal.write_json(b"another checkout's key", kept_file, kept)):
        plant()
        build(minimal, clean=False)
        page = (minimal / "build/site/doctors/yamada-taro.html").read_text(encoding="utf-8")
        assert "<script>alert(1)" not in page and "onerror" not in page
        assert files(minimal / "build" / "site") == clean_build(minimal, tmp_path)


def test_bodies_converted_ahead_are_kept_whether_used_or_not(tmp_path, monkeypatch):
    """A large site's bodies are converted ahead in forked processes (the first share in this one). A body no
    page uses (a news item dated next month) is converted ahead too: it is kept with the others, so that the
    next builds convert nothing, and the kept file is not written again while the content stays the same."""
    from sitegen.content import markdown_html
    from sitegen.content.markdown_html import MarkdownRenderer

    # a test worker cannot fork: the shares are worked out here, as the first share is in a build
    monkeypatch.setattr(markdown_html, "fork_map", lambda function, items, processes: [function(x) for x in items])
    published = [f"お知らせ{n}の本文です。\n\n- 一\n- 二\n" for n in range(5)]
    coming = [f"来月のお知らせ{n}です。**予約**は不要です。\n" for n in range(4)]
    kept_file, key = tmp_path / "markdown-html.json", b"k" * 32
    expected = [str(MarkdownRenderer()(text)) for text in published]
    converted: list[str] = []
    real_convert = MarkdownRenderer._convert
    monkeypatch.setattr(MarkdownRenderer, "_convert", lambda self, text: converted.append(text) or real_convert(self, text))
    written = []
    for n in range(4):
        converted.clear()
        renderer = MarkdownRenderer(kept=kept_file, key=key)
        renderer.prepare([*published, *coming], 2)
        pages = [str(renderer(text)) for text in published]  # the coming items have no page yet
        renderer.keep()
        written.append(kept_file.stat().st_mtime_ns)
        assert pages == expected
        if n == 0:
            assert sorted(converted) == sorted(published + coming)
        else:
            assert converted == [], f"build {n + 1} converted again: {converted}"
    assert len(set(written)) == 1, "the kept file was written again though no body changed"


def test_check_and_dry_run_keep_nothing(minimal):
    from click.testing import CliRunner

    from sitegen.cli import main

    for args in (["check", "--source", str(minimal)], ["build", "--source", str(minimal), "--dry-run"]):
        CliRunner().invoke(main, args)
    assert not (minimal / ".sitegen").exists()


def test_a_text_holding_the_separator_does_not_pass_for_two_parts():
    """Joined without lengths, ("a␟s", "b") and ("a", "␟sb") would be the same parts."""
    assert fingerprint(("a\x1fs", "b")) != fingerprint(("a", "\x1fsb"))


@dataclasses.dataclass(frozen=True)
class _Doc:
    slug: str
    name: str
    body: str


@dataclasses.dataclass(frozen=True)
class _Site:
    docs: tuple

    @property
    def featured(self) -> list:
        return [d for d in self.docs if d.slug != "c"]

    def doctor(self, slug: str):
        return next((d for d in self.docs if d.slug == slug), None)


def _reads(site: _Site, source: str) -> tuple[str, set[str]]:
    """What `source` shows and reads, rendered by sitegen's sandbox (which reads through Reads and Traced without
    Python's failed lookup: `_Sandbox.readers`) and by Jinja's own, which must agree."""
    from jinja2.sandbox import SandboxedEnvironment

    from sitegen.templates import _Sandbox
    from sitegen.web.deps import noting_templates

    results = []
    for env in (noting_templates(_Sandbox()), SandboxedEnvironment()):
        with recording() as seen:
            html = env.from_string(source).render(site=Reads(site))
        results.append((html, seen))
    assert results[0] == results[1]
    return results[0]


def test_the_record_text_made_ahead_is_the_record_saved_at_once(tmp_path):
    """The child saving the record makes its text while the build is written, the stamps left out
    (`Record._text`), and adds them once the build is published: the file is the one `save` writes, byte for
    byte — also when a page's file is missing (then the record is made of the pages that are there)."""
    from sitegen.web.deps import Record

    record = Record(SITE, "shared", None)
    sources = ("{{ site.doctor('a').name }}", "{{ site.featured | length }}", "静的な文", "{{ site.doctor('c') }}")
    for n, source in enumerate(sources):
        record.add(f"d/p{n}.html", f"fp{n}", tuple(sorted(_reads(SITE, source)[1])))
    published = tmp_path / "site"
    (published / "d").mkdir(parents=True)
    for n in range(len(sources)):
        (published / "d" / f"p{n}.html").write_text("x" * n)
    for case in ("every file", "one missing"):
        record.save(tmp_path / "at-once.json", published)
        record._save_text(tmp_path / "ahead.json", record._text(), published)
        at_once = (tmp_path / "at-once.json").read_text(encoding="utf-8")
        assert (tmp_path / "ahead.json").read_text(encoding="utf-8") == at_once, case
        assert len(json.loads(at_once)["pages"]) == (4 if case == "every file" else 3)
        (published / "d" / "p2.html").unlink(missing_ok=True)


def test_the_sandbox_may_read_every_attribute_of_reads_and_traced_through_their_getattr():
    """`_Sandbox.readers` calls Reads.__getattr__ and Traced.__getattr__ straight for any name not starting with
    "_": right only while they have no such attribute of their own."""
    from sitegen.web.deps import Traced

    for kind in (Reads, Traced):
        assert [name for name in dir(kind) if not name.startswith("_")] == [], kind


def _kept(before: _Site, after: _Site, source: str) -> bool:
    """Would a page rendered from `before` with `source` be kept after the site became `after`?"""
    from sitegen.web.deps import Record

    old = Record(before, "shared", None)
    old.add("p.html", "fp", _reads(before, source)[1])
    return Record(after, "shared", old.state()).unchanged("p.html", "fp")


SITE = _Site((_Doc("a", "青木", "本文A"), _Doc("b", "馬場", "本文B"), _Doc("c", "千葉", "本文C")))
NAMES = "{% for d in site.featured %}{{ d.name }}{% endfor %}|{{ site.doctor('c').name }}"


def test_records_are_traced_attribute_by_attribute():
    html, seen = _reads(SITE, NAMES)
    assert html == "青木馬場|千葉"
    # one key per attribute of a list's entries (not one per entry), one per attribute of a looked-up record
    assert seen == {"r:a:featured", "p:name:a:featured", 'r:c:["doctor", ["c"], []]', 'f:name:c:["doctor", ["c"], []]'}
    body_edit = _Site((SITE.docs[0], dataclasses.replace(SITE.docs[1], body="新しい本文"), SITE.docs[2]))
    assert _kept(SITE, body_edit, NAMES)
    renamed = _Site((SITE.docs[0], dataclasses.replace(SITE.docs[1], name="羽場"), SITE.docs[2]))
    assert not _kept(SITE, renamed, NAMES)
    reordered = _Site((SITE.docs[1], SITE.docs[0], SITE.docs[2]))
    assert not _kept(SITE, reordered, NAMES)
    one_less = _Site((SITE.docs[0], SITE.docs[2]))
    assert not _kept(SITE, one_less, NAMES)
    assert not _kept(SITE, _Site(SITE.docs[:2]), NAMES)  # the looked-up doctor is gone


def test_a_record_used_whole_or_missing_an_attribute_is_noted_as_such():
    whole = "{{ site.doctor('a') }}"
    assert _reads(SITE, whole)[1] == {'r:c:["doctor", ["a"], []]', 'c:["doctor", ["a"], []]'}
    assert not _kept(SITE, _Site((dataclasses.replace(SITE.docs[0], body="x"), *SITE.docs[1:])), whole)
    missing = "{{ site.doctor('a').photo is defined }}"
    html, seen = _reads(SITE, missing)
    assert html == "False" and 'f:photo:c:["doctor", ["a"], []]' in seen
    assert _kept(SITE, _Site((dataclasses.replace(SITE.docs[0], body="x"), *SITE.docs[1:])), missing)
    truth = "{% if site.doctor('a') %}y{% endif %}"
    assert 'c:["doctor", ["a"], []]' in _reads(SITE, truth)[1]


def test_calls_with_values_that_compare_equal_are_noted_apart():
    """A call's key is kept for calls with texts (made on many pages); 1, True and "1" stay three calls."""
    seen = _reads(SITE, "{{ site.doctor(1) }}{{ site.doctor(True) }}{{ site.doctor('1') }}{{ site.doctor('1') }}")[1]
    assert {'c:["doctor", [1], []]', 'c:["doctor", [true], []]', 'c:["doctor", ["1"], []]'} <= seen
    named = "{{ site.doctor(slug=1) }}{{ site.doctor(slug=True) }}{{ site.doctor(slug='1') }}{{ site.doctor(slug='1') }}"
    assert {'c:["doctor", [], [["slug", 1]]]', 'c:["doctor", [], [["slug", true]]]',
            'c:["doctor", [], [["slug", "1"]]]'} <= _reads(SITE, named)[1]


def test_a_page_that_reads_nothing_from_the_site_is_kept():
    assert _reads(SITE, "お知らせはありません")[1] == set()
    assert _kept(SITE, _Site(SITE.docs[:1]), "お知らせはありません")


def test_files_in_sitegen_are_written_in_pieces_as_one_json_text(tmp_path):
    """write_state writes large lists and objects a thousand entries at a time: the file is the same JSON."""
    from sitegen.project import read_state, write_state

    data = {"version": 2, "keys": [[f"k{i}", "指紋"] for i in range(2500)], "empty": [],
            "pages": {f"p{i}.html": ["fp", str(i)] for i in range(3001)}, "small": {"a": None}}
    write_state(tmp_path / "x.json", data)
    text = (tmp_path / "x.json").read_text(encoding="utf-8")
    assert text == json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert read_state(tmp_path / "x.json") == data
