"""Files under content/ are published as they are, on the hospital's own site: an SVG with a script (or anything
else that runs or loads in a browser) and HTML, XML or JavaScript files are content errors, at the file (at each
line of an SVG that has something to remove) and at each field that names the file."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.content.active import svg_data_findings
from sitegen.errors import ContentError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)
NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.fixture()
def site(tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    return root


def build(root: Path):
    return run(Project.at(root, root / "build"), BuildOptions(today=TODAY, outputs=("site",)))


PLAIN = [
    f'<svg {NS} width="8" height="6"><rect width="8" height="6" fill="#0B5C8C"/></svg>',
    f'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
    f'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg {NS}><defs><linearGradient id="g"/></defs>'
    f'<rect fill="url(#g)" style="stroke: url( \'#g\' )"/><use xlink:href="#g"/><a href="#top"><text>連携室</text></a>'
    f'<style>.a {{ fill: url(#g) }}</style>'
    f'<image href="data:image/png;base64,iVBORw0KGgo="/><!-- Illustrator --></svg>',
]


@pytest.mark.parametrize("svg", PLAIN)
def test_a_plain_drawing_is_published(site, svg):
    (site / "content" / "images" / "yamada-taro.png").unlink()
    (site / "content" / "images" / "yamada-taro.svg").write_text(svg, encoding="utf-8")
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("yamada-taro.png", "yamada-taro.svg"), encoding="utf-8")
    assert svg_data_findings(svg.encode()) == []
    build(site)
    assert (site / "build" / "site" / "images" / "yamada-taro.svg").read_text(encoding="utf-8") == svg


ACTIVE = [
    ('<svg {ns} onload="alert(1)"/>', 1, "an event handler (onload=…)"),
    ('<svg {ns}>\n<script>alert(1)</script></svg>', 2, "a <script> element"),
    ('<svg {ns}>\n\n<svg:script xmlns:svg="http://www.w3.org/2000/svg">1</svg:script></svg>', 3, "a <script> element"),
    ('<svg {ns}><h:script xmlns:h="http://www.w3.org/1999/xhtml">1</h:script></svg>', 1, "a <script> element"),
    ('<svg {ns}><foreignObject><div/></foreignObject></svg>', 1, "a <foreignObject> element"),
    ('<svg {ns}><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>', 1, "a script or page address in xlink:href"),
    ('<svg {ns}><a href="&#x6a;ava&#x09;script:alert(1)">x</a></svg>', 1, "a script or page address in href"),
    ('<svg {ns}><a href="https://example.com/">x</a></svg>', 1, "a reference to another file or address"),
    ('<svg {ns}><image href="//evil.example/x.png"/></svg>', 1, "a reference to another file or address"),
    ('<svg {ns}><use href="other.svg#icon"/></svg>', 1, "a reference to another file or address"),
    ('<svg {ns}><image href="data:image/svg+xml;base64,PHN2Zy8+"/></svg>', 1, "a reference to another file"),
    ('<svg {ns}><a href="data:text/html,&lt;script&gt;1&lt;/script&gt;">x</a></svg>', 1, "a script or page address"),
    ('<svg {ns}><rect style="fill: url(https://evil.example/t)"/></svg>', 1, "a reference to another file or address in style"),
    ('<svg {ns}><style>@import "https://evil.example/a.css";</style></svg>', 1, "a style sheet that loads"),
    ('<svg {ns}><a><animate attributeName="href" values="x"/></a></svg>', 1, "an animation that changes href"),
    ('<svg {ns}><set attributeName="onclick" to="alert(1)"/></svg>', 1, "an animation that changes onclick"),
    ('<?xml-stylesheet href="https://evil.example/a.xsl"?>\n<svg {ns}/>', 1, "a style sheet from another file"),
    ('<!DOCTYPE svg [<!ENTITY x "&lt;script&gt;1&lt;/script&gt;">]>\n<svg {ns}>&x;</svg>', 1, "an XML entity declaration"),
    ('<svg {ns}>\n<script>alert(1)</script>\n<rect></svg>', 2, "a <script> element"),
    ('<svg {ns}>\n<rect>\n</svg>', 3, "an XML mistake"),
]


@pytest.mark.parametrize("svg,line,what", ACTIVE)
def test_an_svg_with_active_content_is_an_error_at_its_line_and_at_the_field(site, svg, line, what):
    (site / "content" / "images" / "yamada-taro.png").unlink()
    (site / "content" / "images" / "yamada-taro.svg").write_text(svg.format(ns=NS), encoding="utf-8")
    doctor = site / "content" / "doctors" / "yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("yamada-taro.png", "yamada-taro.svg"), encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        build(site)
    lines = exc.value.lines()
    at_field = [x for x in lines if x.startswith("content/doctors/yamada-taro.md:10: photo.src: "
                                                 f"content/images/yamada-taro.svg is an SVG with {what}")]
    at_file = [x for x in lines if x.startswith(f"content/images/yamada-taro.svg:{line}: {what}")]
    assert at_field and at_file, lines
    assert "export it again as a plain drawing, or as PNG" in at_file[0]
    assert not (site / "build").exists()


def test_every_active_part_of_an_svg_in_files_is_reported_at_once(site):
    (site / "content" / "files" / "chart.svg").write_text(
        f'<svg {NS} onload="a()">\n<script>b()</script>\n<rect onclick="c()"/>\n</svg>', encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        build(site)
    assert [x.split(": ")[0:2] for x in exc.value.lines()] == [
        ["content/files/chart.svg:1", "an event handler (onload=…)"],
        ["content/files/chart.svg:2", "a <script> element"],
        ["content/files/chart.svg:3", "an event handler (onclick=…)"],
    ]


@pytest.mark.parametrize("name", ["files/form.html", "files/FORM.HTM", "files/a.xhtml", "images/x.js",
                                  "files/sub/app.mjs", "files/data.xml", "images/logo.svgz", "files/a.shtml"])
def test_a_file_browsers_run_is_refused(site, name):
    path = site / "content" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<html><script>alert(1)</script></html>", encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        build(site)
    lines = exc.value.lines()
    assert len(lines) == 1 and lines[0].startswith(f"content/{name}: is a "), lines
    assert ("PDF, Word or Excel" in lines[0]) or ("plain .svg" in lines[0])
    assert not (site / "build").exists()
