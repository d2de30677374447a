"""Open data in build/site/data/: every JSON file valid against its published schema, CSV = JSON, only what the
website shows (no drafts, no expired notices, no partner list), byte-identical rebuilds."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sitegen.build import BuildOptions, load_site, run
from sitegen.project import Project
from sitegen.web.opendata import DATASETS, listing, records

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)
NOTICE = """---
title: {title}
date: 2026-11-01
{extra}absence:
  doctor: yamada-taro
  dates: [{day}]
---
本文
"""


@pytest.fixture()
def data(tmp_path) -> Path:
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    news = site / "content/news"
    news.joinpath("2026-11-01-current.md").write_text(NOTICE.format(title="いま掲載中の休診", extra="", day="2026-12-01"), encoding="utf-8")
    news.joinpath("2026-11-01-expired.md").write_text(NOTICE.format(title="終わった休診", extra="", day="2026-11-10"), encoding="utf-8")
    news.joinpath("2026-11-01-draft.md").write_text(NOTICE.format(title="下書きの休診", extra="draft: true\n", day="2026-12-02"), encoding="utf-8")
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    return site / "build/site/data"


def load(data: Path, name: str) -> dict:
    return json.loads((data / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_file_validates_against_its_schema_and_the_csv_matches(data, name):
    schema = json.loads((data / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    doc = load(data, name)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(doc)) == []
    raw = (data / f"{name}.csv").read_bytes()
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 Japanese only with the BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == len(doc["items"])
    assert list(rows[0] if rows else list(DATASETS[name][1])) == list(DATASETS[name][1])
    for row, item in zip(rows, doc["items"]):
        for key, value in item.items():
            expected = "、".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)
            assert row[key] == expected


def test_a_broken_record_fails_its_schema(data):
    # the schemas are strict enough to catch a mistake: an unknown key, a wrong day, a missing field
    schema = json.loads((data / "schedules.schema.json").read_text(encoding="utf-8"))
    doc = load(data, "schedules")
    doc["items"][0]["day"] = "Monday"
    doc["items"][1]["extra"] = 1
    del doc["items"][2]["visit"]
    assert len(list(Draft202012Validator(schema).iter_errors(doc))) == 3


def test_only_what_the_site_shows(data):
    titles = [n["title"] for n in load(data, "notices")["items"]]
    assert titles == ["いま掲載中の休診"]  # not the expired one, not the draft
    schedules = load(data, "schedules")["items"]
    assert len(schedules) == 4 and {s["department"] for s in schedules} == {"naika"}
    doctors = {d["id"]: d for d in load(data, "doctors")["items"]}
    assert doctors["yamada-taro"]["kana"] and doctors["yamada-taro"]["url"].startswith("https://www.example.jp/renkei/")
    text = "".join(p.read_text(encoding="utf-8") for p in data.iterdir() if p.suffix in (".json", ".csv"))
    assert "@" not in text.replace("https://", "")  # no mail addresses at all (the partner list never gets here)


def test_rebuild_is_byte_identical(data):
    site = data.parents[2]
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


@pytest.mark.parametrize("where", ["minimal", "example"])
def test_the_data_page_gives_each_file_s_row_count(data, where):
    """The data page counts each dataset's rows without making them; the counts are the files' own."""
    root = data.parent.parent.parent if where == "minimal" else Path(__file__).resolve().parent.parent
    site, _ = load_site(Project.at(root), TODAY)
    counts = {entry["name"]: entry["rows"] for entry in listing(site)}
    made = {name: len(rows) for name, rows in records(site).items()}
    assert counts == made and any(made.values())
    if where == "minimal":
        assert counts["notices"] == 1 and counts["doctors"] == 3  # the expired notice and the draft are not data


@pytest.mark.parametrize("value,cell", [
    ("=HYPERLINK(\"https://evil.example\",\"山田\")", "'=HYPERLINK(\"https://evil.example\",\"山田\")"),
    ("=1+1", "'=1+1"), ("+SUM(A1:A2)", "'+SUM(A1:A2)"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tタブ", "'\tタブ"), ("\r=1", "'\r=1"), ("-", "'-"), ("+", "'+"),
    ("+81-3-0000-0000", "+81-3-0000-0000"), ("-5", "-5"), ("+1.5", "+1.5"), ("-(03) 0000-0000", "-(03) 0000-0000"),
    ("山田 太郎", "山田 太郎"), ("03-0000-0000", "03-0000-0000"), ("a=1", "a=1"), ("", ""), (None, ""), (-5, -5), (3, 3),
])
def test_a_csv_cell_that_excel_would_run_starts_with_a_quote(value, cell):
    from sitegen.web.opendata import csv_cell
    assert csv_cell(value) == cell


def test_a_formula_typed_into_the_content_is_text_in_the_csv_and_as_typed_in_the_json(tmp_path):
    site = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", site)
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    name = '=HYPERLINK("https://evil.example/","山田")'
    text = doctor.read_text(encoding="utf-8")
    doctor.write_text(re.sub(r"^name:.*$", lambda _: f"name: '{name}'", text, count=1, flags=re.M)
                      .replace("title: 部長", 'title: "@SUM(A1)"', 1), encoding="utf-8")
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    data = site / "build" / "site" / "data"
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((data / "doctors.csv").read_bytes().decode("utf-8-sig")))}
    assert rows["yamada-taro"]["name"] == "'" + name and rows["yamada-taro"]["title"] == "'@SUM(A1)"
    items = {d["id"]: d for d in load(data, "doctors")["items"]}
    assert items["yamada-taro"]["name"] == name  # the JSON keeps the value as typed
    for path in data.glob("*.csv"):
        for row in csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))):
            assert not any(cell.startswith(("=", "@")) for cell in row), (path.name, row)
