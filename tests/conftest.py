"""Shared fixtures: the example site built once, sample sites, a real browser."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.project import Project

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"
TODAY = dt.date(2026, 11, 25)  # the example content is written for this date


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


@pytest.fixture(scope="session")
def chromium_path() -> str:
    from sitegen.chromium import find_browser

    return find_browser()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    from sitegen.chromium import LAUNCH_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=list(LAUNCH_ARGS))
        yield b
        b.close()
