"""content/clinics.csv, the public 登録医・連携医療機関一覧: grouped by area and specialty on a page of its own,
searchable, rows marked private never anywhere in build/, mistakes at their file:line."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)
CSV = """name,area,specialties,address,tel,url,doctor,public
みなと内科クリニック,北区,内科・循環器内科,湊区北1-1,03-0000-2001,https://minato.example.jp/,港 一郎,yes
ひみつ皮膚科医院,北区,皮膚科,湊区北2-2,03-0000-2002,,秘密 花子,no
みなみ整形外科,南区,整形外科,湊区南3-3,03-0000-2003,,南 次郎,
しろくま小児科,南区,小児科,湊区南4-4,,,,はい
"""


@pytest.fixture()
def site(tmp_path) -> Path:
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    (dest / "content/clinics.csv").write_text(CSV, encoding="utf-8")
    return dest


def test_public_rows_grouped_by_area_and_private_rows_nowhere(site):
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site", "mail")))
    page = (site / "build/site/clinics.html").read_text(encoding="utf-8")
    body = page[page.index('<h2 id="area-1"'):]  # after the list of areas
    assert body.index("北区") < body.index("みなと内科クリニック") < body.index("南区") < body.index("みなみ整形外科")
    assert "登録医：港 一郎" in page and 'href="tel:0300002001"' in page
    assert "しろくま小児科" in page  # public: はい, and an empty public column means listed
    for path in (site / "build").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert "ひみつ皮膚科".encode() not in data and "秘密 花子".encode() not in data, path
    index = (site / "build/site/assets/search-index.js").read_text(encoding="utf-8")
    assert "みなと内科クリニック" in index


def test_no_list_no_page(tmp_path):
    dest = tmp_path / "hospital"
    shutil.copytree(SITES / "minimal", dest)
    run(Project.at(dest), BuildOptions(today=TODAY, outputs=("site",)))
    assert not (dest / "build/site/clinics.html").exists()
    assert "clinics.html" not in (dest / "build/site/index.html").read_text(encoding="utf-8")


def test_mistakes_are_reported_at_their_line_all_at_once(site):
    (site / "content/clinics.csv").write_text(
        "name,area,specialties,address,tel,url,doctor,public\n"
        "よい医院,北区,内科,,,,,yes\n"
        ",北区,内科,,,,,yes\n"
        "でんわ医院,北区,内科,,090-xxxx,,,yes\n"
        "あどれす医院,北区,内科,,,ftp://x,,yes\n"
        "みじかい行,北区\n"
        "こうかい医院,北区,内科,,,,,maybe\n", encoding="utf-8")
    with pytest.raises(ContentError) as err:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    text = "\n".join(str(p) for p in err.value.errors)
    for line, field in ((3, "name"), (4, "tel"), (5, "url"), (7, "public")):
        assert f"content/clinics.csv:{line}: {field}:" in text, (line, field, text)
    assert "content/clinics.csv:6: expected 8 columns, found 2" in text


def test_unknown_columns_are_named(site):
    (site / "content/clinics.csv").write_text("name,area,email\nA,北区,a@example.jp\n", encoding="utf-8")
    with pytest.raises(ContentError) as err:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    assert "unknown email" in str(err.value.errors[0])
