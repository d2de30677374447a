"""Messages in Japanese: the catalogue, the choice of language, and every message of the invalid corpus."""
from __future__ import annotations

import re
from pathlib import Path

import click
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


def _help_texts_of(command: click.Command) -> list[str]:
    found = [t for t in (command.help,) if t]
    found += [p.help for p in command.params if isinstance(p, click.Option) and p.help]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found += _help_texts_of(sub)
    return found


def test_every_help_text_has_a_japanese_translation_keeping_options_and_examples():
    from sitegen.i18n import help_texts

    table = help_texts("ja")
    texts = _help_texts_of(main)
    assert texts and [t for t in texts if t not in table] == []
    for text in texts:
        ja = table[text]
        assert re.search(r"[ぁ-んァ-ン一-龥]", ja), text  # really Japanese
        assert set(re.findall(r"--[a-z][a-z-]*", text)) <= set(re.findall(r"--[a-z][a-z-]*", ja)), text
        examples = [line.strip() for line in text.splitlines() if line.strip().startswith("sitegen ")]
        assert all(e.split("  ")[0] in ja for e in examples), text
        assert text.count("\b") == ja.count("\b"), text  # click keeps the paragraph after a \\b line as written


@pytest.mark.parametrize("args, env, japanese", [
    (["--help"], {"LANG": "ja_JP.UTF-8"}, True), (["build", "--help"], {"LANG": "ja_JP.UTF-8"}, True),
    (["--lang", "ja", "send", "--help"], {"LANG": "C.UTF-8"}, True), (["check", "--help", "--lang", "ja"], {}, True),
    (["--help"], {"LANG": "C.UTF-8"}, False), (["--lang", "en", "build", "--help"], {"LANG": "ja_JP.UTF-8"}, False),
])
def test_help_is_printed_in_the_readers_language(args, env, japanese, monkeypatch):
    for name in ("LANG", "LC_ALL", "LC_MESSAGES", "SITEGEN_LANG"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    kana = re.findall(r"[ぁ-ん]", result.output)
    assert bool(kana) is japanese, result.output
    assert "--source" in result.output or "--lang" in result.output
