"""Messages in Japanese: the catalogue, the choice of language, and every message of the invalid corpus."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner

from sitegen.cli import main
from sitegen.i18n import Messages, choose_language

SITES = Path(__file__).resolve().parent / "sites"
PO = Path(__file__).resolve().parents[1] / "generator/sitegen/locale/ja/LC_MESSAGES/sitegen.po"


@pytest.mark.parametrize("option, env, lang", [
    (None, {"LANG": "ja_JP.UTF-8"}, "ja"), (None, {"LC_ALL": "ja_JP.utf8", "LANG": "en_US.UTF-8"}, "ja"),
    (None, {"LANG": "en_US.UTF-8"}, "en"), (None, {}, "en"), (None, {"LANG": "C.UTF-8"}, "en"),
    ("en", {"LANG": "ja_JP.UTF-8"}, "en"), (None, {"SITEGEN_LANG": "en", "LANG": "ja_JP.UTF-8"}, "en"),
    ("ja", {"SITEGEN_LANG": "en"}, "ja"), (None, {"SITEGEN_LANG": "ja"}, "ja"),
])
def test_language_comes_from_the_option_then_sitegen_lang_then_the_locale(option, env, lang):
    assert choose_language(option, env) == lang


def test_the_catalogue_is_a_valid_po_file_and_every_translation_keeps_its_fields():
    with PO.open("rb") as f:
        catalog = read_po(f, locale="ja")
    messages = [m for m in catalog if m.id]
    assert len(messages) > 100
    field = re.compile(r"\{([A-Za-z_]\w*)\}")
    for m in messages:
        assert m.string, m.id
        assert set(field.findall(m.string)) <= set(field.findall(m.id)), m.id  # no field invented
        prose = re.sub(r"`[^`]*`", "", field.sub("", m.string))  # commands in backquotes stay as typed
        assert not re.search(r"[A-Za-z]{4,} [a-z]{3,} [a-z]{3,}", prose), m.string  # no English sentence left


def test_every_message_of_the_english_corpus_has_a_translation():
    m = Messages.for_language("ja")
    lines = [line for path in sorted((SITES / "invalid").glob("*/expected.txt"))
             for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) > 40
    for line in lines:
        m.line(line)
    assert m.missed == set()


def test_english_is_printed_as_it_is_and_an_unknown_message_stays_english():
    en, ja = Messages.for_language("en"), Messages.for_language("ja")
    text = "content/doctors/a.md:3: name: required field is missing"
    assert en.line(text) == text
    assert ja.line(text) == "content/doctors/a.md:3: name: 必ず書く項目がありません"
    assert ja.line("something nobody wrote a translation for") == "something nobody wrote a translation for"
    assert "something nobody wrote a translation for" in ja.missed


def test_nested_messages_are_translated_piece_by_piece():
    ja = Messages.for_language("ja")
    assert ja("unknown doctor 'sato' (did you mean 'satou'?); doctors are files in content/doctors/") == \
        "医師 'sato' はいません（もしかして 'satou' ですか？）。医師は content/doctors/ のファイルです"
    assert ja("expected a whole number, found the number 3.5") == "半角数字の整数で書いてください（書かれていたのは数値 3.5）"


@pytest.mark.parametrize("args", [["--lang", "ja", "build"], ["build", "--lang", "ja"], ["build", "--lang=ja"]])
def test_lang_may_be_given_before_or_after_the_command(tmp_path, args):
    result = CliRunner().invoke(main, args + ["--source", str(tmp_path), "--date", "2026-11-25"])
    assert result.exit_code == 1
    assert "site.yaml がありません" in result.stderr


def test_the_locale_picks_japanese_without_an_option(tmp_path, monkeypatch):
    monkeypatch.delenv("SITEGEN_LANG")
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    result = CliRunner().invoke(main, ["build", "--source", str(tmp_path)])
    assert "site.yaml がありません" in result.stderr
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    result = CliRunner().invoke(main, ["build", "--source", str(tmp_path)])
    assert "no site.yaml in" in result.stderr
