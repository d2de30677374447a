"""Plain paragraphs skip Python-Markdown (markdown_html.plain_paragraphs): for every text it takes, the HTML is
the one Python-Markdown makes, on the bodies of the example sites, on each of their lines and paragraphs, and on
generated text that mixes plain prose with every character Markdown reads as syntax."""
from __future__ import annotations

import random
import string
from pathlib import Path

import markdown
import pytest

from sitegen.content.markdown_html import EXTENSIONS, MarkdownRenderer, plain_paragraphs
from sitegen.content.sources import load_markdown_file

ROOT = Path(__file__).resolve().parent.parent


def markdowns() -> markdown.Markdown:
    return markdown.Markdown(extensions=EXTENSIONS, output_format="html")


def _bodies() -> list[str]:
    found = []
    for path in sorted([*ROOT.glob("content/**/*.md"), *(ROOT / "tests" / "sites").glob("**/*.md")]):
        source, _ = load_markdown_file(path, path.as_posix())
        if source is not None and source.body:
            found.append(source.body)
    return found


def _pieces(body: str) -> list[str]:
    """The body, each of its paragraphs and each of its lines: prose pulled out of structured bodies."""
    return [body, *body.split("\n\n"), *body.splitlines()]


def test_the_example_bodies_and_their_lines_give_python_markdowns_html():
    md = markdowns()
    taken = 0
    for body in _bodies():
        for text in _pieces(body):
            fast = plain_paragraphs(text)
            if fast is None:
                continue
            taken += 1
            md.reset()
            assert fast == md.convert(text), text
    assert taken > 200  # the example's prose is mostly plain


PROSE_START = ["", "本", "A", "z", "2026年", "1", "10", "（", "「", "𠮷"]
LINE_START = PROSE_START * 4 + ["(", " ", "  ", "    ", "\u3000", "\xa0",
              "#", "##", ">", "-", "- ", "+ ", "* ", "1. ", "2) ", "---", "===", "***", "___", "```", "~~~", "|", ":",
              "[a]: x", "<div>", "&amp;", "\\", "!", "\t", "\ufeff",
              "**太字**", "*強調*", "**", "*", "****", "** ", "*a", "**a"]
SAFE = list("本文診療科のご紹介をお待ちしています。、「」（）・ー") + list("aZx09 ") + ["2026", "10:00", "-", "=", "#", "(", ")",
                                                                      "'", '"', ".", ",", ":", ";", "/", "@", "%", "$", "^", "{", "}",
                                                                      "\u3000", "\xa0", "\u2028", "\ufeff", "𠮷"]
SYNTAX = list(string.punctuation) + ["\t", "\r", "\x0c", "\x00", "\x02", "\x03", "\x7f", "\x85", "\ud800", "  ", "**",
                                     "`x`", "[a](b)", "<b>", "&lt;", "\\*", "_x_", "~~x~~", "http://x.jp", "<http://x.jp>",
                                     "*", "***", "**太字**", "*強調*", "***両方***", "** a **", "**a*", "*a**"]


def _generated(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.2:
            lines.append(rng.choice(["", "", " ", "\u3000"]))  # blank, or white space only
            continue
        line = rng.choice(LINE_START) + "".join(rng.choice(SAFE) for _ in range(rng.randint(0, 12)))
        if rng.random() < 0.2:
            at = rng.randint(0, len(line))
            line = line[:at] + rng.choice(SYNTAX) + line[at:]
        if rng.random() < 0.1:
            line += rng.choice([" ", "  ", "\t", "\u3000"])
        lines.append(line)
    text = "\n".join(lines)
    return rng.choice(["", "\n", "\n\n"]) + text + rng.choice(["", "\n", "\n\n\n"])


def _compared(texts) -> tuple[list[str], int]:
    """The texts the shortcut takes, each checked against Python-Markdown's HTML, and how many it refuses."""
    md = markdowns()
    taken, refused = [], 0
    for text in texts:
        fast = plain_paragraphs(text)
        md.reset()
        slow = md.convert(text)
        if fast is None:
            refused += 1
            continue
        taken.append(text)
        assert fast == slow, repr(text)
    return taken, refused


def test_generated_text_gives_python_markdowns_html_whenever_it_is_taken():
    rng = random.Random(18)
    taken, refused = _compared(_generated(rng) for _ in range(20000))
    assert len(taken) > 2000 and refused > 5000, (len(taken), refused)


ASTERISKS = ["*", "**", "***", "****", "* ", " *", "** ", " **", "*\n", "\n*", "\n**", "\n* "]
WORDS = ["本文", "診療科", "a", "Z9", "（外来）", "「紹介」", "、", "。", " ", "  ", "\u3000", "2026年", "𠮷", "-", "=", "#"]


def _emphasis_text(rng: random.Random) -> str:
    """Prose with asterisks: pairs around words (strong, emphasis, both, across a line), lone ones, runs of them,
    at a line's start and end."""
    pieces = []
    for _ in range(rng.randint(1, 8)):
        roll = rng.random()
        inner = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
        if roll < 0.3:
            pieces.append(f"**{inner}**")
        elif roll < 0.5:
            pieces.append(f"*{inner}*")
        elif roll < 0.6:
            mark = rng.choice(ASTERISKS)
            pieces.append(f"{mark}{inner}{rng.choice(ASTERISKS)}")
        elif roll < 0.7:
            pieces.append(rng.choice(["\n", "\n\n"]))
        else:
            pieces.append(inner)
    return "".join(pieces).strip(" \u3000")


def test_strong_and_emphasis_give_python_markdowns_html_whenever_they_are_taken():
    rng = random.Random(2026)
    taken, refused = _compared(_emphasis_text(rng) for _ in range(20000))
    with_asterisks = sum("*" in text for text in taken)
    assert with_asterisks > 2000 and refused > 5000, (with_asterisks, refused)


@pytest.mark.parametrize("text", ["# 見出し", "本文\n===", "- 項目", "1. 項目", "3) 項目", "    code", "\u3000字下げ",
                                  "改行  \n次", "**太字\n続き**", "* 項目", "***", "* * *", "** 太字 **", "***太字***", "**a*b**", "a_b_c", "[リンク](https://x.jp)", "<b>x</b>", "a &amp; b",
                                  "| a | b |\n|---|---|\n| 1 | 2 |", "```\ncode\n```", "> 引用", "a\\*b", "本文\t", "~~~\nx\n~~~"])
def test_markdown_syntax_is_left_to_python_markdown(text):
    assert plain_paragraphs(text) is None


def test_the_renderer_gives_the_same_html_for_plain_text_either_way(monkeypatch):
    """Through the whole renderer (sanitizing, Japanese line joining, no-break spans): plain prose converts to the
    HTML Python-Markdown's way gives."""
    import sitegen.content.markdown_html as module

    rng = random.Random(7)
    texts = [_generated(rng) for _ in range(5000)] + [_emphasis_text(rng) for _ in range(3000)]
    # a lone surrogate cannot come from a file (read as UTF-8), and nh3 refuses it either way
    plain = [t for t in texts if plain_paragraphs(t) is not None and "\ud800" not in t]
    assert len(plain) > 500 and sum("*" in t for t in plain) > 300
    fast, slow = MarkdownRenderer(), MarkdownRenderer()
    try:
        got = [str(fast(t)) for t in plain]
        monkeypatch.setattr(module, "plain_paragraphs", lambda text: None)
        assert [str(slow(t)) for t in plain] == got
    finally:
        fast.close()
        slow.close()
