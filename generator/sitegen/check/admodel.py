"""A second opinion on 医療広告: a statistical model of the sentences the rules were written from.

The rules (`adrules`) name a construction and cite the guideline; on wording nobody has seen they find about four
violations in five. This model reads every sentence the rules leave alone and says how much it resembles the
corpus's violations (tests/data/ad_flagged.txt) rather than its ordinary liaison wording (ad_ok.txt). A sentence
over the model's threshold is reported as a warning to review, never as an error: the model knows words, not the
guideline, and it is wrong about one ordinary sentence in fifty to a hundred.

Model: one linear score over the distinct character 2-4-grams of the sentence as the rules read it
(`adrules.normalise(fold=True)`: markup removed, katakana as hiragana, common spellings folded), with every digit
read as 0 and spaces removed: the sum of a multinomial naive Bayes and a logistic regression trained on the same
grams. Its log-odds z become a probability by Platt scaling; the threshold is the one that gave at most 0.7 %
false positives on held-out sets the model was not trained on. It reads Japanese: a text with no kana or kanji
(a doctor's slug 「okada-shinya」, an address in letters) gets neither a hint nor a veto. A second naive Bayes names the
most likely category. `tools/train_ad_model.py` makes data/ad_model.json from the corpus, the same file for the
same corpus (tests/test_admodel.py checks that the file in the repository is the one the corpus makes).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from sitegen.check import adrules
from sitegen.check.adrules import normalise

MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "ad_model.json"
MIN_CHARS = 12  # shorter texts (names, list items, labels, headings; letters, digits, kana and kanji, not markup such as
# a heading's ## or a list's -) are not sentences it knows
# Where only the rules decide: whether a figure has its own period and source is a fact about the page the rules
# check; the model's guesses there were mostly plain numbers (a referral criterion 「HbA1c 9.0%以上」). For 自由診療
# the model does speak (a treatment the rules' lists do not name), but `adrules.hints` lets its hint stand only
# on a page that lacks the 限定解除 disclosures: out of fold, 0.12 % of the corpus's ordinary sentences got a
# 自由診療 hint, and 93 % of its 自由診療 violations did.
RULES_ONLY = frozenset({"seiseki"})
# The other way round, the model may overrule a rule: a rule's finding in a sentence the model scores under its
# `veto` probability (one that reads like the corpus's ordinary liaison wording: 「母親学級は先着順のお申し込みと
# なります」) is not reported. For 自由診療 the page check still judges the page, but a sentence the model reads as
# ordinary does not count as offering the treatment (「インプラント治療後は定期メンテナンスが欠かせません」); another
# sentence of the page that offers it still does. Never for the other page-level checks (a figure's own period and
# source, photos before and after), and never for texts too short to be sentences. Out of fold, 0.2 % of the
# held-out sets' violations (自由診療 included) score under it.
VETO_NEVER = frozenset({"seiseki", "before-after"})
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]*")
_JAPANESE = re.compile(r"[\u3041-\u30ff\u3400-\u9fff々〆]")  # kana or kanji: a text the model was trained on


@dataclass(frozen=True)
class Hint:
    start: int  # the words that weigh most towards a violation, as offsets into the text as written
    end: int
    probability: float
    category: str  # the rule id the sentence most resembles (kodai, fuan …)


@dataclass(frozen=True)
class Read:
    """A sentence as the model reads it."""

    grams: dict[str, tuple[int, int]]  # n-gram -> (start, end) of its first occurrence in the read characters
    normal: str  # the sentence as the rules read it (adrules.normalise)
    at: list[int]  # for each read character, its index in `normal`
    starts: list[int]  # and its start and end in the text as written
    ends: list[int]


def features(text: str, low: int = 2, high: int = 4) -> Read:
    normal, starts, ends = normalise(text, fold=True)
    chars, at = [], []
    for i, c in enumerate(normal):
        if not c.isspace():
            chars.append("0" if c.isdigit() else c)
            at.append(i)
    read = "".join(chars)
    grams = {read[i:i + n]: (i, i + n) for n in range(high, low - 1, -1) for i in range(len(read) - n, -1, -1)}
    return Read(grams, normal, at, [starts[i] for i in at], [ends[i] for i in at])


class Model:
    def __init__(self, data: dict) -> None:
        self.low, self.high = data["features"]["ngram"]
        self.bias, self.weights = data["bias"], data["weights"]
        self.a, self.b = data["platt"]
        self.threshold = data["threshold"]
        self.hint_fp = data.get("hint_fp", 0.01)  # the out-of-fold false-positive rate the threshold was set at
        self.veto = data.get("veto", 0.0)
        self.categories = data["categories"]
        self.category_bias = data["category_bias"]
        self.category_weights = [data["category_weights"][c] for c in self.categories]
        self.cv = data["cv"]  # its out-of-fold figures over the held-out sets, for the benchmark
        self.hint_cv = self.cv.get(cv_key(self.hint_fp), {})  # those at its threshold
        self.cv_sets = data["training"]["cv_sets"]
        self.cv_dealings = data["training"].get("cv_dealings", 1)  # the sets dealt into folds this many times
        # tests/data/ad_heldout.txt's sets under this number trained it (bench/bench_ad.py measures it on the others)
        self.heldout_trained_below = data["training"].get("heldout_trained_below", 0)

    def score(self, sentence: str) -> Hint | None:
        """The model's verdict on one sentence (None when it has nothing to read, or its words are taken back)."""
        read = features(sentence, self.low, self.high)
        return self._verdict(read, self._probability(read.grams)) if read.grams else None

    def _probability(self, grams: dict[str, tuple[int, int]]) -> float:
        z = self.bias + sum(self.weights.get(g, 0.0) for g in grams)
        return 1 / (1 + math.exp(-max(min(self.a * z + self.b, 50.0), -50.0)))

    def _verdict(self, read: Read, p: float) -> Hint | None:
        grams, w = read.grams, self.weights
        evidence = [b + sum(cw.get(g, 0.0) for g in grams) for b, cw in zip(self.category_bias, self.category_weights)]
        category = self.categories[max(range(len(evidence)), key=lambda k: (evidence[k], self.categories[k]))]
        best = max(sorted(grams), key=lambda g: w.get(g, 0.0))
        a, b = grams[best]
        strong = [grams[g] for g in grams if w.get(g, 0.0) >= 0.75 * w.get(best, 0.0) > 0]
        while True:  # widen to the strong n-grams overlapping it (実績を誇, not just を誇)
            wider = [(min(a, s), max(b, e)) for s, e in strong if s < b and e > a and (s < a or e > b)]
            if not wider:
                break
            a, b = wider[0]
        if adrules.taken_back(read.normal, read.at[a], read.at[b - 1] + 1):
            return None  # 「体験談は掲載していません」: what the rules read as a denial, the model may not know
        return Hint(read.starts[a], read.ends[b - 1], p, category)

    @staticmethod
    def may_overrule(rule_id: str) -> bool:
        return rule_id not in VETO_NEVER

    def ordinary(self, text: str) -> list[tuple[int, int]]:
        """The spans of the sentences of `text` the model scores under its veto (see VETO_NEVER)."""
        out = []
        for m in _SENTENCE.finditer(text):
            read = features(m.group(), self.low, self.high)
            if _reads(read) and self._probability(read.grams) < self.veto:
                out.append(m.span())
        return out

    def hints(self, text: str, spared: Sequence[tuple[int, int]] = ()) -> list[Hint]:
        """The sentences of `text` over the threshold, except those overlapping a `spared` span (what the rules
        already reported) and those too short to be sentences."""
        out = []
        for m in _SENTENCE.finditer(text):
            a, b = m.span()
            if any(s < b and a < e for s, e in spared):
                continue
            read = features(m.group(), self.low, self.high)
            if not _reads(read):
                continue
            p = self._probability(read.grams)
            if p < self.threshold:
                continue
            hint = self._verdict(read, p)
            if hint is not None and hint.category not in RULES_ONLY:
                out.append(Hint(a + hint.start, a + hint.end, hint.probability, hint.category))
        return out


def cv_key(fp: float) -> str:
    """The name of the out-of-fold figures at false-positive rate `fp` in the model file ("fp<=0.7%", "fp<=1%")."""
    return f"fp<={fp:.1%}".replace(".0%", "%")


def _reads(read: Read) -> bool:
    """Whether the model speaks on a text: a sentence of at least MIN_CHARS letters, digits, kana or kanji, in
    Japanese."""
    return (sum(read.normal[i].isalnum() for i in read.at) >= MIN_CHARS
            and _JAPANESE.search(read.normal) is not None)


@lru_cache(maxsize=2)
def load_model(path: Path = MODEL_FILE) -> Model | None:
    """The model kept beside the rules (None when the file is missing: the rules still run)."""
    if not path.is_file():
        return None
    return Model(json.loads(path.read_text(encoding="utf-8")))
