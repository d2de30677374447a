"""An entry (content/site.py) reads its data's fields through: `doctor.name` is the doctor file's name. After the
first read a field is read by a property of the entry's class (`_read_through`); what any read gives stays as it
was — an entry's own fields win, a subclass's fields are never hidden, and a field its data lacks is missing."""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import pydantic
import pytest
from markupsafe import Markup

from sitegen.content.site import Entry


class _News(pydantic.BaseModel):
    title: str
    source: str = "the data's source"  # an entry's own field has the same name
    extra: str = "the data's extra"  # a subclass's own field has the same name


class _Other(pydantic.BaseModel):
    name: str

    @property
    def title(self) -> str:  # not a field here: a property of the data
        return f"about {self.name}"


@dataclass(frozen=True, eq=False)
class _Base(Entry):
    pass


@dataclass(frozen=True, eq=False)
class _Below(_Base):
    extra: str = ""


@dataclass(frozen=True, eq=False)
class _Bare(_Base):
    extra: str  # no default: a property of _Base named so would make it impossible to set


def test_fields_read_through_give_what_the_data_has_read_after_read():
    news = _Base("n", _News(title="見出し"), "content/news/n.md", Markup(""))
    other = _Base("o", _Other(name="佐藤"), "content/x/o.md", Markup(""))
    for _ in range(3):  # the first read makes the property; later reads go through it
        assert news.title == "見出し" and other.title == "about 佐藤" and other.name == "佐藤"
        assert news.source == "content/news/n.md"  # the entry's own source, not the data's
        assert news.extra == "the data's extra"
        with pytest.raises(AttributeError):
            news.name  # noqa: B018 - the news data has no name
        with pytest.raises(AttributeError):
            other.summary  # noqa: B018
    # read through by the class (or Entry, when another test read a title first), not by __getattr__
    assert isinstance(inspect.getattr_static(_Base, "title"), property)
    assert not isinstance(inspect.getattr_static(_Base, "extra", None), property)
    below = _Below("b", _News(title="t"), "content/b.md", Markup(""), extra="own")
    bare = _Bare("c", _News(title="t"), "content/c.md", Markup(""), "its own")
    assert below.extra == "own" and bare.extra == "its own" and below.title == "t"


def test_an_entry_without_data_reads_nothing_through():
    empty = _Base("e", None, "content/e.md", Markup(""))
    with pytest.raises(AttributeError):
        empty.title  # noqa: B018
