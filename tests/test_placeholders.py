"""Placeholders from the scaffolds are found; ordinary text with brackets and numbers is not."""
from __future__ import annotations

import pytest

from sitegen.content.placeholders import PLACEHOLDER


@pytest.mark.parametrize("text", ["（病院名） 地域医療連携室", "（氏名を入力）", "（ここに本文を書いてください。）",
                                  "（診療科の紹介を1〜2文で入力）", "(Hospital name)", "000-000-0001", "TEL 00-0000-1234",
                                  "（住所）", "（連絡先を記入してください）"])
def test_placeholders_are_found(text):
    assert PLACEHOLDER.search(text)


@pytest.mark.parametrize("text", ["03-0000-1200", "0120-000-123", "紹介状（診療情報提供書）をお持ちください",
                                  "（任意）", "山田 太郎（やまだ たろう）", "入力フォーム（Web予約）", "病院名を変更しました",
                                  "1000-000-0000", "（株）サンプル"])
def test_ordinary_text_is_not_a_placeholder(text):
    assert not PLACEHOLDER.search(text)


PLACEHOLDERS = ["（病院名）", "（氏名を入力）", "（ここに\u200b本文を書いてください。）", "(Hospital name)", "000-000-0001",
                "TEL 00-0000-1234", "0000-0000-9999", "（連絡先を\x07記入）"]
AROUND = ["", "前", "\\", "'\"", "\n", "\x00\u2028", "（", "0", "\ud800", "𠮷野家 "]


def test_a_placeholder_is_found_wherever_it_is_in_a_files_data_and_body():
    """The check reads a file's texts one by one only when the data's repr has a parenthesis or two zeros: every
    placeholder, with any characters around it (escaped by repr or not), at any depth, is still found — and
    data without one, brackets and zeros in keys and numbers included, gives nothing."""
    import itertools
    import random

    from sitegen.content.placeholders import check
    from sitegen.content.sources import Source, strings
    from sitegen.errors import ProblemList

    rng = random.Random(18)
    shapes = [lambda t: t, lambda t: [1, None, t], lambda t: {"a": {"b": [True, 2.5, t]}},
              lambda t: {"(k)": [{"00": t}]}, lambda t: [[[[t]]]]]
    for placeholder, before, after, shape in itertools.product(PLACEHOLDERS, AROUND, AROUND, shapes):
        text = before + placeholder + after
        expected = bool(PLACEHOLDER.search(text))
        problems = ProblemList()
        check([Source("content/x.yaml", {"name": shape(text), "n": 100})], problems)
        assert bool(problems.items) == expected, (text, shape(text))
        body = ProblemList()
        check([Source("content/x.md", {"name": "ok"}, {}, rng.choice(AROUND) + "\n" + text + "\n", 5)], body)
        assert bool(body.items) == expected, text
    for data in [{"(key)": "値", "n": 1000, "x": [0.001, "（任意）"]}, {"a": ["0", "（", "）"]}, {}]:
        problems = ProblemList()
        check([Source("content/x.yaml", data, {}, "本文（任意） 03-0000-1200")], problems)
        assert problems.items == [] and not any(PLACEHOLDER.search(t) for _, t in strings(data))
