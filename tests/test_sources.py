"""The YAML reader: PyYAML's pitfalls are closed, line numbers are kept."""
from __future__ import annotations

import pytest

from sitegen.content.sources import load_markdown_file, parse_yaml


def test_times_ids_and_yes_no_stay_text():
    data, _, problems = parse_yaml("a: 9:30\nb: 13:45\nc: 0123\nd: NO\ne: on\nf: 12\ng: 1.5\nh: true\ni: ~\n", "x.yaml")
    assert problems == []
    assert data == {"a": "9:30", "b": "13:45", "c": "0123", "d": "NO", "e": "on", "f": 12, "g": 1.5, "h": True, "i": None}


def test_dates_stay_text_for_the_schema_to_check():
    data, _, _ = parse_yaml("d: 2026-04-01\n", "x.yaml")
    assert data == {"d": "2026-04-01"}


def test_duplicate_keys_are_an_error_with_both_lines():
    _, _, problems = parse_yaml("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", "x.yaml")
    assert [str(p) for p in problems] == [
        "x.yaml:4: b.c: duplicate key 'c' (first given on line 3)",
        "x.yaml:5: a: duplicate key 'a' (first given on line 1)",
    ]


def test_anchors_and_aliases_are_refused():
    bomb = 'a: &a ["lol","lol"]\nb: &b [*a,*a,*a]\nc: &c [*b,*b,*b]\n'
    data, _, problems = parse_yaml(bomb, "x.yaml")
    assert data is None
    assert [str(p) for p in problems] == ["x.yaml:1: YAML anchors ('&a') are not allowed; write the value out"]


def test_deep_nesting_ends_in_a_clean_error():
    data, _, problems = parse_yaml("[" * 50000, "x.yaml")
    assert data is None
    assert "nested more than" in problems[0].message


def test_python_tags_are_refused():
    data, _, problems = parse_yaml("a: !!python/object/apply:os.system ['true']\n", "x.yaml")
    assert data is None
    assert "not allowed" in problems[0].message


def test_marks_point_at_keys_and_list_items():
    _, marks, _ = parse_yaml("a:\n  - x\n  - y: 1\n    z: 2\n", "x.yaml")
    assert marks[("a",)] == 1
    assert marks[("a", 1)] == 3
    assert marks[("a", 1, "z")] == 4


def test_front_matter_lines_are_file_lines(tmp_path):
    f = tmp_path / "d.md"
    f.write_text("---\nname: 内科\nbad: [\n---\n本文\n", encoding="utf-8")
    source, problems = load_markdown_file(f, "content/d.md")
    assert source is None
    assert problems[0].location.line == 4  # the unclosed flow list is noticed at the fence line
    f.write_text("---\nname: 内科\nkana: ないか\n---\n本文\n", encoding="utf-8")
    source, problems = load_markdown_file(f, "content/d.md")
    assert problems == [] and source.line(("kana",)) == 3 and source.body == "本文\n" and source.body_line == 5


def test_a_duplicate_key_in_front_matter_names_the_first_line_of_the_file(tmp_path):
    f = tmp_path / "d.md"
    f.write_text("---\nname: 内科\nkana: ないか\nname: 外科\nsub:\n  a: 1\n  a: 2\n---\n本文\n", encoding="utf-8")
    _, problems = load_markdown_file(f, "content/d.md")
    assert [str(p) for p in problems] == [
        "content/d.md:4: name: duplicate key 'name' (first given on line 2)",
        "content/d.md:7: sub.a: duplicate key 'a' (first given on line 6)",
    ]


def test_not_utf8_is_reported_with_its_line(tmp_path):
    f = tmp_path / "d.md"
    f.write_bytes("---\nname: 内科\n".encode() + "kana: ないか\n".encode("shift_jis") + b"---\n")
    source, problems = load_markdown_file(f, "content/d.md")
    assert source is None
    assert str(problems[0]) == "content/d.md:3: the file is not UTF-8 text; save it as UTF-8"


def test_libyaml_and_the_python_loader_read_every_example_file_alike():
    """The fast paths (libyaml's own composer; libyaml events with our composer where '&' or '*' occurs) give
    the same data and lines as the pure-Python loader, for every YAML file and front matter in the repository."""
    from pathlib import Path

    import sitegen.content.sources as src

    root = Path(__file__).resolve().parent.parent
    files = [root / "site.yaml"] + sorted((root / "content").rglob("*.yaml")) + sorted((root / "tests" / "sites").rglob("*.yaml"))
    texts = [f.read_text(encoding="utf-8", errors="replace") for f in files]
    for f in sorted((root / "content").rglob("*.md")) + sorted((root / "tests" / "sites").rglob("*.md")):
        text = f.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---\n") and "\n---\n" in text[3:]:
            texts.append(text[4:text.index("\n---\n", 3) + 1])
    texts.append("title: 地域医療連携室 & 患者支援センター\nnote: '*印は予約制'\nslots:\n  - {day: mon, time: am}\n")
    assert src.CParser is not None, "PyYAML without libyaml: install PyYAML's wheel"
    compared = 0
    kinds = set()
    for text in texts:
        fast = src._fast_loader(text)
        if fast is None:
            continue
        try:
            got = src._compose(fast, "f.yaml", 1)
        except Exception:
            continue  # an invalid sample: the Python loader reports it (compared in the invalid goldens)
        want = src._compose(src._Loader(text), "f.yaml", 1)
        assert got == want, text
        compared += 1
        kinds.add(type(fast).__name__)
    assert compared > 100 and kinds == {"_CComposer", "_CLoader"}


def test_libyaml_composer_never_sees_anchors_and_its_depth_is_bounded():
    """libyaml's own composer expands aliases and does not count depth: text with '&' or '*' goes to our composer,
    and nesting built from both indentation and brackets is still refused with its line."""
    from sitegen.content.sources import parse_yaml

    data, _, problems = parse_yaml("a: &x [1]\nb: *x\n", "f.yaml")
    assert data is None and "anchors" in problems[0].message
    data, _, problems = parse_yaml("title: 5 * 3 & more\n", "f.yaml")
    assert data == {"title": "5 * 3 & more"} and problems == []
    text = "".join("  " * i + f"k{i}:\n" for i in range(19)) + "  " * 19 + "v: " + "[" * 20 + "1" + "]" * 20 + "\n"
    data, _, problems = parse_yaml(text, "f.yaml")
    assert data is None and [str(p) for p in problems] == ["f.yaml:20: nested more than 40 levels deep"]


@pytest.mark.parametrize("text, hint", [
    ("name: 山田 太郎\n\tkana: やまだ\n", "indent with spaces only"),
    ("summary: 日時: 14:00\n", 'put the whole value in double quotes'),
    ("departments: [naika, geka\nkana: x\n", "is not closed"),
    ('title: "年末年始のお知らせ\nsummary: x\n', "must end with the same quote"),
    ("title: a\n  summary: b\n", "align it with the line above"),
])
def test_yaml_syntax_errors_come_with_the_usual_cause_and_a_fix(text, hint):
    from sitegen.content.sources import parse_yaml

    data, _, problems = parse_yaml(text, "content/news/x.md", first_line=2)
    assert data is None and len(problems) == 1
    message = problems[0].message
    assert message.startswith("YAML syntax error: ") and hint in message, message
    assert "（" in message  # the same advice in Japanese for PR staff
    assert problems[0].location.line and problems[0].location.line >= 2


# What a Japanese keyboard types where YAML needs ASCII: the error names that line and that character, not the
# line after it with the parser's words.
@pytest.mark.parametrize("text, line, words", [
    ("name: 千葉 直樹\nkana： ちば なおき\ntitle: 医長\n", 2, ["「kana：」", "full-width colon"]),
    ("name: 千葉 直樹\ntitle： 医長\n", 2, ["「title：」"]),
    ("referral:\n  patients: [a]\n  notes：\n    - b\n", 3, ["「notes：」"]),
    ("features:\n  - a\n  - photo：x\nsummary: s\n", None, []),  # a value may hold a full-width colon
    ("referral:\n\u3000patients: [a]\n  first_visit: b\n", 2, ["full-width space"]),
    ("name: a\nfeatures:\n  - b\n\u3000\u3000- c\nx: 1\n", 4, ["full-width space"]),
    ("name: a\nfeatures:\n  - b\n  － c\nconditions: [x]\n  - d\n", 4, ["「－」"]),
])
def test_a_full_width_colon_space_or_dash_is_named_at_its_line(tmp_path, text, line, words):
    f = tmp_path / "d.md"
    f.write_text("---\n" + text + "---\n本文\n", encoding="utf-8")
    source, problems = load_markdown_file(f, "content/d.md")
    if line is None:
        assert source is not None and not problems
        return
    assert len(problems) == 1, problems
    assert problems[0].location.line == line + 1  # after the opening ---
    for w in words:
        assert w in problems[0].message


def test_a_full_width_colon_far_above_the_error_is_not_blamed(tmp_path):
    f = tmp_path / "d.md"
    f.write_text("---\nsummary: |\n  TEL：000-000-0000\n  受付：平日\n  本文\n  続き\nname: a\n  bad: [\n---\n", encoding="utf-8")
    source, problems = load_markdown_file(f, "content/d.md")
    assert source is None and len(problems) == 1
    assert "full-width" not in problems[0].message and "TEL" not in problems[0].message


def test_a_tab_in_the_indentation_is_named_without_the_parsers_words(tmp_path):
    f = tmp_path / "d.md"
    f.write_text("---\nname: a\nfeatures:\n\t- b\n---\n", encoding="utf-8")
    source, problems = load_markdown_file(f, "content/d.md")
    assert source is None and len(problems) == 1
    assert problems[0].location.line == 4
    assert problems[0].message.startswith("YAML syntax error: a tab is used for indentation"), problems[0].message
    assert "token" not in problems[0].message and "scanning" not in problems[0].message
