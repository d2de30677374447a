"""Nested Markdown lists indented the way people type them.

Python-Markdown nests a list item only when it is indented by four spaces; PR staff
indent by two or three (as most editors and other Markdown tools do), and the nested
items then run into their parent's text (「予約票 - 紹介状」). This preprocessor reads
each list's own indentation — whatever width the author used, even mixed — and
rewrites it to the four spaces per level that Python-Markdown expects. Text outside
lists and fenced code blocks is left exactly as written.
"""
from __future__ import annotations

import re

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])( +|$)(.*)$")
FENCE = re.compile(r"^ *(```|~~~)")
RULE = re.compile(r"^ {0,3}([-*_])( *\1){2,} *$")  # --- *** ___ are rules, not items
UNIT = "    "


def normalise_lists(lines: list[str]) -> list[str]:
    out: list[str] = []
    stack: list[int] = []  # source indentation of each open list level
    blank_before = True
    in_paragraph = False  # inside an item's second (or later) paragraph
    fence: str | None = None
    for line in lines:
        if fence is not None:
            out.append(line)
            if line.strip().startswith(fence):
                fence = None
            continue
        if not line.strip():
            out.append(line)
            blank_before = True
            continue
        m = ITEM.match(line)
        indent = len(line) - len(line.lstrip(" "))
        if FENCE.match(line):
            fence = FENCE.match(line).group(1)  # type: ignore[union-attr]
            level = _level_for_text(stack, indent) if stack else -1
            out.append((UNIT * (level + 1) + line.lstrip(" ")) if stack and indent else line)
            blank_before = False
            continue
        if m and not RULE.match(line) and (stack or indent < 4):
            if not stack:
                stack.append(indent)
            elif indent > stack[-1]:
                stack.append(indent)
            else:
                while len(stack) > 1 and stack[-1] > indent:
                    stack.pop()
                if stack[-1] < indent:  # between two levels: a child of the shallower one
                    stack.append(indent)
                elif len(stack) == 1:
                    stack[0] = indent
            if in_paragraph:
                out.append("")  # Python-Markdown would run the item into that paragraph
            in_paragraph = False
            out.append(UNIT * (len(stack) - 1) + line.lstrip(" "))
        elif stack and indent > 0:
            # a continuation line of an item: indented under the deepest item it is indented past
            in_paragraph = in_paragraph or blank_before
            out.append(UNIT * (_level_for_text(stack, indent) + 1) + line.lstrip(" "))
        else:
            if stack and blank_before:
                stack = []  # unindented text after a blank line ends the list
                in_paragraph = False
            out.append(line)
        blank_before = False
    return out


def _level_for_text(stack: list[int], indent: int) -> int:
    level = 0
    for i, width in enumerate(stack):
        if width < indent:
            level = i
    return level


class _Lists(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return normalise_lists(lines)


class ListIndentExtension(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
        # after tabs are expanded (30), before fenced code (25) and raw HTML (20)
        md.preprocessors.register(_Lists(md), "sitegen_list_indent", 28)
