"""content/clinics.csv: the public list of registered partner clinics (登録医・連携医療機関一覧).

Not the newsletter's recipient list (private/partners.csv, never published): this list is what the hospital
shows clinics and patients — name, area, specialties, address, phone, website, the registered doctor. A row
with `public: no` (a clinic that has not agreed to be listed) is validated like the others and then dropped:
it reaches no page, no index and no file of the build.

    name,area,specialties,address,tel,url,doctor,public
    あおば内科クリニック,中央区,内科・循環器内科,あおば市中央1-2-3,042-000-2001,https://…,青葉 一郎,yes

Columns other than name and area may be empty. Problems are reported at the file's line like every other
content mistake.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from pydantic import field_validator

from sitegen.content import csv_table
from sitegen.content.fields import phone_problem
from sitegen.content.models import Model, OptionalText, Text, WebUrl
from sitegen.content.sources import Source, read_text
from sitegen.content.validate import validate
from sitegen.errors import Location, ProblemList
from sitegen.project import Project

FILE = "clinics.csv"
COLUMNS = ("name", "area", "specialties", "address", "tel", "url", "doctor", "public")
MAX_BYTES = 2_000_000
_TRUE = {"yes", "true", "1", "はい", "○", "公開"}
_FALSE = {"no", "false", "0", "いいえ", "×", "非公開"}


class ClinicRow(Model):
    name: Text
    area: Text  # 中央区, あおば市北部
    specialties: list[Text] = []
    address: OptionalText = ""
    tel: OptionalText = ""
    url: WebUrl = ""
    doctor: OptionalText = ""  # 登録医
    public: bool = True

    @field_validator("tel")
    @classmethod
    def _phone(cls, value: str) -> str:
        problem = phone_problem(value) if value else ""
        if problem:
            raise ValueError(problem)
        return value


@dataclass(frozen=True)
class Clinic:
    row: ClinicRow
    line: int

    def __getattr__(self, name: str):
        return getattr(self.__dict__["row"], name)


def load(project: Project, problems: ProblemList) -> tuple[Clinic, ...]:
    """The public rows of content/clinics.csv, in file order; () when there is no such file."""
    path = project.content / FILE
    shown = f"content/{FILE}"
    if not path.is_file():
        return ()
    if not project.inside(path, project.content):
        problems.error(Location(shown), "", f"points outside content/ (symbolic link to {os.path.realpath(path)}); not read")
        return ()
    text, found = read_text(path, shown, max_bytes=MAX_BYTES)
    problems.extend(found)
    if text is None:
        return ()
    table = csv_table.rows(text, shown, COLUMNS, ("name", "area"), problems)
    if table is None:
        return ()
    out = []
    for line, cells in table:
        data = _from_csv(cells)
        marks: dict[tuple, int] = {(): line, **{(k,): line for k in data}}
        model, found = validate(Source(shown, data, marks), ClinicRow, data)
        problems.extend(found)
        if model is not None and model.public:
            out.append(Clinic(model, line))
    return tuple(out)


def _from_csv(data: dict[str, str]) -> dict:
    out: dict = {k: v.strip() for k, v in data.items()}
    out["specialties"] = [s.strip() for s in re.split(r"[・;；、/／]", out.get("specialties", "")) if s.strip()]
    if "public" in out:
        v = out["public"].lower()
        out["public"] = True if v in _TRUE or v == "" else False if v in _FALSE else out["public"]
    return out


def by_area(clinics: tuple[Clinic, ...]) -> list[tuple[str, list[tuple[str, list[Clinic]]]]]:
    """Areas in order of first appearance, each with its specialties (first listed) and their clinics."""
    areas: dict[str, dict[str, list[Clinic]]] = {}
    for c in clinics:
        key = c.specialties[0] if c.specialties else "その他"
        areas.setdefault(c.area, {}).setdefault(key, []).append(c)
    return [(area, list(groups.items())) for area, groups in areas.items()]
