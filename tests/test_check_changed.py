"""`sitegen check --changed`: axe-core only on pages whose bytes (or the theme's CSS/JS) changed since the last
such check, and always on pages that had findings; the state lives in <site>/.sitegen/a11y.json."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SITES, TODAY
from sitegen.check.run import CheckOptions, run_check
from sitegen.project import Project

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def check(root: Path, chromium_path: str, changed: bool = True):
    return run_check(Project.at(root), CheckOptions(today=TODAY, skip=frozenset({"ad", "links", "recipients"}),
                                                   browser=chromium_path, changed=changed))


def test_only_changed_pages_and_pages_with_findings_are_checked_again(tmp_path, chromium_path):
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    first = check(root, chromium_path)
    total = first.stats["a11y_pages"]
    assert total >= 10 and (root / ".sitegen/a11y.json").is_file()
    assert check(root, chromium_path).stats["a11y_pages"] == 0  # nothing changed

    doctor = root / "content/doctors/yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("---\n", "---\nmessage: 変更しました。\n", 1)
                      if "message:" not in doctor.read_text(encoding="utf-8")
                      else doctor.read_text(encoding="utf-8").replace("message: ", "message: 変更：", 1), encoding="utf-8")
    again = check(root, chromium_path)
    assert 1 <= again.stats["a11y_pages"] < total  # his page and the pages that show him, not the whole site
    state = json.loads((root / ".sitegen/a11y.json").read_text(encoding="utf-8"))
    assert "doctors/yamada-taro.html" in state

    # a theme page with an axe violation (an image without alt): reported, and checked again every time
    override = root / "themes/default/web/access.html"
    override.parent.mkdir(parents=True)
    override.write_text('{% extends "!theme/access.html" %}{% block content %}<img src="x.png">{{ super() }}{% endblock %}',
                        encoding="utf-8")
    broken = check(root, chromium_path)
    assert any(f.rule == "a11y.axe.image-alt" for f in broken.findings)
    still = check(root, chromium_path)
    assert still.stats["a11y_pages"] == 1 and any(f.rule == "a11y.axe.image-alt" for f in still.findings)
    # without --changed every page is checked, and the state is left alone
    assert check(root, chromium_path, changed=False).stats["a11y_pages"] == total
