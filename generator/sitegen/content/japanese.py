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


# Phone numbers, times, dates and amounts must not break across lines (「17:0/0」「03-/0000-/1200」):
# wrapped in <span class="nb"> (white-space: nowrap in every stylesheet).
NO_BREAK = re.compile(
    r"(?:TEL|FAX|ＴＥＬ|ＦＡＸ)[:：]?\s?\d{2,5}-\d{1,4}-\d{3,4}"  # FAX 03-0000-1202
    r"|\d{2,5}-\d{1,4}-\d{3,4}"  # 03-0000-1200, 0120-000-123
    r"|\d{1,2}[:：]\d{2}(?:\s?[〜~～－-]\s?翌?\d{1,2}[:：]\d{2})?"  # 8:30, 8:30〜17:00
    r"|ＦＡＸ|ＴＥＬ"
    r"|\d{1,3}(?:,\d{3})+(?:円|件|人|名)?"  # 12,000円
)
_TAG = re.compile(r"(<[^>]*>)")


def no_break_html(html: str) -> str:
    """HTML with each phone number, time range and amount in its text wrapped so it stays on one line
    (not inside <pre>, tags or attributes)."""
    out = []
    skip = 0
    for part in _TAG.split(html):
        if part.startswith("<"):
            low = part[:5].lower()
            if low.startswith("<pre"):
                skip += 1
            elif low.startswith("</pre"):
                skip = max(0, skip - 1)
            out.append(part)
        elif skip or not part:
            out.append(part)
        else:
            out.append(NO_BREAK.sub(lambda m: f'<span class="nb">{m.group()}</span>', part))
    return "".join(out)
