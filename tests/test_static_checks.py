"""The linter and the type checker pass on the whole tree (configured in pyproject.toml).

Both run as the project's own tools (`python -m ruff`, `python -m mypy`, installed by the
`test` extra) from the repository root, so they read the same settings as on the command line.
Marked slow: mypy takes a while without its cache.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_ruff() -> None:
    result = run_tool("ruff", "check", "generator", "tests", "bench")
    assert result.returncode == 0, f"ruff check failed:\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_mypy() -> None:
    result = run_tool("mypy")
    assert result.returncode == 0, f"mypy failed:\n{result.stdout}{result.stderr}"
