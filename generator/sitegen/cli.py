"""The command line: parses options, calls the library, prints, picks the exit code.

This is the only module that prints or exits.
"""
from __future__ import annotations

import datetime as dt
import os
import sys

import click

from . import __version__
from .build import OUTPUTS, BuildOptions, run
from .errors import ContentError, SitegenError
from .project import Project


def build_date(value: str | None) -> dt.date:
    """The build's "today": --date, else SOURCE_DATE_EPOCH, else the clock."""
    if value:
        return dt.date.fromisoformat(value)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.date.today()


def _fail(lines: list[str], summary: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    click.secho(summary, fg="red", err=True)
    sys.exit(1)


def _show_warnings(warnings, quiet: bool) -> None:
    if quiet:
        return
    for w in warnings:
        click.secho(str(w), fg="yellow", err=True)


@click.group()
@click.version_option(__version__, prog_name="sitegen")
def main() -> None:
    """sitegen: a hospital liaison office's website, brochures and newsletters from one source.

    \b
    Example:
      sitegen build                 build site.yaml + content/ in this folder into build/
      sitegen build --source ../kouhou --out /tmp/preview
    """


@main.command()
@click.option("--source", "source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Site folder holding site.yaml, content/ and optionally themes/.")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False),
              help="Build folder (default: SOURCE/build).")
@click.option("--only", "only", multiple=True, type=click.Choice(sorted(OUTPUTS)),
              help="Build only this output (repeatable). Default: all.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Build as of this date (news publication, schedule expiry). Default: $SOURCE_DATE_EPOCH or today.")
@click.option("--strict", is_flag=True, help="Treat warnings and skipped outputs as errors.")
@click.option("--dry-run", is_flag=True, help="Check and render everything but write nothing.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def build(source, out, only, date, strict, dry_run, quiet):
    """Build the website, PDF brochures and newsletters into build/.

    \b
    Example:
      sitegen build
      sitegen build --only site --date 2026-04-01
    """
    project = Project.at(source, out)
    try:
        today = build_date(date)
    except ValueError:
        _fail([f"--date: expected YYYY-MM-DD, got {date!r}"], "build failed")
    options = BuildOptions(today=today, outputs=tuple(only) or tuple(OUTPUTS), dry_run=dry_run)
    try:
        report = run(project, options)
    except ContentError as exc:
        _show_warnings(exc.warnings, quiet)
        _fail(exc.lines(), f"build failed: {len(exc.errors)} problem(s); nothing was written")
    except SitegenError as exc:
        _fail([str(exc)], "build failed; nothing was written")
    _show_warnings(report.warnings, quiet)
    for entry in report.skipped:
        click.secho(f"{entry.name}: skipped: {entry.skipped}", fg="yellow", err=True)
    if not quiet:
        for entry in report.outputs.values():
            if not entry.skipped:
                where = "(dry run)" if dry_run else f"{project.out / entry.name}"
                click.echo(f"{entry.name}: {entry.files} files in {entry.seconds:.2f}s -> {where}")
        click.echo(f"{len(report.warnings)} warning(s); content loaded in {report.load_seconds:.2f}s")
    if report.skipped and (strict or only):
        sys.exit(1)  # an output that was asked for by name, or --strict, must not be skipped
    if strict and report.warnings:
        sys.exit(1)
