"""Finding a Chromium to drive with Playwright.

Order: an explicit path (setting or $SITEGEN_CHROMIUM), then Playwright's own
downloaded browser, then the system's Chromium or Chrome. When none is found the
error says how to install one.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from sitegen.errors import SitegenError

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
SYSTEM_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    r"C:\Program Files (x86)\Google\Chrome\Application\chrome.exe",
)
LAUNCH_ARGS = (
    *(("--no-sandbox",) if hasattr(os, "geteuid") and os.geteuid() == 0 else ()),  # Chromium's sandbox refuses root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
LAUNCH_TIMEOUT_MS = 120_000
INSTALL_HINT = (
    "no Chromium browser found. Install one with `playwright install chromium`, or the system package "
    "(Debian/Ubuntu: `apt-get install chromium`; macOS: install Google Chrome), "
    "or set SITEGEN_CHROMIUM to the browser's path."
)


class BrowserNotFound(SitegenError):
    pass


def launch(playwright, executable: str):
    """Start Chromium with its sandbox where it can run (not as root; some containers cannot either:
    then again without it, which is what `--no-sandbox` in LAUNCH_ARGS means). A busy machine can need
    well over Playwright's default 30 s for the first start, so it waits longer and tries twice."""
    args = list(LAUNCH_ARGS)
    for attempt in (1, 2):
        try:
            return playwright.chromium.launch(executable_path=executable, args=args, timeout=LAUNCH_TIMEOUT_MS)
        except Exception as exc:  # noqa: BLE001 - Playwright's launch error names the cause only in its text
            text = str(exc).lower()
            if "sandbox" in text and "--no-sandbox" not in args:
                args = ["--no-sandbox", *args]
            elif "timeout" not in text or attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def find_browser(explicit: str | None = None) -> str:
    """Path of a Chromium executable, or BrowserNotFound with install instructions."""
    explicit = explicit or os.environ.get("SITEGEN_CHROMIUM")
    if explicit:
        if Path(explicit).is_file():
            return explicit
        raise BrowserNotFound(f"the browser set in SITEGEN_CHROMIUM / settings does not exist: {explicit}")
    own = _playwright_chromium()
    if own:
        return own
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in SYSTEM_PATHS:
        if Path(path).is_file():
            return path
    raise BrowserNotFound(INSTALL_HINT)


def _playwright_chromium() -> str | None:
    """The browser `playwright install chromium` downloaded, if any (without starting Playwright)."""
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    base = Path(root)
    if not base.is_dir():
        return None
    for candidate in sorted(base.glob("chromium-*/chrome-linux*/chrome"), reverse=True):
        if candidate.is_file():
            return str(candidate)
    for candidate in sorted(base.glob("chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium"), reverse=True):
        return str(candidate)
    return None
