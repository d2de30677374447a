"""The 医療広告ガイドライン linter: wording a hospital may not use in its advertising.

Hospital websites count as advertising in Japan since 2018 (newsletters too, to be safe).
This module reads every text field and Markdown body of departments, doctors, guides, news and
newsletters, plus the descriptions in site.yaml, and reports phrases such as 「日本一」 (比較優良),
「必ず治る」 (誇大), 「患者さんの声」 (体験談), before/after photos, outcome figures without period and
source, price promotion and qualifications that may not be advertised.

Text is normalised before matching (NFKC and case-folding: ＮＯ．１ is no.1); the rules and their
allow-lists for ordinary wording (「最高血圧」「絶対安静」「完全予約制」) are data, in
`data/ad_rules.yaml`. A phrase reviewed by the hospital is recorded in the file's `ad_review`
field and is then reported as accepted, not as an error.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from sitegen.content.load import Content
from sitegen.content.sources import Source, dotted

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "ad_rules.yaml"

# Collections whose files are published (folder -> scanned); schedules hold no prose.
COLLECTIONS = ("departments", "doctors", "guides", "news", "newsletters")
# Fields holding ids, paths, dates or names, not advertising text.
SKIP_KEYS = {"src", "file", "doctor", "doctors", "department", "departments", "qualifications", "type", "rsvp",
             "name_en", "kana", "group", "category", "urgent_contact", "ad_review", "date", "expires", "joined",
             "graduated", "number", "order", "series"}
SITE_FIELDS = (("site", "title"), ("site", "description"), ("office", "description"),
               ("brochures", "guidebook", "title"), ("brochures", "guidebook", "greeting"))
_CLUSTER_MARKS = "\uff9e\uff9f\u3099\u309a"
_URL = re.compile(r"https?://[^\s)>\]]+|\]\([^)]*\)|<[^>]*>")
_SENTENCE_END = "。！？!?\n"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    why: str
    fix: str
    patterns: tuple[tuple[re.Pattern, tuple[re.Pattern, ...]], ...] = ()
    extra: dict[str, re.Pattern] = field(default_factory=dict, compare=False)  # figure, period, source


@dataclass(frozen=True)
class AdFinding:
    path: str
    line: int | None
    field: str  # "body" for the Markdown text, else the dotted field (features[2])
    rule: Rule
    phrase: str  # as written in the file
    accepted: Any = None  # the AdReview that accepts it

    suggestion: str = ""  # e.g. the advertisable qualification name closest to the one written

    @property
    def message(self) -> str:
        hint = f" (did you mean 「{self.suggestion}」?)" if self.suggestion else ""
        return f"「{self.phrase}」{hint}: {self.rule.name} — {self.rule.why}"


@dataclass
class AdReport:
    findings: list[AdFinding] = field(default_factory=list)  # accepted ones included
    unused_reviews: list[tuple[str, int | None, str]] = field(default_factory=list)  # (path, line, phrase)
    texts: int = 0  # how many text fields and bodies were read

    @property
    def open(self) -> list[AdFinding]:
        return [f for f in self.findings if f.accepted is None]

    @property
    def accepted(self) -> list[AdFinding]:
        return [f for f in self.findings if f.accepted is not None]


# --- rules -----------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = []
    for raw in data["rules"]:
        common = tuple(re.compile(a) for a in raw.get("allow", ()))
        patterns = tuple(
            (re.compile(p["match"]), common + tuple(re.compile(a) for a in p.get("allow", ())))
            for p in raw.get("patterns", ())
        )
        extra = {k: re.compile(v) for k, v in raw.items() if k in ("figure", "period", "source")}
        rules.append(Rule(raw["id"], raw["name"], raw["why"].strip(), raw["fix"].strip(), patterns, extra))
    return tuple(rules)


def rule(rule_id: str) -> Rule:
    return next(r for r in load_rules() if r.id == rule_id)


QUALIFICATION_RULE = Rule(
    "senmon-i", "広告できない専門医",
    "広告できる医師の資格は、厚生労働大臣に届け出た団体が認定する専門医などに限られます。それ以外の資格名や"
    "「○○専門医」という呼び方は広告できません。",
    "content/qualifications.yaml で advertisable: true の資格だけを使い、本文には資格の一覧にある正式な名称を"
    "書いてください（広告できない資格は消すか、「○○を専門に診療しています」のように書き換えます）。",
)


# --- normalisation -----------------------------------------------------------------------------


def normalise(text: str) -> tuple[str, list[int], list[int]]:
    """NFKC + casefold, with where each output character came from: (text, starts, ends)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in _CLUSTER_MARKS):
            j += 1
        chunk = unicodedata.normalize("NFKC", text[i:j]).casefold()
        for ch in chunk:
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


def norm(text: str) -> str:
    return normalise(text)[0]


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    s = max(text.rfind(c, 0, start) for c in _SENTENCE_END) + 1
    e = min((p for p in (text.find(c, end) for c in _SENTENCE_END) if p >= 0), default=len(text))
    return s, e


def _allowed(text: str, start: int, end: int, allow: tuple[re.Pattern, ...]) -> bool:
    if not allow:
        return False
    s, e = _sentence(text, start, end)
    for pattern in allow:
        for m in pattern.finditer(text, s, e):
            if m.start() <= start and m.end() >= end:
                return True
    return False


def find(text: str, rules: Iterable[Rule] | None = None) -> list[tuple[Rule, int, int]]:
    """Phrases in `text` that break a rule: (rule, start, end) as offsets into the ORIGINAL text."""
    rules = tuple(rules if rules is not None else load_rules())
    normal, starts, ends = normalise(text)
    skip = [(m.start(), m.end()) for m in _URL.finditer(normal)]
    hits: list[tuple[Rule, int, int]] = []
    taken: list[tuple[int, int]] = []
    for r in rules:
        for pattern, allow in r.patterns:
            for m in pattern.finditer(normal):
                a, b = m.span()
                if a == b or any(s <= a < e for s, e in skip) or _allowed(normal, a, b, allow):
                    continue
                if any(a < e and s < b for s, e in taken):  # one finding per phrase
                    continue
                taken.append((a, b))
                hits.append((r, starts[a], ends[b - 1]))
        if r.id == "seiseki":
            hits.extend(_outcome_figures(text, normal, starts, ends, r, skip))
    hits.sort(key=lambda h: h[1])
    return hits


def _outcome_figures(text, normal, starts, ends, r: Rule, skip) -> list[tuple[Rule, int, int]]:
    """Figures (成功率95%, 手術件数 1,200件) need a period and a source in the same or a neighbouring paragraph."""
    figure = r.extra.get("figure")
    if figure is None:
        return []
    period, source = r.extra["period"], r.extra["source"]  # ad_rules.yaml gives a figure with both
    paragraphs = [(m.start(), m.end()) for m in re.finditer(r"(?:[^\n]+\n?)+", normal)] or [(0, len(normal))]
    out = []
    for m in figure.finditer(normal):
        if any(s <= m.start() < e for s, e in skip):
            continue
        k = next((i for i, (s, e) in enumerate(paragraphs) if s <= m.start() < e), 0)
        lo, hi = paragraphs[max(k - 1, 0)][0], paragraphs[min(k + 1, len(paragraphs) - 1)][1]
        context = normal[lo:hi]
        if period.search(context) and source.search(context):
            continue
        out.append((r, starts[m.start()], ends[m.end() - 1]))
    return out


# --- walking the content -------------------------------------------------------------------------


def _strings(data: Any, loc: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key not in SKIP_KEYS or (key == "items" and not all(isinstance(v, str) for v in value or ())):
                yield from _strings(value, loc + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, loc + (i,))


def _line_of(source: Source, loc: tuple, text: str, offset: int) -> int | None:
    line = source.line(loc)
    if "\n" in text.strip("\n") and line is not None:
        return line + 1 + text[:offset].count("\n")  # a literal block (|): its text starts on the next line
    return line


def _blank_comments(body: str) -> str:
    """HTML comments are not published: blank them out, keeping line numbers."""
    return re.sub(r"<!--.*?-->", lambda m: re.sub(r"[^\n]", " ", m.group()), body, flags=re.S)


def lint_source(source: Source, rules: tuple[Rule, ...] | None = None, fields: Iterable[tuple] | None = None) -> list[AdFinding]:
    """Findings in one file: every text field (or only `fields`) and the Markdown body."""
    rules = rules or load_rules()
    found: list[AdFinding] = []
    if fields is None:
        items = list(_strings(source.data))
    else:
        items = [(loc, v) for loc in fields if isinstance(v := _get(source.data, loc), str)]
    for loc, text in items:
        for r, a, b in find(text, rules):
            found.append(AdFinding(source.path, _line_of(source, loc, text, a), dotted(loc), r, text[a:b]))
    if source.body:
        body = _blank_comments(source.body)
        for r, a, b in find(body, rules):
            found.append(AdFinding(source.path, source.body_line + body[:a].count("\n"), "body", r, body[a:b]))
    return found


def _get(data: Any, loc: tuple) -> Any:
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _qualification_findings(content: Content, item) -> list[AdFinding]:
    """Qualifications a doctor lists that may not be advertised, and 「○○専門医」 written in text."""
    out = []
    quals = content.qualifications
    for i, qid in enumerate(getattr(item.model, "qualifications", ()) or ()):
        q = quals.get(qid)
        if q is not None and not q.advertisable:
            out.append(AdFinding(item.source.path, item.source.line(("qualifications", i)), f"qualifications[{i}]",
                                 QUALIFICATION_RULE, q.name))
    return out


_TITLE = re.compile(r"((?:がん|[一-龥々ァ-ヶー])+?)(専門医|指導医|認定医)(?!療)")
_BARE = {"専門医", "指導医", "認定医"}


def qualification_mentions(text: str, content: Content) -> list[tuple[int, int]]:
    """Spans of 「○○専門医」 that are not an advertisable qualification's name."""
    if not content.qualifications:
        return []
    names = [norm(q.name) for q in content.qualifications.values() if q.advertisable]
    banned = [norm(q.name) for q in content.qualifications.values() if not q.advertisable]
    normal, starts, ends = normalise(text)
    spans = []
    for m in _TITLE.finditer(normal):
        title = m.group(1) + m.group(2)
        if not any(n.endswith(title) or (title.endswith(n) and n not in _BARE) for n in names):
            spans.append((starts[m.start()], ends[m.end() - 1]))
    for name in banned:
        for m in re.finditer(re.escape(name), normal):
            if not any(s <= starts[m.start()] < e for s, e in spans):
                spans.append((starts[m.start()], ends[m.end() - 1]))
    return sorted(spans)


def _mention_findings(content: Content, source: Source) -> list[AdFinding]:
    out = []
    names = [q.name for q in content.qualifications.values() if q.advertisable]

    def closest(phrase: str) -> str:
        found = difflib.get_close_matches(phrase, names, n=1, cutoff=0.5)
        return found[0] if found and found[0] != phrase else ""

    for loc, text in _strings(source.data):
        for a, b in qualification_mentions(text, content):
            out.append(AdFinding(source.path, _line_of(source, loc, text, a), dotted(loc), QUALIFICATION_RULE, text[a:b],
                                 suggestion=closest(text[a:b])))
    if source.body:
        body = _blank_comments(source.body)
        for a, b in qualification_mentions(body, content):
            out.append(AdFinding(source.path, source.body_line + body[:a].count("\n"), "body", QUALIFICATION_RULE,
                                 body[a:b], suggestion=closest(body[a:b])))
    return out


def _accept(findings: list[AdFinding], reviews, source: Source, report: AdReport) -> None:
    used = set()
    for f in findings:
        phrase = norm(f.phrase)
        for i, review in enumerate(reviews):
            wanted = norm(review.phrase)
            if wanted and (wanted in phrase or phrase in wanted):
                f = AdFinding(f.path, f.line, f.field, f.rule, f.phrase, accepted=review, suggestion=f.suggestion)
                used.add(i)
                break
        report.findings.append(f)
    for i, review in enumerate(reviews):
        if i not in used:
            report.unused_reviews.append((source.path, source.line(("ad_review", i)), review.phrase))


def lint(content: Content) -> AdReport:
    """Every published text of the site, checked against the rules."""
    rules = load_rules()
    report = AdReport()
    if content.site_source is not None:
        found = lint_source(content.site_source, rules, SITE_FIELDS)
        report.texts += len(SITE_FIELDS)
        report.findings.extend(found)
    for folder in COLLECTIONS:
        for item in content.collections.get(folder, ()):
            found = lint_source(item.source, rules)
            found += _mention_findings(content, item.source)
            if folder == "doctors":
                found += _qualification_findings(content, item)
            report.texts += sum(1 for _ in _strings(item.source.data)) + bool(item.source.body)
            found.sort(key=lambda f: (f.line or 0, f.field))
            _accept(found, getattr(item.model, "ad_review", ()) or (), item.source, report)
    return report
