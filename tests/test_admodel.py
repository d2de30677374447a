"""The statistical second opinion on 医療広告 (sitegen.check.admodel): what it reports, what it leaves to the rules,
and that the model in the repository is the one the corpus makes."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.check import admodel, adrules
from sitegen.check.run import CheckOptions, run_check
from sitegen.project import Project

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"
MODEL = admodel.load_model()


def model_only() -> list[str]:
    """Sentences of tests/data/ad_heldout.txt (never used to tune the rules) that break the
    guideline, that today's rules miss and that the model hints at."""
    analyzer = adrules.Analyzer()
    rows = [line.split("\t") for line in (REPO / "tests" / "data" / "ad_heldout.txt").read_text(encoding="utf-8")
            .splitlines() if line.strip() and not line.startswith("#")]
    return [s for c, s, *_ in rows if c != "ok" and not adrules.find(s, analyzer=analyzer) and MODEL.hints(s)]


def test_the_model_is_shipped_and_reads_sentences_as_the_rules_do():
    assert MODEL is not None, "generator/sitegen/data/ad_model.json is missing: run tools/train_ad_model.py"
    hints = MODEL.hints("放っておくと手遅れになるかもしれません！　紹介状をお持ちください。")
    assert len(hints) == 1 and hints[0].category == "fuan" and 0.5 < hints[0].probability <= 1
    assert hints[0].end <= len("放っておくと手遅れになるかもしれません！")
    # the same sentence in other spellings reads the same (katakana, full-width digits, spaces inside words)
    assert MODEL.score("ホウッテオクト手遅れに") == MODEL.score("ほうっておくと手遅れに")


@pytest.mark.parametrize("text", [
    "紹介状をお持ちください。",
    "当院では患者さまの口コミや体験談を掲載していません。",  # a denial, as the rules read it
    "「芸能人も通う」といった宣伝はしていません。",  # quoted to be disowned
    "コイル塞栓術",  # too short to be a sentence the model knows
    "HbA1c 9.0%以上が続く方",
    "## MRIを受けられない方",  # a heading: its ## does not make it long enough to be a sentence
])
def test_what_the_rules_read_as_ordinary_gets_no_hint(text):
    assert MODEL.hints(text) == []


def test_a_text_s_length_counts_letters_and_not_markup():
    def reads(text: str) -> bool:
        return admodel._reads(admodel.features(text, MODEL.low, MODEL.high))

    assert not reads("## MRIを受けられない方") and not reads("- **MRIを受けられない方**")
    assert reads("MRIを受けられない方へ") and reads("## MRIを受けられない方へ")  # 12 letters


def test_the_model_does_not_speak_where_only_the_rules_decide():
    """A figure's period and source is a fact about the page: the rules decide it."""
    assert admodel.RULES_ONLY == {"seiseki"}
    for text in ["年間800件の内視鏡検査を行っています。", "当院の白内障手術は年間1,200件です。"]:
        assert all(h.category not in admodel.RULES_ONLY for h in MODEL.hints(text))


def test_a_self_pay_hint_stands_only_on_a_page_without_the_disclosures():
    """The model may name 自由診療 for a treatment the rules' lists do not know; a page that states what the
    treatment is, its cost and its main risks is what 限定解除 asks for, so the hint goes."""
    offer = "ラジオ波を使った新しい肌引き締め施術『ルミナタイト』を始めました。"
    hinted = [h for h in adrules.hints(offer, MODEL) if h.category == "jiyu"]
    assert hinted, "a self-pay treatment the rules do not name"
    page = offer + "\n\n治療内容：ラジオ波を照射して皮膚を温めます。費用：1回33,000円（税込、自由診療）。" \
        "主なリスク・副作用：赤み、ほてり、一時的な腫れ。"
    assert [h for h in adrules.hints(page, MODEL) if h.category == "jiyu"] == []


def test_a_hint_is_not_given_where_a_rule_already_reported():
    text = "当院は県内No.1の実績です。"
    hits = adrules.find(text)
    assert hits and MODEL.hints(text, [(a, b) for _, a, b in hits]) == []


def test_sitegen_check_reports_a_hint_as_a_warning_and_ad_review_accepts_it(tmp_path):
    sentences = model_only()
    assert sentences, "the rules now find every held-out sentence the model hints at: write a new held-out set"
    sentence = next(s for s in sentences if len(MODEL.hints(s)) == 1)  # one sentence, one hint (not 「Q.…？ A.…」)
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    doctor = next(iter(sorted((root / "content" / "doctors").glob("*.md"))))
    text = doctor.read_text(encoding="utf-8")
    doctor.write_text(text.rstrip("\n") + "\n\n" + sentence + "\n", encoding="utf-8")
    options = CheckOptions(today=dt.date(2026, 11, 25), skip=frozenset({"links", "a11y"}))
    report = run_check(Project.at(root, tmp_path / "out"), options)
    hints = [f for f in report.findings if f.rule.startswith("ad.hint.")]
    assert len(hints) == 1, [str(f) for f in report.findings]
    hint = hints[0]
    assert hint.severity == "warning" and hint.file == doctor.relative_to(root).as_posix()
    assert hint.line == len(text.rstrip("\n").splitlines()) + 2
    assert "統計モデル" in hint.message and "ad_review" in hint.message and hint.phrase in sentence
    assert not [f for f in report.findings if f.severity == "error"]
    # a reviewer who read it records it, and it is accepted like a rule's finding
    review = (f'ad_review:\n  - phrase: "{hint.phrase}"\n    approved_by: 広報 山田\n    reason: 事実の説明として確認済み\n'
              "    date: 2026-11-20\n")
    doctor.write_text(text.replace("---\n", "---\n" + review, 1).rstrip("\n") + "\n\n" + sentence + "\n",
                      encoding="utf-8")
    report = run_check(Project.at(root, tmp_path / "out"), options)
    hints = [f for f in report.findings if f.rule.startswith("ad.hint.")]
    assert len(hints) == 1 and hints[0].severity == "info" and hints[0].accepted["approved_by"] == "広報 山田"


@pytest.mark.slow
def test_the_model_in_the_repository_is_the_one_the_corpus_makes(tmp_path):
    """Change tests/data/ad_flagged.txt or ad_ok.txt, and this fails until tools/train_ad_model.py is run again;
    the training is deterministic (the same corpus gives the same bytes)."""
    out = tmp_path / "model.json"
    subprocess.run([sys.executable, str(REPO / "tools" / "train_ad_model.py"), "--out", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == admodel.MODEL_FILE.read_bytes()
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["cv"]["fp<=1%"]["fp"] <= 0.01 and data["cv"]["fp<=1%"]["recall"] > 0.8


class _Says:
    """A model that hints one category at the first word of every text (to test what the rules' exemptions do
    to hints, whatever the trained model happens to say)."""

    def __init__(self, category: str) -> None:
        self.category = category

    def hints(self, text, spared=()):
        return [admodel.Hint(0, 2, 0.99, self.category)]


@pytest.mark.parametrize("category,exempt,plain", [
    ("taikendan", "Google口コミ返信：ご来院ありがとうございました。またいつでもご相談ください。",
     "ご来院ありがとうございました。またいつでもご相談ください。"),
    ("seiseki", "地域の先生方との勉強会を年間12回行っています。", "年間12回の手術を行っています。"),
])
def test_a_hint_obeys_the_exemptions_of_its_category_rule(category, exempt, plain):
    """The rules' `unless` (a reply to a review is not a review, a count of seminars is not an outcome) spares a
    sentence from the model's hint of that category too; the same hint elsewhere stands."""
    model = _Says(category)
    assert adrules.hints(exempt, model) == []
    assert [h.category for h in adrules.hints(plain, model)] == [category]


def test_a_claim_named_to_warn_against_it_gets_no_hint_and_offers_nothing():
    """「今すぐ治療しないと手遅れ」とあおる勧誘, 「必ずやせる」とうたう医療ダイエット: someone else's claim, named in a caution,
    is neither hinted at nor an offer of the self-pay treatment it names; the same words as the page's own claim are."""
    model = _Says("fuan")
    caution = "「今すぐ治療しないと手遅れ」とあおる勧誘を受けたら、その場で契約しないでください。"
    own = "今すぐ治療しないと手遅れになります。ご予約はお早めに。"
    assert adrules.hints(caution, model) == []
    assert [h.category for h in adrules.hints(own, model)] == ["fuan"]
    rules = adrules.load_rules()
    warned = "「必ずやせる」とうたう自費の医療ダイエットのトラブルが多く寄せられています。"
    offered = "自費の医療ダイエットを始めました。"
    assert adrules.document_findings(warned, rules) == []
    assert [r.id for r, *_ in adrules.document_findings(warned + offered, rules)] == ["jiyu"]


def test_a_before_after_hint_stands_only_on_a_page_that_does_not_explain_the_treatment():
    """Photos before and after a treatment are advertisable on a page that gives the treatment, its cost and its
    main risks (as the rules' image check reads it); the model's hint of that category follows the same rule."""
    model = _Says("before-after")
    photo = "（写真：治療前／治療後）前歯の変色の症例です。"
    explained = photo + "治療内容：セラミッククラウン2本。費用：220,000円（税込、自由診療）。リスク：破折することがあります。"
    assert [h.category for h in adrules.hints(photo, model)] == ["before-after"]
    assert adrules.hints(explained, model) == []
    assert [h.category for h in adrules.hints(explained, _Says("kodai"))] == ["kodai"]  # other categories stand


def _model_reading(ordinary_gram: str, veto: float = 0.5) -> admodel.Model:
    """The shipped model's file with its weights replaced: `ordinary_gram` (as the model reads text: katakana as
    hiragana) weighs strongly towards ordinary wording, every other text scores 0.5."""
    data = json.loads(admodel.MODEL_FILE.read_text(encoding="utf-8"))
    data.update(bias=0.0, weights={ordinary_gram: -60.0}, platt=[1.0, 0.0], veto=veto, threshold=0.999)
    return admodel.Model(data)


def test_a_sentence_level_finding_in_a_sentence_the_model_reads_as_ordinary_is_not_reported():
    rules = adrules.load_rules()
    model = _model_reading("ろびー")
    lobby = "病院で一番高い8階の展望ロビーからは、天気の良い日に富士山が見えます。"
    claim = "当院の内視鏡は地域で一番の実績です。"
    assert [r.id for r, *_ in adrules._phrases(lobby + claim, rules, None, None)] == ["hikaku", "hikaku"]
    found = adrules._phrases(lobby + claim, rules, None, model)
    assert [(r.id, (lobby + claim)[a:b]) for r, a, b, _ in found] == [("hikaku", "地域で一番")]
    # a veto of 0 (a model file without one) overrules nothing
    assert len(adrules._phrases(lobby, rules, None, _model_reading("ろびー", veto=0.0))) == 1


@pytest.mark.parametrize("text,rule", [
    ("展望ロビーで一番人気", "hikaku"),  # too short to be a sentence the model knows
    ("展望ロビーの横の外来では、年間1,200件の手術を行っています。", "seiseki"),  # a figure: the page decides
])
def test_the_model_does_not_overrule_page_checks_or_short_texts(text, rule):
    found = adrules._phrases(text, adrules.load_rules(), None, _model_reading("ろびー"))
    assert rule in [r.id for r, *_ in found]


def test_the_shipped_veto_keeps_every_corpus_violation_the_rules_find():
    """The veto is set out of fold (at most 0.2 % of held-out sets' violations under it); on the corpus itself no
    violation the rules find may be lost to it."""
    assert 0 < MODEL.veto < MODEL.threshold
    analyzer = adrules.Analyzer()
    rows = [line.split("\t") for line in (REPO / "tests" / "data" / "ad_flagged.txt").read_text(encoding="utf-8")
            .splitlines() if line.strip() and not line.startswith("#")]
    lost = [s for c, s, *_ in rows
            if not adrules.overruled(s, adrules.find(s, document=False, analyzer=analyzer), MODEL)
            and not adrules.document_findings(s, adrules.load_rules(), analyzer, model=MODEL)]
    assert lost == []


def test_a_self_pay_treatment_named_in_a_sentence_the_model_reads_as_ordinary_is_not_offered_there():
    """自由診療: the page check still judges the page, but a sentence the model reads as ordinary (aftercare, a
    caution, a disclosure) does not count as offering the treatment it names; another sentence that offers it does."""
    rules = adrules.load_rules()
    model = _model_reading("めんてな")
    care = "インプラント治療の後は、定期的なメンテナンスにお越しいただいています。"
    offer = "インプラント治療を始めました。"
    priced = "インプラント治療のメンテナンスは1回5,000円です。"
    assert [r.id for r, *_ in adrules.document_findings(care, rules)] == ["jiyu"]
    assert adrules.document_findings(care, rules, model=model) == []
    found = adrules.document_findings(care + offer, rules, model=model)
    assert [(r.id, (care + offer)[a:b]) for r, a, b in found] == [("jiyu", "インプラント治療")]
    assert found[0][1] == len(care)  # the offer, not the aftercare sentence before it
    assert adrules.document_findings(priced, rules, model=model) == []  # read as ordinary: a price list's line
    assert [r.id for r, *_ in adrules.document_findings(priced + offer, rules, model=model)] == ["jiyu"]
    # a menu entry marked self-pay offers the treatment however ordinary it reads (`offering` in ad_rules.yaml)
    menu = "インプラント治療のメンテナンス（自由診療）：主なリスクは歯ぐきの腫れです。"
    assert [r.id for r, *_ in adrules.document_findings(menu, rules, model=model)] == ["jiyu"]
    assert adrules.document_findings(menu.replace("（自由診療）", ""), rules, model=model) == []
    # a veto of 0 spares nothing
    assert [r.id for r, *_ in adrules.document_findings(care, rules, model=_model_reading("めんてな", 0.0))] \
        == ["jiyu"]


def _model_flagging(gram: str) -> admodel.Model:
    """The shipped model's file with its weights replaced: `gram` weighs strongly towards a violation, every other
    text scores 0.5 (under the threshold, over the veto)."""
    data = json.loads(admodel.MODEL_FILE.read_text(encoding="utf-8"))
    data.update(bias=0.0, weights={gram: 60.0}, platt=[1.0, 0.0], veto=0.1, threshold=0.9)
    # its hints are of one category the model reports (not one left to the rules, as the shipped category
    # weights may choose for a text they know nothing of)
    data.update(category_weights={c: {} for c in data["categories"]},
                category_bias=[1.0 if c == "kodai" else 0.0 for c in data["categories"]])
    return admodel.Model(data)


@pytest.mark.parametrize("text", ["okada-shinya-takahashi", "Tanaka Building 3F, Sakura-machi 1-2-3"])
def test_a_text_with_no_kana_or_kanji_gets_neither_a_hint_nor_a_veto(text):
    """The model was trained on Japanese sentences: a doctor's slug or an address in letters is not one, whatever
    its n-grams weigh (the same n-gram in a Japanese sentence is read)."""
    flagging, ordinary = _model_flagging("ta"), _model_reading("ta")
    assert flagging.hints(text) == [] and ordinary.ordinary(text) == []
    assert len(flagging.hints(text + "の外来のご案内です。")) == 1
    assert ordinary.ordinary("外来は" + text + "です。") != []
