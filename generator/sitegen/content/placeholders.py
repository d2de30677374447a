"""Placeholders left from `sitegen init` / `sitegen new`: 「（病院名）」「（氏名を入力）」, 000-000-0001.

The scaffolds validate as written (so a new site builds at once), which also means a
forgotten placeholder would be published. Every text value and Markdown body is searched;
each hit is a warning at its file, line and field (an error with `check --strict`).
"""
from __future__ import annotations

import re

from sitegen.content.sources import Source, dotted, strings
from sitegen.errors import Location, ProblemList

PLACEHOLDER = re.compile(
    r"（[^（）\n]{0,40}?(?:[をで]入力|入力して|を書いて|を記入)[^（）\n]{0,40}）"  # （氏名を入力）（ここに本文を書いてください。）
    r"|（(?:病院名|医院名|医療機関名|びょういんめい|住所|氏名|電話番号|メールアドレス|部署名)）"
    r"|\((?:Hospital name|Name)\)"
    r"|(?<![\d-])0{2,4}-0{2,4}-\d{4}(?!\d)"  # 000-000-0001: no real number starts 000-000
)


# what every placeholder holds: a parenthesis (full-width or not) or zeros on both sides of a dash (000-000-0001).
# The data's repr writes these characters as they are, so a file's texts are searched one by one only when its
# repr has one (walking every text of 10,000 files took a tenth of loading them)
_HINT = re.compile(r"[（(]|00-00")


def check(sources: list[Source], problems: ProblemList) -> None:
    for source in sources:
        if _HINT.search(repr(source.data)):
            for loc, text in strings(source.data):
                m = PLACEHOLDER.search(text)
                if m:
                    problems.warning(source.location(loc), dotted(loc), _message(m.group()))
        body = source.body or ""
        for i, line in enumerate(body.splitlines() if _HINT.search(body) else ()):
            m = PLACEHOLDER.search(line)
            if m:
                problems.warning(Location(source.path, source.body_line + i), "body", _message(m.group()))


def _message(found: str) -> str:
    return (f"「{found}」 is a placeholder from sitegen init/new and would be published as it is; "
            "replace it with your own text (or delete the line)")
