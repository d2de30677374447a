"""Rendered Markdown (sanitised HTML, see content/markdown_html.py) -> readable plain text for the text/plain part.

Not "HTML with the tags stripped": headings get a mark, list items a bullet,
links keep their URL after the text (made absolute), table rows become lines
with cells separated by " / ", and paragraphs are separated by blank lines.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

from sitegen.content.japanese import join_cjk_lines
from sitegen.urls import make_absolute

_BLOCKS = {"p", "div", "blockquote", "pre", "table", "ul", "ol", "dl", "figure", "hr", "h2", "h3", "h4", "h5", "h6"}


class _Text(HTMLParser):
    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base = base_url
        self.out: list[str] = []
        self.lists: list[list] = []  # [kind, counter]
        self.href: str | None = None
        self.link_text: list[str] = []
        self.cells: list[str] | None = None
        self.cell: list[str] | None = None
        self.pre = 0

    def _write(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        elif self.href is not None:
            self.link_text.append(text)
        else:
            self.out.append(text)

    def _block(self) -> None:
        self.out.append("\n\n")

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h2", "h3", "h4", "h5", "h6"):
            self._block()
            self.out.append("■ " if tag == "h2" else "◆ ")
        elif tag in _BLOCKS:
            if tag in ("ul", "ol"):
                self.lists.append([tag, 0])
                if len(self.lists) > 1:
                    return
            if tag == "pre":
                self.pre += 1
            self._block()
            if tag == "hr":
                self.out.append("-" * 30)
        elif tag == "li":
            self.out.append("\n" + "  " * (len(self.lists) - 1))
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.out.append(f"{self.lists[-1][1]}. ")
            else:
                self.out.append("・")
        elif tag == "br":
            self._write("\n")
        elif tag == "a":
            self.href = a.get("href") or ""
            self.link_text = []
        elif tag == "img":
            alt = a.get("alt") or ""
            if alt:
                self._write(f"［画像：{alt}］")
        elif tag == "tr":
            self.cells = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag in ("dt", "dd"):
            self.out.append("\n" + ("  " if tag == "dd" else ""))

    def handle_endtag(self, tag):
        if tag == "a" and self.href is not None:
            text = "".join(self.link_text).strip()
            url = make_absolute(self.href, self.base)
            self.href = None
            if url and url not in (text, "mailto:" + text, "tel:" + text):
                self._write(f"{text}（{url}）" if text else url)
            else:
                self._write(text)
        elif tag in ("td", "th") and self.cell is not None and self.cells is not None:
            self.cells.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.cells is not None:
            self.out.append("\n" + " / ".join(self.cells))
            self.cells = None
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            if not self.lists:
                self._block()
        elif tag == "pre":
            self.pre -= 1
        elif tag in _BLOCKS:
            self._block()

    def handle_data(self, data):
        if not self.pre:
            data = join_cjk_lines(data)  # a line break inside Japanese text is not a space
            data = re.sub(r"\s+", " ", data)
        self._write(data)


def html_to_text(html: str, base_url: str) -> str:
    parser = _Text(base_url)
    parser.feed(str(html))
    parser.close()
    text = "".join(parser.out)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(line if line.strip() else "" for line in lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return "\n".join(line.lstrip(" ") if not line.startswith("  ") else line for line in text.split("\n"))
