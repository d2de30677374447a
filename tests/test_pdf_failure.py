"""A brochure that cannot be printed never stops the website and the newsletters: they are built and published,
build/pdf/ keeps the previous brochures, and the build says what failed and exits 1."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main

SITES = Path(__file__).resolve().parent / "sites"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def build(site: Path, chromium_path: str, *only: str):
    args = ["build", "--source", str(site), "--date", "2026-11-25", "--browser", chromium_path]
    for o in only:
        args += ["--only", o]
    return CliRunner().invoke(main, args)


def test_a_print_failure_still_publishes_the_website_and_keeps_the_old_pdfs(tmp_path, chromium_path):
    from mail_fixtures import make_mail_site

    site = make_mail_site(tmp_path / "site")
    first = build(site, chromium_path)
    assert first.exit_code == 0, first.output
    pdfs = {p: p.read_bytes() for p in (site / "build" / "pdf").rglob("*.pdf")}
    assert pdfs

    dept = site / "content" / "departments" / "naika.md"
    dept.write_text(dept.read_text(encoding="utf-8").replace("name: 内科", "name: 総合内科", 1), encoding="utf-8")
    printed = site / "themes" / "default" / "print"
    printed.mkdir(parents=True)
    (printed / "leaflet.html").write_text("{% extends '_base.html' %}{% block body %}{{ department.nmae.x }}{% endblock %}",
                                          encoding="utf-8")
    second = build(site, chromium_path)
    assert second.exit_code == 1, second.output
    assert "pdf: failed: template error" in second.output and "leaflet.html" in second.output
    assert "keeps the previous files" in second.output and "Traceback" not in second.output
    assert "総合内科" in (site / "build" / "site" / "departments" / "naika.html").read_text(encoding="utf-8")
    assert {p: p.read_bytes() for p in (site / "build" / "pdf").rglob("*.pdf")} == pdfs

    doctor = site / "content" / "doctors" / "yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("name: 山田 太郎", "name: （氏名を入力）", 1),
                      encoding="utf-8")
    only_pdf = build(site, chromium_path, "pdf")  # asked for alone: the build fails as a whole, as before
    assert only_pdf.exit_code == 1 and "build failed" in only_pdf.output
    assert "yamada-taro.md:2: warning: name:" in only_pdf.output  # warnings found before the failure still shown
    shutil.rmtree(site / "build")


def test_ctrl_c_while_printing_exits_130_even_if_the_print_folder_cannot_be_removed_at_once(tmp_path, chromium_path,
                                                                                              monkeypatch):
    """After Ctrl-C a browser may still write into the print folder, and removing it fails (Directory not empty):
    the build still says `interrupted` and exits 130; the folder is left for the next build to remove."""
    import errno
    import os
    import tempfile

    from sitegen.pdf import printer

    def interrupted(executable, jobs, *args, prepare=None, **kwargs):
        if prepare is not None:
            prepare()
        raise KeyboardInterrupt

    real = shutil.rmtree

    def busy(path, *args, **kwargs):  # as when a browser adds a file while the folder is removed
        handler = kwargs.get("onexc") or kwargs.get("onerror")
        if "sitegen-pdf-" in str(path) and handler is not None:
            error = OSError(errno.ENOTEMPTY, "Directory not empty", str(path))
            real(path, ignore_errors=True)
            try:
                raise error
            except OSError:  # shutil calls the handler while handling the error (a bare `raise` re-raises it)
                if "onexc" in kwargs:
                    handler(os.rmdir, str(path), error)
                else:
                    handler(os.rmdir, str(path), (OSError, error, None))
            return None
        return real(path, *args, **kwargs)

    monkeypatch.setattr(printer, "print_all", interrupted)
    monkeypatch.setattr(tempfile._shutil, "rmtree", busy)  # type: ignore[attr-defined]
    site = tmp_path / "site"
    shutil.copytree(SITES / "minimal", site)
    result = build(site, chromium_path, "pdf")
    assert result.exit_code == 130 and "interrupted" in result.output, result.output
    assert "Directory not empty" not in result.output and "stopped" not in result.output
