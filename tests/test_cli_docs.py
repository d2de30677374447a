"""CLI quality: every command has help with an example and is documented in the README with
every option; errors are one message (a traceback only with --debug); colours only on a terminal."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import TODAY
from sitegen.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, click.Command]:
    return dict(sorted(main.commands.items()))


def _options(command: click.Command) -> list[str]:
    """The long option names a user can type (--help left out), e.g. ['--source', '--port']."""
    names = []
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            longs = [o for o in param.opts + param.secondary_opts if o.startswith("--")]
            names.extend(longs[:1] or param.opts[:1])
    return names


def _sections() -> list[tuple[str, str]]:
    """(heading, text) of every README section, split at Markdown headings."""
    parts = re.split(r"^(#{2,4} .*)$", README, flags=re.M)
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _documented_for(name: str) -> str:
    """README text about one command: its rows in tables and the sections whose heading names it."""
    rows = [line for line in README.splitlines() if re.match(rf"\|\s*`sitegen {name}\b", line)]
    sections = [text for heading, text in _sections() if re.search(rf"`sitegen {name}\b", heading)]
    return "\n".join(rows + sections)


def test_every_command_and_option_is_in_the_readme():
    missing = []
    for name, command in _commands().items():
        if f"sitegen {name}" not in README:
            missing.append(f"command `sitegen {name}` is not in README.md")
            continue
        text = _documented_for(name)
        if not text:
            missing.append(f"`sitegen {name}` has no row in the Commands table (| `sitegen {name} …` |)")
        for option in _options(command):
            if not re.search(rf"{re.escape(option)}(?![\w-])", text):
                missing.append(f"`sitegen {name}`: option {option} is not in its Commands row or its README section")
    for option in _options(main):
        if option not in ("--version",) and not re.search(rf"{re.escape(option)}(?![\w-])", README):
            missing.append(f"global option {option} (sitegen {option} COMMAND) is not in README.md")
    assert missing == [], "\n".join(missing)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(main, [name, "--help"], color=False)
    assert result.exit_code == 0, result.output
    assert "Example" in result.output and f"sitegen {name}" in result.output
    for option in _options(main.commands[name]):
        assert option in result.output


def test_the_group_help_shows_examples():
    result = CliRunner().invoke(main, ["--help"], color=False)
    assert result.exit_code == 0 and "Example" in result.output and "--debug" in result.output


def _broken_site(copy_site) -> Path:
    root = copy_site("minimal")
    doctor = root / "content" / "doctors" / "yamada-taro.md"
    doctor.write_text(doctor.read_text(encoding="utf-8").replace("name:", "nmae:", 1), encoding="utf-8")
    return root


def test_colours_only_on_a_terminal(copy_site):
    root = _broken_site(copy_site)
    plain = CliRunner().invoke(main, ["build", "--source", str(root), "--only", "site", "--dry-run"], color=False)
    assert plain.exit_code == 1
    assert "content/doctors/yamada-taro.md:" in plain.output and "\x1b[" not in plain.output
    coloured = CliRunner().invoke(main, ["build", "--source", str(root), "--only", "site", "--dry-run"], color=True)
    assert "\x1b[" in coloured.output  # the same run on a terminal is coloured


def test_an_unexpected_error_is_one_line_unless_debug(copy_site, monkeypatch):
    import sitegen.cli

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(sitegen.cli, "run", broken)
    root = copy_site("minimal")
    result = CliRunner().invoke(main, ["build", "--source", str(root)], color=False)
    assert result.exit_code == 1
    assert "internal error: RuntimeError: something inside broke" in result.output
    assert "--debug" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["--debug", "build", "--source", str(root)], color=False)
    assert isinstance(result.exception, RuntimeError)  # re-raised: the traceback is shown


def test_a_content_error_is_listed_without_a_traceback(copy_site):
    result = CliRunner().invoke(main, ["build", "--source", str(_broken_site(copy_site))], color=False)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(r"content/doctors/yamada-taro\.md:\d+: ", result.output)


def test_build_quiet_verbose_and_summary(copy_site):
    root = copy_site("minimal")
    args = ["build", "--source", str(root), "--only", "site", "--date", TODAY.isoformat(), "--dry-run"]
    quiet = CliRunner().invoke(main, args + ["--quiet"], color=False)
    assert quiet.exit_code == 0 and quiet.output == ""
    normal = CliRunner().invoke(main, args, color=False)
    assert re.search(r"^built \d+ pages; \d+ warning\(s\); load [\d.]+s, site [\d.]+s$", normal.output, re.M), normal.output
    assert "site/index.html" not in normal.output
    verbose = CliRunner().invoke(main, args + ["--verbose"], color=False)
    assert "  site/index.html" in verbose.output and "  site/doctors/yamada-taro.html" in verbose.output
