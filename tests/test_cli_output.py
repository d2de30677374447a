"""What the CLI prints never hands a control character from the content to the reader's terminal: an escape
sequence typed (or pasted) into a field and quoted by a message is printed as a visible escape (\\x1b), so it cannot
retitle the window, hide lines or fake output."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main, visible

SITES = Path(__file__).resolve().parent / "sites"
TITLE = "\x1b]0;pwn\x07"  # sets the terminal's title
RAW = ["\x1b", "\x07", "\x9b", "\x7f", "\r", "\x08", "\u202e"]


@pytest.mark.parametrize("text,shown", [
    ("a\x1b]0;pwn\x07b", "a\\x1b]0;pwn\\x07b"), ("\x9b31m", "\\x9b31m"), ("x\ry", "x\\x0dy"), ("\u202eabc", "\\u202eabc"),
    ("\x00\x7f", "\\x00\\x7f"), ("行1\n\tタブ", "行1\n\tタブ"), ("山田 太郎 ①", "山田 太郎 ①"),
])
def test_visible(text, shown):
    assert visible(text) == shown


@pytest.fixture()
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    naika = root / "content" / "departments" / "naika.md"
    naika.write_text(naika.read_text(encoding="utf-8").replace("urgent_contact: tel",
                                                                'urgent_contact: "\\e]0;pwn\\a\\u202e\\r"'),
                     encoding="utf-8")
    return root


@pytest.mark.parametrize("command", [["build", "--date", "2026-11-25"], ["check", "--skip", "ad", "--skip", "links",
                                                                          "--skip", "a11y", "--date", "2026-11-25"]])
def test_a_message_quoting_an_escape_sequence_prints_it_visibly(site, command):
    r = CliRunner().invoke(main, [*command, "--source", str(site)])
    assert r.exit_code == 1, r.output
    assert "found the text '\\x1b]0;pwn\\x07\\u202e\\r'" in r.output, r.output  # escaped where the message quotes it
    assert not any(c in r.output for c in RAW), repr(r.output)


def test_the_json_report_escapes_them_too(site):
    r = CliRunner().invoke(main, ["check", "--format", "json", "--skip", "ad", "--skip", "links", "--skip", "a11y",
                                  "--date", "2026-11-25", "--source", str(site)])
    assert not any(c in r.output for c in RAW), repr(r.output)
    report = json.loads(r.output)
    assert any("\\x1b]0;pwn\\x07" in f["message"] for f in report["findings"])  # quoted escaped, as in the text
