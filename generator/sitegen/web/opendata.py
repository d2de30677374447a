"""Open data: departments, doctors, outpatient schedules, 休診・代診 notices and closed days as JSON and CSV.

Written to `build/site/data/` with a JSON Schema (draft 2020-12) for each file, so regional networks, a
hospital's other systems or a clinic's spreadsheet can reuse what the site publishes. Only what the website
itself shows is exported: published, unexpired notices; advertisable qualifications; never drafts or the
partner list. Rows are in the site's order and keys in a fixed order, so the files are byte-identical for
the same input.

CSV files are UTF-8 with a byte-order mark: Excel, which most liaison offices open them with, reads a CSV
without it as Shift_JIS and garbles every Japanese character.
"""
from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from sitegen import urls
from sitegen.artifacts import Artifact
from sitegen.content.site import Site

SCHEMA_BASE = "https://json-schema.org/draft/2020-12/schema"
_STR = {"type": "string"}
_STRS = {"type": "array", "items": {"type": "string"}}
_DATE = {"type": "string", "format": "date"}

# name -> (title, {field: schema}, required fields); the order of the fields is the order of the CSV columns
DATASETS: dict[str, tuple[str, dict[str, dict], list[str]]] = {
    "departments": ("診療科", {
        "id": _STR, "name": _STR, "name_en": _STR, "group": _STR, "summary": _STR, "first_visit": _STR,
        "symptoms": _STRS, "conditions": _STRS, "exams": _STRS, "doctors": _STRS, "url": {"type": "string", "format": "uri"},
    }, ["id", "name", "group", "url"]),
    "doctors": ("医師", {
        "id": _STR, "name": _STR, "kana": _STR, "name_en": _STR, "title": _STR, "departments": _STRS,
        "specialties": _STRS, "qualifications": _STRS, "url": {"type": "string", "format": "uri"},
    }, ["id", "name", "kana", "departments", "url"]),
    "schedules": ("外来担当医表", {
        "department": _STR, "period_start": _DATE, "period_end": {"type": ["string", "null"], "format": "date"},
        "day": {"enum": ["月", "火", "水", "木", "金", "土", "日"]}, "session": {"enum": ["午前", "午後"]},
        "room": _STR, "doctor": {"type": ["string", "null"]}, "doctor_name": _STR, "clinic": _STR,
        "visit": {"enum": ["初診", "再診", "初診・再診", ""]},
        "booking": {"enum": ["紹介制", "予約制", "紹介・予約制", "予約不要", ""]},
        "weeks": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 5}}, "note": _STR,
    }, ["department", "period_start", "day", "session", "visit", "booking"]),
    "notices": ("休診・代診のお知らせ", {
        "id": _STR, "title": _STR, "date": _DATE, "doctor": _STR, "doctor_name": _STR,
        "dates": {"type": "array", "items": _DATE, "minItems": 1},
        "sessions": {"type": "array", "items": {"enum": ["午前", "午後"]}},
        "substitute": {"type": ["string", "null"]}, "substitute_name": _STR, "url": {"type": "string", "format": "uri"},
    }, ["id", "title", "date", "doctor", "dates"]),
    "closures": ("休診日（祝日・病院の休診日）", {
        "date": _DATE, "name": _STR, "kind": {"enum": ["祝日", "休診日"]},
        "sessions": {"type": "array", "items": {"enum": ["午前", "午後"]}},
    }, ["date", "name", "kind"]),
}


def records(site: Site) -> dict[str, list[dict[str, Any]]]:
    """Every dataset's rows, as plain JSON values (the data page counts them without making them: `listing`)."""
    base = site.settings.base_url

    def url(kind: str, slug: str | None = None) -> str:
        return urls.absolute(base, urls.page_path(kind, slug))

    out: dict[str, list[dict[str, Any]]] = {name: [] for name in DATASETS}
    names = {person.slug: person.name for person in site.doctors}  # one read of all, not one call per slot
    for d in site.departments:
        out["departments"].append({
            "id": d.slug, "name": d.name, "name_en": d.name_en, "group": d.group, "summary": d.summary,
            "first_visit": d.referral.first_visit, "symptoms": list(d.symptoms), "conditions": list(d.conditions),
            "exams": list(d.exams), "doctors": list(d.doctors), "url": url("department", d.slug)})
        if d.schedule:
            for s in d.schedule.slots:
                doc = s.slot.doctor
                out["schedules"].append({
                    "department": d.slug, "period_start": d.schedule.period.start.isoformat(),
                    "period_end": d.schedule.period.end.isoformat() if d.schedule.period.end else None,
                    "day": s.day, "session": s.time, "room": s.slot.room, "doctor": doc,
                    "doctor_name": names[doc] if doc else "", "clinic": s.slot.clinic,
                    "visit": s.slot.visit or "", "booking": s.slot.booking or "", "weeks": list(s.slot.weeks), "note": s.slot.note})
    for person in site.doctors:
        out["doctors"].append({
            "id": person.slug, "name": person.name, "kana": person.kana, "name_en": person.name_en,
            "title": person.title, "departments": list(person.departments), "specialties": list(person.specialties),
            "qualifications": [q.name for q in person.qualifications], "url": url("doctor", person.slug)})
    for n in site.absences():
        a = n.absence
        out["notices"].append({
            "id": n.slug, "title": n.title, "date": n.date.isoformat(), "doctor": a.doctor,
            "doctor_name": names[a.doctor], "dates": [x.isoformat() for x in a.dates],
            "sessions": list(a.sessions), "substitute": a.substitute,
            "substitute_name": names[a.substitute] if a.substitute else "", "url": url("news_item", n.slug)})
    for c in site.closures:
        out["closures"].append({"date": c.date.isoformat(), "name": c.name, "kind": c.kind, "sessions": list(c.sessions)})
    return out


def schema(site: Site, name: str) -> dict:
    title, fields, required = DATASETS[name]
    return {
        "$schema": SCHEMA_BASE,
        "$id": urls.absolute(site.settings.base_url, f"data/{name}.schema.json"),
        "title": f"{site.hospital.name} {title}",
        "type": "object",
        "required": ["hospital", "updated", "items"],
        "properties": {
            "hospital": _STR,
            "updated": _DATE,
            "items": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": required, "properties": fields}},
        },
        "additionalProperties": False,
    }


def _csv(name: str, rows: list[dict]) -> bytes:
    fields = list(DATASETS[name][1])
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([csv_cell("、".join(str(v) for v in row[f]) if isinstance(row[f], list) else row[f])
                         for f in fields])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# a number or a telephone number (-5, 1.5, +81-3-0000-0000, (03) 0000-0000): Excel may compute it, but it calls
# nothing and refers to no cell, so it is written as it is
_NUMBER_OR_PHONE = re.compile(r"[+-]?[\d(][\d .,()-]*")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell Excel opens without running it (OWASP's CSV injection advice): text that starts with
    =, +, -, @, a tab or a carriage return (=HYPERLINK(…) as a doctor's name) gets a single quote before it, so
    Excel shows it as text; numbers and telephone numbers stay as they are. The JSON files keep every value."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER_OR_PHONE.fullmatch(value):
        return "'" + value
    return value


def _json(value: Any) -> bytes:
    """Readable JSON: an object's keys one per line, a list's items one per line, each item on one line. (json's
    indent= makes it use its pure-Python encoder: 10,000 records took a second; each line here is encoded in C.)"""
    def line(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)

    def block(v: Any, pad: str) -> str:
        if isinstance(v, dict) and v:
            inner = ",\n".join(f"{pad} {line(k)}: {block(x, pad + ' ')}" for k, x in v.items())
            return "{\n" + inner + "\n" + pad + "}"
        if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
            return "[\n" + ",\n".join(f"{pad} {line(x)}" for x in v) + "\n" + pad + "]"
        return line(v)

    return (block(value, "") + "\n").encode("utf-8")


def paths() -> tuple[str, ...]:
    """The files `artifacts` makes, in its order."""
    return tuple(f"data/{name}.{ext}" for name in DATASETS for ext in ("json", "csv", "schema.json"))


def artifacts(site: Site) -> list[Artifact]:
    """build/site/data/<name>.json, .csv and .schema.json for every dataset."""
    out = []
    for name, rows in records(site).items():
        doc = {"hospital": site.hospital.name, "updated": site.today.isoformat(), "items": rows}
        out.append(Artifact(f"data/{name}.json", _json(doc)))
        out.append(Artifact(f"data/{name}.csv", _csv(name, rows)))
        out.append(Artifact(f"data/{name}.schema.json", _json(schema(site, name))))
    return out


def listing(site: Site) -> list[dict]:
    """For the data page: each dataset's title, files, row count and columns."""
    counts = {"departments": len(site.departments),
              "schedules": sum(len(d.schedule.slots) for d in site.departments if d.schedule),
              "doctors": len(site.doctors), "notices": len(site.absences()), "closures": len(site.closures)}
    return [{"name": name, "title": title, "rows": counts[name], "columns": list(fields)}
            for name, (title, fields, _) in DATASETS.items()]
