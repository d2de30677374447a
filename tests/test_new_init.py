"""`sitegen new` and `sitegen init`: the files they write build as written and hold every field."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from conftest import TODAY
from sitegen.build import BuildOptions, load_site, run
from sitegen.cli import main
from sitegen.content import models
from sitegen.content.newsletter_models import Newsletter
from sitegen.project import Project

DATE = TODAY.isoformat()


def sitegen(*args: str):
    return CliRunner().invoke(main, list(args), color=False)


@pytest.fixture()
def new_site(tmp_path):
    """A site made by `sitegen init`."""
    root = tmp_path / "sakura"
    result = sitegen("init", str(root), "--date", DATE)
    assert result.exit_code == 0, result.output
    return root


def test_init_makes_a_site_that_builds(new_site, tmp_path):
    result = sitegen("build", "--source", str(new_site), "--only", "site", "--date", DATE)
    assert result.exit_code == 0, result.output
    site = new_site / "build" / "site"
    assert (site / "index.html").is_file() and (site / "doctors" / "mihon-taro.html").is_file()
    assert not (new_site / "themes").exists()  # the packaged theme, not a copy
    # a new site starts without problems, except its placeholders, each a warning at its line
    site_model, warnings = load_site(Project.at(new_site), TODAY)
    assert warnings and all("is a placeholder from sitegen init/new" in w.message for w in warnings), warnings
    fields = {(w.location.path, w.field) for w in warnings}
    assert {("site.yaml", "hospital.name"), ("site.yaml", "hospital.phone"),
            ("site.yaml", "office.contacts[0].value")} <= fields
    strict = sitegen("check", "--source", str(new_site), "--strict", "--skip", "a11y", "--skip", "links",
                     "--date", DATE)
    assert strict.exit_code == 1 and "（病院名）" in strict.output, strict.output
    assert run(Project.at(new_site, tmp_path / "out"), BuildOptions(today=TODAY, outputs=("site", "mail"))).outputs


def test_init_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = sitegen("init", str(tmp_path))
    assert result.exit_code == 1
    assert "is not empty" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("kind,name,expected", [
    ("department", "hifuka", "content/departments/hifuka.md"),
    ("doctor", "sato-hanako", "content/doctors/sato-hanako.md"),
    ("guide", "kyodo-riyo", "content/guides/kyodo-riyo.md"),
    ("equipment", "mri", "content/equipment/mri.md"),
    ("news", "nenmatsu", f"content/news/{DATE}-nenmatsu.md"),
    ("news", "2026-12-01-kyushin", "content/news/2026-12-01-kyushin.md"),
])
def test_a_new_file_builds_as_written(copy_site, kind, name, expected):
    root = copy_site("minimal")
    result = sitegen("new", kind, name, "--source", str(root), "--date", DATE)
    assert result.exit_code == 0, result.output
    assert f"wrote {expected}" in result.output
    _, warnings = load_site(Project.at(root), TODAY)  # raises ContentError on any problem
    mine = [w for w in warnings if w.location.path == expected]
    assert mine and all("is a placeholder from sitegen init/new" in w.message for w in mine), mine  # to fill in
    result = sitegen("build", "--source", str(root), "--only", "site", "--date", DATE, "--dry-run")
    assert result.exit_code == 0, result.output


MODELS = {"department": models.Department, "doctor": models.Doctor, "guide": models.Guide, "news": models.NewsItem,
          "equipment": models.Equipment}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_field_is_in_the_new_file_with_a_japanese_comment(copy_site, kind):
    root = copy_site("minimal")
    assert sitegen("new", kind, "x-new", "--source", str(root), "--date", DATE).exit_code == 0
    path = next(root.glob("content/*/*x-new.md"))
    text = path.read_text(encoding="utf-8")
    missing = [f for f in MODELS[kind].model_fields if not re.search(rf"^\s*{f}:", text, re.M)]
    assert missing == []
    assert re.search(r"#.*[ぁ-んァ-ン一-龥]", text)  # comments are in Japanese
    for field in ("photo", "image", "outcomes"):  # optional parts: empty, with the example in a comment
        if field in MODELS[kind].model_fields:
            assert re.search(r"^#\s+src:|^#\s+period:", text, re.M)


def test_new_newsletter_drafts_the_next_issue(new_site):
    result = sitegen("new", "newsletter", "--source", str(new_site), "--date", "2026-12-01")
    assert result.exit_code == 0, result.output
    path = new_site / "content" / "newsletters" / "2026-12-no1.md"
    text = path.read_text(encoding="utf-8")
    assert "draft: true" in text and "number: 1" in text
    for field in ("number", "date", "subject", "preheader", "draft", "sections"):
        assert re.search(rf"^{field}:", text, re.M), field
    assert set(Newsletter.model_fields) - {"series"} <= set(re.findall(r"^(\w+):", text, re.M))
    load_site(Project.at(new_site), TODAY.replace(month=12, day=1))  # the draft validates


def test_new_refuses_to_overwrite_and_checks_the_name(copy_site):
    root = copy_site("minimal")
    before = (root / "content/doctors/yamada-taro.md").read_bytes()
    result = sitegen("new", "doctor", "yamada-taro", "--source", str(root))
    assert result.exit_code == 1
    assert "content/doctors/yamada-taro.md already exists" in result.output
    assert (root / "content/doctors/yamada-taro.md").read_bytes() == before
    for bad in ("Yamada", "yamada_taro", "山田", "a/b", "../x", "x-"*41):
        result = sitegen("new", "doctor", bad, "--source", str(root))
        assert result.exit_code == 1 and "cannot be a file name" in result.output, bad
    result = sitegen("new", "doctor", "--source", str(root))
    assert result.exit_code == 1 and "sitegen new doctor NAME" in result.output


def test_new_outside_a_site_says_where_to_look(tmp_path):
    result = sitegen("new", "doctor", "a", "--source", str(tmp_path))
    assert result.exit_code == 1 and "no site.yaml" in result.output and "sitegen init" in result.output


def test_a_new_schedule_beside_a_schedule_with_mistakes_is_still_made(copy_site):
    """The other schedules are read without validation to find a free slot: a slot that is not a set of fields,
    or whose doctor, day or time is a list or a set of fields (mistakes the build reports), is passed over."""
    root = copy_site("minimal")
    naika = root / "content" / "schedules" / "naika.yaml"
    naika.write_text(naika.read_text(encoding="utf-8") + "  - {day: 火, time: 午前, doctor: [suzuki-ichiro, tanaka-hanako]}\n"
                     "  - {day: [火], time: 午後, doctor: suzuki-ichiro}\n  - {day: 木, time: {a: 1}, doctor: x}\n"
                     "  - 月曜午前\n", encoding="utf-8")
    result = sitegen("new", "schedule", "geka", "--source", str(root), "--date", DATE)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "doctor: " in (root / "content" / "schedules" / "geka.yaml").read_text(encoding="utf-8")


def test_a_new_schedule_lists_a_free_slot_of_the_departments_doctor_and_builds(copy_site):
    root = copy_site("minimal")
    result = sitegen("new", "schedule", "geka", "--source", str(root), "--date", DATE)
    assert result.exit_code == 0, result.output
    assert "wrote content/schedules/geka.yaml" in result.output
    text = (root / "content" / "schedules" / "geka.yaml").read_text(encoding="utf-8")
    assert "doctor: " in text and "いまあるこの診療科の医師:" in text
    # geka's doctors are suzuki-ichiro (also in naika's schedule) and tanaka-hanako: the slot must not clash
    _, warnings = load_site(Project.at(root), TODAY)  # raises ContentError on any problem (e.g. a clash)
    assert not [w for w in warnings if w.location.path == "content/schedules/geka.yaml"]
    again = sitegen("new", "schedule", "geka", "--source", str(root), "--date", DATE)
    assert again.exit_code == 1 and "already exists" in again.output
    unknown = sitegen("new", "schedule", "gek", "--source", str(root), "--date", DATE)
    assert unknown.exit_code == 1 and "did you mean 'geka'" in unknown.output and "Traceback" not in unknown.output


def test_new_refuses_the_name_of_one_of_the_sites_own_pages(copy_site):
    root = copy_site("minimal")
    for kind, name, page in (("doctor", "featured", "doctors/featured.html"), ("guide", "index", "guides/index.html")):
        result = sitegen("new", kind, name, "--source", str(root))
        assert result.exit_code == 1 and f"the site's own page {page}" in result.output, result.output
