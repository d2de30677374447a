"""The prints kept between builds (pdf/memo.py), with a real Chromium: a rebuild prints only the pages whose HTML
(or a file they load) changed, starts no browser when none did, and writes the same bytes as a clean build; a kept
print that was changed, or an index sealed elsewhere, is not used."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import SITES, TODAY
from sitegen import seal
from sitegen.build import BuildOptions, run
from sitegen.pdf import memo, printer
from sitegen.project import Project


def _build(site: Path, chromium_path: str, clean: bool = False) -> dict[str, bytes]:
    report = run(Project.at(site), BuildOptions(today=TODAY, outputs=("pdf",), browser=chromium_path, clean=clean))
    assert not report.outputs["pdf"].skipped
    out = site / "build" / "pdf"
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.pdf"))}


def _first_build(tmp_path: Path, chromium_path: str) -> tuple[Path, dict[str, bytes]]:
    """A copy of the minimal site, built once: (the site, its PDFs)."""
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    return site, _build(site, chromium_path)


def _clean(site: Path, tmp_path: Path, chromium_path: str) -> dict[str, bytes]:
    copy = tmp_path / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("build", ".sitegen"))
    return _build(copy, chromium_path)


@pytest.fixture
def counted(monkeypatch):
    """The pages Chromium really printed (by file name), and how many browsers started."""
    seen: dict[str, list] = {"printed": [], "started": []}
    real_print, real_start = printer.Printer._print, printer.Printer._start

    def printing(self, html_file, html, tagged):
        seen["printed"].append(html_file.name)
        return real_print(self, html_file, html, tagged)

    def starting(self):
        seen["started"].append(1)
        return real_start(self)

    monkeypatch.setattr(printer.Printer, "_print", printing)
    monkeypatch.setattr(printer.Printer, "_start", starting)
    return seen


@pytest.mark.browser
@pytest.mark.slow
def test_a_rebuild_prints_only_what_changed_and_writes_what_a_clean_build_writes(tmp_path, chromium_path, counted):
    site, first = _first_build(tmp_path, chromium_path)
    assert counted["printed"] and counted["started"]
    assert {"guidebook.pdf", "leaflets/naika.pdf", "leaflets/geka.pdf"} <= first.keys()

    # nothing changed: no browser starts, and the files are those of the first build
    counted["printed"].clear()
    counted["started"].clear()
    assert _build(site, chromium_path) == first
    assert counted["printed"] == [] and counted["started"] == []

    # one department's summary: its leaflet and the guidebook are printed again, the other leaflet is not
    geka = site / "content" / "departments" / "geka.md"
    text = geka.read_text(encoding="utf-8")
    geka.write_text(text.replace("summary: ", "summary: 年間四百件の手術を行う", 1), encoding="utf-8")
    again = _build(site, chromium_path)
    assert "leaflet-geka.html" in counted["printed"] and "guidebook.html" in counted["printed"]
    assert "leaflet-naika.html" not in counted["printed"]
    assert again["leaflets/naika.pdf"] == first["leaflets/naika.pdf"]
    assert again["leaflets/geka.pdf"] != first["leaflets/geka.pdf"]
    assert again == _clean(site, tmp_path, chromium_path)

    # an image the pages load: every page that can load it is printed again
    counted["printed"].clear()
    photo = site / "content" / "images" / "yamada-taro.png"
    shutil.copyfile(SITES / "minimal" / "content" / "images" / "logo.png", photo)
    again = _build(site, chromium_path)
    assert "guidebook.html" in counted["printed"]
    assert again == _clean(site, tmp_path, chromium_path)

    # build --clean prints everything again
    counted["printed"].clear()
    assert _build(site, chromium_path, clean=True) == again
    assert "leaflet-naika.html" in counted["printed"]


@pytest.mark.browser
@pytest.mark.slow
def test_a_changed_or_planted_print_is_not_published(tmp_path, chromium_path, counted):
    site, first = _first_build(tmp_path, chromium_path)
    pages = set(counted["printed"])
    assert _build(site, chromium_path) == first  # now the prints kept are those every build uses
    kept = site / ".sitegen" / "pdf-prints"
    entries = sorted(p for p in kept.iterdir() if p.name != memo.INDEX)
    assert entries, "the prints are kept for the next build"

    # every kept file changed on disk (the same size, one byte different): nothing of them is published, every
    # page is printed again
    for entry in entries:
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0x01
        entry.write_bytes(bytes(data))
    counted["printed"].clear()
    assert _build(site, chromium_path) == first
    assert set(counted["printed"]) == pages

    # an index sealed with another checkout's key (a .sitegen/ committed or copied in): nothing is taken from it
    index = seal.read_json(seal.key(Project.at(site)), kept / memo.INDEX)
    assert index is not None
    seal.write_json(b"another checkout's key", kept / memo.INDEX, index)
    counted["printed"].clear()
    assert _build(site, chromium_path) == first
    assert set(counted["printed"]) == pages


def test_the_key_of_a_print_names_what_the_page_can_load(tmp_path):
    """The HTML, whether the PDF is tagged, the stylesheet the page names (and those it names in turn) and every
    other file of its folder but the other pages: a stylesheet no text of the page names is not part of it."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "print-0-210.css").write_text('@import "extra.css"; body { color: black }', encoding="utf-8")
    (folder / "extra.css").write_text("h1 { color: navy }", encoding="utf-8")
    (folder / "print-3-210.css").write_text("body { margin: 0 }", encoding="utf-8")
    (folder / "photo.png").write_bytes(b"\x89PNG one")
    (folder / "other.html").write_text("<p>another page</p>", encoding="utf-8")
    page = folder / "leaflet.html"
    html = '<link rel="stylesheet" href="print-0-210.css"><img src="photo.png">'
    page.write_text(html, encoding="utf-8")
    def key_now(machine: str = "machine", tagged: bool = True, text: str = html) -> str:
        return memo.PrintMemo(None, None, machine).key(page, text, tagged)  # a build's memo: its files stay as read

    key = key_now()
    assert key != key_now(tagged=False)
    assert key != key_now(machine="another machine")
    assert key != key_now(text=html + " ")

    def changed(name: str, text: str) -> bool:
        before = (folder / name).read_bytes() if (folder / name).exists() else None
        (folder / name).write_text(text, encoding="utf-8")
        now = key_now()
        if before is None:
            (folder / name).unlink()
        else:
            (folder / name).write_bytes(before)
        return now != key

    assert changed("print-0-210.css", "body { color: red }")
    assert changed("extra.css", "h1 { color: red }")  # named by the page's stylesheet
    assert changed("photo.png", "\x89PNG two")
    assert changed("logo.png", "\x89PNG new")  # any other file of the folder: the page could load it
    assert not changed("print-3-210.css", "body { margin: 1mm }")  # another page's stylesheet
    assert not changed("other.html", "<p>changed</p>")
    assert key_now() == key


def test_what_is_kept_is_read_back_sealed_and_never_through_a_link(tmp_path):
    folder, key = tmp_path / "site" / ".sitegen" / "pdf-prints", b"k" * 32
    first = memo.PrintMemo(folder, key, "machine")
    made: list[str] = []
    assert first.made(["leaflet"], lambda: made.append("leaflet") or b"%PDF leaflet") == b"%PDF leaflet"
    assert first.made(["old"], lambda: made.append("old") or b"%PDF old") == b"%PDF old"
    first.save()

    second = memo.PrintMemo(folder, key, "machine")
    assert second.made(["leaflet"], lambda: made.append("again") or b"%PDF again") == b"%PDF leaflet"
    assert made == ["leaflet", "old"]  # taken from the first build, not made again
    assert memo.PrintMemo(folder, key, "another machine").made(["leaflet"], lambda: b"%PDF new") == b"%PDF new"
    second.save()  # keeps only what the second build used
    assert len([p for p in folder.iterdir() if p.name != memo.INDEX]) == 1

    # the kept file replaced by a link to a file outside the site with the very same bytes: not read
    entry = next(p for p in folder.iterdir() if p.name != memo.INDEX)
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(entry.read_bytes())
    entry.unlink()
    entry.symlink_to(outside)
    third = memo.PrintMemo(folder, key, "machine")
    assert third.made(["leaflet"], lambda: b"%PDF made anew") == b"%PDF made anew"
    assert outside.read_bytes() == b"%PDF leaflet", "the file outside the site is never written"
    assert not entry.is_symlink()

    # without a sealing key (no .sitegen/ to keep it in), nothing is kept or read
    none = memo.PrintMemo(folder, None, "machine")
    assert none.empty and none.made(["leaflet"], lambda: b"%PDF") == b"%PDF"
