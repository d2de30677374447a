"""Draw the example hospital's pictures and forms: logo mark (square, as the theme shows it), access map, doctors' portraits, PDF forms.

The example content ships these files already; run this only to change them:

    .venv/bin/python scripts/make_example_assets.py

Everything is drawn as HTML/SVG and captured with the same Chromium that prints the
brochures (no image library needed). Portraits are neutral silhouettes, not photos of
real people; every doctor file under content/doctors/ gets one.
"""
from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "generator"))
from sitegen.chromium import LAUNCH_ARGS, find_browser  # noqa: E402

CONTENT = ROOT / "content"
FONT = "'BIZ UDPGothic', 'BIZ UDGothic', sans-serif"

PORTRAIT = """<!doctype html><html><body style="margin:0">
<svg id="art" xmlns="http://www.w3.org/2000/svg" width="360" height="450" viewBox="0 0 360 450">
  <rect width="360" height="450" fill="{bg}"/>
  <path d="{hair}" fill="{hair_colour}"/>
  <rect x="156" y="220" width="48" height="75" rx="18" fill="{skin}"/>
  <ellipse cx="180" cy="175" rx="70" ry="82" fill="{skin}"/>
  <path d="{fringe}" fill="{hair_colour}"/>
  <path d="M40 450 C50 330 110 285 180 285 C250 285 310 330 320 450 Z" fill="#FFFFFF"/>
  <path d="M150 290 L180 350 L210 290 Z" fill="{tie}"/>
  <path d="M120 300 L150 290 L180 352 L140 450 L95 450 Z" fill="#F2F4F7"/>
  <path d="M240 300 L210 290 L180 352 L220 450 L265 450 Z" fill="#F2F4F7"/>
</svg></body></html>"""
HAIR = {  # back hair (behind the face), fringe (over the forehead)
    "m": ("M106 170 C100 100 140 82 180 82 C222 82 262 100 254 170 Z",
          "M108 160 C106 108 142 86 180 86 C220 86 256 106 252 160 C238 128 214 116 180 118 C148 116 122 128 108 160 Z"),
    "f": ("M96 290 C80 170 100 80 180 80 C262 80 282 170 264 290 Z",
          "M108 175 C104 108 142 84 180 84 C222 84 258 108 252 175 C240 132 218 112 180 114 C146 114 118 132 108 175 Z"),
}
BACKGROUNDS = ["#DCE8F2", "#E4EEE4", "#EFE7DC", "#E6E3F0", "#F0E2E2", "#E0ECEE"]

LOGO = """<!doctype html><html><body style="margin:0;background:transparent">
<svg id="art" xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 64 64">
<circle cx="32" cy="32" r="31" fill="#0B5C8C"/>
<path d="M32 52 C16 41 14 23 32 10 C50 23 48 41 32 52 Z" fill="#FFFFFF"/>
<path d="M32 52 L32 19 M32 30 L24 24 M32 38 L41 31" stroke="#0B5C8C" stroke-width="2.6" stroke-linecap="round" fill="none"/>
</svg></body></html>"""

MAP = """<!doctype html><html><body style="margin:0">
<svg id="art" xmlns="http://www.w3.org/2000/svg" width="960" height="600" viewBox="0 0 960 600" font-family="{font}">
  <rect width="960" height="600" fill="#F7F5EF"/>
  <rect x="0" y="470" width="960" height="34" fill="#8896A4"/>
  <path d="M0 487 H960" stroke="#FFFFFF" stroke-width="4" stroke-dasharray="24 18"/>
  <text x="24" y="530" font-size="22" fill="#3E4C59">あおば線</text>
  <rect x="380" y="430" width="170" height="40" rx="6" fill="#0B5C8C"/>
  <text x="465" y="457" font-size="22" fill="#FFFFFF" text-anchor="middle">あおば中央駅</text>
  <text x="560" y="457" font-size="18" fill="#3E4C59">北口</text>
  <rect x="450" y="60" width="30" height="370" fill="#FFFFFF" stroke="#C5CCD3"/>
  <rect x="0" y="200" width="960" height="30" fill="#FFFFFF" stroke="#C5CCD3"/>
  <text x="300" y="190" font-size="20" fill="#3E4C59">市役所通り</text>
  <circle cx="465" cy="215" r="22" fill="#FFFFFF" stroke="#B5471B" stroke-width="3"/>
  <text x="490" y="262" font-size="20" fill="#3E4C59">市役所前交差点</text>
  <rect x="720" y="90" width="190" height="100" rx="8" fill="#0B5C8C"/>
  <text x="815" y="135" font-size="26" fill="#FFFFFF" text-anchor="middle" font-weight="700">あおば総合病院</text>
  <text x="815" y="170" font-size="18" fill="#FFFFFF" text-anchor="middle">正面玄関・駐車場</text>
  <path d="M465 430 V230 M465 215 H700" stroke="#B5471B" stroke-width="6" fill="none" stroke-dasharray="14 10"/>
  <path d="M700 205 L722 215 L700 225 Z" fill="#B5471B"/>
  <text x="520" y="305" font-size="20" fill="#B5471B">徒歩 約7分（約600m）</text>
  <rect x="120" y="80" width="220" height="90" rx="6" fill="#E4EEE4"/>
  <text x="230" y="132" font-size="20" fill="#3E4C59" text-anchor="middle">あおば中央公園</text>
  <rect x="560" y="340" width="140" height="60" rx="6" fill="#EFE7DC"/>
  <text x="630" y="377" font-size="18" fill="#3E4C59" text-anchor="middle">あおば市役所</text>
  <text x="24" y="580" font-size="16" fill="#3E4C59">地図は概略です（北が上）</text>
</svg></body></html>"""

FORM = """<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>{title}</title><style>
@page {{ size: A4; margin: 18mm 16mm; }}
body {{ font-family: {font}; font-size: 11pt; color: #1F2933; }}
h1 {{ font-size: 18pt; text-align: center; margin: 0 0 4mm; letter-spacing: .2em; }}
.to {{ display: flex; justify-content: space-between; margin-bottom: 6mm; }}
table {{ width: 100%; border-collapse: collapse; }}
th, td {{ border: 1px solid #1F2933; padding: 3mm; text-align: left; vertical-align: top; }}
th {{ width: 32%; background: #EEF2F6; font-weight: 700; }}
td {{ height: 9mm; }}
.note {{ margin-top: 6mm; font-size: 9.5pt; }}
</style></head><body>
<div class="to"><div>あおば総合病院 地域医療連携室 行<br>FAX 042-000-1101</div><div>記入日　　　年　　月　　日</div></div>
<h1>{title}</h1>
<table>{rows}</table>
<div class="note">{note}<br>お問い合わせ：紹介予約専用ダイヤル 042-000-1100（平日 8:30〜17:15、第1・3土曜 8:30〜12:30）</div>
</body></html>"""
FORMS = {
    "shinryo-yoyaku-moushikomisho": ("診療予約申込書", ["紹介元医療機関名", "紹介医師名", "電話番号・FAX番号", "患者氏名（ふりがな）",
                                                     "生年月日・性別", "患者電話番号", "希望診療科・希望医師", "受診希望日（第1〜第3希望）", "紹介目的"],
                                     "受付時間内は30分以内に予約票をFAXで返信します。"),
    "shinryo-joho-teikyosho": ("診療情報提供書", ["紹介先", "患者氏名・生年月日", "傷病名", "紹介目的", "既往歴・家族歴",
                                                "症状経過・検査結果", "治療経過", "現在の処方", "備考"], "貴院の書式でも受け付けています。"),
    "kensa-yoyaku-moushikomisho": ("検査予約申込書", ["紹介元医療機関名・医師名", "患者氏名（ふりがな）", "生年月日・性別", "検査の種類（CT・MRI・RI・骨密度）",
                                                    "検査部位", "造影の有無", "血清クレアチニン値・eGFR（測定日）", "検査目的・臨床経過", "希望日"],
                                   "結果報告書は原則として検査当日中にFAXします。"),
    "zoei-monshinhyo": ("造影検査問診票・同意書", ["これまでに造影剤で具合が悪くなったことがありますか", "気管支喘息と言われたことがありますか",
                                                 "腎臓の病気と言われたことがありますか", "糖尿病の薬（ビグアナイド系）を飲んでいますか",
                                                 "妊娠している可能性はありますか", "説明を受け、検査に同意します（署名）"],
                        "検査当日に患者さんがお持ちください。"),
    "toroku-i-moushikomisho": ("登録医申込書", ["医療機関名", "所在地", "電話番号・FAX番号", "医師氏名（ふりがな）", "診療科", "メールアドレス",
                                             "Web予約の利用", "医療機関名の掲載（希望する・しない）"], "登録証とWeb予約のご案内を郵送します。"),
    "kaihogata-riyo-moushikomisho": ("開放型病床利用申込書", ["登録医氏名・医療機関名", "患者氏名・生年月日", "入院予定日", "当院主治医（希望があれば）",
                                                            "共同診療の予定", "連絡先"], "入院のご依頼の際に、診療情報提供書に添えてお送りください。"),
}


def doctors() -> list[tuple[str, str]]:
    found = []
    for path in sorted((CONTENT / "doctors").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        src = re.search(r"^\s*src:\s*(\S+)", text, re.M)
        if src:
            found.append((path.stem, src.group(1)))
    return found


def shoot(page, html: str, target: Path, transparent: bool = False) -> None:
    page.set_content(html)
    page.evaluate("document.fonts.ready")
    target.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#art").screenshot(path=str(target), omit_background=transparent)
    print(target.relative_to(ROOT))


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_browser(None), args=list(LAUNCH_ARGS))
        page = browser.new_page()
        shoot(page, LOGO, CONTENT / "images/logo.png", transparent=True)
        shoot(page, MAP.format(font=FONT), CONTENT / "images/access-map.png")
        for slug, src in doctors():
            female = slug in FEMALE
            n = int(hashlib.sha256(slug.encode()).hexdigest(), 16)
            html = PORTRAIT.format(bg=BACKGROUNDS[n % len(BACKGROUNDS)], skin="#F1D3BC" if n % 3 else "#E8C3A6",
                                   hair=HAIR["f" if female else "m"][0], fringe=HAIR["f" if female else "m"][1], hair_colour="#2D2A26" if n % 4 else "#5A4A3F",
                                   tie="#0B5C8C" if not female else "#B5471B")
            shoot(page, html, CONTENT / src)
        for name, (title, fields, note) in FORMS.items():
            rows = "".join(f"<tr><th>{f}</th><td></td></tr>" for f in fields)
            page.set_content(FORM.format(title=title, rows=rows, note=note, font=FONT))
            page.evaluate("document.fonts.ready")
            target = CONTENT / "files" / f"{name}.pdf"
            target.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(path=str(target), prefer_css_page_size=True, print_background=True, tagged=True)
            print(target.relative_to(ROOT))
        browser.close()


# Portrait hair style only; nothing else depends on it.
FEMALE = {
    "ishii-yuko", "takahashi-mika", "watanabe-saori", "yoshida-ai", "matsumoto-keiko", "kimura-asuka", "shimizu-nao",
    "mori-akiko", "ikeda-mai", "maeda-emi", "goto-rina", "kondo-haruka", "nishimura-kaho", "fukuda-yoshiko",
    "sakamoto-hina", "okamoto-naomi", "nakajima-yui", "harada-eri", "tamura-saki", "noguchi-erika",
}

if __name__ == "__main__":
    main()
