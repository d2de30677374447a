"""Turn a file's data into a model, translating pydantic's errors for authors.

`content/doctors/tanaka.md:7: qualifications[1]: ...` — the line comes from the
marks kept by `sources.py`, the field from pydantic's error location, and the
message is rewritten in plain words with a "did you mean" hint for unknown keys.
"""
from __future__ import annotations

import typing
from types import UnionType
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sitegen.content.fields import shown
from sitegen.content.sources import BODY_CONTROL, Source, dotted
from sitegen.errors import Problem, did_you_mean

M = TypeVar("M", bound=BaseModel)


def validate(source: Source, model: type[M], data: Any = None, loc: tuple = ()) -> tuple[M | None, list[Problem]]:
    """Validate `data` (default: the whole file) against `model`; loc is where data sits in the file."""
    data = source.data if data is None else data
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "nothing"
        return None, [Problem(source.location(loc), dotted(loc), f"expected a set of fields (key: value), found {described(data) or kind}")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            if _reported_when_read(err) and not source.path.endswith(".csv"):  # CSV has no such check when read
                continue
            problems.append(_problem(source, model, loc, loc + _in_file(data, err["loc"]), err))
        return None, _dedupe(problems)


def _reported_when_read(err: ErrorDetails) -> bool:
    """A one-line field holding a control character the YAML reader already reported at this field (written as an
    escape such as "\\e" in double quotes: `sources`): one message for it, not two."""
    value = err.get("input")
    return (err["type"] == "value_error" and isinstance(value, str) and "must be one line of text" in err["msg"]
            and BODY_CONTROL.search(value) is not None)


def _in_file(data: Any, loc: tuple) -> tuple:
    """Pydantic's path to an error (`loc`) as keys and positions in the file's data: without the names pydantic
    gives the members of a union ("str", "function-after[...]"), but keeping a key of the file that has such a name
    (a doctor's `date:` or `str:` is an unknown field, reported as such)."""
    path: list = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        elif isinstance(part, str) and _is_union_tag(part):
            continue
        else:
            current = None  # a field that is missing, or a value pydantic looked into: nothing more to walk
        path.append(part)
    return tuple(path)


def _is_union_tag(part: str) -> bool:
    # pydantic puts the union member's name into loc ("int", "str", "function-after[...]")
    return part in {"int", "float", "str", "bool", "date", "constrained-str"} or part.startswith(("function-", "literal["))


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: dict[tuple, Problem] = {}
    for p in problems:
        key = (p.location, p.field)
        if key not in seen:
            seen[key] = p
    return list(seen.values())


def described(value: Any) -> str:
    """A YAML value as an error message names it: "a list", "the text '…'", "the number 3"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        # shown escaped: a line break in it would break the message's line
        return f"the text '{shown(value[:40])}…'" if len(value) > 40 else f"the text '{shown(value)}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a set of fields"
    return type(value).__name__


def _problem(source: Source, model: type[BaseModel], base: tuple, loc: tuple, err: ErrorDetails) -> Problem:
    kind = err["type"]
    field = dotted(loc)
    where = source.location(loc)
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[len(base):-1])
        key = str(loc[-1])
        if key[:1] == "\u3000":  # 「　patients:」: YAML reads a full-width space as part of the name, not as indentation
            return Problem(where, field, f"unknown field '{key}': the line starts with a full-width space (全角スペース), "
                           "so YAML reads it as a new field; indent with half-width spaces only"
                           "（字下げに全角スペースは使えません。半角スペースで字下げしてください）")
        hint = did_you_mean(loc[-1], allowed)
        if not hint and allowed:
            hint = " (allowed: " + ", ".join(sorted(allowed)) + ")"
        return Problem(where, field, f"unknown field '{loc[-1]}'{hint}")
    if kind == "missing":
        return Problem(source.location(loc[:-1]), field, "required field is missing")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return Problem(where, field, f"{described(value)} is not allowed; expected one of {expected}")
    if kind.startswith("string_pattern"):
        if loc and loc[-1] == "postal_code":
            return Problem(where, field, f"expected a postal code like 100-0001, found {described(value)}")
        return Problem(where, field, f"expected an id of lowercase letters, digits and hyphens (like 'yamada-taro'), found {described(value)}")
    if kind in ("string_too_short",):
        return Problem(where, field, "must not be empty")
    if kind == "too_short":
        return Problem(where, field, "must list at least one entry")
    if kind in ("string_type",):
        return Problem(where, field, f"expected text, found {described(value)}")
    if kind in ("list_type",):
        return Problem(where, field, f"expected a list (lines starting with '- '), found {described(value)}")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return Problem(where, field, f"expected a set of fields (key: value), found {described(value)}")
    if kind.startswith("int_") or kind.startswith("float_"):
        return Problem(where, field, f"expected a whole number, found {described(value)}")
    if kind.startswith("bool_"):
        return Problem(where, field, f"expected true or false, found {described(value)}")
    if kind.startswith("date_"):
        return Problem(where, field, f"expected a date like 2026-04-01, found {described(value)}")
    if kind in ("greater_than_equal", "less_than_equal"):
        return Problem(where, field, f"{described(value)} is out of range ({err['msg'].lower()})")
    if kind == "value_error":
        message = err["msg"].removeprefix("Value error, ")
        if not isinstance(value, (list, dict)):  # "found a list" says nothing the message does not
            message += f", found {described(value)}"
        return Problem(where, field, message)
    return Problem(where, field, err["msg"])


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the model found at `loc` inside `model` (for hints)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = current.model_fields[part].annotation
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Optional[...] and Annotated[...] down to a model or a list type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            tp = models[0] if models else members[0]
        else:
            return tp
