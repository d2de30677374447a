"""A link in a Markdown body to a form or picture that is not under content/ is a warning at its line (the build
once published it broken, and only `check` said so); a file named with the wrong upper and lower case is named."""
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


@pytest.fixture()
def site(tmp_path) -> Path:
    dest = tmp_path / "site"
    shutil.copytree(SITES / "minimal", dest)
    return dest


def warnings_of(site: Path) -> list[str]:
    return [str(w) for w in run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",))).warnings]


def test_a_link_to_a_missing_form_is_a_warning_at_its_line(site):
    department = site / "content/departments/geka.md"
    text = department.read_text(encoding="utf-8")
    body = ("\n".join(["本文です。", "[申込書](files/moshikomi.pdf)をお使いください。", "",
                       "[紹介状](files/referral.pdf)・[地図](../images/map.png)・[外部](https://example.jp/x.pdf)・"
                       "[様式](files/Referral.pdf)・[旧様式](files/referal.pdf)"]) + "\n")
    department.write_text(text + body, encoding="utf-8")
    first_body_line = text.count("\n") + 1
    found = [w for w in warnings_of(site) if "link to" in w]
    assert f"content/departments/geka.md:{first_body_line + 1}: warning: body: link to 'files/moshikomi.pdf'" in found[0]
    at = f"content/departments/geka.md:{first_body_line + 3}: warning: body: link to "
    assert any(w.startswith(at + "'../images/map.png'") for w in found)
    assert any(w.startswith(at + "'files/Referral.pdf'") and "there is 'referral.pdf'" in w for w in found)
    assert any(w.startswith(at + "'files/referal.pdf'") and "did you mean 'referral.pdf'" in w for w in found)
    assert len(found) == 4, found  # files/referral.pdf is there; an address is not a content file
    assert (site / "build/site/departments/geka.html").is_file()  # a warning: the page is still built


def test_a_picture_named_in_the_wrong_case_says_so(site):
    doctor = site / "content/doctors/yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("images/yamada-taro.png", "images/Yamada-Taro.PNG"),
                      encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    assert any("photo.src: file not found: content/images/Yamada-Taro.PNG (there is 'yamada-taro.png': upper and lower "
               "case must match)" in line for line in caught.value.lines()), caught.value.lines()


@pytest.mark.parametrize("src", ["doctors/yamada-taro.md", "qualifications.yaml", "schedules/naika.yaml"])
def test_a_file_named_outside_the_published_folders_is_an_error(site, src):
    """content/doctors/… is there, but only content/images and content/files are published: the link was broken."""
    doctor = site / "content/doctors/yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("images/yamada-taro.png", src), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        run(Project.at(site), BuildOptions(today=TODAY, outputs=("site",)))
    assert any(f"photo.src: '{src}' is not in content/images/ or content/files/" in line
               for line in caught.value.lines()), caught.value.lines()
