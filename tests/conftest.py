"""Shared fixtures: the example site built once, sample sites, a real browser, and the tools the tests need.

Markers (registered in pyproject.toml and enforced with --strict-markers; see tests/README.md):
`browser` starts Chromium, `slow` takes more than about 3 s, `node` needs the MJML validator from npm.
`make test-fast` runs the tests with none of them. Mark tests explicitly; as a safety net a test that uses the
`browser`/`chromium_path` fixtures is marked `browser`, one that uses `mjml_validator` `node`, automatically.

Missing tools (poppler, qpdf, Chromium, Playwright, the MJML validator) follow one policy, `missing_tool()`:
on a developer's machine the test is skipped with the install hint (listed at the end of the run, -ra);
in CI (`CI` set) or with SITEGEN_REQUIRE_TOOLS=1 the test fails with the same hint, never a silent skip.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

from sitegen.build import BuildOptions, run
from sitegen.project import Project
from sitegen.web import opendata

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)  # the example content is written for this date
# the files of build/site/ made from the whole site: kept, like pages, while nothing they read changes
SITE_FILES = frozenset({"sitemap.xml", "feed.xml", "robots.txt", "assets/search-index.js", *opendata.paths()})

# --- the missing-tool policy ------------------------------------------------------------------------

SYSTEM_DEPS = "or run `bash scripts/install-system-deps` (make test does)"
POPPLER_HINT = f"install poppler (Debian/Ubuntu: `apt-get install poppler-utils`; macOS: `brew install poppler`), {SYSTEM_DEPS}"
QPDF_HINT = f"install qpdf (Debian/Ubuntu: `apt-get install qpdf`; macOS: `brew install qpdf`), {SYSTEM_DEPS}"
PYTHON_HINT = "install the test extra: `.venv/bin/python -m pip install -e '.[test]'` (make test does)"
MJML = REPO / "tools" / "mjml-validator" / "node_modules" / ".bin" / "mjml"
MJML_HINT = "install the official validator: `npm ci --prefix tools/mjml-validator` (needs npm; make test does)"


def tools_required() -> bool:
    """True in CI (`CI` set to anything but 0/false) or with SITEGEN_REQUIRE_TOOLS=1; SITEGEN_REQUIRE_TOOLS=0 wins."""
    explicit = os.environ.get("SITEGEN_REQUIRE_TOOLS", "").strip().lower()
    if explicit:
        return explicit not in ("0", "false", "no")
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_tool(name: str, hint: str) -> NoReturn:
    """Skip the test (on a developer's machine) or fail it (in CI) because `name` is not installed."""
    message = f"{name} is missing: {hint}"
    if tools_required():
        pytest.fail(f"{message}\n(CI or SITEGEN_REQUIRE_TOOLS=1: a missing tool fails the test instead of skipping it)",
                    pytrace=False)
    pytest.skip(message)


def require_tool(name: str, hint: str) -> str:
    """The path of the command `name`, or missing_tool() with the install hint."""
    found = shutil.which(name)
    if found is None:
        missing_tool(f"`{name}`", hint)
    return found


@pytest.fixture(scope="session")
def poppler() -> None:
    """pdftotext, pdftoppm and pdffonts (poppler-utils), to read PDFs back."""
    for name in ("pdftotext", "pdftoppm", "pdffonts"):
        require_tool(name, POPPLER_HINT)


@pytest.fixture(scope="session")
def qpdf() -> str:
    return require_tool("qpdf", QPDF_HINT)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    from sitegen.chromium import BrowserNotFound, find_browser

    try:
        return find_browser()
    except BrowserNotFound as e:
        missing_tool("Chromium", str(e))


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_tool("Playwright (the Python package)", PYTHON_HINT)

    from sitegen.chromium import launch

    with sync_playwright() as p:
        b = launch(p, chromium_path)  # as sitegen starts it: sandbox where possible, a long start-up timeout
        yield b
        b.close()


@pytest.fixture(scope="session")
def mjml_validator() -> Path:
    """The official `mjml` command line (npm package in tools/mjml-validator) and the node that runs it."""
    require_tool("node", f"install Node.js and npm (Debian/Ubuntu: `apt-get install npm`), {SYSTEM_DEPS}")
    if not MJML.is_file():
        missing_tool("the MJML validator (tools/mjml-validator)", MJML_HINT)
    return MJML


# --- markers the fixtures imply ----------------------------------------------------------------------

FIXTURE_MARKERS = {"browser": "browser", "chromium_path": "browser", "mjml_validator": "node"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects
def pytest_collection_modifyitems(config, items):
    """A test that uses a browser or the MJML validator gets its marker even if the author forgot it, so that it
    never runs in `make test-fast`. (A test that starts Chromium in other ways must be marked by hand.)"""
    for item in items:
        for fixture, marker in FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None:
                item.add_marker(marker)


# --- sites ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def example_build(tmp_path_factory) -> Path:
    """The example hospital (repo root) built into a temporary folder; returns the build folder."""
    out = tmp_path_factory.mktemp("example") / "build"
    run(Project.at(REPO, out), BuildOptions(today=TODAY, outputs=("site",)))
    return out


@pytest.fixture()
def copy_site(tmp_path):
    """Copy a sample site (a folder under tests/sites/) to a temporary folder and return its path."""

    def _copy(name: str) -> Path:
        dest = tmp_path / name.replace("/", "_")
        shutil.copytree(SITES / name, dest, symlinks=True)
        return dest

    return _copy


@pytest.fixture(autouse=True)
def _english_messages(monkeypatch):
    """Tests read the CLI's English messages whatever the machine's locale; Japanese ones ask with --lang ja."""
    monkeypatch.setenv("SITEGEN_LANG", "en")


def pdf_chars(layout):
    """Every character (pdfminer LTChar) of a page laid out by pdfminer.high_level.extract_pages."""
    from pdfminer.layout import LTChar

    if isinstance(layout, LTChar):
        yield layout
    elif hasattr(layout, "__iter__"):
        for child in layout:
            yield from pdf_chars(child)


class Planted:
    """A pickle that, when loaded, creates `marker`: what a hostile file under .sitegen/ (committed to a repository,
    copied in) could do if sitegen unpickled it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))
