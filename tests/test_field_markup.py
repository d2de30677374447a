"""Markdown or HTML typed into a plain-text field is a warning at its file, line and field; a Markdown body, a
newsletter section's body and ordinary text with brackets and asterisks are not."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.content.field_markup import _message
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"


@pytest.mark.parametrize("text", ["面談の前に、[入院相談票](files/soudan.pdf)をFAXでお送りください。",
                                  "詳しくは[こちら](https://www.example.jp/)", "[予約票]()",
                                  "**紹介状は必須です**", "__必ず__お電話ください",
                                  "受付は<br>平日のみ", '<a href="files/x.pdf">申込書</a>', "<strong>注意</strong>",
                                  "<B>重要</B>", "<span style='color:red'>休診</span>"])
def test_markup_in_a_field_is_found(text):
    assert _message(text)


@pytest.mark.parametrize("text", ["［重要］予約制です", "[予約制]", "(月)・(水)", "[A] (B)", "HbA1c 7.0%以上*", "* 印は予約制",
                                  "血圧<140/90 mmHg", "eGFR <30", "2 < 3 > 1", "1日3回**", "a_b_c",
                                  "file_name_here"])
def test_ordinary_text_is_not_markup(text):
    assert not _message(text)


def test_the_warning_names_the_file_line_and_field_of_every_field_but_a_body(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    department = site / "content/departments/naika.md"
    text = department.read_text(encoding="utf-8")
    text = text.replace("  first_visit: 紹介制\n",
                        "  first_visit: 紹介制\n  notes:\n    - 事前に[紹介状](files/shokai.pdf)をお送りください。\n")
    text = text.replace("summary: 内科全般の診療を行っています。", "summary: 内科全般の**診療**を行っています。")
    department.write_text(text, encoding="utf-8")
    yaml = site / "site.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("label: 紹介予約FAX", "label: 紹介予約FAX<br>24時間"),
                    encoding="utf-8")
    report = run(Project.at(site), BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",)))
    found = {(w.location.path, w.location.line, w.field): w.message for w in report.warnings if "plain text" in w.message}
    lines = text.splitlines()
    notes_line = next(i for i, line in enumerate(lines, 1) if "[紹介状]" in line)
    summary_line = next(i for i, line in enumerate(lines, 1) if line.startswith("summary:"))
    assert ("content/departments/naika.md", notes_line, "referral.notes[0]") in found
    assert ("content/departments/naika.md", summary_line, "summary") in found
    assert any(path == "site.yaml" and field.endswith(".label") for path, _, field in found)
    assert len(found) == 3, found  # the body's **ご紹介** is Markdown
    assert "「[紹介状](files/shokai.pdf)」" in found[("content/departments/naika.md", notes_line, "referral.notes[0]")]
