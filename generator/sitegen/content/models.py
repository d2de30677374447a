"""The content schema: what PR and liaison staff write, one model per file kind.

`site.yaml` as a whole is `config.SiteFile`; this module has its parts.

Field names are short English words; values are Japanese. Every model is closed
(`extra="forbid"`): a misspelt key is an error with a "did you mean" hint, never
a silently ignored field. Models are frozen; derived data lives in `assemble.py`.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationInfo, field_validator

from sitegen.content.fields import is_valid_address, one_line_problem, phone_problem, web_url_problem

WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")
SESSIONS = ("午前", "午後")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
OptionalText = Annotated[str, StringConstraints(strip_whitespace=True)]


def _check_one_line(value: str) -> str:
    problem = one_line_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# one line of text: a name, a title, a label, a mail's subject. It goes into mail headers, page titles, headings,
# the PDF outline and table cells, where a line break (also a quoted "\u2028" or "\x85") is never wanted
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_check_one_line)]
OptionalLine = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_one_line)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$")]
Weekday = Literal["月", "火", "水", "木", "金", "土", "日"]
Session = Literal["午前", "午後"]
WeekOfMonth = Annotated[int, Field(ge=1, le=5)]


def _check_time(value: str) -> str:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ValueError("expected a time like 08:30 (hours:minutes, 24-hour clock)")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _check_colour(value: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValueError("expected a colour like #0B5C8C")
    return value.upper()


def _check_base_url(value: str) -> str:
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?", value):
        raise ValueError("expected an address like https://www.example.jp/renkei/")
    return value if value.endswith("/") else value + "/"


def _check_web_url(value: str) -> str:
    problem = web_url_problem(value) if value else ""
    if problem:
        raise ValueError(problem)
    return value


def _check_site_path(value: str) -> str:
    if not value or value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value) or "\\" in value:
        raise ValueError("expected a path inside content/, like images/doctors/yamada.jpg")
    if any(ord(c) < 32 or c == "\x7f" for c in value):  # "\0" or "\n" in a quoted value: no file has such a name
        raise ValueError("the path holds a control character (written as \\0, \\t or \\n in quotes?); "
                         "write the file's path as it is, like images/doctors/yamada.jpg")
    return value


def _check_closing_time(value: str) -> str:
    """A closing time may also be 24:00 (midnight at the end of the day) or 翌8:30 (the next morning)."""
    if value in ("24:00", "24時"):
        return "24:00"
    if value.startswith("翌"):
        return "翌" + _check_time(value[1:].strip())
    try:
        return _check_time(value)
    except ValueError:
        raise ValueError("expected a time like 17:00 (hours:minutes, 24-hour clock); 24:00 for midnight, "
                         "翌8:30 for the next morning") from None


def minutes(value: str) -> int:
    """Minutes after the opening day's midnight: 08:30 -> 510, 24:00 -> 1440, 翌08:30 -> 1950."""
    next_day = value.startswith("翌")
    h, m = value.removeprefix("翌").split(":")
    return int(h) * 60 + int(m) + (1440 if next_day else 0)


Time = Annotated[str, AfterValidator(_check_time)]
ClosingTime = Annotated[str, AfterValidator(_check_closing_time)]
Colour = Annotated[str, AfterValidator(_check_colour)]
BaseUrl = Annotated[str, AfterValidator(_check_base_url)]
WebUrl = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_web_url)]  # http(s) only
SitePath = Annotated[str, AfterValidator(_check_site_path)]  # relative to content/


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --- shared pieces -------------------------------------------------------------


class Image(Model):
    src: SitePath
    alt: Text  # say what the picture shows; 「写真」 is not enough


class Hours(Model):
    """One row of opening hours: days, times, and optionally which weeks of the month."""

    days: list[Weekday] = Field(min_length=1)
    open: Time
    close: ClosingTime  # 17:00, 24:00 or 翌8:30
    weeks: list[WeekOfMonth] = []  # e.g. [1, 3] for 第1・3土曜; empty = every week
    note: OptionalText = ""


class Contact(Model):
    id: Slug
    type: Literal["tel", "fax", "email", "web"]
    label: Line  # 紹介予約専用ダイヤル
    value: Line  # number, address or URL
    hours: list[Hours] = []  # or `24h` for a line that is open round the clock, every day
    closed: list[Text] = []  # 日曜・祝日, 年末年始（12月29日〜1月3日）
    holidays: Literal["closed", "open"] | None = None  # on calendar closed days; default: open only if open every day

    @field_validator("hours", mode="before")
    @classmethod
    def _round_the_clock(cls, value):
        if isinstance(value, str) and value.strip().lower() in ("24h", "24時間", "24時間365日"):
            return [{"days": list(WEEKDAYS), "open": "00:00", "close": "24:00"}]
        if isinstance(value, str):
            raise ValueError("expected a list of hours (days, open, close), or 24h for round the clock")
        return value
    notes: list[Text] = []  # FAX cut-offs: 16:15以降の受信分は翌診療日に回答

    @property
    def closes_on_holidays(self) -> bool:
        """Whether the calendar's closed days apply: as set, else yes unless the line is open every day of the week."""
        if self.holidays is not None:
            return self.holidays == "closed"
        return bool(self.hours) and not set(WEEKDAYS) <= {d for h in self.hours for d in h.days}

    @field_validator("value")
    @classmethod
    def _value_fits_type(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        if kind == "web":
            problem = web_url_problem(value)
        elif kind == "email":
            problem = "" if is_valid_address(value) else "expected an e-mail address like renkei@example.jp"
        elif kind in ("tel", "fax"):
            problem = phone_problem(value)
        else:
            problem = ""
        if problem:
            raise ValueError(problem)
        return value


class AdReview(Model):
    """A reviewed exception to the 医療広告ガイドライン check (`sitegen check`): who approved which phrase, and why."""

    phrase: Text  # the wording as it appears in the file
    approved_by: Text  # 広報委員会 山田
    reason: Text
    date: dt.date


class Reviewed(Model):
    ad_review: list[AdReview] = []  # reviewed exceptions; listed by `sitegen check`, no longer failing


# --- site.yaml -----------------------------------------------------------------


class Address(Model):
    postal_code: Annotated[str, StringConstraints(pattern=r"^\d{3}-\d{4}$")]
    text: Text


class Access(Model):
    train: list[Text] = []
    bus: list[Text] = []
    car: list[Text] = []
    parking: list[Text] = []
    map: Image | None = None


class Beds(Model):
    total: int = Field(ge=0)
    open: int = Field(default=0, ge=0)  # 開放型病床
    notes: list[Text] = []


class Outpatient(Model):
    """外来受付時間: when patients are received at the hospital's outpatient clinics (not the liaison office's hours)."""

    hours: list[Hours] = Field(min_length=1)
    closed: list[Text] = []  # 土曜午後・日曜・祝日, 年末年始
    notes: list[Text] = []  # 紹介状をお持ちの方は…


# a title written before the director's name: 院長, 病院長, 理事長・院長, 理事長兼病院長, 名誉院長 …
_DIRECTOR_TITLE = r"(?:名誉|代表|統括)?(?:病院長|院長|理事長|学長|総長|センター長)"
_DIRECTOR = re.compile(rf"^({_DIRECTOR_TITLE}(?:[・兼/／]{_DIRECTOR_TITLE})*)[\s\u3000]+(\S.*)$")


class Hospital(Model):
    name: Line
    name_en: Line
    name_kana: Line
    director: OptionalLine = ""
    address: Address
    phone: Line
    beds: Beds
    designations: list[Text] = []
    logo: Image | None = None
    access: Access = Access()
    website: WebUrl = ""  # the hospital's main website, if any
    outpatient: Outpatient | None = None  # 外来受付時間

    @property
    def director_title(self) -> str:
        """The title `director` starts with (「院長 田中 一郎」: 院長; 「理事長・病院長 …」), or "" when it is a name alone:
        a page that labels the name 院長 shows the name without it, not 「院長 院長 田中 一郎」."""
        found = _DIRECTOR.match(self.director)
        return found.group(1) if found else ""

    @property
    def director_name(self) -> str:
        """`director` without its title (`director_title`)."""
        found = _DIRECTOR.match(self.director)
        return found.group(2) if found else self.director


class FlowStep(Model):
    """One step of ご紹介の流れ (紹介 → 予約 → 受診 → 返書 → 逆紹介), drawn as a diagram on the web and in print."""

    step: Line  # 返書
    text: OptionalText = ""  # 初診日のうちに受診のご報告をお送りします


class Service(Model):
    """A 相談窓口 besides the referral desk: 医療福祉相談（MSW）, 入退院支援, がん相談支援センター, 在宅・介護連携."""

    name: Line  # がん相談支援センター
    text: OptionalText = ""  # what it helps with
    contacts: list[Slug] = []  # office.contacts ids (its phone line)


class Office(Model):
    name: Line  # 地域医療連携室
    manager: OptionalLine = ""
    description: OptionalText = ""
    contacts: list[Contact] = Field(min_length=1)
    referral_flow: list[FlowStep] = Field(default=[], max_length=8)  # ご紹介の流れ, in order
    services: list[Service] = []  # 相談窓口

    @property
    def booking_numbers(self) -> list[Contact]:
        """The numbers printed bare as 「ご紹介・ご予約」 (the guidebook's cover, the one-page schedule): the first
        `tel` and the first `fax` listed, in their order. The other lines (救急外来, MSW, a centre's own desk) are
        not for booking a referral, and a number without its label would read as one."""
        first: dict[str, Contact] = {}
        for contact in self.contacts:
            if contact.type in ("tel", "fax"):
                first.setdefault(contact.type, contact)
        return [c for c in self.contacts if first.get(c.type) is c]


class Colours(Model):
    primary: Colour = "#0B5C8C"
    accent: Colour = "#B5471B"
    text: Colour = "#1F2933"
    background: Colour = "#FFFFFF"


class SiteSettings(Model):
    base_url: BaseUrl
    title: Line
    description: Text
    theme: Slug = "default"
    colours: Colours = Colours()
    department_groups: list[Line] = Field(min_length=1)  # order of 内科系, 外科系, センター …
    news_on_home: int = Field(default=5, ge=0, le=50)


# --- content/qualifications.yaml -------------------------------------------------


class Qualification(Model):
    name: Line  # 循環器専門医
    issuer: Line  # 日本循環器学会
    kind: Literal["専門医", "指導医", "認定医", "その他"] = "専門医"
    advertisable: StrictBool  # 広告可能な資格か (医療広告ガイドライン)


# --- content/departments/<slug>.md ----------------------------------------------


class OutcomeItem(Model):
    label: Line
    value: int | float | Line
    unit: OptionalLine = ""


class Outcomes(Model):
    period: Text  # 2025年度（2025年4月〜2026年3月）
    source: Text  # 当院DPCデータ
    items: list[OutcomeItem] = Field(min_length=1)


class Referral(Model):
    patients: list[Text] = []  # 紹介していただきたい患者さん
    first_visit: OptionalText = ""  # 紹介制 / 予約制 …
    urgent_contact: Slug | None = None  # id of a contact in site.yaml
    notes: list[Text] = []


class Department(Reviewed):
    name: Line
    name_en: Line
    group: Line
    order: int = 100
    summary: Text
    features: list[Text] = []
    conditions: list[Text] = []  # 対象疾患
    symptoms: list[Text] = []  # 症状から探す
    exams: list[Text] = []  # 主な検査・治療・設備
    referral: Referral = Referral()
    outcomes: Outcomes | None = None
    doctors: list[Slug] = []  # display order; doctors not listed follow
    image: Image | None = None


# --- content/doctors/<slug>.md ---------------------------------------------------


class Doctor(Reviewed):
    name: Line  # 山田 太郎
    kana: Line  # やまだ たろう
    name_en: OptionalLine = ""
    title: OptionalLine = ""  # 部長, 医長
    departments: list[Slug] = Field(min_length=1)
    featured: StrictBool = False  # 注目のドクター
    joined: dt.date | None = None
    photo: Image | None = None
    school: OptionalLine = ""
    graduated: int | None = Field(default=None, ge=1940, le=2100)
    specialties: list[Text] = []  # 専門分野
    strengths: list[Text] = []  # 得意分野
    qualifications: list[Slug] = []  # ids from content/qualifications.yaml
    societies: list[Text] = []
    message: OptionalText = ""  # 紹介元の先生方へ


# --- content/schedules/<department>.yaml ------------------------------------------


class Period(Model):
    start: dt.date
    end: dt.date | None = None


class Slot(Model):
    day: Weekday
    time: Session
    room: OptionalLine = ""
    doctor: Slug | None = None
    clinic: OptionalLine = ""  # 専門外来: ペースメーカー外来
    # not shown when not given: a slot the office wrote nothing about (予防接種, 健診) is not labelled 初診・再診 / 予約制
    visit: Literal["初診", "再診", "初診・再診"] | None = None
    booking: Literal["紹介制", "予約制", "紹介・予約制", "予約不要"] | None = None
    weeks: list[WeekOfMonth] = []  # [1, 3] = 第1・3週; empty = every week
    note: OptionalText = ""


class PreviousSlot(Slot):
    name: OptionalLine = ""  # a doctor who has left (no file in content/doctors/ any more): 山田 太郎


class PreviousSchedule(Model):
    """The schedule this one replaces: newsletters and the web show what changed (before → after)."""

    period: Period
    slots: list[PreviousSlot] = Field(min_length=1)


class Schedule(Model):
    period: Period
    slots: list[Slot] = Field(min_length=1)
    notes: list[Text] = []
    previous: PreviousSchedule | None = None


# --- content/guides/<slug>.md -----------------------------------------------------


class Form(Model):
    file: SitePath  # files/shokai-fax.pdf
    label: Line
    note: OptionalText = ""


class Question(Model):
    q: Text
    a: Text


class Guide(Reviewed):
    title: Line
    order: int = 100
    summary: OptionalText = ""
    forms: list[Form] = []
    faq: list[Question] = []


# --- content/equipment/<slug>.md ---------------------------------------------------


class ExamOption(Model):
    """A choice on the FAX 予約申込書: a group of checkboxes (検査部位, 造影の有無)."""

    group: Line  # 検査部位
    choices: list[Line] = Field(min_length=1, max_length=12)  # 頭部, 胸部, 腹部
    multiple: StrictBool = True  # false: choose one (単純 / 造影)


class Equipment(Reviewed):
    """One exam a partner clinic can book directly (CT・MRI・RI・内視鏡 共同利用), with its booking rules."""

    name: Line  # CT検査
    order: int = 100
    summary: OptionalText = ""  # 320列マルチスライスCT …
    slots: Text  # 予約枠: 平日 9:00〜16:00（1枠30分）
    deadline: OptionalText = ""  # 申込締切: 前日17時まで
    preparation: list[Text] = []  # 前処置: 検査4時間前から絶食
    contrast: list[Text] = []  # 造影剤の条件: eGFR 30以上
    send: list[Text] = []  # 送っていただくもの: 診療情報提供書, 問診票
    bring: list[Text] = []  # 患者さんに持ってきていただくもの
    results: Text  # 結果の返却: 読影レポートを翌営業日までにFAX
    options: list[ExamOption] = Field(default=[], max_length=8)
    contact: Slug | None = None  # an office.contacts id for questions; default: the first contact


# --- content/pathways/<slug>.md ---------------------------------------------------


class PathwayStage(Model):
    """One stage of a 地域連携クリニカルパス: who cares for the patient, for how long, and what happens there."""

    name: Line  # 急性期
    where: Text  # 当院（脳神経外科・脳神経内科）
    period: OptionalText = ""  # 約2週間
    tasks: list[Text] = Field(default=[], max_length=10)  # 手術・急性期リハビリ, 連携パスシートの作成


class Pathway(Reviewed):
    """A 地域連携クリニカルパス (脳卒中, 大腿骨近位部骨折, がん, 心不全 …): the shared care plan that carries a patient
    from the hospital to the partners who take over, stage by stage."""

    name: Line  # 脳卒中地域連携パス
    order: int = 100
    disease: Text  # 対象: 脳梗塞・脳出血・くも膜下出血で入院した方
    summary: OptionalText = ""
    departments: list[Slug] = []  # the departments that run it
    criteria: list[Text] = Field(default=[], max_length=10)  # 適用の目安
    stages: list[PathwayStage] = Field(min_length=2, max_length=8)
    partners: list[Text] = Field(default=[], max_length=60)  # 連携している医療機関・施設
    sheet: Form | None = None  # the パスシート (PDF under content/files/)
    contact: Slug | None = None  # an office.contacts id for questions; default: the first contact


# --- content/news/<slug>.md -------------------------------------------------------


class Absence(Model):
    """A 休診・代診 notice as data: who is away on which days (and sessions), and who covers."""

    doctor: Slug
    dates: list[dt.date] = Field(min_length=1)
    sessions: list[Session] = []  # empty = the whole day
    substitute: Slug | None = None  # 代診


class NewsItem(Reviewed):
    title: Line
    date: dt.date
    expires: dt.date | None = None  # with `absence`, the last absent day unless set
    absence: Absence | None = None
    draft: StrictBool = False
    category: Literal["お知らせ", "休診・代診", "イベント", "診療体制", "採用"] = "お知らせ"
    summary: OptionalText = ""
