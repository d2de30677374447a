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
