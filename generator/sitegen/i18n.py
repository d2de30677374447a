"""Messages in the reader's language: Japanese for a Japanese locale, English otherwise (`--lang`).

The library reports in English (tests, logs and issue reports stay stable); the
CLI passes every line it prints through :class:`Messages`. The catalogue is a
standard gettext file, `locale/<lang>/LC_MESSAGES/sitegen.po`, read with Babel.
Each msgid is an English message with named fields, as the code writes it:

    msgid "unknown doctor '{slug}'{hint_msg}"
    msgstr "医師 '{slug}' はいません{hint_msg}"

A printed message is matched against the msgids (the most specific first) and
rebuilt from the msgstr. Fields whose name ends in `_msg` are messages
themselves and are translated the same way, so pieces such as the "did you mean"
hint or pydantic's "found the text '…'" are written once. A message that matches
no msgid is printed as it is, in English: nothing is ever lost in translation.

A printed problem line (`file:line: warning: field: message`, or `check`'s
`file:line: error: [rule] field: message`) keeps its location and field, which
name things in the files, and has its message translated.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Mapping

LANGUAGES = ("ja", "en")
_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# file:line: [error: |warning: |info: ][[rule] ][field: ]message — field names are YAML paths, never spaces
_PROBLEM = re.compile(r"^(?P<where>[^\s:]+(?::\d+)?): (?:(?P<severity>error|warning|info): )?"
                      r"(?:\[(?P<rule>[\w.-]+)\] )?(?:(?P<field>[\w.\[\]-]+): )?(?P<message>.+)$", re.S)
_SEVERITY = {"ja": {"error": "エラー", "warning": "警告", "info": "情報"}}


def choose_language(option: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """--lang, else SITEGEN_LANG, else the locale (LC_ALL, LC_MESSAGES, LANG): ja for a Japanese locale, else en."""
    for value in (option, environ.get("SITEGEN_LANG")):
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


@dataclass(frozen=True)
class _Entry:
    pattern: re.Pattern
    template: str
    weight: int  # literal characters: the most specific msgid wins


@dataclass
class Messages:
    """Translate English messages into `lang` with the catalogue; `en` (or no catalogue) prints them as they are."""

    lang: str = "en"
    entries: tuple[_Entry, ...] = field(default=(), repr=False)
    missed: set[str] = field(default_factory=set, repr=False)  # messages without a msgid (for tests)

    @classmethod
    def for_language(cls, lang: str) -> "Messages":
        return cls(lang, _catalogue(lang) if lang != "en" else ())

    def __call__(self, message: str) -> str:
        if not self.entries or not message:
            return message
        found = self._translate(message)
        if found is None:
            self.missed.add(message)
            return message
        return found

    def line(self, text: str) -> str:
        """One printed line: a problem line keeps its location and field; anything else is a message."""
        if not self.entries:
            return text
        m = _PROBLEM.match(text)
        if m and (m.group("severity") or m.group("field") or m.group("rule") or _is_path(m.group("where"))):
            message = self(m.group("message"))
            severity = m.group("severity")
            parts = [m.group("where") + ":"]
            if severity:
                parts.append(_SEVERITY.get(self.lang, {}).get(severity, severity) + ":")
            if m.group("rule"):
                parts.append(f"[{m.group('rule')}]")
            if m.group("field"):
                parts.append(m.group("field") + ":")
            return " ".join(parts + [message])
        whole = self._translate(text)
        if whole is not None:
            return whole
        indent = len(text) - len(text.lstrip(" "))
        if indent:
            inner = self._translate(text[indent:])
            if inner is not None:
                return text[:indent] + inner
        return self(text)

    def _translate(self, message: str, depth: int = 0) -> str | None:
        for entry in self.entries:
            m = entry.pattern.fullmatch(message)
            if m is None:
                continue
            values = {}
            for name, value in m.groupdict().items():
                if name.endswith("_msg") and value and depth < 4:
                    value = self._translate(value, depth + 1) or value
                values[name] = value
            return _fill(entry.template, values)
        return None


def _is_path(where: str) -> bool:
    """Whether a line's `where:` names a file or folder of the site (site.yaml, content/doctors, content), not a
    word of a summary (`site: 179 files …`)."""
    return "." in where or "/" in where or where in ("content", "themes")


def _fill(template: str, values: dict[str, str]) -> str:
    return _FIELD.sub(lambda f: values.get(f.group(1), f.group(0)), template)


def _compile(msgid: str) -> re.Pattern:
    parts, pos, seen = [], 0, set()
    for m in _FIELD.finditer(msgid):
        parts.append(re.escape(msgid[pos:m.start()]))
        name = m.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
        seen.add(name)
        pos = m.end()
    parts.append(re.escape(msgid[pos:]))
    return re.compile("".join(parts), re.S)


@lru_cache(maxsize=None)
@lru_cache(maxsize=4)
def help_texts(lang: str) -> dict[str, str]:
    """The CLI's --help texts in `lang`: English text -> translation, from `locale/<lang>/LC_MESSAGES/sitegen-help.po`
    (whole texts, matched exactly; {} for English or without the file)."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    path = resources.files("sitegen") / "locale" / lang / "LC_MESSAGES" / "sitegen-help.po"
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}


def _catalogue(lang: str) -> tuple[_Entry, ...]:
    """The compiled msgids of `locale/<lang>/LC_MESSAGES/sitegen.po`, most specific first."""
    from babel.messages.pofile import read_po  # only when a translation is wanted

    path = resources.files("sitegen") / "locale" / lang / "LC_MESSAGES" / "sitegen.po"
    if not path.is_file():
        return ()
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    entries = []
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        msgid = str(message.id)
        literal = len(_FIELD.sub("", msgid))
        entries.append(_Entry(_compile(msgid), str(message.string), literal))
    return tuple(sorted(entries, key=lambda e: -e.weight))
