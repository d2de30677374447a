"""The `brochures:` section of site.yaml: which PDF brochures to print, and how.

Everything is optional; without the section sitegen prints the guidebook and
one leaflet per department on A4 with every section in the default order.

    brochures:
      paper: A4               # A4, A5 or B5 (JIS B5, 182 × 257 mm)
      press: false            # print-shop edition too: 3 mm bleed and トンボ
      guidebook:
        enabled: true
        title: 地域医療連携ガイドブック
        greeting: |            # ごあいさつ; default: office.description
          平素より…
        signature: 院長 田中 一郎
        sections: [overview, guide:shokai, contacts, guide:kensa-yoyaku, departments,
                   featured, guides, access]
      leaflets:
        enabled: true         # false: no leaflets
        max_pages: 2          # longer leaflets are printed denser, then reported
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool

from sitegen.content.models import Line, Model, OptionalLine, OptionalText

# Guidebook sections that can be listed in `sections`, in their default order. `guide:<slug>` places one
# partner guide; `guides` places every guide not placed by name, in their order. `schedule` is the one-page
# 外来担当医表 of every department, printed landscape (the page clinics pin up by the fax machine). `forms` is
# the appendix 様式集: the partner guides' PDF forms (FAX 予約申込書 …) printed as pages of the book; always last.
SECTIONS = ("greeting", "overview", "contacts", "schedule", "guides", "equipment", "pathways", "departments", "featured",
            "access", "forms")


def _check_section(value: str) -> str:
    if value in SECTIONS or re.fullmatch(r"guide:[a-z0-9][a-z0-9-]*", value):
        return value
    raise ValueError(f"unknown section {value!r}; choose from {', '.join(SECTIONS)} or guide:<slug of a guide>")


def _check_sections(value: list[str]) -> list[str]:
    twice = sorted({s for s in value if value.count(s) > 1})
    if twice:
        raise ValueError(f"listed twice: {', '.join(twice)}")
    return value


Section = Annotated[str, AfterValidator(_check_section)]


class GuidebookSettings(Model):
    enabled: StrictBool = True
    title: Line = "地域医療連携ガイドブック"
    greeting: OptionalText = ""  # ごあいさつ (plain text, blank lines between paragraphs); default: office.description
    signature: OptionalLine = ""  # who greets: 院長 田中 一郎; default: hospital.director
    sections: Annotated[list[Section], AfterValidator(_check_sections)] = Field(
        default_factory=lambda: list(SECTIONS), min_length=1)
    pack: StrictBool = True  # guides and departments follow one another on a page; false: each starts a new page
    saddle_stitch: StrictBool = False  # 中綴じ: pad to a multiple of 4 pages with メモ pages before the back cover


class LeafletSettings(Model):
    enabled: StrictBool = True
    max_pages: int = Field(default=2, ge=1, le=4)  # a leaflet longer than this is printed denser, then reported


class ScheduleSheetSettings(Model):
    """The one-page 外来担当医表 of all departments, also printed on its own (build/pdf/schedule.pdf)."""

    enabled: StrictBool = True
    paper: Literal["A4", "A3"] = "A4"  # landscape; A3 for a large table folded in the book or pinned up


class BrochureSettings(Model):
    paper: Literal["A4", "A5", "B5"] = "A4"
    press: StrictBool = False  # also write build/pdf/press/: 3 mm bleed, トンボ, TrimBox/BleedBox
    guidebook: GuidebookSettings = GuidebookSettings()
    leaflets: LeafletSettings = LeafletSettings()
    schedule: ScheduleSheetSettings = ScheduleSheetSettings()


# Paper sizes in millimetres (width, height). B5 is the Japanese JIS B5 of printing shops.
PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "B5": (182.0, 257.0), "A3": (297.0, 420.0)}
