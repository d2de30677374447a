"""Japanese text helpers shared by every output."""
from __future__ import annotations

import re

CJK = r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]"
# a line break between two Japanese characters: no space in print or mail (a space in 院長 田中 stays)
CJK_BREAK = re.compile(rf"({CJK})[ \t]*\n\s*({CJK})")


def join_cjk_lines(text: str) -> str:
    """Remove line breaks that fall between two Japanese characters."""
    return CJK_BREAK.sub(r"\1\2", text)
