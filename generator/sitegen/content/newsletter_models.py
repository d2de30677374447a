"""The newsletter schema: issues under content/newsletters/, the `newsletter:` and `smtp:`
sections of site.yaml, and one row of the partner (recipient) list.

Like every other model these are closed: a misspelt key is an error, not an
ignored field. Sections are told apart by their `type`.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, Field, StrictBool, StringConstraints, model_validator

from sitegen.content.fields import has_encoded_word, is_valid_address, web_url_problem
from sitegen.content.models import AdReview, Line, Model, OptionalLine, OptionalText, Slug, Text


def _check_https(value: str) -> str:
    problem = web_url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_email(value: str) -> str:
    if not is_valid_address(value):
        raise ValueError("expected an e-mail address like renkei@example.jp")
    return value




def _no_encoded_word(value: str) -> str:
    if has_encoded_word(value):
        raise ValueError("holds text like =?utf-8?b?...?=, which mail programs would decode as an encoded header "
                         "word; write the text itself")
    return value


# a subject, a sender's name: one line, and no =?...?= encoded word (written raw, mail programs would decode it)
OneLine = Annotated[Line, AfterValidator(_no_encoded_word)]
Url = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_https)]
Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_email)]


# --- sections of an issue -----------------------------------------------------------------


class TextSection(Model):
    """Free Markdown. `body` in the front matter, or the issue's own Markdown body when omitted."""

    type: Literal["text"]
    title: OptionalLine = ""
    body: OptionalText = ""


class DoctorSection(Model):
    """注目のドクター: the same doctor card the website shows."""

    type: Literal["doctor"]
    title: OptionalLine = "注目のドクター"
    doctor: Slug
    note: OptionalText = ""


class DepartmentSection(Model):
    """診療科紹介: the department's summary, features and referral notes from content/departments/."""

    type: Literal["department"]
    title: OptionalLine = "診療科のご紹介"
    department: Slug
    note: OptionalText = ""


class NewDoctorsSection(Model):
    """新任医師: doctors whose `joined` date falls after the previous issue (or those listed)."""

    type: Literal["new_doctors"]
    title: OptionalLine = "新任医師のご紹介"
    doctors: list[Slug] | None = None  # omitted: chosen from joined dates


class ScheduleChangesSection(Model):
    """外来担当医表の変更: departments whose schedule period starts after the previous issue (or those listed)."""

    type: Literal["schedule_changes"]
    title: OptionalLine = "外来担当医表の変更"
    departments: list[Slug] | None = None  # omitted: chosen from schedule periods
    note: OptionalText = ""


class NewsSection(Model):
    """お知らせ: news items published since the previous issue (or those listed)."""

    type: Literal["news"]
    title: OptionalLine = "お知らせ"
    items: list[Slug] | None = None  # news file names without .md; omitted: chosen from dates
    limit: int = Field(default=5, ge=1, le=20)


class EventSection(Model):
    """An event (地域医療連携の会, 症例検討会) with date, place and an RSVP link."""

    type: Literal["event"]
    title: Line
    date: dt.date
    time: OptionalLine = ""  # 19:00〜20:30
    place: Line
    rsvp: Url | None = None
    rsvp_deadline: dt.date | None = None
    body: OptionalText = ""


Section = Union[TextSection, DoctorSection, DepartmentSection, NewDoctorsSection, ScheduleChangesSection,
                NewsSection, EventSection]
# `type` -> model. Sections are validated one by one (newsletters.py), so that an error names
# `sections[2].doctor` and its line rather than pydantic's union branch.
SECTION_MODELS: dict[str, type[Model]] = {
    "text": TextSection, "doctor": DoctorSection, "department": DepartmentSection,
    "new_doctors": NewDoctorsSection, "schedule_changes": ScheduleChangesSection, "news": NewsSection,
    "event": EventSection,
}


class Newsletter(Model):
    """content/newsletters/<id>.md: one issue. The Markdown body is the opening letter (巻頭のご挨拶)."""

    series: OneLine | None = None  # default: newsletter.series in site.yaml
    number: int = Field(ge=1)
    date: dt.date
    subject: OneLine
    preheader: OptionalText = ""  # the line mail programs show after the subject
    draft: StrictBool = False
    sections: list[dict[str, Any]] = Field(min_length=1)  # each checked against SECTION_MODELS
    ad_review: list[AdReview] = []  # reviewed exceptions to the 医療広告ガイドライン check (sitegen check)


# --- site.yaml -----------------------------------------------------------------------------


class NewsletterSettings(Model):
    series: OneLine  # 連携だより
    from_name: OneLine  # みなと中央病院 地域医療連携室
    from_address: Email
    reply_to: Email | None = None
    recipients: OptionalText = "private/partners.csv"  # relative to the site folder; never under content/
    unsubscribe_url: Url  # a page (or the mail relay's endpoint) where a reader opts out
    unsubscribe_mailto: Email  # 配信停止 by mail
    list_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$")] | None = None
    # true: unsubscribe_url is the deployed endpoint (sitegen.send.unsubscribe_app), which takes the POST of
    # RFC 8058; only then is `List-Unsubscribe-Post: List-Unsubscribe=One-Click` advertised
    one_click: StrictBool = False

    @model_validator(mode="after")
    def _one_click_needs_https(self) -> "NewsletterSettings":
        if self.one_click and not self.unsubscribe_url.lower().startswith("https://"):
            raise ValueError("one_click needs an unsubscribe_url starting with https:// (RFC 8058)")
        return self


class SmtpSettings(Model):
    """Where `sitegen send` delivers. The user name and password come only from environment variables."""

    host: Text = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user_env: Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")] = "SITEGEN_SMTP_USER"
    password_env: Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]*$")] = "SITEGEN_SMTP_PASSWORD"
    rate: float = Field(default=5.0, gt=0, le=1000)  # messages per second
    timeout: float = Field(default=30.0, gt=0)
    open_relay: StrictBool = False  # true: an internal relay that accepts this machine without a login
    envelope_from: Email | None = None  # Return-Path: where bounces go (default: newsletter.from_address)
    verp: StrictBool = False  # bounces+clinic=example.jp@…: each bounce names its recipient (needs envelope_from)
    helo_name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")] | None = None
    ca_file: OptionalText = ""  # a CA certificate (PEM) for an internal relay, relative to the site folder


# --- private/partners.csv --------------------------------------------------------------------


class Recipient(Model):
    institution: Line  # みなと内科クリニック (an =?...?= in it is encoded in To:, never decoded)
    contact: OptionalLine = ""  # 山田 一郎
    email: Text  # checked separately, so that invalid addresses are listed, not fatal
    area: OptionalLine = ""  # 港区
    specialties: list[Line] = []  # 内科, 循環器内科
    registered: StrictBool = False  # 登録医
    opted_in: dt.date | None = None
    status: Literal["subscribed", "unsubscribed", "bounced"] | None = None  # None: not stated, never mailed
