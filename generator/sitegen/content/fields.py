"""Rules for single field values, shared by the loader, the outputs and `send`:
one-line text (no control characters, also not hidden in RFC 2047 encoded words)
and e-mail addresses.
"""
from __future__ import annotations

import re
from email.header import decode_header

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")  # includes CR and LF
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


def is_one_line(value: str) -> bool:
    """No line break or control character, raw or inside an encoded word (which Python's email package
    would write out decoded, starting a new header line)."""
    return not CONTROL_CHARS.search(value) and not CONTROL_CHARS.search(_decoded_words(value))


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
