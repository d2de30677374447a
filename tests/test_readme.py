"""The README documents every content field and every command option."""
from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from sitegen.content import models
from sitegen.content.config import SiteFile

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
# words written as code in the README: `hospital.access.map.src` gives hospital, access, map, src
CODE_WORDS = {w for span in re.findall(r"`([^`]+)`", re.sub(r"```[a-z]*", "", README)) for w in re.findall(r"[A-Za-z_]+", span)}


def _fields(model: type[BaseModel], seen=None):
    seen = seen if seen is not None else set()
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        yield model.__name__, name
        for tp in _models_in(info.annotation):
            yield from _fields(tp, seen)


def _models_in(tp):
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
    for arg in typing.get_args(tp):
        yield from _models_in(arg)


def test_every_content_field_is_in_the_readme():
    roots = [SiteFile, models.Qualification, models.Department, models.Doctor, models.Schedule, models.Guide, models.NewsItem]
    missing = sorted({f"{m}.{f}" for root in roots for m, f in _fields(root) if f not in CODE_WORDS})
    assert missing == []


def test_the_two_setup_commands_are_in_the_readme():
    assert "make build" in README and "make test" in README
