"""The `sitegen` program (`python -m sitegen`, the console script) is `cli.main` run in a process of its own: exit
codes and messages as the command gives them, and what is left alive at its end frozen for the interpreter's last
collections (`cli.program`)."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO

SCRIPT = """
import gc, sys
sys.path.insert(0, {generator!r})
from sitegen.cli import program
sys.argv = ["sitegen", *sys.argv[1:]]
try:
    program()
except SystemExit as exc:
    print("frozen" if gc.get_freeze_count() > 0 else "not frozen", file=sys.stderr)
    raise
"""


def _program(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT.format(generator=str(REPO / "generator")), *args],
                          capture_output=True, text=True, timeout=120)


def test_the_program_keeps_the_commands_exit_codes_and_freezes_what_is_left(tmp_path):
    ok = _program("--version")
    assert ok.returncode == 0 and "sitegen, version" in ok.stdout and "frozen" in ok.stderr.split()
    failed = _program("build", "--source", str(tmp_path / "nowhere"), "--lang", "en")
    assert failed.returncode == 1 and "no site.yaml" in failed.stderr
    assert failed.stderr.rstrip().endswith("frozen") and "not frozen" not in failed.stderr


def test_python_m_sitegen_runs_the_program(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sitegen", "build", "--source", str(tmp_path / "nowhere"),
                           "--lang", "en"], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(REPO / "generator"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1 and "no site.yaml" in done.stderr and "Traceback" not in done.stderr
