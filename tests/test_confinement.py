"""Files are read only from the folder they belong to, symbolic links followed: content from content/, theme files
from the theme. The partner list can never be published through a link, and a print template cannot embed a file
of the build machine (the print browser may read only its own folder, with JavaScript off)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.errors import ContentError, OutputError, SitegenError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)


@pytest.fixture()
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    (root / "private").mkdir()
    (root / "private" / "partners.csv").write_text("institution,email\nみなと内科,secret-partner@example.jp\n",
                                                   encoding="utf-8")
    return root


def build(root: Path, *outputs: str):
    return run(Project.at(root, root / "build"), BuildOptions(today=TODAY, outputs=outputs or ("site",)))


def published_text(root: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in (root / "build").rglob("*") if p.is_file())


@pytest.mark.parametrize("link", ["files/partners.csv", "images/partners.png", "files/private",
                                  "news/2026-12-01-list.md"])
def test_a_link_from_content_to_the_partner_list_is_refused(site, link):
    target = site / "content" / link
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(site / "private" / ("" if link.endswith("private") else "partners.csv"), target)
    with pytest.raises(ContentError) as exc:
        build(site)
    assert any("points outside content/" in line for line in exc.value.lines()), exc.value.lines()
    assert not (site / "build").exists()


def test_a_linked_file_inside_content_is_fine(site):
    os.symlink(site / "content" / "files" / "referral.pdf", site / "content" / "files" / "shokaijo.pdf")
    build(site)
    assert (site / "build" / "site" / "files" / "shokaijo.pdf").is_file()


@pytest.mark.parametrize("kind", ["template", "static"])
def test_theme_files_linked_out_of_the_theme_are_not_read(site, kind):
    theme = site / "themes" / "default"
    if kind == "template":
        (theme / "web").mkdir(parents=True)
        os.symlink(site / "private" / "partners.csv", theme / "web" / "home.html")
    else:
        (theme / "static" / "css").mkdir(parents=True)
        os.symlink(site / "private" / "partners.csv", theme / "static" / "css" / "extra.css")
    with pytest.raises(SitegenError, match="points outside the theme folder"):
        build(site)
    assert not (site / "build").exists()


@pytest.mark.browser
def test_print_templates_cannot_embed_files_from_outside_their_folder(site, chromium_path):
    secret = site / "private" / "secret.png"
    shutil.copy(SITES / "minimal" / "content" / "images" / "logo.png", secret)
    printed = site / "themes" / "default" / "print"
    printed.mkdir(parents=True)
    (printed / "leaflet.html").write_text(
        '{% extends "!theme/leaflet.html" %}{% block body %}'
        f'<iframe src="file:///etc/passwd"></iframe><img id="x" src="{secret.as_uri()}" alt="">'
        f'<div style="width:50mm;height:50mm;background:url({secret.as_uri()})"></div>'
        '<p id="js">script off</p><script>document.getElementById("js").textContent = "SCRIPT RAN"</script>'
        '{{ super() }}{% endblock %}', encoding="utf-8")
    build(site, "pdf")
    pdfs = sorted((site / "build" / "pdf" / "leaflets").glob("*.pdf"))
    assert pdfs
    text = subprocess.run(["pdftotext", str(pdfs[0]), "-"], capture_output=True, text=True).stdout
    assert "script off" in text and "SCRIPT RAN" not in text
    assert "root:" not in text  # /etc/passwd was not framed
    images = subprocess.run(["pdfimages", "-list", str(pdfs[0])], capture_output=True, text=True).stdout
    logo_size = (SITES / "minimal" / "content" / "images" / "logo.png").stat().st_size
    assert images.count("\n") >= 2 and logo_size  # header lines; the secret image is not among the page's images
    assert "secret" not in text


def _photo(root: Path, src: str) -> None:
    doctor = root / "content" / "doctors" / "suzuki-ichiro.md"
    text = doctor.read_text(encoding="utf-8")
    doctor.write_text(text.replace("departments:", f'photo:\n  src: "{src}"\n  alt: 写真\ndepartments:', 1), encoding="utf-8")


@pytest.mark.parametrize(("src", "message"), [
    ("images/none.png", "file not found: content/images/none.png"),
    ("images/./none.png", "file not found: content/images/./none.png"),
    ("../private/partners.csv", "is outside content/"),
    ("images/../../private/partners.csv", "is outside content/"),
    ("images/linked.png", "is outside content/"),
    ("images/folder", "file not found: content/images/folder"),
    ("images/a\\0b.png", "control character"),
    ("images/a\\nb.png", "control character"),
])
def test_a_named_file_that_is_missing_or_outside_content_is_an_error_at_its_line(site, src, message):
    os.symlink(site / "private" / "partners.csv", site / "content" / "images" / "linked.png")
    (site / "content" / "images" / "folder").mkdir()
    _photo(site, src)
    with pytest.raises(ContentError) as exc:
        build(site)
    lines = exc.value.lines()
    assert any(line.startswith("content/doctors/suzuki-ichiro.md:") and "photo.src" in line and message in line
               for line in lines), lines
    assert not (site / "build").exists()


def test_a_named_file_inside_content_is_published(site):
    shutil.copy(site / "content" / "images" / "logo.png", site / "content" / "images" / "suzuki.png")
    os.symlink(site / "content" / "images" / "suzuki.png", site / "content" / "images" / "linked-inside.png")
    _photo(site, "images/linked-inside.png")
    build(site)
    assert (site / "build" / "site" / "images" / "linked-inside.png").is_file()


def _picture(kind: str) -> bytes:
    """A small file of each kind a picture field may name (Pillow writes the raster ones for real)."""
    import io

    from PIL import Image

    if kind in ("PNG", "JPEG", "GIF", "WEBP", "BMP"):
        out = io.BytesIO()
        Image.new("RGB", (8, 6), "#0B5C8C").save(out, kind)
        return out.getvalue()
    return {
        "AVIF": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf",
        "SVG": b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="6"/>\n',
        "empty": b"",
        "HEIC": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
        "HEIF": b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic",
        "PDF": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        "TIFF": b"II*\x00\x08\x00\x00\x00",
        "PSD": b"8BPS\x00\x01",
        "text": "写真をここに貼ってください".encode(),
        "HTML": b"<!DOCTYPE html><html><body>x</body></html>",
    }[kind]


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "GIF", "WEBP", "BMP", "AVIF", "SVG"])
def test_a_picture_in_a_format_browsers_show_is_published_whatever_its_name(site, kind):
    (site / "content" / "images" / "yamada-taro.png").write_bytes(_picture(kind))  # the name need not match
    build(site)
    assert (site / "build" / "site" / "images" / "yamada-taro.png").read_bytes() == _picture(kind)


@pytest.mark.parametrize("kind,why", [
    ("empty", "is an empty file (0 bytes): save the picture again"),
    ("HEIC", "is a HEIC/HEIF photo (as phones save them), which browsers other than Safari do not show"),
    ("HEIF", "is a HEIC/HEIF photo"),
    ("PDF", "is a PDF, not a picture"),
    ("TIFF", "is a TIFF picture, which browsers do not show"),
    ("PSD", "is a Photoshop file"),
    ("text", "is not a picture browsers show (expected PNG, JPEG, GIF, WebP, AVIF or SVG)"),
    ("HTML", "is not a picture browsers show"),
])
def test_a_picture_browsers_cannot_show_is_an_error_at_each_field_that_names_it(site, kind, why):
    """A doctor's photo and the logo saved as the wrong kind of file (a phone's HEIC renamed .jpg, a PDF, an empty
    file after a failed copy) would be broken pictures on the website and in the brochures: each field that names
    one is an error at its line, and nothing is written."""
    (site / "content" / "images" / "yamada-taro.png").write_bytes(_picture(kind))
    (site / "content" / "images" / "logo.png").write_bytes(_picture(kind))
    with pytest.raises(ContentError) as exc:
        build(site)
    lines = exc.value.lines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("content/doctors/yamada-taro.md:10: photo.src: content/images/yamada-taro.png " + why), lines
    assert lines[1].startswith("site.yaml:20: hospital.logo.src: content/images/logo.png " + why), lines
    assert not (site / "build").exists()


def test_a_picture_in_a_body_browsers_cannot_show_is_a_warning_at_its_line(site):
    """An image in a Markdown body is a warning, as a missing one is: the page builds, the author is told."""
    (site / "content" / "images" / "scan.png").write_bytes(_picture("PDF"))
    (site / "content" / "images" / "map.png").write_bytes(_picture("PNG"))
    guide = site / "content" / "guides" / "referral.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n![紹介状の見本](images/scan.png)\n\n![地図](images/map.png)\n",
                     encoding="utf-8")
    line = guide.read_text(encoding="utf-8").splitlines().index("![紹介状の見本](images/scan.png)") + 1
    report = build(site)
    found = [str(w) for w in report.warnings if "scan.png" in str(w) or "map.png" in str(w)]
    assert found == [f"content/guides/referral.md:{line}: warning: body: content/images/scan.png is a PDF, not a "
                     "picture: save the page as PNG or JPEG (PNG, JPEG, GIF, WebP, AVIF or SVG)"], found


# --- links on folders: site.yaml, content/, themes/, a theme and its folders ---------------------------------------
# A check of each file against its folder's real path lets a linked FOLDER through (the file is inside the folder
# the link points to): each folder of the layout must itself be inside the folder it belongs to.


def _outside(site: Path) -> Path:
    folder = site.parent / "outside"
    folder.mkdir(exist_ok=True)
    return folder


def _link_static_to_private(site: Path) -> tuple[str, Path]:
    (site / "themes" / "default").mkdir(parents=True)
    os.symlink("../../private", site / "themes" / "default" / "static")
    return "themes/default/static", site / "private"


def _link_partials_out(site: Path) -> tuple[str, Path]:
    outside = _outside(site)
    (outside / "hostname").write_text("SECRET-HOST\n", encoding="utf-8")
    theme = site / "themes" / "default"
    (theme / "web").mkdir(parents=True)
    (theme / "web" / "home.html").write_text('{% include "hostname" %}', encoding="utf-8")
    os.symlink(outside, theme / "partials")
    return "themes/default/partials", outside


def _link_content_out(site: Path) -> tuple[str, Path]:
    outside = _outside(site) / "content"
    shutil.move(site / "content", outside)
    (outside / "files" / "leak.pdf").write_bytes(b"%PDF-1.7\n")
    os.symlink(outside, site / "content")
    return "content", outside


def _link_themes_out(site: Path) -> tuple[str, Path]:
    outside = _outside(site) / "themes"
    (outside / "default" / "static").mkdir(parents=True)
    (outside / "default" / "static" / "leak.css").write_text("/* outside */", encoding="utf-8")
    os.symlink(outside, site / "themes")
    return "themes", outside


def _link_theme_out(site: Path) -> tuple[str, Path]:
    outside = _outside(site) / "theme"
    (outside / "static").mkdir(parents=True)
    (outside / "static" / "leak.css").write_text("/* outside */", encoding="utf-8")
    (site / "themes").mkdir()
    os.symlink(outside, site / "themes" / "default")
    return "themes/default", outside


def _link_site_yaml_out(site: Path) -> tuple[str, Path]:
    outside = _outside(site) / "site.yaml"
    shutil.move(site / "site.yaml", outside)
    os.symlink(outside, site / "site.yaml")
    return "site.yaml", outside


def _link_content_files_out(site: Path) -> tuple[str, Path]:
    outside = _outside(site) / "files"
    shutil.move(site / "content" / "files", outside)
    os.symlink(outside, site / "content" / "files")
    return "content/files", outside


LINKS = {"static": _link_static_to_private, "partials": _link_partials_out, "content": _link_content_out,
         "themes": _link_themes_out, "theme": _link_theme_out, "site.yaml": _link_site_yaml_out,
         "content/files": _link_content_files_out}


def _area(rel: str) -> str:
    return "the site folder" if "/" not in rel else rel.rsplit("/", 1)[0] + "/"


@pytest.mark.parametrize("kind", sorted(LINKS))
def test_a_folder_linked_out_of_where_it_belongs_is_a_content_error_naming_where_it_points(site, kind):
    rel, target = LINKS[kind](site)
    with pytest.raises(ContentError) as exc:
        build(site)
    lines = exc.value.lines()
    assert lines[0] == f"{rel}: is a symbolic link to {target}, outside {_area(rel)}; not read: keep it inside {_area(rel)}"
    # and, for content/files, the guide's form in it is not found there (nothing else)
    assert all("files/referral.pdf' is outside content/" in line for line in lines[1:]), lines
    assert not (site / "build").exists()


def test_every_folder_linked_out_is_reported_at_once_and_the_previous_build_stays(site):
    build(site)
    before = {p: p.read_bytes() for p in (site / "build").rglob("*") if p.is_file()}
    _link_static_to_private(site)
    (site / "themes" / "default" / "mail").symlink_to(_outside(site))
    _link_content_files_out(site)
    result = subprocess.run([sys.executable, "-m", "sitegen", "build", "--source", str(site), "--only", "site",
                             "--date", TODAY.isoformat()], capture_output=True, text=True, env=_env())
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    reported = [line.split(":", 1)[0] for line in result.stderr.splitlines() if "is a symbolic link to" in line]
    assert reported == ["content/files", "themes/default/mail", "themes/default/static"], result.stderr
    assert {p: p.read_bytes() for p in (site / "build").rglob("*") if p.is_file()} == before
    assert "secret-partner" not in published_text(site)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "generator")}


def test_check_reports_a_folder_linked_out(site):
    from sitegen.check.run import CheckOptions, run_check

    _link_static_to_private(site)
    report = run_check(Project.at(site), CheckOptions(today=TODAY, skip=frozenset({"ad", "a11y", "links"})))
    assert [(f.file, f.severity) for f in report.findings] == [("themes/default/static", "error")], report.findings


def test_templates_are_not_loaded_through_a_linked_folder_even_without_loading_the_site(site):
    from sitegen.templates import ThemeError, make_environment

    _link_partials_out(site)
    with pytest.raises(ThemeError, match="themes/default/partials: is a symbolic link to"):
        make_environment(Project.at(site), "default", "web").get_template("hostname")


def test_folders_linked_within_their_own_folder_still_build(site):
    images = site / "content" / "images"
    (images / "shared").mkdir()
    os.symlink("shared", images / "dept")  # a linked folder inside content/ is not followed, as before
    theme = site / "themes" / "default"
    (theme / "assets" / "css").mkdir(parents=True)
    (theme / "assets" / "css" / "extra.css").write_text("/* theme */", encoding="utf-8")
    os.symlink("assets", theme / "static")
    shutil.move(site / "content", site / "pages")
    os.symlink("pages", site / "content")
    build(site)
    assert (site / "build" / "site" / "assets" / "css" / "extra.css").read_text(encoding="utf-8") == "/* theme */"
    assert (site / "build" / "site" / "files" / "referral.pdf").is_file()


# --- the partner list may not be named in a published folder -------------------------------------------------------

NEWSLETTER = """
newsletter:
  series: 連携だより
  from_name: みなと中央病院 地域医療連携室
  from_address: renkei@example.jp
  recipients: {where}
  unsubscribe_url: https://www.example.jp/renkei/teishi
  unsubscribe_mailto: teishi@example.jp
"""


@pytest.mark.parametrize("where, folder", [("content/files/partners.csv", "content"),
                                           ("themes/default/static/partners.csv", "themes"),
                                           ("build/partners.csv", "build"),
                                           ("shared/partners.csv", "content")])
def test_a_partner_list_named_in_a_published_folder_is_a_content_error_at_its_line(site, where, folder):
    if folder == "build":
        build(site)  # a build folder sitegen made
    (site / "content" / "files" / "shared").mkdir()
    os.symlink("content/files/shared", site / "shared")  # a folder outside content/ by name, inside it for real
    target = site / where
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(site / "private" / "partners.csv", target)
    text = (site / "site.yaml").read_text(encoding="utf-8") + NEWSLETTER.format(where=where)
    (site / "site.yaml").write_text(text, encoding="utf-8")
    line = text.splitlines().index(f"  recipients: {where}") + 1
    real = target.resolve().relative_to(site).as_posix()
    with pytest.raises(ContentError) as exc:
        build(site)
    assert exc.value.lines() == [f"site.yaml:{line}: newsletter.recipients: {real} is under {folder}/, which is "
                                 "published or built; keep the partner list outside content/ and themes/ "
                                 "(e.g. private/partners.csv)"], exc.value.lines()
    if folder != "build":
        assert not (site / "build").exists()


def test_check_reports_a_published_partner_list_once(site):
    from sitegen.check.run import CheckOptions, run_check

    shutil.copy(site / "private" / "partners.csv", site / "content" / "files" / "partners.csv")
    with open(site / "site.yaml", "a", encoding="utf-8") as f:
        f.write(NEWSLETTER.format(where="content/files/partners.csv"))
    report = run_check(Project.at(site), CheckOptions(today=TODAY, skip=frozenset({"ad", "a11y", "links"})))
    found = [f for f in report.findings if f.field == "newsletter.recipients"]
    assert [(f.file, f.rule, f.severity) for f in found] == [("site.yaml", "content", "error")], report.findings


def test_the_default_partner_list_in_a_private_folder_linked_into_content_is_refused(site):
    shutil.move(site / "private", site / "content" / "files" / "private")
    os.symlink("content/files/private", site / "private")
    with open(site / "site.yaml", "a", encoding="utf-8") as f:
        f.write(NEWSLETTER.format(where="private/partners.csv"))
    with pytest.raises(ContentError) as exc:
        build(site)
    assert any("newsletter.recipients: content/files/private/partners.csv is under content/" in line
               for line in exc.value.lines()), exc.value.lines()


# --- the build folder may not be a symbolic link ------------------------------------------------------------------


def test_a_build_folder_that_is_a_symbolic_link_is_refused(site):
    outside = _outside(site) / "www"
    outside.mkdir()
    os.symlink(outside, site / "build")
    with pytest.raises(OutputError, match=f"refusing to use {site / 'build'} as the build folder: it is a symbolic "
                                          f"link to {outside}"):
        build(site)
    assert list(outside.iterdir()) == [] and list(outside.parent.iterdir()) == [outside]


def test_a_build_folder_linked_to_an_earlier_build_is_refused_and_left_as_it_was(site, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    run(Project.at(site, elsewhere), BuildOptions(today=TODAY, outputs=("site",)))
    before = sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*"))
    os.symlink(elsewhere, site / "build")
    for project in (Project.at(site), Project.at(site, site / "build"), Project.at(site, tmp_path / "link")):
        if not (tmp_path / "link").is_symlink():
            os.symlink(elsewhere, tmp_path / "link")
        with pytest.raises(OutputError, match="is a symbolic link to"):
            run(project, BuildOptions(today=TODAY, outputs=("site",)))
    assert sorted(p.relative_to(elsewhere) for p in elsewhere.rglob("*")) == before
    assert not list(tmp_path.glob(".elsewhere.*"))


def _huge(kind: str, width: int = 30000, height: int = 30000) -> bytes:
    """A few bytes whose header claims `width` × `height` pixels (a decompression bomb, as a picture's header says)."""
    import struct
    import zlib

    if kind == "PNG":
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        idat = zlib.compress(b"")
        return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
                + struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))
                + struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND")))
    if kind == "GIF":
        return b"GIF89a" + struct.pack("<HH", width, height) + b"\x00\x00\x00;"
    if kind == "JPEG":
        app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        exif = b"\xff\xe1" + struct.pack(">H", 2 + 3000) + b"Exif\x00\x00" + bytes(2994)  # the frame far past 64 bytes
        sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
        return b"\xff\xd8" + app0 + exif + sof + b"\xff\xd9"
    if kind == "WEBP":
        chunk = b"VP8X" + struct.pack("<I", 10) + bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
    if kind == "BMP":
        return b"BM" + struct.pack("<IHHI", 54, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, 0,
                                                                          0, 0, 0, 0)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["PNG", "GIF", "JPEG", "WEBP", "BMP"])
def test_a_picture_too_large_to_decode_is_an_error_at_each_field_that_names_it(site, kind):
    """A 65-byte PNG whose header claims 30000 × 30000 pixels was published, and then printing failed (Pillow:
    `Image size (900000000 pixels) exceeds limit`): each field that names such a picture is an error."""
    (site / "content" / "images" / "yamada-taro.png").write_bytes(_huge(kind))
    (site / "content" / "images" / "logo.png").write_bytes(_huge(kind, 8000, 7000))
    with pytest.raises(ContentError) as exc:
        build(site)
    lines = exc.value.lines()
    assert lines == [
        "content/doctors/yamada-taro.md:10: photo.src: content/images/yamada-taro.png is 30,000 × 30,000 pixels "
        "(900 megapixels; at most 50): too large to show or print; save it smaller (about 2,000 pixels on its long "
        "side is plenty)",
        "site.yaml:20: hospital.logo.src: content/images/logo.png is 8,000 × 7,000 pixels (56 megapixels; at most 50): "
        "too large to show or print; save it smaller (about 2,000 pixels on its long side is plenty)"], lines
    assert not (site / "build").exists()


def test_the_pixel_limit_is_50_megapixels(tmp_path):
    from sitegen.content import pictures

    for (width, height), too_large in (((7071, 7071), False), ((7072, 7072), True), ((50_000_000, 1), False),
                                       ((1, 50_000_001), True)):
        path = tmp_path / "p.png"
        path.write_bytes(_huge("PNG", width, height))
        assert (pictures.size_problem(str(path)) is not None) == too_large, (width, height)


def test_a_picture_too_large_to_decode_is_left_out_of_the_print(site, tmp_path):
    """An image no page names is not checked, but the brochures' printing never decodes it (it stopped the print)."""
    from sitegen.build import load_site
    from sitegen.pdf import images

    (site / "content" / "images" / "huge.png").write_bytes(_huge("PNG"))
    loaded, _ = load_site(Project.at(site), TODAY)
    work = tmp_path / "work"
    work.mkdir()
    copied = images.prepare(site / "content", loaded, work, 210.0)
    assert "images/yamada-taro.png" in copied and "images/huge.png" not in copied
