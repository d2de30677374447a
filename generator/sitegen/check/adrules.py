"""The 医療広告ガイドライン linter: wording a hospital may not use in its advertising.

Hospital websites count as advertising in Japan since 2018 (newsletters too, to be safe).
This module reads every text field and Markdown body of departments, doctors, guides, news and
newsletters, plus the descriptions in site.yaml. Its rules, in `data/ad_rules.yaml`, follow the guideline's parts —
第3 禁止される広告 (虚偽, 比較優良, 誇大, 不安をあおる, 著名人, 体験談, 術前術後の写真, 公序良俗, 費用の強調),
第4 限定解除 (自由診療 pages need cost, risks and side effects) and 第5 広告可能事項 (figures with their own period
and source; advertisable qualifications) — and each cites its section, says why and gives a rewrite.

Text is folded before matching (`normalise(fold=True)`): NFKC and case-folding, zero-width characters, spaces and
中黒 inside Japanese words, ruby readings, HTML tags (but not the alt and title text they show), Markdown emphasis and
link targets removed, katakana read as hiragana and common hiragana spellings as kanji; offsets map back to the text
as written. With an `Analyzer` (SudachiPy, loaded once per check run and passed explicitly) the rules also read every
word in its normalised spelling (イチバン, さいこう -> 一番, 最高); an exception (allow, unless, negation) in either
reading spares a phrase. Qualification titles are accepted only as a listed name written in full. Numbers are read in any
notation (`numbers`), a claim taken back in its clause (「…とは限りません」) is not reported, and a file is also
checked as one page (`document_findings`: 自由診療 without its disclosures, before/after images by alt text, caption
or file name). A phrase reviewed by the hospital is recorded in the file's `ad_review` field and is then reported
as accepted, not as an error.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import yaml

from sitegen.content.load import Content
from sitegen.content.sources import Source, dotted, strings

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
_SENTENCE_END = "。！？!?\n"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    why: str
    fix: str
    # (match, allow, when, unless): `when` must match somewhere in the same sentence (a comparison needs a
    # better/faster …); `unless` is the rule's, or the pattern's own where it sets one (a gift is an inducement
    # even for a vaccination, which the rule's public-health exception would spare)
    patterns: tuple[tuple[re.Pattern, tuple[re.Pattern, ...], re.Pattern | None, re.Pattern | None], ...] = ()
    extra: dict[str, re.Pattern] = field(default_factory=dict, compare=False)  # figure, period, source, trigger, image
    section: str = ""  # the part of the guideline it enforces (第3 禁止される広告 …)
    unless: re.Pattern | None = None  # not reported when this matches anywhere in the same sentence
    negatable: bool = False  # 「…とは限りません」 later in the clause takes the claim back
    needs: tuple[tuple[str, re.Pattern], ...] = ()  # 限定解除: what a page must carry
    # and what it must carry besides about a drug or device not approved in Japan
    needs_unapproved: tuple[tuple[str, re.Pattern], ...] = ()
    # not reported in a sentence about everyday things (the staff canteen's most popular dish, the shop's discount)
    # that names no medical service: the file's `everyday` words without its `medical` ones
    everyday: bool = False


@dataclass(frozen=True)
class AdFinding:
    path: str
    line: int | None
    field: str  # "body" for the Markdown text, else the dotted field (features[2])
    rule: Rule
    phrase: str  # as written in the file
    accepted: Any = None  # the AdReview that accepts it

    suggestion: str = ""  # e.g. the advertisable qualification name closest to the one written
    missing: tuple[str, ...] = ()  # 限定解除: what the page does not state (費用, 主なリスク・副作用, 入手経路 …)
    probability: float = 0.0  # > 0 for the statistical model's hint (admodel), a sentence no rule reported

    @property
    def message(self) -> str:
        hint = f" (did you mean 「{self.suggestion}」?)" if self.suggestion else ""
        section = f"（医療広告ガイドライン {self.rule.section}）" if self.rule.section else ""
        if self.probability:
            return (f"「{self.phrase}」: {self.rule.name}の疑い{section} — どのルールにも当たりませんが、統計モデルが"
                    f"違反例に近い文と判定しました（確からしさ {self.probability:.2f}）。文全体を読んで確かめ、"
                    "問題がなければ ad_review に記録してください。")
        lacking = f"（このページに無いもの: {'、'.join(self.missing)}）" if self.missing else ""
        return f"「{self.phrase}」{hint}: {self.rule.name}{section}{lacking} — {self.rule.why}"


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


# sub-patterns the rules name rather than repeat (ad_rules.yaml's header says what each stands for)
SUBPATTERNS = {"{not_a_word}": "(?![定部般方緒層環貫律括覧致体旦切時丸葉全分貨])",
               "{kanji_yen}": r"[〇一二三四五六七八九]*[十百千万][〇一二三四五六七八九十百千万]*\s?円",
               "{regional_statistic}": "(?:県|市|区|町|村|都|府|道|地域|圏域|管内|医療圏)内?(?:の|における)[^。当]{0,20}?"
                                       "(?:率|数|割合|人数)(?:は|が)[^。当]{0,8}?(?:全国|国)?(?:の)?平均(?:値)?"
                                       "(?:を|よりも?|と比べ(?:て)?|に比べ(?:て)?)?(?:大きく|大幅に|やや|わずかに)?"
                                       "(?:上回|下回|高|低)?",
               "{public_subsidy}": "(?:半額|全額)助成|(?:助成|補助|公費)(?:により|で|の対象(?:となり|で))?[^。]{0,10}?(?:半額|無料|自己負担(?:は)?(?:なし|ありません|0円))|(?:市|県|町|村|区|国)の制度",
               "{discount_disowned}": "(?:割り?引き?|きゃんぺーん|値引き|特典)(?:は|を|など)[、,]?[^。]{0,12}?"
                                      "(?:行って|実施して|いたして|して)(?:おりません|いません)"}


def _compile(pattern: str) -> re.Pattern:
    """Patterns are matched against folded text, so they are folded the same way (ア in a pattern is あ); named
    sub-patterns are written out first."""
    for name, sub in SUBPATTERNS.items():
        pattern = pattern.replace(name, sub)
    return re.compile(fold_kana(pattern))


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> tuple[Rule, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = []
    for raw in data["rules"]:
        common = tuple(_compile(a) for a in raw.get("allow", ()))
        unless = _compile(raw["unless"]) if raw.get("unless") else None
        patterns = tuple(
            (_compile(p["match"]), common + tuple(_compile(a) for a in p.get("allow", ())),
             _compile(p["when"]) if p.get("when") else None,
             (_compile(p["unless"]) if p["unless"] else None) if "unless" in p else unless)
            for p in raw.get("patterns", ())
        )
        extra = {k: _compile(v) for k, v in raw.items()
                 if k in ("figure", "period", "source", "trigger", "image", "drawing", "unapproved",
                           "figure_alone", "disclosing", "offering", "inviting", "marked", "priced", "priced_unless", "named",
                           "named_context", "named_unless", "named_menu_unless")}
        needs = tuple((name, _compile(v)) for name, v in (raw.get("needs") or {}).items())
        unapproved = tuple((name, _compile(v)) for name, v in (raw.get("needs_unapproved") or {}).items())
        rules.append(Rule(raw["id"], raw["name"], raw["why"].strip(), raw["fix"].strip(), patterns, extra,
                          raw.get("section", ""), unless, bool(raw.get("negatable")), needs, unapproved,
                          bool(raw.get("everyday"))))
    global _NEGATION, _EVERYDAY, _MEDICAL
    _NEGATION = _compile(data.get("negation", "(?!)"))
    _EVERYDAY = _compile(data.get("everyday", "(?!)"))
    _MEDICAL = _compile(data.get("medical", "(?!)"))
    return tuple(rules)


_NEGATION = re.compile("(?!)")
_EVERYDAY = re.compile("(?!)")
_MEDICAL = re.compile("(?!)")


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

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff"))
_ARROWS = dict.fromkeys(map(ord, "⇒⇨➔➜➝➞➟➠➡⟶⟹⮕▶►"), "→")  # one arrow: 術前➡術後 is 術前→術後
_FOLDED_CHARS = {**_ZERO_WIDTH, **_ARROWS}
# Markup that is not read: ruby readings, HTML tags (but what a reader is shown of them, see _tag_text), Markdown
# emphasis, link targets and bare URLs.
_RUBY = re.compile(r"<rt>.*?</rt>|<rp>.*?</rp>")
_TAG = re.compile(r"</?[a-z][^<>\n]*>")
_SHOWN = re.compile(r"""(?<![a-z-])(?:alt|title|aria-label)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MARKUP = re.compile(r"&(?:#8203|#x200b|#8204|#x200c|#8205|#x200d|#65279|#xfeff|zwj|zwnj|shy);"
                     r"|《[^《》\n]{1,30}》|\*\*|__|~~"
                     r"|(?<=\])\([^()\n]*\)|https?://[^\s)>\]]+|[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}")
# Spaces, tabs and 中黒 inside Japanese words (日 本 一, 日・本・一), and between a word or number and the Japanese
# beside it (県内 1 位, 成功率・99%, ED 治療), are read as if absent; not between two numbers (1・2・3 stay three).
_INNER_GAP = re.compile(r"(?<=[^\x00-\x7f])[ \t\u3000・･|]+(?=[^\x00-\x7f]|[\w%])|(?<=[\w%])[ \t\u3000・･|]+(?=[^\x00-\x7f])")
# Letters, digits and signs written one by one with a gap after each (N o . 1, 5 , 0 0 0, P R P) are read as one
# word; a run of digits alone (1・2・3) stays a list.
_SPACED_OUT = re.compile(r"(?<![\x21-\x7e])[\x21-\x7e](?:[ \t・･][\x21-\x7e](?![\x21-\x7e])){2,}")
_GAP = re.compile(r"[ \t・･]")
# digits spaced out before a counter (年間 １ ２ ０ ０ ０ 件) are one number; without a counter they stay a list
_SPACED_NUMBER = re.compile(r"(?<![\x21-\x7e])\d(?:[ \t・･]\d){2,}(?=[ \t]?(?:件|例|名|人|%|回|台|床|症例|眼|本|万|千))")
# Japanese written one character at a time with a sign after each (体．験．談, 絶*対) is read as one word
_DOTTED_OUT = re.compile(r"(?<![^\x00-\x7f][.*_-])(?:[^\x00-\x7f\s][.*_-]){2,}[^\x00-\x7f\s]")
_DOT = re.compile(r"[.*_-]")


def _closed_up(run: str) -> str:
    word = _GAP.sub("", run)
    return run if word.isdigit() else word


# Hiragana spellings of words the rules are written with (after katakana has been folded to hiragana).
# One that maps to itself (かんちがい, 勘違い) keeps a longer word whole: the longest spelling is taken, so its
# かんち is not read as 完治.
_SPELLINGS = {
    "かならず": "必ず", "ておくれ": "手遅れ", "ぜったい": "絶対", "いちばん": "一番", "ゆいいつ": "唯一", "さいこう": "最高", "かんぜん": "完全", "なおる": "治る",
    "なおり": "治り", "なおせ": "治せ", "なおら": "治ら", "いたみ": "痛み", "いたく": "痛く", "ふくさよう": "副作用", "にほんいち": "日本一", "にっぽんいち": "日本一",
    "あんしん": "安心", "あんぜん": "安全", "さいせんたん": "最先端", "めいい": "名医", "くちこみ": "口こみ", "たいけんだん": "体験談", "もっとも": "最も",
    "ございませ": "ありませ", "げいのうじん": "芸能人", "ゆうめいじん": "有名人", "ちょめいじん": "著名人", "がいこくじん": "外国人", "じょゆう": "女優",
    "じゆうしんりょう": "自由診療", "じひしんりょう": "自費診療", "しっぱい": "失敗", "さいはつ": "再発", "かくじつ": "確実", "ほしょう": "保証",
    "かんじゃさまのこえ": "患者様の声", "かんじゃさんのこえ": "患者さんの声", "治ゆ": "治癒", "げーのー人": "芸能人", "げいのう人": "芸能人", "らくに": "楽に",
    "いまだけ": "今だけ", "おためし": "お試し", "げんてい": "限定", "ちりょうまえ": "治療前", "ちりょうご": "治療後", "いちまん": "一万", "はんがく": "半額",
    "むりょう": "無料", "はちわり": "八割", "きゅうわり": "九割", "ななわり": "七割", "ほけん": "保険", "ほけんがい": "保険外", "ひゃくぱーせんと": "百ぱーせんと",
    "じゅつぜん": "術前", "じゅつご": "術後", "しゃしん": "写真", "せじゅつまえ": "施術前", "せじゅつあと": "施術後", "ひょうばん": "評判", "きかんげんてい": "期間限定",
    "みしょうにん": "未承認", "きゅうきゅうしゃ": "救急車", "しゅじゅつぜん": "手術前", "しゅじゅつご": "手術後", "しゅじゅつ": "手術", "しょうれい": "症例", "おこえ": "お声",
    "えいきゅう": "永久", "さいせいいりょう": "再生医療", "かんさいぼう": "幹細胞", "なおす": "治す", "せいこうりつ": "成功率", "じーえるぴーわん": "glp1", "点てき": "点滴",
    "ひにん": "避妊", "萬": "万", "さいはつりつ": "再発率", "ちりょう": "治療", "さいせい医療": "再生医療", "かいぜんりつ": "改善率", "いでんしけんさ": "遺伝子検査", "ちょうない": "腸内",
    "だつもう": "脱毛", "まんぞくど": "満足度", "けんすう": "件数", "ねんかん": "年間", "ぶんべん": "分娩", "せいぞんりつ": "生存率", "ちゆりつ": "治癒率",
    "じっせき": "実績", "かんち": "完治", "かんちがい": "かんちがい", "かく安": "格安", "ゆーめーじん": "有名人",
    "かくやす": "格安", "ほうちすると": "放置すると", "いますぐ": "今すぐ", "うけないと": "受けないと", "こうかいします": "後悔します", "こうかいする": "後悔する",
}
# a word glossed with itself in brackets once both are folded (かんち（完治）, 完治（かんち）): read once
_GLOSSED = re.compile(r"([^\W\d_]{1,8})\(\1\)")
_SPELLING = re.compile("|".join(sorted(_SPELLINGS, key=len, reverse=True)))
# a number spelt in hiragana before a counter (さんまん件, ななせん例): written in kanji numerals, which the figures'
# rules read; at least one of 十, 百, 千, 万, 億, so that a word such as 「にん」 or 「ご」 is never taken for one
_KANA_DIGITS = {"いち": "一", "いっ": "一", "に": "二", "さん": "三", "よん": "四", "ご": "五", "ろく": "六", "ろっ": "六",
                "なな": "七", "しち": "七", "はち": "八", "はっ": "八", "きゅう": "九"}
_KANA_UNITS = {"じゅう": "十", "じゅっ": "十", "ひゃく": "百", "びゃく": "百", "ぴゃく": "百", "せん": "千", "ぜん": "千",
               "まん": "万", "おく": "億"}
_KANA_WORD = "|".join(sorted({**_KANA_DIGITS, **_KANA_UNITS}, key=len, reverse=True))
# The counters 件 and 例 may be spelt in hiragana too (せんごひゃくけん), but not in 先見, 前例 or 洗礼 (せんけん, ぜんれい).
_KANA_COUNTERS = {"けん": "件", "れい": "例"}
_KANA_NUMBER = re.compile(
    f"(?!(?:ぜん|せん)(?:けん|れい))(?:{_KANA_WORD})*(?:{'|'.join(_KANA_UNITS)})(?:{_KANA_WORD})*"
    f"(?:{'|'.join(_KANA_COUNTERS)}|(?=[件例名人台回症床]|ぱーせんと))"
)
_KANA_PART = re.compile(_KANA_WORD)


def _kana_number(run: str) -> str:
    counter = _KANA_COUNTERS.get(run[-2:], "")
    number = run[:-2] if counter else run
    return _KANA_PART.sub(lambda m: _KANA_DIGITS.get(m.group()) or _KANA_UNITS[m.group()], number) + counter


class Analyzer:
    """Japanese morphological analysis (SudachiPy, core dictionary), loaded once per check run and passed explicitly.

    It gives each word's normalised form, which folds spelling variants the rules do not list: kana spellings of
    kanji words (イチバン, さいこう, いっさい -> 一番, 最高, 一切), variant kanji and katakana variants (ダントツ -> 断トツ)."""

    # word classes whose spelling is folded; verbs and auxiliaries keep theirs (their normal form drops the inflection)
    FOLDED = ("名詞", "副詞", "形状詞", "代名詞", "連体詞", "形容詞")

    def __init__(self) -> None:
        from sudachipy import Dictionary, SplitMode

        self._tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)

    def spellings(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, normalised form) of the words in `text` written differently from their normalised form."""
        out = []
        for m in self._tokenizer.tokenize(text):
            surface, normal = m.surface(), m.normalized_form()
            pos = m.part_of_speech()[0]
            if surface == normal or pos not in self.FOLDED:
                continue
            if pos == "形容詞" and surface != m.dictionary_form():
                continue  # すごく -> 凄い would lose the inflection
            if normal.startswith("御") and not surface.startswith("御"):
                continue  # おすすめ -> 御勧め: the rules read お/ご
            if not _KANJI.search(normal) or _LATIN_OR_DIGIT.search(surface):
                continue  # only kana -> kanji spellings and variant kanji; numbers and Latin letters stay as written
            out.append((m.begin(), m.end(), normal))
        return out


_KANJI = re.compile(r"[一-龥々]")
_LATIN_OR_DIGIT = re.compile(r"[0-9a-z]")


def fold_kana(text: str) -> str:
    """Katakana to hiragana (ア -> あ); ー and everything else unchanged."""
    return "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)


def _cut(chars: list[tuple[str, int, int]], pattern: re.Pattern, repl=None) -> list[tuple[str, int, int]]:
    text = "".join(c for c, _, _ in chars)
    out: list[tuple[str, int, int]] = []
    last = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        out.extend(chars[last:a])
        if repl is not None and a < b:
            for ch in repl(m.group()):
                out.append((ch, chars[a][1], chars[b - 1][2]))
        last = b
    out.extend(chars[last:])
    return out


def _tag_text(chars: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """HTML tags removed, except the text they show or read out (alt, title, aria-label), each as a sentence of its
    own: <img alt="どんな腰痛も完全に消える"> says what it says."""
    text = "".join(c for c, _, _ in chars)
    out: list[tuple[str, int, int]] = []
    last = 0
    for m in _TAG.finditer(text):
        out.extend(chars[last:m.start()])
        for a in _SHOWN.finditer(m.group()):
            group = 1 if a.group(1) is not None else 2
            start, end = m.start() + a.start(group), m.start() + a.end(group)
            if start < end:
                out.extend(chars[start:end])
                out.append(("。", chars[end - 1][1], chars[end - 1][2]))
        last = m.end()
    out.extend(chars[last:])
    return out


def normalise(text: str, fold: bool = False, analyzer: Analyzer | None = None) -> tuple[str, list[int], list[int]]:
    """NFKC + casefold, with where each output character came from: (text, starts, ends).

    With `fold`, also what a reader does not see or does not mind: zero-width characters, spaces and 中黒 inside
    Japanese words, ruby readings, HTML tags (not their alt and title text), Markdown emphasis, link targets and URLs
    are removed, katakana is folded to hiragana and common hiragana spellings to the kanji the rules use
    (かならず -> 必ず)."""
    chars: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or text[j] in _CLUSTER_MARKS):
            j += 1
        chunk = unicodedata.normalize("NFKC", text[i:j]).casefold()
        if fold:
            chunk = chunk.translate(_FOLDED_CHARS)
        for ch in chunk:
            chars.append((ch, i, j))
        i = j
    if fold:
        chars = _tag_text(_cut(chars, _RUBY))
        chars = _cut(chars, _MARKUP)
        chars = _cut(chars, _INNER_GAP)
        chars = _cut(chars, _SPACED_NUMBER, lambda run: _GAP.sub("", run))
        chars = _cut(chars, _SPACED_OUT, _closed_up)
        chars = _cut(chars, _DOTTED_OUT, lambda run: _DOT.sub("", run))
        if analyzer is not None:
            chars = _respell(chars, analyzer)
        chars = [(fold_kana(c), a, b) for c, a, b in chars]
        chars = _cut(chars, _SPELLING, lambda w: _SPELLINGS[w])
        chars = _cut(chars, _GLOSSED, lambda run: run[:run.index("(")])
        chars = _cut(chars, _KANA_NUMBER, _kana_number)
    return "".join(c for c, _, _ in chars), [a for _, a, _ in chars], [b for _, _, b in chars]


def _respell(chars: list[tuple[str, int, int]], analyzer: Analyzer) -> list[tuple[str, int, int]]:
    text = "".join(c for c, _, _ in chars)
    out: list[tuple[str, int, int]] = []
    last = 0
    for a, b, normal in analyzer.spellings(text):
        out.extend(chars[last:a])
        out.extend((ch, chars[a][1], chars[b - 1][2]) for ch in normal)
        last = b
    out.extend(chars[last:])
    return out


def norm(text: str, fold: bool = False) -> str:
    return normalise(text, fold)[0]


# --- numbers --------------------------------------------------------------------------------------

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMBER = re.compile(r"(?P<num>\d[\d,]*(?:\.\d+)?|[〇零一二三四五六七八九十百千]+)\s?(?P<big>万|千)?\s?"
                    r"(?P<unit>%|ぱーせんと|割|件|例|症例|人|名|組|回|台|眼|倍|日|点|本|kg|きろ|cm|mmhg|しーと|しょっと|枚|ぽいんと|"
                    r"(?=を超え|を越え|以上の|超の|余りの|低下|減少))")


def kanji_number(s: str) -> int | None:
    """一千二百 -> 1200, 三十五 -> 35, 二〇二五 -> 2025."""
    if all(c in _KANJI_DIGITS for c in s):
        return int("".join(str(_KANJI_DIGITS[c]) for c in s))
    total, digit = 0, None
    for c in s:
        if c in _KANJI_DIGITS:
            digit = _KANJI_DIGITS[c]
        elif c in _KANJI_UNITS:
            total += (digit if digit is not None else 1) * _KANJI_UNITS[c]
            digit = None
        else:
            return None
    return total + (digit or 0)


@dataclass(frozen=True)
class Number:
    start: int
    end: int
    value: float
    unit: str  # % for パーセント and 割 (3割 is 30 %), else 件, 例, 人 …


_NOT_A_NUMBER = re.compile(r"お?(?:一人|ひとり)\s?(?:ひとり|おひとり|一人)|.?一人ずつ")


def numbers(normal: str) -> list[Number]:
    """Every number with its unit in normalised text, in any notation: 1,200件, 千二百件, 1.2万件, 3割, 九割, 95%.
    「お一人おひとり」「一人ずつ」 are a manner of care, not a count."""
    out = []
    for m in NUMBER.finditer(normal):
        if _NOT_A_NUMBER.match(normal, max(0, m.start() - 1)):
            continue
        raw = m.group("num")
        value: float | None
        if raw[0].isdigit():
            value = float(raw.replace(",", ""))
        else:
            value = kanji_number(raw)
        if value is None:
            continue
        if m.group("big"):
            value *= 10000 if m.group("big") == "万" else 1000
        unit = m.group("unit")
        if unit == "割":
            value, unit = value * 10, "%"
        elif unit == "ぱーせんと":
            unit = "%"
        elif unit == "症例":
            unit = "例"
        out.append(Number(m.start(), m.end(), value, unit))
    return out


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


def _negated(text: str, end: int, negation: re.Pattern) -> bool:
    """「必ず改善するとは限りません」「リスクはゼロではありません」: the claim is denied later in its clause."""
    s, e = _sentence(text, end, end)
    rest = text[end:e]
    quoted = _QUOTED_CLAIM.match(rest)  # 「副作用がない、ということはありません」: the clause after the comma denies it
    if quoted:
        rest = rest[quoted.end():]
    clause = re.split(r"[、,!！]|が、", rest, maxsplit=1)[0] if rest else ""  # 「…では遅い！症状がなくても」
    return bool(negation.match(clause))


_QUOTED_CLAIM = re.compile(r"[^、,。]{0,4}?[、,]\s?(?=と(?:いう|言う)|といった|って(?:こと|わけ|訳))")


def _views(text: str, analyzer: Analyzer | None) -> list[tuple[str, list[int], list[int]]]:
    """The text as the rules read it: folded, and with each word in its normalised spelling when that differs."""
    views = [normalise(text, fold=True)]
    if analyzer is not None:
        respelled = normalise(text, fold=True, analyzer=analyzer)
        if respelled[0] != views[0][0]:
            views.append(respelled)
    return views


def find(text: str, rules: Iterable[Rule] | None = None, document: bool = True,
         analyzer: Analyzer | None = None) -> list[tuple[Rule, int, int]]:
    """Phrases in `text` that break a rule: (rule, start, end) as offsets into the ORIGINAL text.

    The rules read the folded text and, with an `analyzer`, also the text with each word in its normalised spelling
    (イチバン -> 一番). With `document`, `text` is also checked as a whole page (自由診療 without cost and risks,
    before/after images)."""
    rules = tuple(rules if rules is not None else load_rules())
    views = _views(text, analyzer)
    hits: list[tuple[Rule, int, int]] = []
    taken: list[tuple[int, int]] = []  # original offsets: one finding per phrase
    explained = _explained(views[0][0], rules)
    for r in rules:
        if r.id == "before-after" and explained:
            continue  # photos before and after a treatment, with its content, cost and risks beside them
        for view in views:
            normal, starts, ends = view
            for pattern, allow, when, unless in r.patterns:
                for m in pattern.finditer(normal):
                    a, b = m.span()
                    if a == b:
                        continue
                    start, end = starts[a], ends[b - 1]
                    # the same words in every view: an exception (allow, unless, negation) in either spares it,
                    # a needed context (`when`) in either is enough
                    spans = [(v, *_span(v, start, end)) for v in views]
                    if any(_spared(r, allow, unless, v[0], x, y) for v, x, y in spans):
                        continue
                    if when is not None and not any(when.search(v[0], *_sentence(v[0], x, y)) for v, x, y in spans):
                        continue
                    if any(start < e and s < end for s, e in taken):
                        continue
                    taken.append((start, end))
                    hits.append((r, start, end))
        if r.id == "seiseki":
            hits.extend(_outcome_figures(*views[0], r))
    if document:
        hits.extend(document_findings(text, rules, analyzer, views))
    hits.sort(key=lambda h: h[1])
    return hits


def _span(view: tuple[str, list[int], list[int]], start: int, end: int) -> tuple[int, int]:
    """The offsets in one view of the original text[start:end]."""
    _, starts, ends = view
    a = bisect.bisect_left(starts, start)
    return a, max(a, bisect.bisect_right(ends, end))


# a claim quoted in order to disown it: 「必ず治る」とはお約束できません, 「芸能人も通う」といった宣伝はしていません;
# or a patient's question reported: 「必ず治りますか」と聞かれることがあります
_DISOWNING = re.compile(fold_kana(
    r"(?:[、・やと]?[「『“\"][^」』”\"]{0,20}[」』”\"])*"  # 「No.1」「日本一」といった表現
    r"(?:(?:は|も|など)(?:ありません|ございません|存在しません|存在しない|存在せず|あり得ません|ありえません|ない(?:と|という|もの|[。、]|$))"
    r"|(?:は|というのは|も)(?:誤解|間違い|誤り|迷信|俗説)|(?:と|とは|という|といった|などの|など|のような|みたいな)(?:"
    r"[^。]{0,16}?(?:宣伝|広告|表現|表示|うたい文句|謳い文句|キャッチコピー|誇大|宣伝文句|説明|言い方|言葉)"
    r"[^。]{0,24}?(?:ません|ない|しない|控え|見かけ|注意|使わず|用いず|行わず|せず|(?:も|が)(?:あります|見られます|見受けられます)が)"
    r"|(?:[^。、]{0,6}?(?:を|は|も))?(?:お約束|約束|保証|断言)(?:は|も)?(?:でき|いたしかね|しかね|いたしません|しません|して(?:おり|い)ません"
    r"|(?:する|した)?(?:もの|わけ)では(?:ありません|ございません|ない))"
    r"|(?:は|も)?(?:言え|いえ|限ら|限り)(?:ません|ない)"
    r"|(?:ご)?(?:心配|不安に思|悩ん|お悩み|思い込ん|あきらめ|諦め)"
    r"|(?:よく|しばしば|時々|ときどき|たびたび)?(?:聞かれ|尋ねられ|質問され)|(?:いう|いった)?(?:ご)?(?:質問|相談)(?:を|が|も)"
    r"|[^。]{0,16}?(?:お願いすること|ことは|治療(?:法)?は|方法は|ものは|わけでは|事実は)[^。]{0,6}?"
    r"(?:ありません|して(?:おり|い)ません|いたしません|しません|ない)))"))  # 「絶対に安全な治療」はありません
_QUOTES = {"「": "」", "『": "』", "“": "”", '"': '"'}


def _disowned(normal: str, a: int, b: int) -> bool:
    """The phrase stands inside quotes that the sentence then disowns (a policy, not a claim)."""
    s, e = _sentence(normal, a, b)
    for opening, closing in _QUOTES.items():
        start = normal.rfind(opening, s, a)
        if start < 0 or normal.find(closing, start + 1, a) >= 0:
            continue
        end = normal.find(closing, b, e)
        if end >= 0 and _DISOWNING.match(normal, end + 1):
            return True
        # 「痛みのない治療はありますか？」というご質問: a question people ask, quoted
        if e + 1 < len(normal) and normal[e] in "?？" and normal[e + 1] == closing and _ASKED_QUOTE.match(normal, e + 2):
            return True
    # without quotes: a phrase at the start of its clause, then 「、という表現は使わず」
    clause = max(normal.rfind("、", s, a), normal.rfind(",", s, a), s - 1) + 1
    named = _NAMED_PHRASE.match(normal, b) if clause >= a - 8 else None
    return named is not None and _DISOWNING.match(normal, named.end()) is not None


# the rest of a phrase named without quotes, up to its 「、という」 (手遅れになる前に、という表現は…)
_NAMED_PHRASE = re.compile(r"[^。、,「」]{0,8}?[、,]\s?(?=と(?:いう|いった)|などの|といった)")


_ASKED_QUOTE = re.compile(r"(?:という|との|といった)(?:ご)?(?:質問|相談|お問い合わせ|問い合わせ)|と(?:よく)?(?:聞かれ|尋ねられ|質問され)")


# the question of a FAQ (「Q．必ず治りますか？」): a reader's question, not the institution's claim
_FAQ_QUESTION = re.compile(r"\s*(?:q\d*|faq|(?:よく|良く)ある(?:ご)?質問|質問|問|お問い合わせ)\s?[.．:：、)）]")
# ... unless its answer says yes: 「Q. 幹細胞治療は受けられますか？ A. はい、当院で対応しております。」 offers it
_FAQ_YES = re.compile(fold_kana(r"\s*(?:a\d*|答え?|回答)\s?[.．:：、)）]\s?(?:はい|可能です|できます|もちろん|"
                                r"(?:当院|当くりにっく|当科)(?:で|では)?[、,]?\s?(?:対応|実施|提供)して(?:おり|い)ます)"))


# a claim someone else makes, named in order to warn against it: 「絶対に安全」とうたうサプリにはご注意ください,
# 芸能人の来院をうたう広告は禁じられています, ランキング記事への掲載のお誘いには応じておりません
_CAUTION = re.compile(fold_kana(
    r"(?:[」』”\"][^。]{0,3}?)?(?:などと|などの|といった|という|との|と|を|の|への|が|による)[^。、]{0,8}?"
    r"(?:うたう|謳う|うたった|謳った|うたって|称する|称した|宣伝する|宣伝している|宣伝した|あおる|煽る|売りにする|"
    r"説明された|勧められた|紹介された|出回る|出回って|売られて|販売されて|商品|製品|勧誘|お誘い|誘い|宣伝|広告|記事|情報|うたい文句|謳い文句|売り文句|表現|書き込み|掲載|さいと|雑誌|"
    r"紹介する|紹介している|勧める|すすめる)"
    r"[^。]{0,40}?"
    r"(?:ご?注意(?!の?(?:表示|書き|喚起)?(?:が|は)?(?:なし|無し|ない|ありません|せず|して(?:い|おり)ません))|(?:生じる|起こる|起きる|出る)ことがあります|気をつけ|気を付け|危険です|惑わされ|うのみ|鵜呑み|お?確かめ|契約しない|禁止|禁じ|規制されて|認められて(?:い|おり)ません|"
    r"違反|とらぶる|被害|差し止め|応じて(?:い|おり)ません|お断り|(?:かかりつけ医|主治医|医師|薬剤師)に(?:ご)?相談|規制の対象|規制対象|"
    r"(?:行っ|使用し|用い|使っ|掲載し|利用し|載せ|提供し|参加し)て(?:い|おり)ません|根拠(?:の|が)(?:ない|乏しい|はっきりしない|不十分|十分でない)|"
    r"はっきりしない|呼びかけ|寄せられ|相談を受け|意見も聞い|慎重に|体調を崩|後悔|審査|"
    r"依頼した(?:もの|わけ)では|依頼して(?:い|おり)ません|関係(?:が|は)?(?:ありません|ございません|ない)|"
    r"(?:q&a|解説|注意喚起|説明資料)を?[^。]{0,6}?(?:作成|まとめ|掲載|用意))"))


def _cautioned(normal: str, a: int, b: int) -> bool:
    """The phrase at [a, b) is part of what someone else claims, named to warn against it (a caution, a policy),
    not said by the institution: its sentence ascribes a claim (「…」とうたう, をうたう広告, …の記事) at most a few
    characters after the phrase, or around it, and then warns."""
    s, e = _sentence(normal, a, b)
    return any(m.start() - b <= 24 and a < m.end() for m in _CAUTION.finditer(normal, s, e))


def _asked(normal: str, a: int, b: int) -> bool:
    """Asked, not claimed: the question of a FAQ, or a question quoted (「痛くない？」と不安なお子さま)."""
    s, e = _sentence(normal, a, b)
    if e >= len(normal) or normal[e] not in "？?":
        return False
    quoted = normal[e + 1:e + 2] in ("」", "』") and any(q in normal[max(0, s - 1):a] for q in "「『")
    return quoted or bool(_FAQ_QUESTION.match(normal, s)) and not _FAQ_YES.match(normal, e + 1)


def taken_back(normal: str, a: int, b: int) -> bool:
    """Whether the words at [a, b) of folded text are denied in their clause, quoted to be disowned, or asked in
    the question of a FAQ."""
    load_rules()  # the negation is read with the rules
    return (_negated(normal, a, _NEGATION) or _negated(normal, b, _NEGATION) or _disowned(normal, a, b)
            or _asked(normal, a, b))


def _spared(r: Rule, allow: tuple[re.Pattern, ...], unless: re.Pattern | None, normal: str, a: int, b: int) -> bool:
    if a >= b:
        return False
    if _allowed(normal, a, b, allow) or _disowned(normal, a, b) or _asked(normal, a, b) or _cautioned(normal, a, b):
        return True
    if unless is not None and unless.search(normal, *_sentence(normal, a, b)):
        return True
    if r.everyday and _everyday(normal, a, b):
        return True
    return r.negatable and _negated(normal, b, _NEGATION)


def _everyday(normal: str, a: int, b: int) -> bool:
    """The sentence is about everyday things (a canteen, a shop, a library, a staff event) and names no medical
    service: 一番人気 or 割引 there praises or prices no treatment."""
    s, e = _sentence(normal, a, b)
    return _EVERYDAY.search(normal, s, e) is not None and _MEDICAL.search(normal, s, e) is None


_LIST_ITEM = re.compile(r"\s*(?:[-*+・●○■□◆◇]|\d+[.)．）])\s*")


def _block_kind(line: str) -> str:
    if line.lstrip().startswith("|"):
        return "table"
    return "list" if _LIST_ITEM.match(line) else ""


def _figure_context(normal: str, pos: int) -> str:
    """Where a figure's own period and source may stand: its sentence; for a row of a table or an item of a list,
    the block's caption (the line or paragraph just before it) and its note (just after it)."""
    lines = normal.split("\n")
    offsets, at = [], 0
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    k = max(i for i, o in enumerate(offsets) if o <= pos)
    kind = _block_kind(lines[k])
    if not kind:
        return normal[slice(*_sentence(normal, pos, pos))]
    lo = hi = k
    while lo > 0 and _block_kind(lines[lo - 1]) == kind:
        lo -= 1
    while hi + 1 < len(lines) and _block_kind(lines[hi + 1]) == kind:
        hi += 1
    before = next((lines[i] for i in range(lo - 1, -1, -1) if lines[i].strip()), "")
    after = next((lines[i] for i in range(hi + 1, len(lines)) if lines[i].strip()), "")
    return "\n".join((before, lines[k], after))


def _outcome_figures(normal, starts, ends, r: Rule) -> list[tuple[Rule, int, int]]:
    """Figures (成功率95%, 年間手術件数 千二百件) need their OWN period and source: in the same sentence, or for a table
    or list, in its caption or note. A year or 「当院」 elsewhere on the page does not count."""
    figure = r.extra.get("figure")
    if figure is None:
        return []
    period, source = r.extra["period"], r.extra["source"]
    alone = r.extra.get("figure_alone")
    nums = numbers(normal)
    out = []
    for m in figure.finditer(normal):
        # 1万5千件: the unit comes later; 千二百例: the match may start inside the number
        num = next((n for n in nums if m.start() <= n.start < m.end() + 6 or n.start < m.start() < n.end), None)
        if num is None and not (alone is not None and alone.search(m.group())):
            continue
        context = _figure_context(normal, m.start())
        if period.search(context) and source.search(context):
            continue
        if r.unless is not None and r.unless.search(normal, *_sentence(normal, m.start(), m.end())):
            continue  # seminars held, not treatments
        a, b = m.start(), max(m.end(), num.end if num is not None else 0)
        out.append((r, starts[a], ends[b - 1]))
    return out


_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]*)(?:\s+\"(?P<title>[^\"]*)\")?\)"
                    r"|<img\b(?P<attrs>[^>]*)>|<figcaption>(?P<caption>.*?)</figcaption>", re.S)
_ATTR = re.compile(r"\b(?:alt|src|title)\s*=\s*[\"']([^\"']*)")


def images(text: str) -> list[tuple[int, int, str]]:
    """Images and captions in Markdown or HTML: (start, end, alt + src + title + caption)."""
    out = []
    for m in _IMAGE.finditer(text):
        if m.group("attrs") is not None:
            words = " ".join(_ATTR.findall(m.group("attrs")))
        else:
            words = " ".join(g for g in (m.group("alt"), m.group("src"), m.group("title"), m.group("caption")) if g)
        out.append((m.start(), m.end(), words))
    return out


def document_findings(text: str, rules: Iterable[Rule], analyzer: Analyzer | None = None,
                      views: list[tuple[str, list[int], list[int]]] | None = None,
                      model=None) -> list[tuple[Rule, int, int]]:
    """Checks on a whole page: images showing before/after (alt, caption, file name), and 自由診療 or 未承認医薬品
    without what 限定解除 requires (treatment, cost, risks and side effects). `views`: the text as `find` read it
    (folded, then respelled when that differs), when it has. With a `model` (admodel.Model), a sentence it reads as
    ordinary does not offer a treatment it names (aftercare, a limitation, a caution)."""
    if views is None:
        views = _views(text, analyzer)
    out = []
    by_id = {r.id: r for r in rules}
    ba = by_id.get("before-after")
    jiyu = by_id.get("jiyu")
    # a before/after image is accepted on a page that explains the treatment, its cost and its main risks and side
    # effects (the same explanation 限定解除 requires)
    explained = _explained(views[0][0], rules)
    if ba is not None and ba.extra.get("image") is not None and not explained:
        drawing = ba.extra.get("drawing")
        for a, b, words in images(text):
            read = norm(words, fold=True)
            if ba.extra["image"].search(read) and not (drawing is not None and drawing.search(read)):
                out.append((ba, a, b))
    if jiyu is not None and jiyu.needs:
        # the first mention of such a treatment in a sentence that offers it; a sentence that only discloses (not
        # approved in Japan, not covered by insurance, the plan filed under the regenerative medicine law), warns
        # or addresses patients treated elsewhere spares only itself. Read with each word's normalised spelling,
        # and as written when that finds none (the analyzer may cut a kana word: ぼとっくす -> ぼとっ + 樟)
        ordinary = _Ordinary(text, model if model is not None and model.may_overrule(jiyu.id) else None)
        # a sentence that only discloses or defers offers nothing, nor does a FAQ's question, unless the page prices
        # the treatment elsewhere
        priced = _PRICE.search(_stated(views[0][0])) is not None
        mentions = [(view, t) for view in views[1:] + views[:1] for t in _mentions(jiyu, view[0])
                    if not _exempt(jiyu, views, view[1][t.start()], view[2][t.end() - 1])
                    and not _defining(text, view[1][t.start()])
                    and not _cautioned(view[0], *t.span()) and (priced or not _asked(view[0], *t.span()))
                    and not (jiyu.negatable and _negated(view[0], t.end(), _NEGATION))
                    and not (ordinary(view[1][t.start()]) and not _offers(jiyu, view[0], t))]
        offer = next(((view, t) for view, t in mentions
                      if priced or not _discloses_only(jiyu, views, view[1][t.start()], view[2][t.end() - 1])), None)
        if offer is not None:
            (normal, starts, ends), m = offer
            if _missing(jiyu, normal):
                out.append((jiyu, starts[m.start()], ends[m.end() - 1]))
    return out


def _mentions(jiyu: Rule, normal: str) -> list[re.Match]:
    """The self-pay treatments folded text names (`trigger`; `named` where it offers them, `_named_offer`), then those
    it only prices (`priced`: a drip, a shot, a prescription at so many yen) in a sentence that names nothing priced
    in insured care (`priced_unless`)."""
    found = list(jiyu.extra["trigger"].finditer(normal))
    named = jiyu.extra.get("named")
    if named is not None:
        found.extend(m for m in named.finditer(normal) if _named_offer(jiyu, normal, m))
    priced, spared = jiyu.extra.get("priced"), jiyu.extra.get("priced_unless")
    if priced is not None:
        found.extend(m for m in priced.finditer(normal)
                     if spared is None or not spared.search(normal, *_sentence(normal, *m.span())))
    return found


def _named_offer(jiyu: Rule, normal: str, m: re.Match) -> bool:
    """Whether a treatment `named` at m is on offer: its sentence promotes or offers it (`named_context`, before or
    after the name), or it stands in a heading, table row or image that neither prices it (the `priced` rows) nor
    counts or draws it (`named_menu_unless`); never where the sentence says it is insured (`named_unless`)."""
    context, insured, menu = (jiyu.extra.get(k) for k in ("named_context", "named_unless", "named_menu_unless"))
    if context is None:
        return False
    s, e = _sentence(normal, *m.span())
    if insured is not None and insured.search(normal, s, e):
        return False
    listed = _menu_line(normal, m.start()) and not _PRICE.search(normal, s, e) \
        and not (menu is not None and menu.search(normal, s, e))
    return listed or context.search(normal, s, m.start()) is not None or context.search(normal, m.end(), e) is not None


# 「ボトックスとは、…」 explains a word rather than offering it. Read as written: folded kana would take
# 「インプラントは、」 (いんぷらんとは、) for one
_DEFINING = re.compile(r"(?:とは|って)[、,\s]")


def _defining(text: str, at: int) -> bool:
    """Whether the sentence of `text` at offset `at` defines a word (「○○とは、」)."""
    return bool(_DEFINING.search(unicodedata.normalize("NFKC", text[slice(*_sentence(text, at, at))])))


def _offered(jiyu: Rule, normal: str, start: int, end: int) -> bool:
    """Whether the sentence of normal[start:end] offers or promotes what it names (`named_context`, `inviting`), or
    is a heading, table row or image: a 自由診療 hint needs that, for a test or treatment merely listed (an
    examination's name in a list of those a department performs) offers nothing."""
    s, e = _sentence(normal, start, end)
    words = [jiyu.extra.get("named_context"), jiyu.extra.get("inviting")]
    return _menu_line(normal, start) or any(w is not None and w.search(normal, s, e) for w in words)


def _menu_line(normal: str, at: int) -> bool:
    """Whether the line at `at` is a heading, a table row or an image: a treatment named there is on offer."""
    line = normal[normal.rfind("\n", 0, at) + 1:at].lstrip()
    return line.startswith(("#", "|", "!["))


def _exempt(r: Rule, views: list[tuple[str, list[int], list[int]]], start: int, end: int) -> bool:
    """Whether the sentence of text[start:end] is one the rule's `unless` exempts, in any view of the text (the
    analyzer's spelling may differ from the one the exception is written in: すぐに -> 直ぐに)."""
    if r.unless is None:
        return False
    for view in views:
        a, b = _span(view, start, end)
        if r.unless.search(view[0], *_sentence(view[0], a, b)):
            return True
    return False


def discloses(sentence: str) -> bool:
    """Whether a sentence states a 自由診療 treatment's cost, risks, approval status or that it is self-pay: whether
    such a sentence breaks the rule depends on the rest of its page, so `tools/train_ad_model.py` leaves those
    violations out when it sets the model's veto."""
    jiyu = next((r for r in load_rules() if r.id == "jiyu"), None)
    disclosing = jiyu.extra.get("disclosing") if jiyu is not None else None
    return disclosing is None or bool(disclosing.search(norm(sentence, fold=True)))


def _offers(jiyu: Rule, normal: str, m: re.Match) -> bool:
    """Whether the sentence of a treatment's mention plainly offers it (a menu entry marked 自由診療), so that the
    model's ordinary reading does not spare it."""
    offering = jiyu.extra.get("offering")
    return offering is not None and bool(offering.search(normal, *_sentence(normal, *m.span())))


def _discloses_only(jiyu: Rule, views: list[tuple[str, list[int], list[int]]], start: int, end: int) -> bool:
    """Whether the sentence of a treatment's mention at text[start:end] only discloses or defers: it states the
    treatment's risks, side effects, cautions or limits (フィナステリドの主な副作用は…です, 効果には個人差があります), or
    promises to explain its risks at the visit, and neither prices it nor invites patients to it nor marks it
    self-pay like a menu entry. Such a sentence does not offer the treatment it names. Read in every view of the text
    (the analyzer's spelling of 有ります is not the one the patterns are written in)."""
    inviting, offering, marked = jiyu.extra.get("inviting"), jiyu.extra.get("offering"), jiyu.extra.get("marked")
    needs = dict(jiyu.needs)
    risk, cost = needs.get("主なリスク・副作用"), needs.get("費用")
    if risk is None or cost is None or inviting is None:
        return False
    sentences = [view[0][slice(*_sentence(view[0], *_span(view, start, end)))] for view in views]
    if any(inviting.search(t) or _PRICE.search(t) or (marked is not None and marked.search(t))
           or (offering is not None and offering.search(t)) for t in sentences):
        return False
    stating = any(risk.search(t) or _LIMITS.search(t) for t in sentences)
    if any(_DEFERRED.search(t) for t in sentences):
        # 「自由診療の内容・費用・リスクは受診時にご説明します」 offers nothing; a treatment named with its
        # explanation put off in brackets, 「○○療法（費用・副作用は来院時にご説明します）」, is a menu entry
        return stating and not any(_BRACKETED_DEFERRAL.search(t) for t in sentences)
    return stating and not any(cost.search(t) for t in sentences)


# what a treatment cannot do or whom it does not suit: a disclosure like its risks
_LIMITS = re.compile(r"個人差|効果(?:が|の)(?:出|現れ)(?:ない|にくい)|(?:行え|受けられ|でき|使え)ない(?:場合|方|こと)|"
                     r"変わりません|適さない|向かない|向いていない|限られ(?:ます|る)|目的とした(?:検査|治療)ではな|禁忌|"
                     r"適応(?:は|となるのは)|適応(?:と|に)ならない|お勧めしない|おすすめしない|お約束するものではな|効果が異なり|"
                     r"欠かせません|短所|とは限(?:りません|らない|らず)|利点と限界|限界があ|保証された治療ではな|検証が続いて|研究段階|適応(?:が|の)?(?:ある|あるか)?(?:かどうか|の有無)|確立(?:して|され(?:て)?)(?:い)?(?:ない|いません|おりません)")
_BRACKETED_DEFERRAL = re.compile(r"[(（][^)）]*(?:ご説明|説明|お伝え|ご案内)[^)）]*[)）]")
# a price in digits or kanji numerals (the rules' {kanji_yen}: 二千円, not 一円 as in 市内一円)
_PRICE = re.compile(r"\d[\d,]*\s?円|" + SUBPATTERNS["{kanji_yen}"])


class _Ordinary:
    """Whether the sentence at an offset of `text` is one the model reads as ordinary (worked out on first use)."""

    def __init__(self, text: str, model) -> None:
        self.text, self.model = text, model
        self.spans: list[tuple[int, int]] | None = None

    def __call__(self, at: int) -> bool:
        if self.model is None:
            return False
        if self.spans is None:
            self.spans = self.model.ordinary(self.text)
        return any(a <= at < b for a, b in self.spans)


# 「費用やリスクは来院時にご説明します」 names the disclosures but leaves them off the page
_DEFERRED = re.compile(fold_kana(
    r"(?:来院時|診察時|受診時|ご相談時|お問い合わせ|お問合せ|当日|別途|後日|窓口|外来で|診察の際|ご来院の際|かうんせりんぐ時)"
    r"[^。]{0,8}?(?:ご説明|説明|お伝え|ご案内|お知らせ)"
    r"|(?:ご説明|説明|お伝え|ご案内|お知らせ)(?:は|を)[^。]{0,4}?(?:来院時|診察時|受診時|ご相談時|当日|診察の際|ご来院の際|かうんせりんぐ時)"
    r"|(?:りすく|副作用|費用|料金)(?:について|に関して)(?:は)?[^。]{0,16}?(?:ご説明|説明|お伝え|ご案内)(?:します|いたします|しております)"
    r"|かうんせりんぐ(?:時|で|の際)[^。]{0,8}?(?:ご説明|説明|お伝え|ご案内)"
    r"|(?:費用|料金|副作用|りすく)[^。]{0,10}?(?:記載|掲載|説明)(?:は|が)?(?:ありません|ございません|なし|して(?:おり|い)ません)"
    r"|(?:料金|費用|価格|金額)(?:は|については|の詳細は)?[^。]{0,6}?(?:お問い?合わせ|お問合せ|ご相談)(?:ください|下さい)"
    r"|(?:詳しく|詳細)は[^。]{0,10}?(?:お尋ね|おたずね|お問い?合わせ)"
    r"|(?:りすく|副作用|費用|料金)(?:について|に関して)(?:は)?[^。]{0,10}?(?:お尋ね|おたずね|お問い?合わせ|ご相談)(?:ください|下さい)"
    r"|(?:別ページ|別のページ|リンク先|下記のページ|こちらのページ|[「『][^」』]{1,20}[」』]\s?(?:ページ|の項|欄))"
    r"[^。]{0,10}?(?:ご参照|参照|ご覧|ご確認)"))


def _stated(normal: str) -> str:
    """Folded text without its sentences that only promise to explain later: what the page itself states."""
    return "。".join(part for part in normal.split("。") if not _DEFERRED.search(part))


def _needs(jiyu: Rule, stated: str) -> tuple[tuple[str, re.Pattern], ...]:
    """The disclosures a page about 自由診療 needs: with a drug or device not approved in Japan, also that it is
    not, how it was obtained, whether an approved one exists, and what is known abroad about its safety."""
    unapproved = jiyu.extra.get("unapproved")
    if unapproved is not None and unapproved.search(stated):
        return jiyu.needs + jiyu.needs_unapproved
    return jiyu.needs


def _missing(jiyu: Rule, normal: str) -> list[str]:
    """The disclosures folded text about 自由診療 lacks, by name (promises to explain later do not count)."""
    stated = _stated(normal)
    return [name for name, need in _needs(jiyu, stated) if not need.search(stated)]


def _explained(normal: str, rules: Iterable[Rule]) -> bool:
    """Whether folded text carries everything 限定解除 asks for (the treatment, its cost, its main risks and side
    effects): what also makes photos before and after a treatment advertisable."""
    jiyu = next((r for r in rules if r.id == "jiyu"), None)
    return jiyu is not None and bool(jiyu.needs) and not _missing(jiyu, normal)


def missing_disclosures(text: str) -> list[str]:
    """What a page about 自由診療 still lacks (費用, 主なリスク, 副作用 …); [] when complete or not such a page."""
    jiyu = next((r for r in load_rules() if r.id == "jiyu"), None)
    if jiyu is None:
        return []
    normal = norm(text, fold=True)
    if not _mentions(jiyu, normal):
        return []
    return _missing(jiyu, normal)


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


def _phrases(text: str, rules: tuple[Rule, ...], analyzer: Analyzer | None, model) -> list[tuple[Rule, int, int, float]]:
    """(rule, start, end, probability) in one text: what the rules report (probability 0), then the model's hints on
    the sentences they leave."""
    hits = find(text, rules, document=False, analyzer=analyzer)
    if model is not None:
        hits = overruled(text, hits, model)
    out = [(r, a, b, 0.0) for r, a, b in hits]
    if model is not None:
        by_id = {r.id: r for r in rules}
        out += [(by_id[h.category], h.start, h.end, round(h.probability, 2))
                for h in hints(text, model, rules, [(a, b) for _, a, b in hits])]
    return out


def overruled(text: str, hits: list[tuple[Rule, int, int]], model) -> list[tuple[Rule, int, int]]:
    """`hits` (sentence-level findings: `find` with document=False) without those the model (admodel.Model)
    overrules: findings in a sentence it reads as ordinary (admodel.VETO_NEVER). The page checks take the model
    themselves (`document_findings`)."""
    if not any(model.may_overrule(r.id) for r, _, _ in hits):
        return hits
    ordinary = model.ordinary(text)
    return [h for h in hits if not (model.may_overrule(h[0].id) and any(a <= h[1] < b for a, b in ordinary))]


def hints(text: str, model, rules: tuple[Rule, ...] | None = None, spared: Sequence[tuple[int, int]] = ()) -> list:
    """The model's hints (admodel.Hint) on `text`, except where the rule of the hinted category says its words are
    ordinary in that sentence (its `unless`: a reply to a review is not a review, a seminar's count is not an
    outcome), photos before and after a treatment on a page that explains it as 限定解除 requires, and 自由診療 on
    a page that carries every disclosure it needs: the rules' exemptions hold for the model too."""
    rules = rules or load_rules()
    by_id = {r.id: r for r in rules}
    view = normalise(text, fold=True)
    out = []
    explained: bool | None = None  # the page carries every disclosure 限定解除 asks for: worked out on the first
    for h in model.hints(text, spared):  # before/after or 自由診療 hint, for both
        r = by_id.get(h.category)
        if r is None:
            continue
        if h.category in ("before-after", "jiyu") and explained is None:
            explained = _explained(view[0], rules)
        if h.category == "before-after" and explained:
            continue
        a, b = _span(view, h.start, h.end)
        if h.category == "jiyu" and (not r.needs or explained or not _offered(r, view[0], a, b)):
            continue
        if r.unless is not None and r.unless.search(view[0], *_sentence(view[0], a, b)) or _cautioned(view[0], a, b):
            continue
        out.append(h)
    return out


def lint_source(source: Source, rules: tuple[Rule, ...] | None = None, fields: Iterable[tuple] | None = None,
                analyzer: Analyzer | None = None, model=None) -> list[AdFinding]:
    """Findings in one file: every text field (or only `fields`) and the Markdown body; with a `model`
    (admodel.Model), also its hints on the sentences no rule reported."""
    rules = rules or load_rules()
    found: list[AdFinding] = []
    if fields is None:
        items = list(_strings(source.data))
    else:
        items = [(loc, v) for loc in fields if isinstance(v := _get(source.data, loc), str)]
    for loc, text in items:
        for r, a, b, p in _phrases(text, rules, analyzer, model):
            found.append(AdFinding(source.path, _line_of(source, loc, text, a), dotted(loc), r, text[a:b],
                                   probability=p))
    body = _blank_comments(source.body) if source.body else ""
    if body:
        for r, a, b, p in _phrases(body, rules, analyzer, model):
            found.append(AdFinding(source.path, source.body_line + body[:a].count("\n"), "body", r, body[a:b],
                                   probability=p))
    # the whole file as one page: 自由診療 without its disclosures, images showing before/after
    parts = [(loc, text) for loc, text in items] + [(("body",), body)]
    if fields is None:
        parts += [(loc, f"![]({v})") for loc, v in strings(source.data)
                  if loc and loc[-1] in ("src", "file", "photo", "image")]
    page = "\n\n".join(text for _, text in parts)
    offsets = []
    pos = 0
    for loc, text in parts:
        offsets.append((pos, pos + len(text), loc, text))
        pos += len(text) + 2
    for r, a, b in document_findings(page, rules, analyzer, model=model):
        lacks = tuple(missing_disclosures(page)) if r.id == "jiyu" else ()  # only for a 自由診療 finding
        for lo, hi, loc, text in offsets:
            if lo <= a < hi + 1:
                if loc == ("body",):
                    line = source.body_line + text[:a - lo].count("\n")
                    found.append(AdFinding(source.path, line, "body", r, page[a:b], missing=lacks))
                else:
                    found.append(AdFinding(source.path, _line_of(source, loc, text, a - lo), dotted(loc), r, page[a:b],
                                           missing=lacks))
                break
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


@lru_cache(maxsize=4)
def _qualification_names(listed: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(advertisable names, longest first; names that may not be advertised), as the check reads them: worked out
    once per list, not once per text (a site's texts times its qualifications were a quarter of the check)."""
    names = sorted({norm(name) for name, ok in listed if ok}, key=len, reverse=True)
    return tuple(names), tuple(norm(name) for name, ok in listed if not ok)


def qualification_mentions(text: str, content: Content) -> list[tuple[int, int]]:
    """Spans of 「○○専門医」 that are not, exactly, an advertisable qualification's name.

    A name is accepted only as written in qualifications.yaml: 「△△学会認定循環器専門医」 is not accepted because
    「循環器専門医」 is listed (no suffix matching), nor 「循環器専門医」 because 「日本循環器学会循環器専門医」 is."""
    if not content.qualifications:
        return []
    names, banned = _qualification_names(tuple((q.name, q.advertisable) for q in content.qualifications.values()))
    normal, starts, ends = normalise(text)
    listed: list[tuple[int, int]] = []  # where an advertisable name is written in full
    for name in names:
        for m in re.finditer(re.escape(name), normal):
            if not any(a <= m.start() < b for a, b in listed):
                listed.append(m.span())
    spans = []
    for m in _TITLE.finditer(normal):
        if not any(a <= m.start() and m.end() <= b for a, b in listed):
            spans.append((starts[m.start()], ends[m.end() - 1]))
    for name in banned:
        for m in re.finditer(re.escape(name), normal):
            if not any(s <= starts[m.start()] < e for s, e in spans):
                spans.append((starts[m.start()], ends[m.end() - 1]))
    return sorted(spans)


def _mention_findings(content: Content, source: Source) -> list[AdFinding]:
    """「○○専門医」 in text that is not an advertisable qualification. No "did you mean": the closest listed name is
    a DIFFERENT qualification, and writing it would turn unadvertisable wording into a false claim."""
    out = []
    for loc, text in _strings(source.data):
        for a, b in qualification_mentions(text, content):
            out.append(AdFinding(source.path, _line_of(source, loc, text, a), dotted(loc), QUALIFICATION_RULE, text[a:b]))
    if source.body:
        body = _blank_comments(source.body)
        for a, b in qualification_mentions(body, content):
            out.append(AdFinding(source.path, source.body_line + body[:a].count("\n"), "body", QUALIFICATION_RULE,
                                 body[a:b]))
    return out


def _accept(findings: list[AdFinding], reviews, source: Source, report: AdReport) -> None:
    used = set()
    for f in findings:
        phrase = norm(f.phrase)
        for i, review in enumerate(reviews):
            wanted = norm(review.phrase)
            if wanted and (wanted in phrase or phrase in wanted):
                f = replace(f, accepted=review)
                used.add(i)
                break
        report.findings.append(f)
    for i, review in enumerate(reviews):
        if i not in used:
            report.unused_reviews.append((source.path, source.line(("ad_review", i)), review.phrase))


def lint(content: Content, analyzer: Analyzer | None = None, model=None) -> AdReport:
    """Every published text of the site, checked against the rules (one `analyzer` for the whole run), and with a
    `model` (admodel.Model) its hints on the sentences no rule reported."""
    rules = load_rules()
    analyzer = analyzer or Analyzer()
    report = AdReport()
    if content.site_source is not None:
        found = lint_source(content.site_source, rules, SITE_FIELDS, analyzer, model)
        report.texts += len(SITE_FIELDS)
        report.findings.extend(found)
    for folder in COLLECTIONS:
        for item in content.collections.get(folder, ()):
            found = lint_source(item.source, rules, analyzer=analyzer, model=model)
            found += _mention_findings(content, item.source)
            if folder == "doctors":
                found += _qualification_findings(content, item)
            report.texts += sum(1 for _ in _strings(item.source.data)) + bool(item.source.body)
            found.sort(key=lambda f: (f.line or 0, f.field))
            _accept(found, getattr(item.model, "ad_review", ()) or (), item.source, report)
    return report
