"""地域連携クリニカルパス (content/pathways/): validated like the rest, on the website with its stages in order, in the
site search and in the guidebook's `pathways` section."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, SITES
from sitegen.build import BuildOptions, run
from sitegen.cli import main
from sitegen.errors import ContentError
from sitegen.project import Project
from sitegen.web import search

TODAY = dt.date(2026, 11, 25)
PATH = """---
name: 脳卒中地域連携パス
disease: 脳梗塞で入院した方
departments: [{dept}]
stages:
  - {{name: 急性期, where: 当院, period: 約2週間, tasks: [急性期治療, パスシートの作成]}}
  - {{name: 回復期, where: 回復期リハビリテーション病院, tasks: [集中的なリハビリ]}}
  - {{name: 生活期, where: かかりつけ医}}
partners: [みなと回復期病院, 青葉町内科]
{extra}---
パスシートは患者さんが持参します。
"""


@pytest.fixture()
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    return root


def department(root: Path) -> str:
    return sorted(p.stem for p in (root / "content" / "departments").glob("*.md"))[0]


def write(root: Path, text: str, name: str = "stroke") -> Path:
    path = root / "content" / "pathways" / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_pathway_page_lists_its_stages_in_order_and_is_found_by_search(site):
    write(site, PATH.format(dept=department(site), extra=""))
    report = run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    html = (site / "build" / "site" / "pathways" / "index.html").read_text(encoding="utf-8")
    flow = html[html.index('class="referral-flow pathway-stages"'):]
    flow = flow[:flow.index("</ol>")]
    stages = [flow.index(s) for s in ("急性期", "回復期リハビリテーション病院", "かかりつけ医")]
    assert stages == sorted(stages) and "約2週間" in flow and "みなと回復期病院、青葉町内科" in html
    assert 'href="../departments/' in html  # its departments link to their pages, and they to it
    dept_page = (site / "build" / "site" / "departments" / f"{department(site)}.html").read_text(encoding="utf-8")
    assert '../pathways/index.html#path-stroke">脳卒中地域連携パス</a>' in dept_page
    assert "../pathways/index.html" in (site / "build" / "site" / "guides" / "index.html").read_text(encoding="utf-8")
    assert not report.warnings
    from sitegen.build import load_site
    loaded, _ = load_site(Project.at(site), TODAY)
    entries = [e for e in search.entries(loaded) if e["k"] == "地域連携クリニカルパス"]
    assert entries and entries[0]["t"] == "脳卒中地域連携パス" and entries[0]["u"] == "pathways/index.html#path-stroke"
    assert "回復期" in entries[0]["x"]


def test_no_pathways_no_page(site):
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    assert not (site / "build" / "site" / "pathways").exists()


def test_pathway_mistakes_are_reported_at_their_lines_all_at_once(site):
    text = PATH.format(dept="nosuch-dept", extra="sheet: {file: files/none.pdf, label: パスシート}\ncontact: nobody\n")
    path = write(site, text)
    write(site, "---\nname: 一段だけ\ndisease: x\nstages:\n  - {name: 急性期, where: 当院}\n---\n", "short")
    with pytest.raises(ContentError) as caught:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    lines = text.splitlines()
    got = {(e.location.path, e.location.line, e.field) for e in caught.value.errors}
    where = {k: next(i for i, t in enumerate(lines, 1) if t.startswith(k)) for k in ("departments", "sheet", "contact")}
    assert ("content/pathways/stroke.md", where["departments"], "departments[0]") in got
    assert ("content/pathways/stroke.md", where["sheet"], "sheet.file") in got
    assert ("content/pathways/stroke.md", where["contact"], "contact") in got
    assert any(p == "content/pathways/short.md" and f == "stages" for p, _, f in got)
    assert path.is_file()


def test_new_pathway_scaffold_builds(site):
    result = CliRunner().invoke(main, ["new", "pathway", "hip", "--source", str(site)])
    assert result.exit_code == 0, result.output
    made = site / "content" / "pathways" / "hip.md"
    assert made.is_file()
    report = run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    assert (site / "build" / "site" / "pathways" / "index.html").is_file()
    assert any("pathways/hip.md" in str(w.location.path) for w in report.warnings)  # its placeholders are warned about


def test_the_example_has_four_pathways():
    names = sorted(p.stem for p in (REPO / "content" / "pathways").glob("*.md"))
    assert len(names) >= 4


@pytest.mark.browser
@pytest.mark.slow
def test_the_guidebook_prints_the_pathways_section(site, chromium_path, poppler):
    import subprocess

    import yaml
    write(site, PATH.format(dept=department(site), extra=""))
    settings = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    sections = settings.setdefault("brochures", {}).setdefault("guidebook", {}).get("sections")
    if sections is not None and "pathways" not in sections:
        sections.insert(sections.index("departments") if "departments" in sections else len(sections), "pathways")
        (site / "site.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run(Project.at(site), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path))
    text = subprocess.run(["pdftotext", str(site / "build" / "pdf" / "guidebook.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "地域連携クリニカルパス" in text and "脳卒中地域連携パス" in text and "回復期リハビリテーション病院" in text
