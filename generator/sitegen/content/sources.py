"""Read YAML files and Markdown front matter, keeping line numbers.

PyYAML's defaults are unkind to hospital data: `9:30` becomes 570 (YAML 1.1
sexagesimal), `0123` becomes 83, `NO` becomes False, duplicate keys silently
overwrite each other, aliases can explode, and deep nesting can crash the C
loader. This module uses the pure-Python parser with a small YAML 1.2-like
resolver (only true/false, null, plain decimal numbers are typed; everything
else stays a string), refuses duplicate keys, anchors and aliases, and bounds
nesting depth and file size. Each value's line is kept so that a validation
error can point at it.
"""
from __future__ import annotations

import copy
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from sitegen.errors import Location, Problem

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 40

Loc = tuple  # a path into the data: ("slots", 3, "doctor")


class _Resolver(BaseResolver):
    """Only unambiguous scalars get a type; times, ids and yes/no stay strings."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:0|[1-9][0-9]*)\.[0-9]+$"),
    list("-+0123456789"),
)


class _YamlProblem(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _Composer(Composer):
    """Composer that refuses anchors/aliases and bounds nesting depth."""

    _depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _YamlProblem(
                event.start_mark.line + 1,
                f"YAML aliases ('*{event.anchor}') are not allowed; write the value out",
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise _YamlProblem(
                event.start_mark.line + 1,
                f"YAML anchors ('&{event.anchor}') are not allowed; write the value out",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _YamlProblem(
                    event.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Loader(Reader, Scanner, Parser, _Composer, _Resolver):
    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        _Composer.__init__(self)
        _Resolver.__init__(self)


try:  # libyaml scans and parses several times faster than the pure-Python reader
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None


if CParser is not None:
    class _CLoader(_Composer, CParser, _Resolver):
        """libyaml's events, composed by _Composer (anchors, aliases and depth refused as above)."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            _Composer.__init__(self)
            _Resolver.__init__(self)

        get_single_node = _Composer.get_single_node  # the Python composer, not libyaml's own

    class _CComposer(CParser, _Resolver):
        """libyaml's parser and composer: only for text with no '&' or '*' anywhere, so no anchor or alias can
        reach it; the depth is bounded by _brackets_too_deep before and by _construct after."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            _Resolver.__init__(self)


_BRACKETS = re.compile(r"[\[\]{}]")


def _brackets_too_deep(text: str) -> bool:
    """A cheap upper bound of the nesting: libyaml must never see what the Python loader refuses as too deep."""
    depth = deepest = 0
    for ch in _BRACKETS.findall(text):  # the brackets alone: most files have none
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    indent = max((len(line) - len(line.lstrip(" -")) for line in text.splitlines()), default=0)
    return deepest > MAX_DEPTH // 2 or indent > MAX_DEPTH


def _fast_loader(text: str):
    """The libyaml loader for ordinary text, or None when only the Python loader may read it: unprintable
    characters (its messages name them), deep nesting, or no libyaml."""
    if CParser is None or Reader.NON_PRINTABLE.search(text) or _brackets_too_deep(text):
        return None
    if "&" not in text and "*" not in text:
        return _CComposer(text)
    return _CLoader(text)


def strings(data: Any, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every text value in parsed data, with its path (for checks that read all of a file's text)."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from strings(value, loc + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from strings(value, loc + (i,))


@dataclass(frozen=True)
class Source:
    """One file's data with the line of every key and list item."""

    path: str
    data: Any
    marks: dict = field(default_factory=dict, compare=False)
    body: str = ""
    body_line: int = 1

    def line(self, loc: Loc = ()) -> int | None:
        """The line of `loc`, or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.marks:
                return self.marks[loc]
            loc = loc[:-1]
        return self.marks.get((), 1)

    def location(self, loc: Loc = ()) -> Location:
        return Location(self.path, self.line(loc))


def _construct(node, loc: Loc, marks: dict, problems: list, path: str, offset: int = 0) -> Any:
    """`node` as plain data; `offset`: the lines before the parsed text in its file (a front matter's `---`), which
    a message naming another line adds."""
    if len(loc) >= MAX_DEPTH:  # libyaml's composer does not count (the Python loader then says where)
        raise _YamlProblem(node.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
    marks.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, ScalarNode):
        value = node.value
        if node.tag == "tag:yaml.org,2002:bool":
            return value.lower() == "true"
        if node.tag == "tag:yaml.org,2002:null":
            return None
        if node.tag == "tag:yaml.org,2002:int":
            if len(value) > 100:  # Python refuses to convert thousands of digits; no content needs 100
                raise _YamlProblem(node.start_mark.line + 1, f"a number with {len(value)} digits; "
                                   "write at most 100 digits, or put the value in quotes if it is text")
            return int(value)
        if node.tag == "tag:yaml.org,2002:float":
            return float(value)
        if node.tag in ("tag:yaml.org,2002:str", "!"):
            bad = BODY_CONTROL.search(value)
            if bad is not None:  # raw ones the reader refuses; these were written as escapes ("\e", "\x07")
                code = ord(bad.group())
                problems.append(Problem(Location(path, node.start_mark.line + 1), _dotted(loc),
                                        f"the value contains the {_control_kind(code)} U+{code:04X}"
                                        f"{_control_name(code)} (an escape such as \\e or \\x07 in double quotes), "
                                        "which would break the page, the news feed or the newsletter; delete it"))
            return value
        raise _YamlProblem(node.start_mark.line + 1, f"YAML tag '{node.tag}' is not allowed")
    if isinstance(node, SequenceNode):
        if node.tag not in ("tag:yaml.org,2002:seq",):
            raise _YamlProblem(node.start_mark.line + 1, f"YAML tag '{node.tag}' is not allowed")
        return [_construct(item, loc + (i,), marks, problems, path, offset) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        if node.tag not in ("tag:yaml.org,2002:map",):
            raise _YamlProblem(node.start_mark.line + 1, f"YAML tag '{node.tag}' is not allowed")
        result: dict = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _YamlProblem(key_node.start_mark.line + 1, "a key must be plain text")
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in result:
                first = marks.get(loc + (key,))
                problems.append(
                    Problem(
                        Location(path, line),
                        _dotted(loc + (key,)),
                        f"duplicate key '{key}' (first given on line {first + offset if first else first})",
                    )
                )
                continue
            marks[loc + (key,)] = line
            result[key] = _construct(value_node, loc + (key,), marks, problems, path, offset)
        return result
    raise _YamlProblem(node.start_mark.line + 1, "unsupported YAML node")  # pragma: no cover


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


dotted = _dotted


# Opt-in memo of parse_yaml, keyed by the text itself (so it can never be stale). `sitegen serve` sets a
# dict here for its rebuild thread: after an edit only the changed file is parsed again.
PARSE_CACHE: ContextVar[dict | None] = ContextVar("sitegen_parse_cache", default=None)


def parse_yaml(text: str, path: str, first_line: int = 1) -> tuple[Any, dict, list[Problem]]:
    """Parse YAML text. Returns (data, marks, problems); data is None on a fatal problem."""
    cache = PARSE_CACHE.get()
    if cache is None:
        return _parse_yaml(text, path, first_line)
    key = (text, path, first_line)
    if key not in cache:
        cache[key] = _parse_yaml(text, path, first_line)
    data, marks, problems = cache[key]
    return copy.deepcopy(data), marks, list(problems)


_YAML_BREAKS = re.compile("[\u0085\u2028\u2029]")
_BREAK_NAMES = {"\u0085": "NEXT LINE", "\u2028": "LINE SEPARATOR", "\u2029": "PARAGRAPH SEPARATOR"}


def _parse_yaml(text: str, path: str, first_line: int = 1) -> tuple[Any, dict, list[Problem]]:
    problems: list[Problem] = []
    offset = first_line - 1
    for m in _YAML_BREAKS.finditer(text):  # YAML reads these as line breaks: every line number after would be off
        problems.append(Problem(Location(path, text[:m.start()].count("\n") + 1 + offset), "",
                                f"the text contains U+{ord(m.group()):04X} ({_BREAK_NAMES[m.group()]}), an invisible "
                                "character that YAML reads as a line break; delete it (often pasted from Word or a web page)"))
    if problems:
        return None, {}, problems
    fast = _fast_loader(text)
    if fast is not None:
        try:
            return _compose(fast, path, first_line)
        except (yaml.YAMLError, _YamlProblem, RecursionError):
            pass  # read again by the Python loader below, whose messages and marks the goldens know
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML refuses the whole text up front
        bad_line = text[: exc.position].count("\n") + 1 + offset
        return None, {}, [Problem(Location(path, bad_line), "", f"the text contains the control character "
                                  f"U+{exc.character:04X}, which YAML does not allow; delete it (it is invisible, "
                                  "often pasted from another program)")]
    try:
        return _compose(loader, path, first_line)
    except _YamlProblem as exc:
        return None, {}, [Problem(Location(path, exc.line + offset if exc.line else None), "", exc.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        typed = full_width_cause(text, mark.line if mark else None)
        if typed is not None:  # the parser stops a line or more after it, with words about tokens
            return None, {}, [Problem(Location(path, typed[0] + 1 + offset), "", f"YAML syntax error: {typed[1]}")]
        line = mark.line + 1 + offset if mark else None
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        hint = yaml_hint(exc, text, mark)
        if hint.startswith(TAB_HINT):  # the cause is certain: the parser's words about tokens would only confuse
            return None, {}, [Problem(Location(path, line), "", f"YAML syntax error: {hint[2:]}")]
        return None, {}, [Problem(Location(path, line), "", f"YAML syntax error: {what}{hint}")]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(Location(path, None), "", f"YAML error: {exc}")]
    except RecursionError:
        return None, {}, [Problem(Location(path, None), "", "the file is nested too deeply")]


# what a Japanese keyboard types where YAML needs ASCII: a full-width colon after a field's name, a full-width space
# in the indentation, a full-width hyphen or a long vowel mark as a list's dash
_FULL_WIDTH_COLON = re.compile(r"^[ \u3000]*(?:- )?([A-Za-z_][A-Za-z0-9_-]*)[ \u3000]*：")
_FULL_WIDTH_INDENT = re.compile(r"^ *\u3000[ \u3000]*\S")
_FULL_WIDTH_DASH = re.compile(r"^[ \u3000]*([－ー―‐−])[ \u3000]+\S")


NEAR_STOP = 2  # the parser stops on the line of such a character or on one of the next two


def full_width_cause(text: str, stopped: int | None) -> tuple[int, str] | None:
    """The line (0-based) and the message of a full-width character typed where YAML needs a half-width one, on the
    line where the parser stopped or before it (the nearest), or None."""
    lines = text.splitlines()
    last = min(stopped, len(lines) - 1) if stopped is not None else len(lines) - 1
    for number in range(last, max(last - NEAR_STOP, 0) - 1, -1):  # not a TEL： in a text block far above
        line = lines[number]
        found = _FULL_WIDTH_COLON.match(line)
        if found:
            return number, (f"「{found.group(1)}：」 is written with a full-width colon (：); a field needs a half-width "
                            f"colon and a space: '{found.group(1)}: …'（「：」は全角です。半角の「:」と半角スペースで"
                            f"「{found.group(1)}: 値」と書いてください）")
        if _FULL_WIDTH_INDENT.match(line):
            return number, ("the line is indented with a full-width space (全角スペース); indent with half-width "
                            "spaces only（字下げに全角スペースは使えません。半角スペースで字下げしてください）")
        found = _FULL_WIDTH_DASH.match(line)
        if found:
            return number, (f"a list item starts with 「{found.group(1)}」, a full-width character; start it with a "
                            "half-width hyphen and a space: '- …'（箇条書きの先頭は半角の「- 」にしてください）")
    return None


TAB_HINT = "; a tab is used"


def yaml_hint(exc: yaml.MarkedYAMLError, text: str, mark) -> str:
    """The usual cause of a YAML syntax error and its fix, in plain words (English, then Japanese for PR staff)."""
    what = f"{exc.context or ''} {exc.problem or ''}"
    line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
    if "\t" in what or line[: len(line) - len(line.lstrip())].count("\t"):
        return (TAB_HINT + " for indentation: indent with spaces only"
                "（字下げにタブ文字は使えません。半角スペースで字下げしてください）")
    if "mapping values are not allowed" in what and ": " not in line.split(": ", 1)[-1] and line.startswith(" "):
        return ("; this line is indented more than the line above, which already has a value: align it with "
                "the line above（前の行と同じ深さに字下げをそろえてください）")
    if "mapping values are not allowed" in what:
        return ('; the value contains ": " (a colon and a space): put the whole value in double quotes, like '
                'summary: "日時: 14:00"（値の中に「: 」があるときは、値全体を "…" で囲んでください）')
    if "flow sequence" in what or "flow mapping" in what:
        return ("; a list written in [ ] (or { }) is not closed, or contains a colon: close it with ] "
                "or put the item in quotes（[ で始めたら ] で閉じてください。項目に「:」を含むときは \"…\" で囲みます）")
    if "quoted scalar" in what:
        return ('; a value that starts with a quote must end with the same quote on that line'
                '（" で始めた値は " で閉じてください）')
    if "could not find expected ':'" in what or "expected <block end>" in what:
        return ("; check the indentation and that every field is written 'name: value'"
                "（字下げの深さと、「項目名: 値」の形になっているかを確認してください）")
    return ""


def _compose(loader, path: str, first_line: int) -> tuple[Any, dict, list[Problem]]:
    """Nodes -> plain data with the line of every key and item; raises on a YAML problem."""
    offset = first_line - 1
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): first_line}, problems
        marks: dict = {}
        data = _construct(node, (), marks, problems, path, offset)
    finally:
        loader.dispose()
    if offset:
        marks = {k: v + offset for k, v in marks.items()}
        problems = [
            Problem(Location(p.location.path, (p.location.line or 0) + offset), p.field, p.message)
            for p in problems
        ]
    return data, marks, problems


def read_text(file: Path, rel: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 text file with a size bound."""
    try:
        size = file.stat().st_size
        if size > max_bytes:
            return None, [
                Problem(Location(rel), "", f"file is too large ({size:,} bytes; at most {max_bytes:,})")
            ]
        raw = file.read_bytes()
    except OSError as exc:
        return None, [Problem(Location(rel), "", f"cannot read the file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(Location(rel, line), "", "the file is not UTF-8 text; save it as UTF-8")]
    return text.replace("\r\n", "\n"), []


def load_yaml_file(file: Path, rel: str) -> tuple[Source | None, list[Problem]]:
    text, problems = read_text(file, rel)
    if text is None:
        return None, problems
    data, marks, problems = parse_yaml(text, rel)
    if data is None and problems:
        return None, problems
    return Source(rel, data if data is not None else {}, marks), problems


_FENCE = re.compile(r"^(?:---|\.\.\.)\s*$", re.M)


def load_markdown_file(file: Path, rel: str) -> tuple[Source | None, list[Problem]]:
    """A Markdown file that starts with a `---` YAML front matter block."""
    text, problems = read_text(file, rel)
    if text is None:
        return None, problems
    if not text.startswith("---"):
        return None, [
            Problem(Location(rel, 1), "", "the file must start with a '---' line and the fields (front matter)")
        ]
    first_newline = text.find("\n")
    if first_newline < 0 or text[:first_newline].strip() != "---":
        return None, [Problem(Location(rel, 1), "", "the first line must be exactly '---'")]
    closing = _FENCE.search(text, first_newline + 1)
    if not closing:
        return None, [
            Problem(Location(rel, 1), "", "the front matter is not closed: add a line '---' after the fields")
        ]
    yaml_text = text[first_newline + 1 : closing.start()]
    body_start = closing.end() + 1
    body_line = text[:body_start].count("\n") + 1
    data, marks, problems = parse_yaml(yaml_text, rel, first_line=2)
    if data is None and problems:
        return None, problems
    body = text[body_start:] if body_start <= len(text) else ""
    return Source(rel, data if data is not None else {}, marks, body, body_line), [
        *problems, *body_control_characters(body, rel, body_line)]


# what a Markdown body may not hold: the C0 controls but tab, line feed and carriage return, DEL, the C1 controls
# and the noncharacters U+FFFE and U+FFFF. They are invisible; XML (the feed) refuses them, the newsletter's MJML
# fails on them, and a browser shows them as boxes or not at all
BODY_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BACKSPACE", 0x0B: "VERTICAL TAB", 0x0C: "FORM FEED",
                  0x1B: "ESC", 0x7F: "DEL", 0x85: "NEXT LINE"}


def _control_kind(code: int) -> str:
    return "noncharacter" if code >= 0xFFFE else "control character"


def _control_name(code: int) -> str:
    return f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else ""


def body_control_characters(body: str, rel: str, body_line: int) -> list[Problem]:
    """An error at the line of each control character in a Markdown body (one per character and line)."""
    found: list[Problem] = []
    seen: set[tuple[int, str]] = set()
    line, counted = body_line, 0
    for m in BODY_CONTROL.finditer(body):
        line += body.count("\n", counted, m.start())
        counted = m.start()
        if (line, m.group()) in seen:
            continue
        seen.add((line, m.group()))
        code = ord(m.group())
        found.append(Problem(Location(rel, line), "body", f"the text contains the {_control_kind(code)} "
                             f"U+{code:04X}{_control_name(code)}, "
                             "which would break the page, the news feed or the newsletter; delete it (it is "
                             "invisible, often pasted from another program)"))
    return found
