"""Generate a synthetic hospital site of any size, for benchmarks.

    python bench/synthetic.py OUT_DIR --departments 50 --doctors 700 --news 250
"""
from __future__ import annotations

import argparse
import shutil
from pathlib import Path

MINIMAL = Path(__file__).resolve().parent.parent / "tests" / "sites" / "minimal"
DAYS = ["月", "火", "水", "木", "金", "土"]
TIMES = ["午前", "午後"]
GROUPS = ["内科系", "外科系"]


def make_site(out: Path, departments: int, doctors: int, news: int) -> Path:
    """A valid site with the given counts, built on tests/sites/minimal (site.yaml, images, forms)."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(MINIMAL, out, ignore=shutil.ignore_patterns("departments", "doctors", "schedules", "news"))
    content = out / "content"
    for folder in ("departments", "doctors", "schedules", "news"):
        (content / folder).mkdir()
    members: dict[int, list[str]] = {d: [] for d in range(departments)}
    for i in range(doctors):
        dept = i % departments
        slug = f"doctor-{i:05d}"
        members[dept].append(slug)
        photo = "photo:\n  src: images/yamada-taro.png\n  alt: 医師{0}の写真\n".format(i) if i % 5 == 0 else ""
        (content / "doctors" / f"{slug}.md").write_text(
            f"---\nname: 医師 {i:05d}\nkana: いし {i:05d}\ntitle: 医長\ndepartments: [dept-{dept:04d}]\n"
            f"featured: {'true' if i % 40 == 0 else 'false'}\n{photo}"
            f"specialties: [消化器内視鏡, 肝疾患]\nqualifications: [naika-senmon]\n"
            f"message: 地域の先生方からのご紹介をお待ちしております。\n---\n"
            f"専門は**消化器疾患**です。内視鏡検査を中心に診療しています。\n",
            encoding="utf-8",
        )
    for d in range(departments):
        slug = f"dept-{d:04d}"
        (content / "departments" / f"{slug}.md").write_text(
            f"---\nname: 診療科{d:04d}\nname_en: Department {d}\ngroup: {GROUPS[d % 2]}\norder: {d}\n"
            f"summary: 診療科{d:04d}の概要です。地域の医療機関と連携して診療しています。\n"
            f"features: [専門外来を開設しています, 検査は原則当日に実施します]\nconditions: [疾患A, 疾患B, 疾患C]\n"
            f"symptoms: [胸の痛み, 息切れ]\nexams: [CT, MRI, 内視鏡]\n"
            f"referral:\n  patients: [精密検査が必要な方]\n  first_visit: 紹介制\n  urgent_contact: tel\n"
            f"outcomes:\n  period: 2025年度\n  source: 当院診療データ\n  items:\n    - {{label: 手術件数, value: {100 + d}, unit: 件}}\n"
            f"doctors: [{', '.join(members[d][:3])}]\n---\n## 診療内容\n\n診療科{d:04d}の本文です。\n",
            encoding="utf-8",
        )
        slots = [
            f"  - {{day: {DAYS[k % 6]}, time: {TIMES[(k // 6) % 2]}, room: {k % 3 + 1}診, doctor: {doc}}}"
            for k, doc in enumerate(members[d][:12])
        ] or ["  - {day: 月, time: 午前, clinic: 担当医}"]
        (content / "schedules" / f"{slug}.yaml").write_text(
            "period:\n  start: 2026-10-01\n  end: 2027-03-31\nslots:\n" + "\n".join(slots) + "\n", encoding="utf-8"
        )
    for n in range(news):
        month, day = n % 12 + 1, n % 28 + 1
        (content / "news" / f"2026-{month:02d}-{day:02d}-item-{n:05d}.md").write_text(
            f"---\ntitle: お知らせ {n:05d}\ndate: 2026-{month:02d}-{day:02d}\n---\nお知らせ{n}の本文です。\n",
            encoding="utf-8",
        )
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--doctors", type=int, default=700)
    parser.add_argument("--news", type=int, default=250)
    a = parser.parse_args()
    make_site(a.out, a.departments, a.doctors, a.news)
