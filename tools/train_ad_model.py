"""Train sitegen's statistical 医療広告 model (sitegen/check/admodel.py) and write generator/sitegen/data/ad_model.json.

    .venv/bin/python tools/train_ad_model.py [--data tests/data] [--out generator/sitegen/data/ad_model.json]

Run it after changing tests/data/ad_flagged.txt or ad_ok.txt, or a trained set of ad_heldout.txt (tests/test_admodel.py
fails until the model matches).
It trains on the corpus (ad_flagged.txt, ad_ok.txt) and on the older held-out sets (ad_heldout.txt, sets numbered under
TRAIN_HELDOUT_BELOW). The rules were never tuned on any held-out set, so all of them still measure the rules; the
model's own measure is the later held-out sets, which it never saw (bench/bench_ad.py).
Two linear models on the binary character 2-4-grams of each sentence as the check reads it (admodel.features),
added into one: multinomial naive Bayes (vocabulary = the n-grams of >= 2 training sentences; additive smoothing
alpha = 0.1) and an L2-regularised logistic regression (fit_logistic), its log-odds scaled to naive Bayes' spread,
half each (out of fold, naive Bayes alone found 94.5 % of the held-out sets' violations at 1 % false positives where
the sum found 97 %; the model file's "cv" holds the current figures). The log-odds z become a probability by Platt
scaling fitted on the out-of-fold log-odds over the held-out sets 9.. (sets written by sessions that never saw the
rules, headed '# held-out set N' or '# set N' in the files), dealt round into five folds three times over (CV_DEALINGS; the
scores of the three dealings pooled); the threshold is the one that gives <= 0.7 % false positives on those sets'
ordinary sentences out of fold (HINT_FP). The veto is the probability under
which at most 0.2 % of those sets' violations fall out of fold: a rule's finding in a sentence scored under it is
taken for ordinary wording (admodel.VETO_NEVER lists the page-level checks it never overrules; a 自由診療 violation
counts unless its sentence discloses cost, risks or approval, which the model never spares). A second naive Bayes
over the flagged sentences names the category.
Weights are pruned and rounded; the same data gives the same file byte for byte (the logistic regression's order
is shuffled by a fixed seed; sorted keys, fixed rounding). Standard library only.
"""
import argparse
import hashlib
import json
import math
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "generator"))
from sitegen.check.admodel import MODEL_FILE, VETO_NEVER, cv_key, features  # noqa: E402  (training reads sentences as the check does)
from sitegen.check.adrules import discloses  # noqa: E402

DATA = REPO / "tests" / "data"
CATEGORIES = "before-after chomei fuan hikaku hiyou jiyu kodai kojo kyogi seiseki taikendan".split()
SPEC = {"ngram": [2, 4], "read_as": "adrules.normalise(fold=True), digits as 0, no spaces"}
MIN_DF, ALPHA, CAT_ALPHA = 2, 0.1, 0.1
PRUNE, CAT_PRUNE, DIGITS = 0.5, 1.0, 3  # drop binary weights |w| < PRUNE, centred category weights w < CAT_PRUNE
FIRST_CV_SET = 9  # sets 9.. were written by helper sessions that never saw the rules
# held-out sets under this number (written in stops 25-40) train the model too: trained on half the held-out sets,
# the model flagged 1.09 % rather than 1.48 % of the other half's ordinary sentences, and found as many violations
# (96.8 %). Sets from 175 on (stops 41-) are the model's held-out measure.
TRAIN_HELDOUT_BELOW = 175
CV_FOLDS = 5  # the held-out sets dealt round into this many folds (set k goes to fold k mod 5 of the sorted sets)
# the out-of-fold scores are pooled over this many dealings of the sets into folds (the first in order, the others
# shuffled by their number as seed): one dealing left the hint threshold moving with the data (0.69-0.76 over six
# retrains), as its 0.7 % point fell in a sparse part of the ordinary sentences' scores
CV_DEALINGS = 3
LR_EPOCHS, LR_RATE, LR_L2, LR_PRUNE = 10, 0.3, 0.002, 0.05  # the logistic regression (fit_logistic)
NB_SHARE = 0.5  # the model's log-odds: this share of naive Bayes', the rest the logistic regression's (same scale)
# the hints' threshold: at most 0.7 % of the held-out sets' ordinary sentences over it out of fold. The rules' own
# false positives share the 2 % the checker may flag; at 0.7 % the sum model finds 96 % out of fold, more than naive
# Bayes alone found at 1 % (94.5 %). The 1 % and 2 % points are kept for comparison.
HINT_FP = 0.007
FP_TARGETS = (HINT_FP, 0.01, 0.02)
VETO_LOSS = 0.002  # at most this share of the held-out sets' sentence-level violations may fall under the veto


# --- data ------------------------------------------------------------------------------------------------------

def _read(path, flagged=None):
    """Rows of one corpus file: all flagged (ad_flagged.txt), all ordinary (ad_ok.txt), or with flagged None each
    led by its category or 'ok' (ad_heldout.txt). A comment line '# held-out set N ...' or '# set N ...' starts set
    N's block and any other comment line ends it (sentences written for sitegen belong to no set); a line's note
    'held-out set N' wins over the block (ad_ok.txt's set 9 has notes only). '#' lines with a tab are data."""
    rows, block = [], None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        if line.startswith("#") and "\t" not in line:
            # sets 73.. are headed '# set N (stop S): written by a helper session ...'; until stop 45 only the
            # older heading was read, so the thresholds were set on sets 9-71 alone and the later sets always trained
            m = re.match(r"#\s*(?:held-out )?set (\d+)", line)
            block = int(m.group(1)) if m else None  # any other heading starts sentences of no held-out set
            continue
        parts = line.split("\t")
        cat, text, note = (parts[0], parts[1], parts[2:]) if flagged is not False else ("ok", parts[0], parts[1:])
        m = re.search(r"held-out set (\d+)", note[0] if note else "")
        rows.append({"label": int(cat != "ok"), "cat": cat, "text": text, "set": int(m.group(1)) if m else block})
    return rows


def _read_heldout(path, below=TRAIN_HELDOUT_BELOW):
    """Rows of the held-out sets numbered under `below`, marked as held-out."""
    return [dict(r, heldout=True) for r in _read(path) if r["set"] is not None and r["set"] < below]


def heldout_digest(rows):
    """sha256 of the trained held-out sentences (later held-out sets may be added without training again)"""
    return hashlib.sha256("".join(f"{r['set']}\t{r['cat']}\t{r['text']}\n" for r in rows).encode("utf-8")).hexdigest()


def load(data_dir=DATA):
    data_dir = Path(data_dir)
    rows = _read(data_dir / "ad_flagged.txt", True) + _read(data_dir / "ad_ok.txt", False)
    if (data_dir / "ad_heldout.txt").is_file():
        rows += _read_heldout(data_dir / "ad_heldout.txt")
    for r in rows:
        r["grams"] = grams(r["text"])  # read once: every fold uses them
    return rows


def grams(text):
    return sorted(features(text, *SPEC["ngram"]).grams)


# --- naive Bayes -----------------------------------------------------------------------------------------------

def vocabulary(feats, min_df=None):
    min_df = MIN_DF if min_df is None else min_df
    df = {}
    for f in feats:
        for g in f:
            df[g] = df.get(g, 0) + 1
    return sorted(g for g, c in df.items() if c >= min_df)


def nb(feats, labels, classes, alpha, vocab):
    """Multinomial NB on binary features: ({class: log prior}, {class: {gram: log P(gram | class)}})"""
    counts = {c: {} for c in classes}
    n = {c: 0 for c in classes}
    inv = set(vocab)
    for f, y in zip(feats, labels):
        n[y] += 1
        for g in f:
            if g in inv:
                counts[y][g] = counts[y].get(g, 0) + 1
    prior, logp = {}, {}
    for c in classes:
        total = sum(counts[c].values()) + alpha * len(vocab)
        prior[c] = math.log(n[c] / len(labels))
        logp[c] = {g: math.log((counts[c].get(g, 0) + alpha) / total) for g in vocab}
    return prior, logp


def fit_binary(feats, labels):
    vocab = vocabulary(feats)
    prior, logp = nb(feats, labels, (0, 1), ALPHA, vocab)
    return prior[1] - prior[0], {g: logp[1][g] - logp[0][g] for g in vocab}


def fit_logistic(feats, labels):
    """L2-regularised logistic regression on the same binary n-grams: AdaGrad steps over the rows for LR_EPOCHS
    passes, in an order shuffled by random.Random(0) (the same rows give the same weights). Naive Bayes weighs each
    n-gram on its own; this weighs them together, so n-grams that always come together are not counted twice."""
    index: dict[str, int] = {}
    rows = [[index.setdefault(g, len(index)) for g in f] for f in feats]
    w, g2 = [0.0] * len(index), [1e-8] * len(index)
    bias, gb = 0.0, 1e-8
    order = list(range(len(rows)))
    shuffle = random.Random(0).shuffle
    for _ in range(LR_EPOCHS):
        shuffle(order)
        for i in order:
            f = rows[i]
            z = bias + sum(w[k] for k in f)
            d = (1 / (1 + math.exp(-z)) if z > -30 else 0.0) - labels[i]
            for k in f:
                g = d + LR_L2 * w[k]
                g2[k] += g * g
                w[k] -= LR_RATE * g / math.sqrt(g2[k])
            gb += d * d
            bias -= LR_RATE * d / math.sqrt(gb)
    return bias, {g: w[k] for g, k in index.items()}


def _spread(bias, weights, feats):
    """the standard deviation of the log-odds over `feats` (puts two models' log-odds on one scale)"""
    z = [log_odds(bias, weights, f) for f in feats]
    mean = sum(z) / len(z)
    return math.sqrt(sum((v - mean) ** 2 for v in z) / len(z)) or 1.0


def fit_category(feats, cats):
    vocab = vocabulary(feats)
    prior, logp = nb(feats, cats, CATEGORIES, CAT_ALPHA, vocab)
    # centred weights (minus the mean over categories) give the same argmax and are mostly near 0, so they prune
    weights = {c: {} for c in CATEGORIES}
    for g in vocab:
        mean = sum(logp[c][g] for c in CATEGORIES) / len(CATEGORIES)
        for c in CATEGORIES:
            weights[c][g] = logp[c][g] - mean
    return prior, weights


def prune(weights, limit, positive=False):
    """weights with |w| >= limit (w >= limit if positive), rounded"""
    return {g: round(w, DIGITS) for g, w in weights.items() if (w if positive else abs(w)) >= limit}


def log_odds(bias, weights, f):
    return bias + sum(weights.get(g, 0.0) for g in f)


def category(prior, weights, f):
    return max(CATEGORIES, key=lambda c: (prior[c] + sum(weights[c].get(g, 0.0) for g in f), c))


# --- calibration and threshold ---------------------------------------------------------------------------------

def platt(z, y, iters=200):
    """p = sigmoid(a z + b) minimising the log-loss (with Platt's smoothed targets): Newton's method with step
    halving, on z scaled by its standard deviation (naive Bayes log-odds run to +-200)"""
    n1 = sum(y)
    n0 = len(y) - n1
    t = [(n1 + 1) / (n1 + 2) if v else 1 / (n0 + 2) for v in y]
    mean = sum(z) / len(z)
    sd = math.sqrt(sum((v - mean) ** 2 for v in z) / len(z)) or 1.0
    x = [v / sd for v in z]

    def loss(a, b):
        total = 0.0
        for xi, ti in zip(x, t):
            u = a * xi + b  # log(1 + e^u) - t u, computed stably
            total += (u if u > 0 else 0.0) + math.log1p(math.exp(-abs(u))) - ti * u
        return total

    a, b = 1.0, 0.0
    cur = loss(a, b)
    for _ in range(iters):
        ga = gb = haa = hab = hbb = 0.0
        for xi, ti in zip(x, t):
            u = a * xi + b
            p = 1 / (1 + math.exp(-u)) if u >= 0 else math.exp(u) / (1 + math.exp(u))
            d, w = p - ti, p * (1 - p) + 1e-12
            ga, gb = ga + d * xi, gb + d
            haa, hab, hbb = haa + w * xi * xi, hab + w * xi, hbb + w
        det = haa * hbb - hab * hab
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        step = 1.0
        while step > 1e-10:
            new = loss(a - step * da, b - step * db)
            if new <= cur:
                break
            step /= 2
        a, b, done = a - step * da, b - step * db, cur - new < 1e-12
        cur = new
        if done:
            break
    return a / sd, b


def threshold(ok_scores, fp_rate):
    """the smallest t such that at most floor(fp_rate * n) ok scores are >= t (flag when score >= t)"""
    k = int(math.floor(fp_rate * len(ok_scores) + 1e-9))
    s = sorted(ok_scores, reverse=True)
    return math.nextafter(s[k], math.inf) if k < len(s) else -math.inf


# --- the pieces put together -----------------------------------------------------------------------------------

def fit(rows):
    feats = [r["grams"] for r in rows]
    labels = [r["label"] for r in rows]
    nb_bias, nb_w = fit_binary(feats, labels)
    lr_bias, lr_w = fit_logistic(feats, labels)
    nb_w, lr_w = prune(nb_w, PRUNE), prune(lr_w, LR_PRUNE)
    # one linear model: the two log-odds, the logistic regression's scaled to naive Bayes' spread, in shares
    scale = (1 - NB_SHARE) * _spread(nb_bias, nb_w, feats) / _spread(lr_bias, lr_w, feats)
    bias = NB_SHARE * nb_bias + scale * lr_bias
    w = {g: round(NB_SHARE * nb_w.get(g, 0.0) + scale * lr_w.get(g, 0.0), DIGITS) for g in sorted(set(nb_w) | set(lr_w))}
    flagged = [(f, r["cat"]) for f, r in zip(feats, rows) if r["label"]]
    cprior, cw = fit_category([f for f, _ in flagged], [c for _, c in flagged])
    # a category is named only for a flagged sentence: its positive evidence is enough (accuracy 0.893 -> 0.890)
    cw = {c: prune(v, CAT_PRUNE, positive=True) for c, v in cw.items()}
    return {"bias": bias, "weights": w, "cat_prior": cprior, "cat_weights": cw}


def predict(m, row):
    f = row["grams"]
    return log_odds(m["bias"], m["weights"], f), category(m["cat_prior"], m["cat_weights"], f)


def cv_sets(rows):
    return sorted({r["set"] for r in rows if r["set"] is not None and r["set"] >= FIRST_CV_SET})


def cv_folds(rows, dealing=0):
    """the held-out sets dealt round into CV_FOLDS folds: in order for dealing 0, else shuffled by its number"""
    sets = cv_sets(rows)
    if dealing:
        random.Random(dealing).shuffle(sets)
    return [sets[k::CV_FOLDS] for k in range(CV_FOLDS)]


def out_of_fold(rows, folds=None):
    """{row index: (log-odds, predicted category)} for the rows of each fold's sets, by a model trained without
    them"""
    out = {}
    for fold in cv_folds(rows) if folds is None else folds:
        m = fit([r for r in rows if r["set"] not in fold])
        for i, r in enumerate(rows):
            if r["set"] in fold:
                out[i] = predict(m, r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA))
    ap.add_argument("--out", default=str(MODEL_FILE))
    args = ap.parse_args()
    rows = load(args.data)
    # for each dealing, (row index, log-odds, predicted category) of every held-out row; pooled in `scored`
    dealt = [[(i, *v) for i, v in sorted(out_of_fold(rows, cv_folds(rows, d)).items())] for d in range(CV_DEALINGS)]
    scored = [row for rows_dealt in dealt for row in rows_dealt]
    z = [v for _, v, _ in scored]
    y = [rows[i]["label"] for i, _, _ in scored]
    a, b = (round(v, 6) for v in platt(z, y))
    ok = [v for i, v, _ in scored if not rows[i]["label"]]
    pos = [v for i, v, _ in scored if rows[i]["label"]]
    cv = {}
    for fp in FP_TARGETS:
        t = threshold(ok, fp)
        cv[cv_key(fp)] = {"log_odds_threshold": round(t, 6),
                               "probability_threshold": 1 / (1 + math.exp(-(a * t + b))),
                               "recall": round(sum(v >= t for v in pos) / len(pos), 4),
                               "fp": round(sum(v >= t for v in ok) / len(ok), 4)}
    judged = [v for i, v, _ in scored if rows[i]["label"] and rows[i]["cat"] not in VETO_NEVER
              and not (rows[i]["cat"] == "jiyu" and discloses(rows[i]["text"]))]
    k = int(math.floor(VETO_LOSS * len(judged) + 1e-9))
    under = sorted(judged)[k]  # at most k violations score below it
    cv["veto"] = {"log_odds": round(under, 6), "probability_threshold": 1 / (1 + math.exp(-(a * under + b))),
                  "violations_under": round(sum(v < under for v in judged) / len(judged), 4),
                  "ok_under": round(sum(v < under for v in ok) / len(ok), 4)}
    cat_ok = [c == rows[i]["cat"] for i, _, c in scored if rows[i]["label"]]
    cv["category_accuracy_on_flagged"] = round(sum(cat_ok) / len(cat_ok), 4)

    m = fit(rows)
    top = sorted(m["weights"].items(), key=lambda kv: (-kv[1], kv[0]))
    model = {
        "about": "医療広告 statistical classifier (sitegen.check.admodel): multinomial NB plus logistic regression on "
                 "character 2-4-grams; "
                 "made by tools/train_ad_model.py from tests/data/ad_flagged.txt, ad_ok.txt and the held-out sets "
                 f"under {TRAIN_HELDOUT_BELOW} of ad_heldout.txt",
        "features": SPEC,
        "bias": round(m["bias"], DIGITS),
        "platt": [a, b],
        "threshold": cv[cv_key(HINT_FP)]["probability_threshold"],
        "hint_fp": HINT_FP,
        "threshold_fp2": cv["fp<=2%"]["probability_threshold"],
        "veto": cv["veto"]["probability_threshold"],
        "cv": cv,
        "training": {"flagged": sum(r["label"] for r in rows), "ok": sum(1 - r["label"] for r in rows),
                     "data_sha256": {n: hashlib.sha256((Path(args.data) / n).read_bytes()).hexdigest()
                                     for n in ("ad_flagged.txt", "ad_ok.txt")},
                     "heldout_trained_below": TRAIN_HELDOUT_BELOW,
                     "heldout_trained_sha256": heldout_digest([r for r in rows if r.get("heldout")]),
                     "cv_sets": cv_sets(rows),
                     "min_df": MIN_DF, "alpha": ALPHA, "cv_folds": CV_FOLDS, "cv_dealings": CV_DEALINGS,
                     "logistic": {"epochs": LR_EPOCHS, "rate": LR_RATE, "l2": LR_L2, "prune": LR_PRUNE},
                     "nb_share": NB_SHARE, "category_alpha": CAT_ALPHA, "prune": PRUNE,
                     "category_prune": CAT_PRUNE},
        "top_features": {"flagged": [g for g, _ in top[:40]], "ok": [g for g, _ in top[::-1][:40]],
                         **{c: [g for g, _ in sorted(m["cat_weights"][c].items(), key=lambda kv: (-kv[1], kv[0]))[:15]]
                            for c in CATEGORIES}},
        "categories": CATEGORIES,
        "category_bias": [round(m["cat_prior"][c], DIGITS) for c in CATEGORIES],
        "category_weights": m["cat_weights"],
        "weights": m["weights"],
    }
    Path(args.out).write_text(json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n",
                              encoding="utf-8")
    print(json.dumps(cv, indent=1))
    for d, rows_dealt in enumerate(dealt):  # how far one dealing alone would have put the hint threshold
        alone = [v for i, v, _ in rows_dealt if not rows[i]["label"]]
        print(f"dealing {d} alone: log-odds threshold {threshold(alone, HINT_FP):.3f} "
              f"(pooled {cv[cv_key(HINT_FP)]['log_odds_threshold']:.3f})")
    print(f"{args.out}: {len(m['weights'])} weights, "
          f"{sum(len(v) for v in m['cat_weights'].values())} category weights, "
          f"{Path(args.out).stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
