"""Write the example partner list private/partners.csv: 840 fictional clinics at example.jp addresses.

Deterministic (a fixed seed): running it again gives the same file byte for byte.

    .venv/bin/python scripts/make_example_partners.py [--out private/partners.csv] [--count 840]

Every clinic, person and ward is made up. The list includes what a real list has: clinics without a
contact name (ご担当者様), a few unsubscribed and bounced rows, two malformed addresses (listed by
`sitegen send` before sending), names with characters outside JIS X 0208's common set (髙, 﨑, ㈱)
and one institution name with a comma and quotes.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

SEED = 20261125
# fictional wards and towns around the fictional あおば市
AREAS = ["湊区", "青葉区", "桜ヶ丘区", "緑町区", "東雲区", "北浜区", "若草区", "あおば市中央", "あおば市西部", "白鷺町"]
SPECIALTIES = ["内科", "小児科", "外科", "整形外科", "皮膚科", "眼科", "耳鼻咽喉科", "循環器内科", "消化器内科",
               "呼吸器内科", "糖尿病内科", "精神科", "産婦人科", "泌尿器科", "リハビリテーション科", "在宅医療"]
SURNAMES = [("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("髙橋", "takahashi"), ("田中", "tanaka"),
            ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"), ("小林", "kobayashi"),
            ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"), ("佐々木", "sasaki"), ("山口", "yamaguchi"),
            ("松本", "matsumoto"), ("井上", "inoue"), ("木村", "kimura"), ("林", "hayashi"), ("清水", "shimizu"),
            ("山﨑", "yamazaki"), ("森", "mori"), ("池田", "ikeda"), ("橋本", "hashimoto"), ("阿部", "abe"),
            ("石川", "ishikawa"), ("前田", "maeda"), ("藤田", "fujita"), ("小川", "ogawa"), ("岡田", "okada")]
GIVEN = ["一郎", "健太", "大輔", "直樹", "誠", "美穂", "由美", "恵子", "浩", "隆", "真理子", "翔太", "彩",
         "裕子", "和也", "智子", "剛", "陽子", "拓也", "明美"]
PLACES = [("みなと", "minato"), ("あおば", "aoba"), ("さくら", "sakura"), ("みどり", "midori"), ("しののめ", "shinonome"),
          ("きたはま", "kitahama"), ("わかくさ", "wakakusa"), ("しらさぎ", "shirasagi"), ("駅前", "ekimae"), ("中央", "chuo")]
KINDS = [("クリニック", "clinic"), ("医院", "iin"), ("診療所", "shinryojo"), ("ファミリークリニック", "family"),
         ("こどもクリニック", "kodomo"), ("在宅クリニック", "zaitaku")]
COLUMNS = ["institution", "contact", "email", "area", "specialties", "registered", "opted_in", "status"]


def partner(i: int, rng: random.Random) -> dict:
    sur, sur_r = rng.choice(SURNAMES)
    specialties = rng.sample(SPECIALTIES, rng.choice([1, 1, 2, 2, 3]))
    kind, kind_r = rng.choice(KINDS)
    if rng.random() < 0.5:
        place, place_r = rng.choice(PLACES)
        name, slug = f"{place}{specialties[0]}{kind}", f"{place_r}-{kind_r}"
    else:
        name, slug = f"{sur}{specialties[0]}{kind}", f"{sur_r}-{kind_r}"
    if rng.random() < 0.08:
        name = f"医療法人社団{rng.choice(['青葉会', '湊愛会', '桜仁会', '㈱白鷺メディカル'])} {name}"
    contact = "" if rng.random() < 0.12 else f"{sur} {rng.choice(GIVEN)}"
    opted = dt.date(2019, 4, 1) + dt.timedelta(days=rng.randrange(0, 7 * 365))
    r = rng.random()
    status = "unsubscribed" if r < 0.025 else "bounced" if r < 0.035 else "subscribed"
    return {"institution": name, "contact": contact, "email": f"{slug}-{i:04d}@example.jp",
            "area": rng.choice(AREAS), "specialties": "・".join(specialties),
            "registered": "true" if rng.random() < 0.4 else "false", "opted_in": opted.isoformat(), "status": status}


def partners(count: int) -> list[dict]:
    rng = random.Random(SEED)
    rows = [partner(i, rng) for i in range(1, count + 1)]
    # what real lists contain: two mistyped addresses and a name that looks like an address list
    rows[99]["email"] = "uketsuke@example"  # no top-level domain
    rows[499]["email"] = "info@@example.jp"
    for i in (99, 499):  # they came back undeliverable: `send` lists them as invalid, `check` does not fail
        rows[i]["status"] = "bounced"
    rows[299]["institution"] = '医療法人社団 青葉会, "湊" <clinic@example.jp> クリニック'
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "private" / "partners.csv"))
    ap.add_argument("--count", type=int, default=840)
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(partners(args.count))
    print(f"wrote {args.count} partners to {out}")


if __name__ == "__main__":
    main()
