"""The dependency record: what each page of the website read, so that the next build renders again only the pages
whose inputs changed and keeps the others' files from the previous build (<site>/.sitegen/web-pages.json). The
files made from the whole site (sitemap, feed, search index, open data: `render.site_files`) are recorded the same
way: a doctor's new sentence is in none of them, so none is made again.

A page's bytes are a function of
- what every page shares: sitegen's own code, the theme's files other than the web templates, Jinja's version and
  the build date (`shared_fingerprint`; when it changes, every page is rendered);
- the templates it loaded (its own, what it extends, includes and imports, the partials rendered once): each is
  noted as a read (`t:<name>`, see `noting_templates`) whose value is the template's source, so that an edit of
  doctor.html renders the doctors' pages and no other;
- the page itself: its kind, title and the context it is given (the doctor, the news item …), fingerprinted whole;
- what its templates read from the site while it renders. Templates see the site through `Reads`, which notes
  every attribute read and every method called with its arguments (`site.department("cardiology")`). The next
  build reads each again from the new site and compares the fingerprint of its value — once per read, however
  many pages made it, and not at all for the attributes of a record whose whole fingerprint is the one recorded.

A read that cannot be repeated (a call with an argument that is not a plain value) or a value that cannot be
fingerprinted marks the page as untraceable: it is rendered on every build. Nothing is trusted that was not
checked: a page is kept only when its record, every value it read and its published file (size, time, inode) are
as they were.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import decimal
import enum
import functools
import hashlib
import inspect
import json
import os
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, Iterator

import jinja2
import pydantic

from sitegen.artifacts import Artifact
from sitegen.cores import Begun, begun_in_child, fork_map
from sitegen.fingerprint import code as fingerprint_code
from sitegen.project import Project, json_pieces, worth_rewriting, write_state, write_state_text
from sitegen.templates import TemplateFunction, inside_theme, template_folders, theme_dirs

VERSION = 5
UNTRACEABLE = "!"
TEMPLATE = "t:"  # a read of a template: its value is the template's source
WHOLE = "w:"  # not a read: a record (or list of records) whose attributes were read, fingerprinted whole
_reads: ContextVar[set[str] | None] = ContextVar("sitegen_page_reads", default=None)


class Unfingerprintable(Exception):
    """A value of a kind `fingerprint` does not know: the page that read it is rendered on every build."""


# --- what a page reads -------------------------------------------------------------------------------------------

@contextlib.contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the reads made (through `Reads`) until the block ends; nested blocks see only their own."""
    seen: set[str] = set()
    token = _reads.set(seen)
    try:
        yield seen
    finally:
        _reads.reset(token)


def note(keys: set[str] | frozenset[str]) -> None:
    """Count `keys` as read by the page being rendered (a partial rendered once and reused replays its reads)."""
    seen = _reads.get()
    if seen is not None:
        seen.update(keys)


def _note(key: str) -> None:
    seen = _reads.get()
    if seen is not None:
        seen.add(key)


def listed(seen: set[str]) -> tuple[str, ...]:
    """What a page read (`recording`), each key one string however many pages read it (and so written once per
    pickle): interned here, once per key and page, not once per read. Not sorted: the record sorts each page's reads
    as it is saved (`Record.state`), in the child that saves it (sorting here, in the render, took 0.1 s of
    10,000 pages)."""
    return tuple(map(sys.intern, seen))


def noting_templates(env: jinja2.Environment) -> jinja2.Environment:
    """`env`, noting each template loaded while a page renders as a read of the page (`t:<name>`). Jinja's compiled
    templates load what they extend, include and import through these two methods on every render."""
    get, select = env.get_template, env.select_template

    def get_template(name, parent=None, globals=None):
        _note(TEMPLATE + name if isinstance(name, str) else UNTRACEABLE)
        return get(name, parent, globals)

    def select_template(names, parent=None, globals=None):
        for name in names if isinstance(names, (list, tuple)) else [names]:
            _note(TEMPLATE + name if isinstance(name, str) else UNTRACEABLE)
        return select(names, parent, globals)

    env.get_template = get_template  # type: ignore[method-assign]
    env.select_template = select_template  # type: ignore[method-assign]
    readers = getattr(env, "readers", None)
    if readers is not None:  # the sandbox reads the site and its records through these without a failed lookup
        readers[Reads] = Reads.__getattr__
        readers[Traced] = Traced.__getattr__
    return env


def template_source(env: jinja2.Environment, name: str) -> str | None:
    """The fingerprint of a template as `env` would load it now ("missing" when there is none; None: cannot be
    read, never equal)."""
    try:
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    except jinja2.TemplateNotFound:
        return "missing"
    except Exception:  # noqa: BLE001 - a template that cannot be read now renders the page (which reports it)
        return None
    return hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


PLAIN = (str, int, float)  # and None; str kinds (Markup) and bool (an int) are written as plain JSON


class Reads:
    """The site as the templates see it: every attribute read and method call is noted for the page being
    rendered. The values are the site's own; nothing is copied."""

    __slots__ = ("_site",)

    def __init__(self, site: Any) -> None:
        object.__setattr__(self, "_site", site)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._site, name)
        if inspect.ismethod(value):
            return _Method(name, value)
        if callable(value):
            _note(UNTRACEABLE)
            return value
        return _traced(value, "a:" + name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the site cannot be changed by a template")


class _Method(TemplateFunction):
    """A site method handed to a template (`site.doctor`, also passed on to macros): notes each call with its
    arguments (plain values only; a call with anything else cannot be repeated and marks the page untraceable)."""

    __slots__ = ("_name", "_method")

    def __init__(self, name: str, method: Callable) -> None:
        self._name = name
        self._method = method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs and len(args) == 1 and type(args[0]) is str:  # most calls: site.doctor("yamada")
            return _traced(self._method(*args), _text_call_key(self._name, args, ()))
        if not all(a is None or isinstance(a, PLAIN) for a in (*args, *kwargs.values())):
            _note(UNTRACEABLE)
            return self._method(*args, **kwargs)
        named = tuple(sorted(kwargs.items())) if kwargs else ()
        if all(type(a) is str for a in args) and all(type(value) is str for _, value in named):
            key = _text_call_key(self._name, args, named)
        else:
            key = _call_key(self._name, args, named)
        return _traced(self._method(*args, **kwargs), key)


def _call_key(name: str, args: tuple, kwargs: tuple[tuple[str, Any], ...] = ()) -> str:
    """The key of a call, as `value_of` reads it back: "c:" and [name, args, keyword arguments sorted]."""
    return "c:" + json.dumps([name, list(args), list(kwargs)], ensure_ascii=False)


# the key of a call whose arguments are texts (`site.doctor("yamada")`, `site.absences(doctor="yamada")`, made on
# hundreds of pages and by the search index for every doctor), worked out once (only texts: a cache would not tell
# 1 from True)
_text_call_key = functools.lru_cache(maxsize=65536)(_call_key)


def _traced(value: Any, key: str) -> Any:
    """What a template gets for a read: a record (or a list of records) stands behind `Traced`, so that the
    attributes read from it are noted one by one; anything else is noted whole."""
    if _is_record(value):
        _note("r:" + key)  # that the read still gives a record of this kind
        return Traced(value, key, "f")
    if type(value) in (list, tuple) and value and all(_is_record(item) for item in value):
        _note("r:" + key)  # how many records, of which kinds
        return type(value)(Traced(item, key, "p") for item in value)
    _note(key)
    return value


def _is_record(value: Any) -> bool:
    """An entry, model or dataclass instance (not a text, number, collection or None): what `Traced` can stand in
    for. Worked out once per type (a template reads hundreds of values per page)."""
    t = type(value)
    known = _RECORD_TYPES.get(t)
    if known is None:
        known = _RECORD_TYPES[t] = issubclass(t, pydantic.BaseModel) or hasattr(t, "__dataclass_fields__")
    return known


_RECORD_TYPES: dict[type, bool] = {}


class Traced:
    """A record the site gave a template (`site.doctor("yamada")`, an entry of `site.featured`): each attribute
    read is noted on its own, so a page that shows a doctor's name is not rendered again when only the doctor's
    text changes. For a record, `doctor.name` notes "f:name:<the read>"; for an entry of a list, "p:name:<the
    list's read>" (the names of all the list's entries: one key for the whole list, not one per entry). Any
    other use (truth, comparison, text, iteration, an attribute that is a method) notes the read whole."""

    __slots__ = ("_value", "_key", "_mode")

    def __init__(self, value: Any, key: str, mode: str) -> None:
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_mode", mode)

    def __getattr__(self, name: str) -> Any:
        if not name.isidentifier() or name.startswith("_"):
            return getattr(self._whole(), name)
        key = f"{self._mode}:{name}:{self._key}"
        value = getattr(self._value, name, _MISSING)
        seen = _reads.get()  # `_note`, without a call: templates read 300,000 attributes at 10,000 pages
        if value is _MISSING:
            if seen is not None:
                seen.add(key)  # missing now: the page depends on it staying missing
            raise AttributeError(name)
        if seen is not None:
            seen.add(self._key if callable(value) else key)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the site cannot be changed by a template")

    def _whole(self) -> Any:
        _note(self._key)
        return self._value

    def __bool__(self) -> bool:
        return bool(self._whole())

    def __eq__(self, other: object) -> bool:
        return self._whole() == (other._whole() if isinstance(other, Traced) else other)

    def __hash__(self) -> int:
        return hash(self._whole())

    def __str__(self) -> str:
        return str(self._whole())

    def __repr__(self) -> str:
        return repr(self._whole())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())

    def __contains__(self, item: object) -> bool:
        return item in self._whole()

    def __getitem__(self, item: Any) -> Any:
        if not hasattr(type(self._value), "__getitem__"):  # Jinja tries doctor["x"] after a missing doctor.x
            raise TypeError(f"{type(self._value).__name__} is not subscriptable")
        return self._whole()[item]


_MISSING = object()


def value_of(site: Any, key: str, parents: dict[str, Any] | None = None) -> Any:
    """Read `key` again (as noted by `Reads` and `Traced`) from `site`; `parents` keeps the records read for
    attribute keys (one site call for all the attributes of a doctor)."""
    if key.startswith("a:"):
        return getattr(site, key[2:])
    if key.startswith(WHOLE):
        return _read(site, key[len(WHOLE):], parents)
    parent = _parent(key)
    if parent is not None:
        read = _read(site, parent, parents)
        if key[0] == "r":
            return [_kind(item) for item in read] if type(read) in (list, tuple) else _kind(read)
        name = key[2:].partition(":")[0]
        if key[0] == "p":
            return [_attribute(item, name) for item in read]
        return _attribute(read, name)
    name, args, kwargs = json.loads(key[2:])
    return getattr(site, name)(*args, **dict(kwargs))


def _read(site: Any, parent: str, parents: dict[str, Any] | None) -> Any:
    """What the read `parent` gives now, read once per build when `parents` keeps them."""
    if parents is None:
        return value_of(site, parent)
    if parent not in parents:
        parents[parent] = value_of(site, parent)
    return parents[parent]


def _parent(key: str) -> str | None:
    """The read a record attribute's key (f:, p:) or kind's key (r:) was made on; None for other keys."""
    if key[:2] in ("f:", "p:"):
        return key[2:].partition(":")[2]
    if key[:2] == "r:":
        return key[2:]
    return None


def _kind(value: Any) -> str:
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _attribute(record: Any, name: str) -> Any:
    value = getattr(record, name, _MISSING)
    return Missing() if value is _MISSING else value


@dataclasses.dataclass(frozen=True)
class Missing:
    """An attribute a record does not have (a template's `doctor.photo` when there is none): a value like any
    other, so that the page is kept while it stays missing."""


# --- fingerprints ------------------------------------------------------------------------------------------------

def fingerprint(value: Any, kept: dict[int, tuple[Any, str]] | None = None) -> str:
    """A digest of everything in `value` a template could show (raises Unfingerprintable). `kept` remembers the
    digests of the records and models met (by identity, with the object, for one build: the site is frozen), so an
    entry shown on many pages is encoded once."""
    if type(value) is str:  # most reads (a doctor's name): what `_Encoder.digest` makes of a text, without it
        return hashlib.blake2b(f"s{len(value)}:{value}".encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return _Encoder({} if kept is None else kept).digest(value)


_SCALARS = (int, float, bool, type(None), dt.date, dt.datetime, dt.time, dt.timedelta, decimal.Decimal)
_FIELDS: dict[type, tuple[str, ...]] = {}
_KINDS: dict[type, str] = {}  # a type -> how it is encoded (`_kind_of`), worked out once per type


def _kind_of(t: type) -> str:
    if issubclass(t, str):
        kind = "text"  # Markup and other str kinds: escaped differently, so a different value than a str
    elif issubclass(t, enum.Enum):
        kind = "enum"
    elif issubclass(t, _SCALARS):
        kind = "scalar"
    elif t is tuple or t is list:
        kind = "sequence"
    elif t is dict:
        kind = "dict"
    elif t is set or t is frozenset:
        kind = "set"
    elif issubclass(t, pydantic.BaseModel):
        kind = "model"
    elif hasattr(t, "__dataclass_fields__"):
        kind = "dataclass"
    else:
        kind = "unknown"
    _KINDS[t] = kind
    return kind


_AS_JSON: dict[type, bool] = {}  # a model class -> whether pydantic's JSON of it is a fingerprint (`_as_json`)
_NOT_AS_JSON = frozenset({"set", "frozenset", "dict", "any", "callable", "is-instance", "function-plain",
                          "function-wrap"})


def _as_json(t: type[pydantic.BaseModel]) -> bool:
    """Whether a model class's JSON (pydantic's serializer, in Rust: a fifth of the time of `_Encoder.record`) holds
    everything a template could show of it, in an order that does not change between processes: no field left out
    of it or written by a function of the model's own, no set, mapping or value of any type in it (a set's order
    changes between processes; a text and a Markup would write alike), at any depth."""
    known = _AS_JSON.get(t)
    if known is None:
        known = _AS_JSON[t] = _plain_schema(t.__pydantic_core_schema__)
    return known


def _plain_schema(node: Any) -> bool:
    if isinstance(node, dict):
        kind = node.get("type")
        if (isinstance(kind, str) and kind in _NOT_AS_JSON) or "serialization" in node or node.get("serialization_exclude") \
                or node.get("extra_behavior") == "allow" or node.get("computed_fields"):
            return False
        return all(_plain_schema(item) for item in node.values())
    if isinstance(node, (list, tuple)):
        return all(_plain_schema(item) for item in node)
    return True


class _Encoder:
    """Each value as text parts. A str (most of what a page shows) is written in the loops themselves: a call per
    text made the encoding most of a rebuild's page checks."""

    def __init__(self, kept: dict[int, tuple[Any, str]]) -> None:
        self.kept = kept

    def digest(self, value: Any) -> str:
        parts: list[str] = []
        self.encode(value, parts, 0)
        return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def encode(self, v: Any, out: list[str], depth: int) -> None:
        if depth > 64:
            raise Unfingerprintable("nested too deeply")
        t = type(v)
        if t is str:  # with its length: a text holding the separator cannot pass for two parts
            out.append(f"s{len(v)}:" + v)
            return
        kind = _KINDS.get(t) or _kind_of(t)
        if kind == "sequence":
            out.append(f"{t.__qualname__}{len(v)}")
            for item in v:
                if type(item) is str:
                    out.append(f"s{len(item)}:" + item)
                else:
                    self.encode(item, out, depth + 1)
        elif kind == "model" and not v.__pydantic_private__ and _as_json(t):
            # pydantic's JSON in place (a doctor's fields, a slot): a digest of its own and a place in `kept`
            # cost more than writing it again where it is met
            json_text = v.__pydantic_serializer__.to_json(v).decode("utf-8", "surrogatepass")
            out.append(f"{t.__module__}.{t.__qualname__}{{{json_text}")
        elif kind == "model" or kind == "dataclass":
            known = self.kept.get(id(v))
            if known is None or known[0] is not v:
                inner: list[str] = []
                self.record(v, t, kind, inner, depth)
                known = self.kept[id(v)] = (v, hashlib.blake2b("\x1f".join(inner).encode("utf-8", "surrogatepass"),
                                                               digest_size=16).hexdigest())
            out.append("#" + known[1])
        elif kind == "scalar":
            out.append(f"{t.__qualname__}:{v!r}")
        elif kind == "text":
            out.append(f"{t.__module__}.{t.__qualname__}{len(v)}:{v}")  # a str: Markup's + would escape the prefix
        elif kind == "dict":
            out.append(f"dict{len(v)}")
            out.extend(sorted(self.encoded(k, depth) + "\x1e" + self.encoded(x, depth) for k, x in v.items()))
        elif kind == "set":
            out.append(f"set{len(v)}")
            out.extend(sorted(self.encoded(item, depth) for item in v))
        elif kind == "enum":
            out.append(f"{t.__module__}.{t.__qualname__}.{v.name}")
        else:
            raise Unfingerprintable(f"{t.__module__}.{t.__qualname__}")

    def record(self, v: Any, t: type, kind: str, out: list[str], depth: int) -> None:
        out.append(f"{t.__module__}.{t.__qualname__}")
        if kind == "model":  # one whose JSON is not a fingerprint (`encode` writes the others' JSON in place)
            for name, item in v.__dict__.items():
                out.append(name)
                if type(item) is str:
                    out.append(f"s{len(item)}:" + item)
                else:
                    self.encode(item, out, depth + 1)
            self.encode(v.__pydantic_extra__, out, depth + 1)
            self.encode(v.__pydantic_private__, out, depth + 1)
            return
        names = _FIELDS.get(t)
        if names is None:  # a dataclass may name what is fingerprinted (attributes, not only fields)
            names = _FIELDS[t] = getattr(t, "__fingerprint_fields__", None) or tuple(f.name for f in dataclasses.fields(v))
        for name in names:
            item = getattr(v, name)
            if type(item) is str:
                out.append(f"s{len(item)}:" + item)
            else:
                self.encode(item, out, depth + 1)

    def encoded(self, v: Any, depth: int) -> str:
        parts: list[str] = []
        self.encode(v, parts, depth + 1)
        return "\x1f".join(parts)


def shared_fingerprint(project: Project, theme: str, today: dt.date) -> str:
    """What every page depends on: sitegen's code and libraries, every file of the theme (the site's and the
    packaged one) except the web templates (each page notes those it loads), the build date and where the build
    is written."""
    h = hashlib.blake2b(digest_size=16)
    for part in (f"v{VERSION}", fingerprint_code(), today.isoformat(), str(project.out)):
        h.update(part.encode() + b"\0")
    site_dirs, packaged = theme_dirs(project, theme)
    web_templates = template_folders("web")  # each page notes the templates it loads from these
    for folder in (*site_dirs, *packaged):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.relative_to(folder).parts[0] not in web_templates:
                h.update(path.relative_to(folder).as_posix().encode() + b"\0")
                if path.is_symlink() and not inside_theme(path, folder):  # not read (a link out of the theme)
                    h.update(os.readlink(path).encode("utf-8", "surrogateescape"))
                    continue
                h.update(path.read_bytes())
    return h.hexdigest()


# --- the record --------------------------------------------------------------------------------------------------

class Record:
    """The previous build's record, and the current site to compare it with."""

    def __init__(self, site: Any, shared: str, previous: dict | None,
                 templates: Callable[[str], str | None] | None = None) -> None:
        self.site = site
        self.shared = shared
        self.templates = templates  # a template's name -> its fingerprint now (template_source)
        ok = isinstance(previous, dict) and previous.get("version") == VERSION and previous.get("shared") == shared
        self.previous_pages: dict = previous.get("pages", {}) if ok and previous else {}
        table = previous.get("keys", []) if ok and previous else []
        if not (isinstance(self.previous_pages, dict) and isinstance(table, list)
                and all(isinstance(entry, list) and len(entry) == 3 and type(entry[2]) is int
                        and -1 <= entry[2] < len(table) for entry in table)):
            self.previous_pages, table = {}, []  # not a record this code wrote: nothing is kept
        self.previous_keys: list[str] = [entry[0] for entry in table]
        self.previous_values: dict = {key: value for key, value, _ in table if isinstance(key, str)}
        # each read's record (the number of its WHOLE key), -1 for a read of no record's attribute
        self.previous_parents: list[int] = [entry[2] for entry in table]
        self.pages: dict[str, list] = {}  # path -> [page fingerprint, reads (None: those it read last time)]
        self.reused = 0  # pages kept from the last render
        self._values: dict[str, str | None] = {}
        self._kept: dict[int, tuple[Any, str]] = {}  # digests of the site's records, for this build
        self._parents: dict[str, Any] = {}  # records read again for their attributes' keys
        self._read_before: dict[str, list[str] | None] = {}  # previous_reads, parsed once per page
        self._changed: frozenset[str] | None = None  # the numbers of the recorded keys whose values changed
        self._numbers: frozenset[str] = frozenset()  # every number a page's reads may list

    def previous_reads(self, path: str) -> list[str] | None:
        """What the page at `path` read last time (the record lists each read once, pages refer to it by number),
        or None when the record has no such page or cannot be read."""
        if path not in self._read_before:
            self._read_before[path] = self._parse_reads(self.previous_pages.get(path))
        return self._read_before[path]

    def _parse_reads(self, old: Any) -> list[str] | None:
        if not isinstance(old, list) or len(old) < 2 or not isinstance(old[1], str):
            return None
        try:
            return list(map(self.previous_keys.__getitem__, map(int, old[1].split(",")))) if old[1] else []
        except (ValueError, IndexError):
            return None

    def page(self, page: Any) -> str | None:
        """The fingerprint of a page (kind, title, context), or None when it cannot be taken."""
        try:
            return fingerprint(page, self._kept)
        except Unfingerprintable:
            return None

    def value(self, key: str) -> str | None:
        """The fingerprint of what `key` reads from the current site (None: cannot be known; never equal)."""
        if key not in self._values and key.startswith(TEMPLATE):
            self._values[key] = self.templates(key[len(TEMPLATE):]) if self.templates is not None else None
        if key not in self._values:
            try:
                value = value_of(self.site, key, self._parents)
                # a list of records is not fingerprinted whole: any edit of any of them changes it (every page of
                # the site, for the sitemap), so its entries' attributes are compared one by one anyway, and the
                # process that made the sitemap fingerprinted all 10,000 pages for it
                whole_list = key.startswith(WHOLE) and type(value) in (list, tuple)
                self._values[key] = None if whole_list else fingerprint(value, self._kept)
            except Exception:  # noqa: BLE001 - a read that fails now (a doctor removed …) means "changed"
                self._values[key] = None
        return self._values[key]

    def new_values(self, keys: tuple[str, ...]) -> dict[str, str | None]:
        """The fingerprints of `keys` (and of the records whose attributes they read, whole) that this process had
        not worked out before: a render process sends them back with its pages (`learn`)."""
        known = self._values
        new = [key for key in keys if key not in known and key != UNTRACEABLE]
        new += [whole for key in new if (parent := _parent(key)) is not None and (whole := WHOLE + parent) not in known]
        return {key: self.value(key) for key in new}

    def learn(self, values: dict[str, str | None]) -> None:
        """Fingerprints worked out in another process (`new_values`), for the same site."""
        for key, value in values.items():
            self._values.setdefault(sys.intern(key), value)

    def check(self, pages: list[Any], processes: int) -> list[str | None]:
        """The fingerprints of `pages` (`page`), with the values `changed_keys` compares first — each recorded
        record whole, each read of no record, and each read of a list of records — worked out beforehand, shared
        out among `processes` forked processes (`cores.fork_map`) on a large site: one process took half a second
        for them in a rebuild of 10,000 pages after one doctor's file was edited. The values are then known here
        (`learn`); where no process can be forked, this process works them out."""
        keys = self.previous_keys
        wholes = {number for number in set(self.previous_parents) if number >= 0}
        first = {keys[number] for number in wholes}
        # and the reads of no record, and those of a list of records (never the same whole: not fingerprinted)
        never_same = {number for number in wholes if self.previous_values.get(keys[number]) is None}
        first.update(key for key, parent in zip(keys, self.previous_parents)
                     if (parent < 0 or parent in never_same) and not key.startswith(WHOLE) and key != UNTRACEABLE)
        to_check = sorted(first)
        jobs: list[tuple[bool, Any]] = [(True, page) for page in pages] + [(False, key) for key in to_check]
        results = fork_map(self._checked, jobs, processes)
        if results is None:
            return [self.page(page) for page in pages]  # the values are worked out as changed_keys asks
        self.learn(dict(zip(to_check, results[len(pages):])))
        return results[:len(pages)]

    def _checked(self, job: tuple[bool, Any]) -> str | None:
        is_page, what = job
        return self.page(what) if is_page else self.value(what)

    def changed_keys(self) -> frozenset[str]:
        """The numbers (as the record writes them) of the recorded reads whose values are not those recorded, or
        cannot be read again. Each read is worked out once, whatever the number of pages that made it: a page is
        then checked by its list of numbers alone. An attribute of a record (a doctor's name) is the same without
        being read again when the record is the record it was, field for field (the record notes each record's
        fingerprint whole as well, under WHOLE, and the number of that entry beside each of its attributes): one
        fingerprint per doctor, not one per attribute a page showed."""
        if self._changed is None:
            keys = self.previous_keys
            same_record = {number: self._same(keys[number]) for number in set(self.previous_parents) if number >= 0}
            same_record[-1] = False
            numbers = [number for number, key in enumerate(keys) if not key.startswith(WHOLE)]
            self._numbers = frozenset(map(str, numbers))
            parents = self.previous_parents
            self._changed = frozenset(str(number) for number in numbers
                                      if not same_record[parents[number]] and not self._same(keys[number]))
        return self._changed

    def _same(self, key: str) -> bool:
        """Whether what `key` reads has the fingerprint recorded for it."""
        if key == UNTRACEABLE:
            return False
        now = self.value(key)
        return now is not None and now == self.previous_values.get(key)

    def unchanged(self, path: str, page_fp: str | None) -> bool:
        """True when the page at `path` was rendered last time from exactly these inputs."""
        old = self.previous_pages.get(path)
        if page_fp is None or not isinstance(old, list) or len(old) < 2 or old[0] != page_fp \
                or not isinstance(old[1], str):
            return False
        if not old[1]:
            return True  # it read nothing from the site
        changed = self.changed_keys()
        numbers = old[1].split(",")  # 10,000 pages read 250,000 keys: set operations in C, no number parsed
        return self._numbers.issuperset(numbers) and changed.isdisjoint(numbers)

    def stamp(self, path: str) -> Any:
        """What the last build recorded of the page's published file (size, mtime, inode), if anything."""
        old = self.previous_pages.get(path)
        return old[2] if old and len(old) > 2 else None

    def add(self, path: str, page_fp: str | None, reads: tuple[str, ...]) -> None:
        """A page just rendered, with what it read (in any order). The reads of a page rendered in another process are
        texts of their own: interned, each is kept once however many pages made it (10,000 pages: 10 MB)."""
        self.pages[path] = [page_fp, tuple(map(sys.intern, reads)) if page_fp is not None else (UNTRACEABLE,)]

    def keep(self, path: str) -> None:
        """The page at `path` is kept as it was (it read what it read last time)."""
        self.pages[path] = [self.previous_pages[path][0], None]
        self.reused += 1

    def state(self, stamps: dict[str, list] | None = None) -> dict:
        """This render's record as data (what `Record` reads back next time); with `stamps`, only the pages that
        have one, each with it. Every read is listed once, with the fingerprint of its value, under "keys"; a
        page lists the numbers of the keys it read, as "3,17,20" (the doctors' index reads tens of thousands)."""
        chosen = {path: entry if entry[1] is not None else [entry[0], self.previous_reads(path) or (UNTRACEABLE,)]
                  for path, entry in self.pages.items() if stamps is None or path in stamps}
        keys = sorted(set().union(*[reads for _, reads in chosen.values()]))
        number = {k: str(i) for i, k in enumerate(keys)}  # as written: 10,000 pages read 250,000 keys
        pages: dict[str, list] = {}
        for path, (page_fp, reads) in sorted(chosen.items()):
            listed = ",".join(map(number.__getitem__, sorted(reads)))  # a text, not a list
            pages[path] = [page_fp, listed, *([stamps[path]] if stamps is not None else [])]
        parents = list(map(_parent, keys))
        wholes = sorted({WHOLE + parent for parent in parents if parent is not None})
        whole_number = {k: len(keys) + i for i, k in enumerate(wholes)}  # after the reads: pages number them alone
        value = self.value
        table = [[k, None if k == UNTRACEABLE else value(k), -1 if parent is None else whole_number[WHOLE + parent]]
                 for k, parent in zip(keys, parents)]
        table += [[k, value(k), -1] for k in wholes]
        return {"version": VERSION, "shared": self.shared, "keys": table, "pages": pages}

    def worth_saving(self) -> bool:
        """Whether the record should be written again. After a build that rendered only a few pages (one doctor
        edited) the last record stays: it is still true of every page kept, and the pages rendered now are
        rendered again next time (their files and inputs are not as it says), which costs less than writing the
        record of 10,000 pages (0.5 s); `project.worth_rewriting` says how few."""
        return not self.previous_pages or worth_rewriting(len(self.pages), len(self.pages) - self.reused)

    def save(self, file: Path, published: Path) -> None:
        """Write the record for the build just published in `published` (stat of each page's file)."""
        stamps = {path: stamp for path in self.pages if (stamp := _stamp(published, path)) is not None}
        write_state(file, self.state(stamps))

    def saving(self, file: Path, in_child: bool = True) -> _Saving:
        """`save`, begun (`in_child`) in a forked child while the build is written: writing 10,000 files keeps
        one core busy in the system, and the record took 0.3 s after it (`artifacts.Publishing`)."""
        return _Saving(self, file, in_child)

    def _text(self) -> _Text:
        """The record's data (`state()`, every page) as JSON text, but for each page's stamp, which is known once
        the build is published (`_save_text`): made by the saving child while the build is written, so that only
        the stats and the writing are left after it."""
        return _Text.of(self.state())

    def _save_text(self, file: Path, text: _Text, published: Path | None) -> None:
        """`save`, with the record's text made beforehand (`_text`): each page gets its file's stat; when a file is
        missing, the record is made again of those that are there."""
        if published is None:
            return
        stamps = [_stamp(published, path) for path, _ in text.pages]
        if any(stamp is None for stamp in stamps):
            return self.save(file, published)
        write_state_text(file, text.pieces(stamps))  # type: ignore[arg-type]  # none is None


@dataclasses.dataclass(frozen=True)
class _Text:
    """A record's JSON text (as `write_state` writes it) but for each page's stamp: the text before the pages, and
    each page's path with the text of its entry up to its stamp."""

    head: list[str]
    pages: list[tuple[str, str]]

    @classmethod
    def of(cls, state: dict) -> _Text:
        head = list(json_pieces({key: value for key, value in state.items() if key != "pages"}))
        head[-1] = ("," if len(head) > 2 else "") + '"pages":{'  # in place of the closing brace
        dump = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))
        return cls(head, [(path, dump(path) + ":" + dump(entry)[:-1] + ",") for path, entry in state["pages"].items()])

    def pieces(self, stamps: list[list[int]]) -> Iterator[str]:
        yield from self.head
        for n, ((_, entry), stamp) in enumerate(zip(self.pages, stamps)):
            yield ("," if n else "") + entry + f"[{stamp[0]},{stamp[1]},{stamp[2]}]]"
        yield "}}"


class _Saving:
    """`Record.saving`: `begin` forks the child that makes the record's text (`_text`, every page) while this
    process writes the build (not earlier: the child holds a copy of this process's memory while it lives, and
    the brochures are printed after the pages are rendered); `tell` gives it the folder the build was published
    in, so that it saves the record while this process removes the previous build; the call waits for it (None:
    nothing was published, nothing is saved). Where no child can be forked, or the child fails, the record is
    saved in this process."""

    def __init__(self, record: Record, file: Path, in_child: bool) -> None:
        self.record = record
        self.file = file
        self.in_child = in_child
        self.finish: Begun | None = None

    def begin(self) -> None:
        if self.in_child and self.finish is None:
            self.finish = begun_in_child(self.record._text, functools.partial(self.record._save_text, self.file))

    def tell(self, published: Path) -> None:
        if self.finish is not None:
            self.finish.tell(published)

    def __call__(self, published: Path | None) -> None:
        done = self.finish(published) if self.finish is not None else False
        if published is not None and not done:
            self.record.save(self.file, published)


@dataclasses.dataclass(frozen=True)
class Previous:
    """What the last render left: its record (as data) and the file it made for a path — given what the record
    says of that file — or None when the file is not there as recorded (then the page is rendered)."""

    record: dict | None
    file: Callable[[str, Any], Artifact | None]


def published(folder: Path, path: str, stamp: Any) -> Artifact | None:
    """The previous build's file of a page, when it is the one recorded (size, mtime, inode): not edited by hand."""
    if stamp is None or _stamp(folder, path) != stamp:
        return None
    return Artifact(path, copy_from=folder / path)


def _stamp(folder: Path, path: str) -> list[int] | None:
    """A published file as the record notes it: [size, mtime, inode]; None when it is not there."""
    try:
        st = os.lstat(os.path.join(folder, path))
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]
