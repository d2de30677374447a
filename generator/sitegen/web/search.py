"""The site search: an index written with the site, searched in the browser (also from file://).

The index is a script (`assets/search-index.js`, `window.SITEGEN_SEARCH = [...]`) rather than JSON, so a
page opened from disk can load it with <script src> where fetch() would be refused. Each entry carries
its page, kind, title, a short snippet and a folded haystack. Folding is the same in Python and in
search.js: NFKC (full-width ＡＢＣ１２３ and half-width ｶﾅ become ABC123 and カナ), lower case, katakana
to hiragana (ヤマダ and やまだ match), spaces removed. Japanese needs no word splitting here: a query term
matches when it appears anywhere in the folded text, so 「胸痛」 finds 「胸痛・動悸」 and 「やまだ」 finds 山田
through the kana reading. Only published pages are indexed (never drafts, never the partner list).
"""
from __future__ import annotations

import json
import re
import unicodedata
from html import unescape

from sitegen import urls
from sitegen.content.site import Site

BODY_CHARS = 1200  # of each page's body text: enough to find it, small enough for a 10,000-page site
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """NFKC, lower case, katakana -> hiragana, no spaces (search.js folds a query the same way)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(chr(ord(c) - 0x60) if "\u30a1" <= c <= "\u30f6" else c for c in text)
    return _SPACE.sub("", text)


def _plain(html: str) -> str:
    return _SPACE.sub(" ", unescape(_TAGS.sub(" ", str(html)))).strip()


def entries(site: Site) -> list[dict]:
    """One entry per searchable page, in the site's order."""
    out = []

    def add(kind: str, page_kind: str, slug: str | None, title: str, snippet: str, *texts, anchor: str = "") -> None:
        words = " ".join(t for t in texts if t)
        out.append({"k": kind, "t": title, "u": urls.page_path(page_kind, slug) + anchor, "s": snippet[:120],
                    "x": fold(f"{title} {words}")})

    for d in site.departments:
        clinics = sorted({s.slot.clinic for s in d.schedule.slots if s.slot.clinic}) if d.schedule else []
        add("診療科", "department", d.slug, d.name, d.summary, d.name_en, d.summary, " ".join(d.symptoms), " ".join(clinics),
            " ".join(d.conditions), " ".join(d.exams), " ".join(d.features), _plain(d.html)[:BODY_CHARS])
    department_names = {d.slug: d.name for d in site.departments}  # one read of all, not one call per doctor
    for doc in site.doctors:
        depts = "・".join(department_names[x] for x in doc.departments)
        add("医師", "doctor", doc.slug, doc.name, f"{depts} {doc.title}".strip(), doc.kana, doc.name_en, depts,
            doc.title, " ".join(doc.specialties), " ".join(doc.strengths), " ".join(q.name for q in doc.qualifications))
    for g in site.guides:
        add("ご紹介の方法", "guide", g.slug, g.title, g.summary or _plain(g.html)[:120], g.summary,
            _plain(g.html)[:BODY_CHARS])
    for e in site.equipment:
        add("検査のご予約", "equipment", None, e.name, e.summary or e.slots, e.summary, e.slots,
            " ".join(o for opt in e.options for o in opt.choices), "共同利用 検査予約", _plain(e.html)[:BODY_CHARS],
            anchor=f"#exam-{e.slug}")
    for p in site.pathways:
        add("地域連携クリニカルパス", "pathways", None, p.name, p.disease, p.summary, p.disease,
            " ".join(st.name + " " + st.where for st in p.stages), " ".join(p.partners), "連携パス クリニカルパス",
            _plain(p.html)[:BODY_CHARS], anchor=f"#path-{p.slug}")
    for n in site.news:
        add("お知らせ", "news_item", n.slug, n.title, f"{n.date.year}年{n.date.month}月{n.date.day}日 {n.summary}".strip(), n.summary,
            _plain(n.html)[:BODY_CHARS])
    for c in site.clinics:
        add("連携医療機関", "clinics", None, c.name, f"{c.area} {'・'.join(c.specialties)}", c.area,
            " ".join(c.specialties), c.address, c.doctor)
    add("ページ", "schedule", None, "外来担当医表", "診療科別の外来担当医表", "外来 担当医 スケジュール 曜日")
    add("ページ", "symptoms", None, "症状から探す", "症状から診療科と担当医を探す", "症状")
    add("ページ", "access", None, "交通アクセス・お問い合わせ", site.hospital.address.text, "アクセス 地図 駐車場 電話 fax")
    return out


def index_script(site: Site) -> bytes:
    """`assets/search-index.js`: deterministic (entries in site order, keys as written)."""
    data = json.dumps(entries(site), ensure_ascii=False, separators=(",", ":"))
    return f"window.SITEGEN_SEARCH={data};\n".encode("utf-8")


def symptoms(site: Site) -> list[tuple[str, list]]:
    """症状から探す: each symptom (spelling variants folded together, first spelling shown) with its departments."""
    found: dict[str, tuple[str, list]] = {}
    for d in site.departments:
        for s in d.symptoms:
            key = fold(s)
            label, depts = found.setdefault(key, (s, []))
            if d not in depts:
                depts.append(d)
    return [found[k] for k in sorted(found)]
