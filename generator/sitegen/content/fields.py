"""Rules for single field values, shared by the loader, the outputs and `send`:
one-line text (no line break or control character, also not hidden in RFC 2047 encoded words)
and e-mail addresses.
"""
from __future__ import annotations

import re
from email.header import decode_header

# control characters (C0, DEL, C1) and the two Unicode separators: every character str.splitlines() breaks a line
# at (\n \r \v \f \x1c-\x1e \x85 \u2028 \u2029) is one. A double-quoted YAML value can hold any of them
# ("\u2028"), and a mail header, a title or a label must not.
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CHAR_NAMES = {"\n": "a line break (\\n)", "\r": "a carriage return (\\r)", "\t": "a tab (\\t)",
               "\x85": "U+0085 (NEXT LINE)", "\u2028": "U+2028 (LINE SEPARATOR)", "\u2029": "U+2029 (PARAGRAPH SEPARATOR)"}
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                   r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+")


def _decoded_words(value: str) -> str:
    """What the encoded words (=?UTF-8?Q?...?=) in `value` decode to; a mail program shows that text."""
    if not _ENCODED_WORD.search(value):
        return ""
    try:
        parts = decode_header(value)
    except (ValueError, LookupError):
        return value  # undecodable: judged on the raw text
    out = []
    for part, charset in parts:
        if isinstance(part, bytes):
            out.append(part.decode(charset or "ascii", "replace") if _known(charset) else part.decode("latin-1"))
        else:
            out.append(part)
    return "".join(out)


def _known(charset: str | None) -> bool:
    try:
        "".encode(charset or "ascii")
    except LookupError:
        return False
    return True


def char_name(ch: str) -> str:
    """A control character as a message names it: "a line break (\\n)", "U+2028 (LINE SEPARATOR)", "U+0007"."""
    return _CHAR_NAMES.get(ch, f"U+{ord(ch):04X}")


def one_line_problem(value: str) -> str:
    """'' for one line of text; else what is wrong: a line break or control character, raw or inside an encoded
    word (which Python's email package would write out decoded, starting a new header line)."""
    found = CONTROL_CHARS.search(value)
    if found:
        return (f"must be one line of text, but it holds {char_name(found.group())} (in quotes written like \\n or "
                "\\u2028; an invisible one is often pasted from Word or a web page); write the text on one line")
    found = CONTROL_CHARS.search(_decoded_words(value))
    if found:
        return (f"must be one line of text, but an =?...?= encoded word in it stands for {char_name(found.group())}; "
                "write the text itself")
    return ""


def is_one_line(value: str) -> bool:
    """No line break or control character, raw or inside an encoded word (`one_line_problem`)."""
    return not one_line_problem(value)


def has_encoded_word(value: str) -> bool:
    """Whether `value` holds text like =?utf-8?b?...?=, which a mail program would decode if it stood raw in a
    header."""
    return bool(_ENCODED_WORD.search(value))


def shown(value: str) -> str:
    """`value` with its control characters written as escapes (\\u2028), for a message on one line."""
    return CONTROL_CHARS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


def strip_control(value: str) -> str:
    return CONTROL_CHARS.sub("", value)


def is_valid_address(address: str) -> bool:
    return len(address) <= 254 and bool(EMAIL.fullmatch(address))


_WEB_URL = re.compile(r"https?://[A-Za-z0-9\u0080-\uffff.-]+(:\d{1,5})?([/?#][^\s<>\"'`\\]*)?", re.I)
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*):")
_PHONE = re.compile(r"[0-9０-９][0-9０-９\-‐－ー() （）+＋ 　]*[0-9０-９]")


def web_url_problem(value: str) -> str:
    """'' for an http(s) address; else what is wrong, with the fix (a link from YAML must never run a script
    or point at a file of the build machine)."""
    scheme = _SCHEME.match(value)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return f"'{scheme.group(1)}:' addresses are not allowed here; write an address starting with https://"
    if not scheme:
        return f"an address must start with https:// (write https://{value.lstrip('/')})"
    if not _WEB_URL.fullmatch(value):
        return "expected an address like https://www.example.jp/renkei/ (no spaces or quotes)"
    return ""


def phone_problem(value: str) -> str:
    """'' for a telephone or FAX number (03-1234-5678, 0120-00-1234, +81 3 …)."""
    return "" if _PHONE.fullmatch(value.strip()) else "expected a number like 03-1234-5678"
