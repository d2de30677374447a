"""HTML of sitegen's own preview pages (mail, PDF, errors). Every value is escaped."""
from __future__ import annotations

import json
from html import escape

from sitegen.serve.pdf import PdfPreview
from sitegen.serve.preview import Preview

STYLE = """
body{font:16px/1.6 system-ui,"BIZ UDPGothic",sans-serif;margin:0;padding:1.5rem;color:#1f2933;background:#f4f5f7}
h1{font-size:1.4rem;margin:0 0 1rem} h2{font-size:1.15rem;margin:2rem 0 .5rem}
nav a{margin-right:1rem} .pair{display:flex;gap:1.5rem;align-items:flex-start;overflow-x:auto}
figure{margin:0} figcaption{font-size:.9rem;color:#52606d}
iframe{border:1px solid #cbd2d9;background:#fff;height:900px}
.status{display:inline-block;padding:.2rem .7rem;border-radius:1rem;background:#e4e7eb}
.building{background:#fff3c4} .failed,.unavailable{background:#ffe3e3}
.pages{display:flex;flex-wrap:wrap;gap:.75rem} .pages img{border:1px solid #cbd2d9;background:#fff;width:180px}
"""


def _page(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html><html lang="ja"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
            f'<body><nav><a href="/">ウェブサイト</a><a href="/__sitegen/mail/">メール</a>'
            f'<a href="/__sitegen/pdf/">PDF</a></nav><h1>{escape(title)}</h1>{body}</body></html>').encode("utf-8")


def simple(title: str, text: str) -> bytes:
    return _page(title, f"<p>{escape(text)}</p>")


def no_site() -> bytes:
    return simple("プレビューを作れませんでした", "内容の誤りを直して保存すると、自動で表示されます。")


def tools_index(prefix: str) -> bytes:
    return _page("sitegen serve", f'<ul><li><a href="{escape(prefix)}">ウェブサイト</a></li>'
                 '<li><a href="/__sitegen/mail/">連携だより（メール）のプレビュー</a></li>'
                 '<li><a href="/__sitegen/pdf/">PDF（ガイドブック・リーフレット）のプレビュー</a></li></ul>')


def mail_index(preview: Preview) -> bytes:
    with preview.cond:
        files = dict(preview.mail_files)
    issues = sorted({p.split("/", 1)[0] for p in files if p.endswith("/index.html")}, reverse=True)
    if not issues:
        return _page("メールのプレビュー", "<p>content/newsletters/ に号がありません（sitegen new newsletter で作れます）。</p>")
    parts = []
    for issue in issues:
        subject = issue
        manifest = files.get(f"{issue}/manifest.json")
        if manifest is not None:
            try:
                subject = json.loads(manifest.read()).get("subject") or issue
            except ValueError:
                pass
        src = escape(f"/__sitegen/mail/{issue}/index.html")
        parts.append(
            f'<section><h2>{escape(subject)} <small>({escape(issue)})</small></h2>'
            f'<p><a href="/__sitegen/mail/{escape(issue)}/index.txt">テキスト版</a></p><div class="pair">'
            f'<figure><figcaption>パソコン（幅600px）</figcaption><iframe src="{src}" width="600" title="{escape(subject)}（パソコン）"></iframe></figure>'
            f'<figure><figcaption>スマートフォン（幅375px）</figcaption><iframe src="{src}" width="375" title="{escape(subject)}（スマートフォン）"></iframe></figure>'
            f'</div></section>')
    return _page("メールのプレビュー", "".join(parts))


STATES = {"waiting": "作成待ち", "building": "再生成中…", "ready": "最新", "failed": "失敗", "unavailable": "使えません"}


def pdf_index(pdf: PdfPreview) -> bytes:
    state = pdf.state
    head = f'<p><span class="status {state}">{STATES.get(state, state)}</span>'
    if state == "ready":
        head += f" （{pdf.seconds:.1f}秒）"
    head += "</p>"
    if pdf.message:
        head += f"<p>{escape(pdf.message)}</p>"
    if state == "unavailable" and not pdf.files:
        return _page("PDFのプレビュー", head + "<p>PDFのプレビューは使えません。</p>")
    parts = []
    for name in sorted(pdf.files):
        if not name.endswith(".pdf"):
            continue
        link = escape(f"/__sitegen/pdf/file/{name}")
        count = pdf.page_count(name)
        images = "".join(
            f'<a href="{link}#page={n}"><img loading="lazy" src="{escape(f"/__sitegen/pdf/page/{n}/{name}")}" '
            f'alt="{escape(name)} {n}ページ目"></a>' for n in range(1, min(count, 60) + 1))
        parts.append(f'<section><h2><a href="{link}">{escape(name)}</a> <small>{count}ページ</small></h2>'
                     f'<div class="pages">{images}</div></section>')
    return _page("PDFのプレビュー", head + "".join(parts))


def status(preview: Preview, pdf: PdfPreview) -> dict:
    last = preview.history[-1] if preview.history else None
    return {
        "version": preview.version,
        "errors": list(preview.errors),
        "pages": len(preview.site_files),
        "pdf": pdf.state,
        "last": None if last is None else {
            "trigger": list(last.trigger), "load_seconds": round(last.load_seconds, 4),
            "first_seconds": round(last.first_seconds, 4), "total_seconds": round(last.total_seconds, 4),
            "first_pages": last.first_pages, "rendered": last.rendered, "changed": len(last.changed),
        },
    }
