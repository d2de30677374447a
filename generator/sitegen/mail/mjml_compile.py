"""The mjml-python (MRML) adapter: compile MJML to email HTML, with errors a person can act on.

What MRML does not do, done here:
- Syntax errors come as `ValueError('... at position 43:49')` where the numbers are *byte* offsets
  into the UTF-8 text; they become line:column (a string index would be wrong after Japanese text).
  Errors without a position ("unexpected end of stream") are located by tracking the mj- tags.
- Unknown mj- tags compile silently (they vanish from the mail): they are reported by line.
- `<mj-style inline="inline">` is not inlined: the compiled HTML goes through css-inline,
  keeping the <style> blocks for clients that read them (media queries).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import css_inline
import mjml

from sitegen.errors import SitegenError

# Every MJML 4 element (mjml.io documentation); anything else starting with mj- is a typo.
KNOWN_TAGS = frozenset("""
mjml mj-head mj-body mj-include mj-attributes mj-all mj-class mj-breakpoint mj-font mj-html-attributes
mj-selector mj-html-attribute mj-preview mj-style mj-title mj-accordion mj-accordion-element
mj-accordion-title mj-accordion-text mj-button mj-carousel mj-carousel-image mj-column mj-divider
mj-group mj-hero mj-image mj-navbar mj-navbar-link mj-raw mj-section mj-social mj-social-element
mj-spacer mj-table mj-text mj-wrapper
""".split())
_POSITION = re.compile(r"at position (\d+):(\d+)")
_TAG = re.compile(r"<(/?)(mj[a-z0-9-]*)\b[^>]*?(/?)>", re.S)
_COMMENT_OR_RAW = re.compile(r"<!--.*?-->", re.S)


class MjmlError(SitegenError):
    """An MJML template rendered to something MRML cannot compile; `line`/`column` are in the MJML text."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, excerpt: str = ""):
        self.message, self.line, self.column, self.excerpt = message, line, column, excerpt
        where = f"line {line}, column {column}: " if line else ""
        super().__init__(f"{where}{message}" + (f"\n    {excerpt}" if excerpt else ""))


@dataclass(frozen=True)
class Compiled:
    html: str
    mjml: str


def byte_offset_to_line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset into text's UTF-8 encoding."""
    prefix = text.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
    line = prefix.count("\n") + 1
    return line, len(prefix) - (prefix.rfind("\n") + 1) + 1


def _excerpt(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1].strip()[:120] if 0 < line <= len(lines) else ""


def check_tags(text: str) -> list[MjmlError]:
    """Unknown mj- tags and unbalanced mj- tags, by line (MRML would drop or misreport them)."""
    problems: list[MjmlError] = []
    stack: list[tuple[str, int]] = []
    blanked = _COMMENT_OR_RAW.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    for m in _TAG.finditer(blanked):
        closing, name, selfclosing = m.group(1), m.group(2), m.group(3)
        line = blanked.count("\n", 0, m.start()) + 1
        if name not in KNOWN_TAGS:
            problems.append(MjmlError(f"unknown MJML element <{name}>", line, m.start() - blanked.rfind("\n", 0, m.start()), _excerpt(text, line)))
            continue
        if selfclosing:
            continue
        if not closing:
            stack.append((name, line))
        elif stack and stack[-1][0] == name:
            stack.pop()
        else:
            opened = f" (open: <{stack[-1][0]}> from line {stack[-1][1]})" if stack else ""
            problems.append(MjmlError(f"closing </{name}> does not match{opened}", line, None, _excerpt(text, line)))
            return problems
    for name, line in stack:
        problems.append(MjmlError(f"<{name}> is never closed", line, None, _excerpt(text, line)))
    return problems


def compile_mjml(text: str) -> Compiled:
    """MJML -> HTML with CSS inlined. Raises MjmlError with a line and column."""
    problems = check_tags(text)
    if problems:
        raise problems[0]
    try:
        html = mjml.mjml2html(text, disable_comments=True)
    except ValueError as exc:
        message = str(exc)
        match = _POSITION.search(message)
        if match:
            line, col = byte_offset_to_line_col(text, int(match.group(1)))
            raise MjmlError(_POSITION.sub("", message).replace(" in root template", "").strip(),
                            line, col, _excerpt(text, line)) from None
        raise MjmlError(message.replace(" in root template", "")) from None
    try:
        return Compiled(inline_css(html), text)
    except css_inline.InlineError as exc:  # the theme's CSS: a style attribute or an <mj-style> it cannot read
        raise MjmlError(f"the CSS of a style attribute or <mj-style> cannot be read: {exc}") from None


def inline_css(html: str) -> str:
    """Move the rules of <style> blocks into style attributes (Gmail drops <style> for many accounts).

    Media queries cannot be inlined and stay in <head>; css-inline keeps style tags that it could not
    fully inline when `keep_style_tags` is set.
    """
    inliner = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
    return inliner.inline(html)
