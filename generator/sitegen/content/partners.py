"""The partner list (recipients): CSV or YAML, validated, filtered by segments, personalised.

The list lives outside content/ (default private/partners.csv, set in site.yaml under
newsletter.recipients) and is never copied into any build output.

CSV columns: institution, contact, email, area, specialties (separated by ・ or ;),
registered (登録医: true/false), opted_in (YYYY-MM-DD), status (subscribed, unsubscribed,
bounced). YAML: a list of mappings with the same keys (specialties as a list).
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sitegen.content import csv_table
from sitegen.content.fields import is_valid_address, strip_control
from sitegen.content.newsletter_models import NewsletterSettings, Recipient
from sitegen.content.sources import Source, load_yaml_file, read_text
from sitegen.content.validate import validate
from sitegen.errors import Location, ProblemList, SitegenError
from sitegen.project import Project

DEFAULT = "private/partners.csv"  # newsletter.recipients when site.yaml does not say
COLUMNS = ("institution", "contact", "email", "area", "specialties", "registered", "opted_in", "status")
SEGMENT_KEYS = ("area", "specialty", "registered", "status")
_TRUE = {"true", "1", "yes", "y", "はい", "○", "〇"}
_FALSE = {"false", "0", "no", "n", "いいえ", "", "×"}


OPTED_OUT = ("unsubscribed", "bounced")
MAX_LIST_BYTES = 50_000_000  # about 300,000 rows; the content files' 1 MB cap does not apply to the list


@dataclass(frozen=True)
class Partner:
    recipient: Recipient
    line: int  # in the list file

    @property
    def unclear(self) -> str:
        """Why this row may not be mailed although it does not opt out ('' when it may): 特定電子メール法
        requires recorded prior consent, so a row without a status or an opt-in date is never mailed."""
        r = self.recipient
        if r.status is None:
            return "no status (write subscribed, unsubscribed or bounced)"
        if r.status == "subscribed" and r.opted_in is None:
            return "no opt-in date; 特定電子メール法 requires the recipient's prior consent"
        return ""

    @property
    def mailable(self) -> bool:
        return self.recipient.status == "subscribed" and not self.unclear

    @property
    def email(self) -> str:
        return self.recipient.email

    @property
    def key(self) -> str:
        """The journal key: the address, lower-cased."""
        return self.recipient.email.lower()


@dataclass(frozen=True)
class InvalidRow:
    line: int
    address: str
    reason: str
    status: str | None  # a row that opts out anyway matters less


@dataclass(frozen=True)
class RecipientList:
    path: str  # as shown to people
    partners: tuple[Partner, ...]  # valid rows, one per address (an opt-out row wins over a subscribed one)
    invalid: tuple[InvalidRow, ...]  # rows with an unusable address: listed, never mailed


class RecipientListError(SitegenError):
    """The partner list is somewhere it must not be."""


def locate(project: Project, configured: str | None, override: str | Path | None) -> tuple[Path, str]:
    """The partner list: `override` (--recipients, relative to the current folder) or `configured`
    (newsletter.recipients, relative to the site). Returns (path, path as shown).

    It must stay inside the site folder (symlinks followed) and outside everything that is published
    or built (content/, themes/, the build folder)."""
    given = str(override) if override else (configured or DEFAULT)
    path = (Path(override) if override else project.root / given).resolve()
    what = "--recipients" if override else "newsletter.recipients"
    if not project.inside(path):
        raise RecipientListError(f"{what}: {given} is outside the site folder {project.root}; keep the partner list "
                                 "inside it (e.g. private/partners.csv)")
    published = published_place(project, path)
    if published is not None:
        raise RecipientListError(f"{what}: {published}")
    return path, project.rel(path)


def published_setting(project: Project, configured: object) -> str | None:
    """`published_place` of newsletter.recipients as site.yaml gives it (anything but text: None, a content error
    of its own)."""
    if configured is not None and not isinstance(configured, str):
        return None
    try:
        path = (project.root / (configured or DEFAULT)).resolve()
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL: `locate` says so
        return None
    return published_place(project, path)


def published_place(project: Project, path: Path) -> str | None:
    """Why the partner list may not be at `path` (resolved) when that is in a folder that is published or built —
    content/, themes/ (every theme's static folder is in it: a link out of there is refused) or the build folder,
    each with its links followed; None when it is not. Every command that loads the site refuses such a
    newsletter.recipients (content.load), `send` such a --recipients."""
    for folder in (project.content, project.themes, project.out):
        real = folder.resolve()
        if path == real or real in path.parents:
            return (f"{project.rel(path)} is under {project.rel(folder)}/, which is published or built; keep the "
                    "partner list outside content/ and themes/ (e.g. private/partners.csv)")
    return None


def salutation(r: Recipient | None) -> str:
    """「みなと内科クリニック 山田一郎先生」, or 「… ご担当者様」 without a contact name, or 「ご担当者様」."""
    if r is None:
        return "ご担当者様"
    name = strip_control(r.contact).strip()
    institution = strip_control(r.institution).strip()
    if not name:
        return f"{institution} ご担当者様"
    if not name.endswith(("先生", "様")):
        name += "先生"
    return f"{institution} {name}"


TOKEN_LENGTH = 32  # hex digits (128 bits) of the HMAC; the unsubscribe endpoint checks this format
TOKEN_FORMAT = re.compile(rf"[0-9a-f]{{{TOKEN_LENGTH}}}")


def token(list_id: str, address: str, secret: bytes) -> str:
    """The unsubscribe token of an address: HMAC-SHA256 over the list id and the lower-cased address, keyed with
    the office's secret (SITEGEN_UNSUBSCRIBE_SECRET). Short (keeps List-Unsubscribe URLs short), stable, and
    nobody without the secret can make one for an address; `sitegen unsubscribes` maps it back with the list."""
    digest = hmac.new(secret, f"{list_id}\n{address.lower()}".encode(), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]


def list_id_for(settings: NewsletterSettings) -> str:
    """The List-Id of the newsletter: newsletter.list_id, or newsletter.<the sender's domain>."""
    return settings.list_id or f"newsletter.{settings.from_address.rsplit('@', 1)[1]}"


def load(path: Path, shown: str, problems: ProblemList) -> RecipientList | None:
    """Read and check the list. Schema errors go to `problems`; bad addresses are listed in `invalid`."""
    if not path.is_file():
        problems.error(Location(shown), "", "recipient list not found (set newsletter.recipients in site.yaml or use --recipients)")
        return None
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path, shown, problems)
    elif path.suffix.lower() in (".yaml", ".yml"):
        rows = _yaml_rows(path, shown, problems)
    else:
        problems.error(Location(shown), "", "the recipient list must be a .csv or .yaml file")
        return None
    if rows is None:
        return None
    chosen: dict[str, Partner] = {}
    invalid: list[InvalidRow] = []
    for source, data, loc, line in rows:
        model, found = validate(source, Recipient, data, loc)
        problems.extend(found)
        if model is None:
            continue
        if not is_valid_address(model.email):
            invalid.append(InvalidRow(line, model.email, "not a valid e-mail address", model.status))
            continue
        key = model.email.lower()
        first = chosen.get(key)
        if first is None:
            chosen[key] = Partner(model, line)
            continue
        if model.status in OPTED_OUT and first.recipient.status not in OPTED_OUT:
            chosen[key] = Partner(model, line)  # an opt-out added as a new row is honoured
            problems.warning(Location(shown, line), "email", f"{model.email} is also on line {first.line}; "
                             f"this row ({model.status}) wins, the address is not mailed")
        else:
            problems.warning(Location(shown, line), "email", f"{model.email} is also on line {first.line}; "
                             f"line {first.line} counts" + ("" if first.recipient.status in OPTED_OUT else ", sent once"))
    partners = sorted(chosen.values(), key=lambda p: p.line)
    return RecipientList(shown, tuple(partners), tuple(invalid))


def _csv_rows(path: Path, shown: str, problems: ProblemList):
    size = path.stat().st_size
    if size > MAX_LIST_BYTES:
        problems.error(Location(shown), "", f"the partner list is too large ({size:,} bytes; at most {MAX_LIST_BYTES:,}); "
                       "split it and send to each part with --recipients")
        return None
    text, found = read_text(path, shown, max_bytes=MAX_LIST_BYTES)
    problems.extend(found)
    if text is None:
        return None
    table = csv_table.rows(text, shown, COLUMNS, ("institution", "email"), problems)
    if table is None:
        return None
    rows = []
    for line, data in table:
        marks: dict[tuple, int] = {(): line, **{(k,): line for k in data}}
        data = _from_csv(data)
        rows.append((Source(shown, data, marks), data, (), line))
    return rows


def _from_csv(data: dict) -> dict:
    out = {k: v.strip() for k, v in data.items()}
    if "specialties" in out:
        out["specialties"] = [s.strip() for s in re.split(r"[・;；、]", out["specialties"]) if s.strip()]
    if out.get("status") == "":
        out["status"] = None  # stated nowhere: not mailed (see Partner.unclear)
    if "registered" in out:
        v = out["registered"].lower()
        out["registered"] = True if v in _TRUE else False if v in _FALSE else out["registered"]
    for key in ("opted_in", "contact", "area"):
        if key in out and out[key] == "":
            del out[key]
    return out


def _yaml_rows(path: Path, shown: str, problems: ProblemList):
    source, found = load_yaml_file(path, shown)
    problems.extend(found)
    if source is None:
        return None
    if not isinstance(source.data, list):
        problems.error(source.location(), "", "expected a list of partners (lines starting with '- ')")
        return None
    return [(source, item, (i,), source.line((i,)) or 0) for i, item in enumerate(source.data)]


def parse_segments(specs: tuple[str, ...] | list[str]) -> dict[str, set[str]]:
    """['area=港区', 'specialty=内科'] -> {'area': {'港区'}, 'specialty': {'内科'}}. Raises ValueError."""
    out: dict[str, set[str]] = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in SEGMENT_KEYS or not value:
            raise ValueError(f"--segment {spec!r}: expected KEY=VALUE with KEY one of {', '.join(SEGMENT_KEYS)}")
        out.setdefault(key, set()).add(value)
    return out


def matches(r: Recipient, segments: Mapping[str, set[str]]) -> bool:
    """Every key must match (AND); several values of one key are alternatives (OR)."""
    for key, values in segments.items():
        if key == "area" and r.area not in values:
            return False
        if key == "specialty" and not (set(r.specialties) & values):
            return False
        if key == "registered" and (("true" if r.registered else "false") not in {v.lower() for v in values}):
            return False
        if key == "status" and r.status not in values:
            return False
    return True
