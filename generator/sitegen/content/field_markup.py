"""Markdown or HTML typed into a field: 「[紹介状](files/shokaijo.pdf)」 in a department's `referral.notes`.

Only a Markdown body (below a file's second `---`, and a newsletter section's `body`) is Markdown. Every other
field is text, shown as typed, escaped, so a link written there is published as brackets and an address, with no
link. Each one found is a warning at its file, line and field (an error with `check --strict`), telling where
links and emphasis do work.
"""
from __future__ import annotations

import re

from sitegen.content.sources import Source, dotted, strings
from sitegen.errors import ProblemList

_LINK = re.compile(r"\[[^\[\]\n]+\]\([^()\s]*\)")  # [text](address)
_EMPHASIS = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")  # **bold**
_TAG = re.compile(r"</?(?:a|b|br|strong|em|i|u|span|font|div|p|ul|ol|li|table|img)\b[^<>]*>", re.IGNORECASE)
# every one of them holds one of these: a file is searched text by text only when its repr has one
_HINT = re.compile(r"\]\(|\*\*|__|<")

MARKDOWN_FIELDS = ("body",)  # a field by this name is Markdown (a newsletter section's body)


def check(sources: list[Source], problems: ProblemList) -> None:
    for source in sources:
        if not _HINT.search(repr(source.data)):
            continue
        for loc, text in strings(source.data):
            if loc and loc[-1] in MARKDOWN_FIELDS:
                continue
            message = _message(text)
            if message:
                problems.warning(source.location(loc), dotted(loc), message)


def _message(text: str) -> str | None:
    where = ("links and bold work only in a page's Markdown body, below the second `---` line; "
             "here write the words alone")
    found = _LINK.search(text)
    if found:
        return (f"「{found.group()}」 is a Markdown link, but this field is plain text: it would be published as typed, "
                f"with no link; {where} (and link from the body, or list the form in a guide's `forms`)")
    found = _EMPHASIS.search(text)
    if found:
        return f"「{found.group()}」 is Markdown bold, but this field is plain text: the asterisks would be published; {where}"
    found = _TAG.search(text)
    if found:
        return f"「{found.group()}」 is HTML, but this field is plain text: the tag would be published as typed; {where}"
    return None
