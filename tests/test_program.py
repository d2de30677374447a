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


def test_ctrl_c_while_the_program_starts_says_interrupted_and_exits_130(tmp_path):
    """Ctrl-C while the libraries are imported (a second or two): a fake `click` that is interrupted as it loads."""
    fake = tmp_path / "fake" / "click"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise KeyboardInterrupt\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "sitegen", "--version"], capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": f"{tmp_path / 'fake'}:{REPO / 'generator'}", "PATH": "/usr/bin:/bin",
                               "SITEGEN_LANG": "en"})
    assert done.returncode == 130, done
    assert done.stderr.strip() == "interrupted" and "Traceback" not in done.stderr


def test_an_error_while_cleaning_up_after_ctrl_c_still_exits_130(tmp_path, monkeypatch):
    """What a clean-up after Ctrl-C runs into (a folder a browser is still writing to) is not what stopped the
    command: it says `interrupted` and exits 130, not `stopped` and 1."""
    from click.testing import CliRunner

    from sitegen import cli

    def interrupted_then_failed(project, options):
        try:
            raise KeyboardInterrupt
        finally:
            raise OSError(39, "Directory not empty", "/tmp/sitegen-pdf-1-x")

    monkeypatch.setattr(cli, "run", interrupted_then_failed)
    (tmp_path / "site.yaml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli.main, ["build", "--source", str(tmp_path), "--date", "2026-11-25"])
    assert result.exit_code == 130 and "interrupted" in result.output, result.output
    assert "Directory not empty" not in result.output
