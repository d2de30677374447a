"""Japanese text helpers shared by every output."""
from __future__ import annotations

import re

CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]"
# A line break next to a Japanese character is not a space (Japanese is written without spaces, and an
# editor's soft wrap must not print 「です。 次に」); a line break between two Latin words stays a space, and
# a space typed on one line (院長 田中) stays. One rule for web, mail and print.
CJK_BREAK = re.compile(rf"(?:(?<={CJK})[ \t]*\n[ \t]*(?=\S)|(?<=\S)[ \t]*\n[ \t]*(?={CJK}))")
_PRE = re.compile(r"(<pre\b.*?</pre>)", re.S | re.I)


def join_cjk_lines(text: str) -> str:
    """Remove the line breaks (and the indentation around them) next to a Japanese character."""
    return CJK_BREAK.sub("", text)


def join_cjk_lines_html(html: str) -> str:
    """join_cjk_lines for HTML, leaving <pre> blocks as they are."""
    parts = _PRE.split(html)
    return "".join(p if i % 2 else join_cjk_lines(p) for i, p in enumerate(parts))
