"""Benchmark of the 医療広告ガイドライン linter: recall per category on sentences that must be flagged, the false-positive
rate on ordinary liaison-office sentences, the borderline list, and the linter's time on the example site.

    .venv/bin/python bench/bench_ad.py [--misses] [--repeat 3] [--corpus PATH] [--evasions N]

Corpora: tests/data/ad_flagged.txt (<category> TAB <sentence> TAB <guideline item>), tests/data/ad_ok.txt and
tests/data/ad_borderline.txt; tests/data/ad_heldout.txt holds sentences never used to tune the rules and is reported
apart (an estimate for other hospitals' wording). A sentence counts as found when any rule reports it; "same rule" counts only reports
under its own category. `--corpus PATH` also scores another file in the held-out format
(<category or ok> TAB <sentence> TAB <guideline item>), e.g. a set written by someone else: recall per category and FP,
for the rules alone and as `sitegen check` reports with the statistical model (sitegen.check.admodel: a warning on a
sentence no rule reported, and no report of a sentence-level rule in a sentence it reads as ordinary). The model is
trained on the corpus and on the held-out sets numbered under its `heldout_trained_below` (the rules were never
tuned on those, so they still measure the rules): on them only its out-of-fold figures (kept in the model file) say
anything, and the held-out figures with the model count only the later sets; on a new set both lines do.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
sys.path.insert(0, str(REPO / "generator"))

from sitegen.check import admodel, adrules  # noqa: E402

ANALYZER = adrules.Analyzer()  # loaded once, as in `sitegen check`
MODEL = admodel.load_model()


def find(sentence: str):
    return adrules.find(sentence, analyzer=ANALYZER)


def hints(sentence: str, model) -> list:
    return adrules.hints(sentence, model)


def with_model(sentence: str) -> bool:
    """Reported by `sitegen check` (rules and model): a rule's finding the model does not overrule, or its hint."""
    if MODEL is None:
        return bool(find(sentence))
    rules = adrules.load_rules()
    return (bool(adrules.overruled(sentence, adrules.find(sentence, document=False, analyzer=ANALYZER), MODEL))
            or bool(adrules.document_findings(sentence, rules, ANALYZER, model=MODEL)) or bool(hints(sentence, MODEL)))


def corpus(name: str | Path) -> list[list[str]]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def model_saw(path: str | Path) -> list[bool]:
    """For each sentence of a held-out-format file (in corpus() order): whether the model was trained on it, that is
    it stands in a '# set N' block of tests/data/ad_heldout.txt with N under the model's heldout_trained_below."""
    path = DATA / path
    trained = path.resolve() == (DATA / "ad_heldout.txt").resolve() and MODEL is not None
    out, block = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            m = re.match(r"#\s*set (\d+)", line)
            block = int(m.group(1)) if m else None
        elif line.strip():
            out.append(trained and block is not None and block < MODEL.heldout_trained_below)
    return out


def evaluate() -> dict:
    """{"recall": {category: (found, same_rule, total)}, "fp": [(sentence, rules)], "ok_total": n, "borderline": …}"""
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses = []
    for category, sentence, *_ in corpus("ad_flagged.txt"):
        ids = [r.id for r, _, _ in find(sentence)]
        row = recall[category]
        row[0] += bool(ids)
        row[1] += category in ids
        row[2] += 1
        if not ids:
            misses.append((category, sentence))
    ok = corpus("ad_ok.txt")
    fps = []
    for sentence, *_ in ok:
        found = [(r.id, sentence[a:b]) for r, a, b in find(sentence)]
        if found:
            fps.append((sentence, found))
    borderline = [(s, [(r.id, s[a:b]) for r, a, b in find(s)]) for s, *_ in corpus("ad_borderline.txt")]
    held = corpus("ad_heldout.txt") if (DATA / "ad_heldout.txt").is_file() else []
    saw = model_saw("ad_heldout.txt") if held else []
    hit = [bool(find(s)) for _, s, *_ in held]  # the rules' verdict on each, worked out once
    held_flag = [(c, s) for c, s, *_ in held if c != "ok"]
    held_ok = [s for c, s, *_ in held if c == "ok"]
    held_missed = [(c, s) for (c, s, *_), h in zip(held, hit) if c != "ok" and not h]
    held_fp = [s for (c, s, *_), h in zip(held, hit) if c == "ok" and h]
    unseen = [(c, s, h) for (c, s, *_), seen, h in zip(held, saw, hit) if not seen]  # sets the model did not train on
    unseen_flag = [s for c, s, _ in unseen if c != "ok"]
    unseen_ok = [s for c, s, _ in unseen if c == "ok"]
    both_found = sum(1 for s in unseen_flag if with_model(s))
    both_fp = sum(1 for s in unseen_ok if with_model(s))
    rules_unseen = (sum(h for c, _, h in unseen if c != "ok"), sum(h for c, _, h in unseen if c == "ok"))
    return {"recall": {k: tuple(v) for k, v in recall.items()}, "misses": misses, "fp": fps, "ok_total": len(ok),
            "borderline": borderline, "held": (len(held_flag) - len(held_missed), len(held_flag), len(held_fp),
                                               len(held_ok)), "held_missed": held_missed, "held_fp": held_fp,
            "held_model": (both_found, both_fp, len(unseen_flag), len(unseen_ok)), "held_unseen_rules": rules_unseen}


def score(path: Path) -> tuple[dict[str, tuple[int, int, int]], list[str], int, list[tuple[str, str]], list[str]]:
    """Recall per category (found by the rules, found by rules and model as `sitegen check` reports, total), the
    rules' false positives, the number of ok sentences, what the check missed, and its false positives, on a
    <category or ok> TAB <sentence> file."""
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    fps, ok, missed, model_fps = [], 0, [], []
    skipped = 0
    for (category, sentence, *_), seen in zip(corpus(path), model_saw(path)):
        if seen:  # the model was trained on it: not a measure of either
            skipped += 1
            continue
        hit = bool(find(sentence))
        hinted = with_model(sentence)
        if category == "ok":
            ok += 1
            if hit:
                fps.append(sentence)
            if hinted:
                model_fps.append(sentence)
        else:
            recall[category][0] += hit
            recall[category][1] += hinted
            recall[category][2] += 1
            if not hinted:
                missed.append((category, sentence))
    if skipped:
        print(f"{path}: {skipped} sentences of held-out sets under {MODEL.heldout_trained_below} left out: the model "
              "was trained on them")
    return {k: (v[0], v[1], v[2]) for k, v in recall.items()}, fps, ok, missed, model_fps


def site_time(repeat: int) -> float:
    from sitegen.content.load import load_content
    from sitegen.errors import ProblemList
    from sitegen.project import Project

    content = load_content(Project.at(REPO), ProblemList())
    adrules.lint(content, ANALYZER, MODEL)  # rules compiled once, as in `sitegen check`
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        adrules.lint(content, ANALYZER, MODEL)
        best = min(best, time.perf_counter() - start)
    return best


# Evasions a writer might use on a whole sentence (markup-free sentences only: a zero-width space inside
# ![alt](file) is no longer an image). Reported as the corpus violations still found after each.
EVASIONS = {
    "spaces between characters": lambda s: " ".join(s),
    "ideographic spaces": lambda s: "\u3000".join(s),
    "中黒 between characters": lambda s: "・".join(s),
    "zero-width spaces": lambda s: "\u200b".join(s),
    "soft hyphens": lambda s: "\u00ad".join(s),
    "full-width ASCII": lambda s: s.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)}),
    "kana as katakana": lambda s: "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in s),
    "kana as hiragana": lambda s: "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in s),
}


def evasions(limit: int) -> None:
    rows = [s for _, s, *_ in corpus("ad_flagged.txt") if "<" not in s and "](" not in s]
    sample = rows[:: max(1, len(rows) // limit)][:limit]  # spread over the corpus, the same every run
    found = [s for s in sample if find(s)]
    print(f"evasions, on {len(found)} corpus violations the rules find as written:")
    for name, change in EVASIONS.items():
        still = sum(1 for s in found if find(change(s)))
        print(f"  {name:<28} {still:>4}/{len(found):<4} {100 * still / len(found):5.1f}%")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the sentences missed and the false positives")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--evasions", type=int, default=0, metavar="N",
                        help="also rewrite N corpus violations with each evasion (spaces, 中黒, zero-width …)")
    parser.add_argument("--corpus", type=Path, action="append", default=[],
                        help="also score this <category or ok> TAB <sentence> file (repeatable)")
    args = parser.parse_args()
    start = time.perf_counter()
    adrules.load_rules()
    load = time.perf_counter() - start
    result = evaluate()
    found = same = total = 0
    print(f"{'category':<14} {'found':>7} {'same rule':>10} {'recall':>8}")
    for category, (f, s, t) in sorted(result["recall"].items()):
        print(f"{category:<14} {f:>3}/{t:<3} {s:>6}/{t:<3} {100 * f / t:>7.1f}%")
        found, same, total = found + f, same + s, total + t
    print(f"{'all':<14} {found:>3}/{total:<3} {same:>6}/{total:<3} {100 * found / total:>7.1f}%")
    fp = len(result["fp"])
    print(f"false positives: {fp}/{result['ok_total']} = {100 * fp / result['ok_total']:.1f}%")
    flagged_borderline = sum(1 for _, f in result["borderline"] if f)
    print(f"borderline reported: {flagged_borderline}/{len(result['borderline'])}")
    for sentence, f in result["borderline"]:
        print(f"  {'reported' if f else 'silent  '} {sentence}  {f if f else ''}")
    found_h, total_h, fp_h, ok_h = result["held"]
    if MODEL is not None:
        cv = MODEL.hint_cv
        print(f"model alone, out of fold (five folds, dealt {MODEL.cv_dealings}×) over held-out sets {MODEL.cv_sets[0]}-{MODEL.cv_sets[-1]} (threshold "
              f"{MODEL.threshold:.3f}): found {100 * cv['recall']:.1f}%, false positives {100 * cv['fp']:.1f}%")
    if total_h and ok_h:
        print(f"held-out (never tuned against): found {found_h}/{total_h} = {100 * found_h / total_h:.1f}%, "
              f"false positives {fp_h}/{ok_h} = {100 * fp_h / ok_h:.1f}%")
        both, both_fp, total_u, ok_u = result["held_model"]
        if MODEL is not None and (total_u, ok_u) != (total_h, ok_h):
            rules_u, rules_fp_u = result["held_unseen_rules"]
            print(f"held-out sets from {MODEL.heldout_trained_below} on (the model was not trained on them), rules: "
                  f"found {rules_u}/{total_u} = {100 * rules_u / max(total_u, 1):.1f}%, "
                  f"false positives {rules_fp_u}/{ok_u} = {100 * rules_fp_u / max(ok_u, 1):.1f}%")
        if total_u and ok_u:
            print(f"held-out with the model (its hints and its veto; sets it was not trained on): found "
                  f"{both}/{total_u} = {100 * both / total_u:.1f}%, false positives {both_fp}/{ok_u} = "
                  f"{100 * both_fp / ok_u:.1f}%")
    if args.misses:
        for category, sentence in result["held_missed"]:
            print(f"HELD-OUT MISS {category}: {sentence}")
        for sentence in result["held_fp"]:
            print(f"HELD-OUT FP   {sentence}")
        for category, sentence in result["misses"]:
            print(f"MISS {category}: {sentence}")
        for sentence, f in result["fp"]:
            print(f"FP   {sentence}: {f}")
    for path in (p.resolve() for p in args.corpus):  # relative to where it is run, not to tests/data
        recall, fps, ok, missed, model_fps = score(path)
        print(f"--- {path}")
        print(f"{'category':<14} {'rules':>12} {'with model':>12}")
        found = hinted = total = 0
        for category, (f, h, t) in sorted(recall.items()):
            print(f"{category:<14} {f:>3}/{t:<3} {100 * f / t:>4.0f}% {h:>3}/{t:<3} {100 * h / t:>4.0f}%")
            found, hinted, total = found + f, hinted + h, total + t
        if total:
            print(f"{'all':<14} {found:>3}/{total:<3} {100 * found / total:>7.1f}%")
            print(f"with the model (hints, veto): {hinted}/{total} = {100 * hinted / total:.1f}%")
        if ok:
            print(f"false positives: {len(fps)}/{ok} = {100 * len(fps) / ok:.1f}%")
            print(f"false positives with the model (hints, veto): {len(model_fps)}/{ok} = "
                  f"{100 * len(model_fps) / ok:.1f}%")
        if args.misses:
            for category, sentence in missed:
                print(f"MISS {category}: {sentence}")
            for sentence in fps:
                print(f"FP   {sentence}")
            for sentence in model_fps:
                print(f"FP (with the model) {sentence}")
    if args.evasions:
        evasions(args.evasions)
    print(f"rules loaded in {load:.2f} s; linter on the example site: {site_time(args.repeat):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
