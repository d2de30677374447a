"""The command line: parses options, calls the library, prints, picks the exit code.

This is the only module that prints or exits.
"""
from __future__ import annotations

import datetime as dt
import gc
import os
import re
import sys
from typing import Any, NoReturn

import click

from sitegen import __version__
from sitegen.build import OUTPUTS, BuildOptions, run
from sitegen.errors import ContentError, SitegenError, disk_error
from sitegen.i18n import LANGUAGES, Messages, choose_language, help_texts
from sitegen.project import Project


def _messages() -> Messages:
    """The translator of this invocation (set by --lang / the locale on the main group)."""
    ctx = click.get_current_context(silent=True)
    found = ctx.find_root().meta.get("sitegen.messages") if ctx else None
    return found if isinstance(found, Messages) else Messages()


# what a terminal would act on instead of showing: the C0 controls but tab and line feed (ESC starts sequences that
# retitle the window or rewrite the screen, CR and BS overwrite what was printed), DEL, the C1 controls (U+009B is
# an ESC [) and the bidirectional overrides and isolates (they reorder what follows them on the line)
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every character a terminal would act on written as an escape (ESC as \\x1b, U+202E as \\u202e):
    messages quote content (a contact's label, a file name), which must never retitle or rewrite the reader's
    terminal."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                            text)


def _echo(message: str = "", **kw) -> None:
    """click.echo with every line in the reader's language, control characters made visible (`visible`)."""
    m = _messages()
    click.echo(visible("\n".join(m.line(line) for line in str(message).split("\n"))), **kw)


def _secho(message: str = "", **kw) -> None:
    m = _messages()
    click.secho(visible("\n".join(m.line(line) for line in str(message).split("\n"))), **kw)


# the dates a build can be "as of": the calendar, the schedules and the news look years ahead of "today", which the
# last dates Python knows (9999-12-31) leave no room for
FIRST_DATE, LAST_DATE = dt.date(1970, 1, 1), dt.date(2999, 12, 31)


class DateError(ValueError):
    """--date or SOURCE_DATE_EPOCH is not a date a build can use: the message says which and why."""


def build_date(value: str | None) -> dt.date:
    """The build's "today": --date, else SOURCE_DATE_EPOCH, else the clock. Raises DateError."""
    if value:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise DateError(f"--date: expected YYYY-MM-DD, got {value!r}") from None
        return _in_range(day, f"--date {value}")
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip():
        try:
            seconds = int(epoch.strip())
        except ValueError:
            raise DateError(f"SOURCE_DATE_EPOCH: expected whole seconds since 1970-01-01 (like 1764028800), got "
                            f"{epoch!r}; unset it, or give --date YYYY-MM-DD") from None
        try:
            day = dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).date()
        except (ValueError, OverflowError, OSError):
            raise DateError(f"SOURCE_DATE_EPOCH: {epoch} seconds is no date a build can use (from {FIRST_DATE} to "
                            f"{LAST_DATE}); unset it, or give --date YYYY-MM-DD") from None
        return _in_range(day, f"SOURCE_DATE_EPOCH {epoch.strip()} ({day})")
    return dt.date.today()


def _in_range(day: dt.date, given: str) -> dt.date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise DateError(f"{given}: expected a date from {FIRST_DATE} to {LAST_DATE}")
    return day


class ProgressBars:
    """Progress bars on stderr for long steps, one per stage, drawn as the library reports progress.

    click draws them only on a terminal; in CI and pipes they stay silent.
    """

    def __init__(self, enabled: bool, labels: dict[str, str]):
        self.enabled, self.labels = enabled, labels
        self.bars: dict[str, Any] = {}

    def update(self, stage: str, done: int, total: int, item: str) -> None:
        if not self.enabled or total < 2:
            return
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = click.progressbar(length=total, label=self.labels.get(stage, stage),
                                                       file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    def __enter__(self) -> "ProgressBars":
        return self

    def __exit__(self, *exc) -> None:
        for bar in self.bars.values():
            if bar.pos < bar.length:
                bar.__exit__(None, None, None)


def _date_option(date: str | None, failed: str) -> dt.date:
    """--date as a date (default: SOURCE_DATE_EPOCH or today), or a one-line error."""
    try:
        return build_date(date)
    except DateError as exc:
        _fail([str(exc)], failed)


def _site_folder(source: str, failed: str) -> Project:
    """The site in `source`, or a one-line error when it holds no site.yaml."""
    project = Project.at(source)
    if not project.site_file.is_file():
        _fail([f"no site.yaml in {project.root}: is this a sitegen site folder? (a new one: sitegen init DIR)"],
              failed)
    return project


def _fail(lines: list[str], summary: str) -> NoReturn:
    for line in lines:
        _echo(line, err=True)
    _secho(summary, fg="red", err=True)
    sys.exit(1)


def _show_warnings(warnings, quiet: bool) -> None:
    if quiet:
        return
    for w in warnings:
        _secho(str(w), fg="yellow", err=True)


class _Translated:
    """--help in the reader's language (Japanese for a Japanese locale or `--lang ja`): the command's text, its options'
    and, for a group, its commands' are swapped for their translations while the help is written."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        root = ctx.find_root()
        table = help_texts(choose_language(root.meta.get("sitegen.lang") or root.params.get("lang")))
        things: list = [self, *(p for p in self.get_params(ctx) if isinstance(p, click.Option))]  # type: ignore[attr-defined]
        if isinstance(self, click.Group):
            things += list(self.commands.values())
        saved = [(thing, thing.help) for thing in things]
        try:
            for thing, text in saved:
                if text:
                    thing.help = table.get(text, text)
            super().format_help(ctx, formatter)  # type: ignore[misc]
        finally:
            for thing, text in saved:
                thing.help = text


class _Command(_Translated, click.Command):
    pass


class _Group(_Translated, click.Group):
    """Turns any error into one clear line (a traceback only with --debug or SITEGEN_DEBUG=1).

    `--lang` may be written after the command too (`sitegen build --lang en`): it is moved to the front.
    """

    command_class = _Command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args, hoisted, i = list(args), [], 0
        while i < len(args) and args[i] != "--":
            if args[i] == "--lang" and i + 1 < len(args):
                hoisted += args[i:i + 2]
                del args[i:i + 2]
            elif args[i].startswith("--lang="):
                hoisted.append(args.pop(i))
            else:
                i += 1
        if hoisted:  # known before --help is answered (it is eager)
            ctx.meta["sitegen.lang"] = hoisted[-1].split("=", 1)[-1]
        return super().parse_args(ctx, hoisted + args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            _secho("interrupted", fg="red", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the one place that decides how an error looks
            if ctx.params.get("debug") or os.environ.get("SITEGEN_DEBUG"):
                raise
            if _after_interrupt(exc):  # cleaning up after Ctrl-C failed (a browser still writing its folder)
                _secho("interrupted", fg="red", err=True)
                sys.exit(130)
            if isinstance(exc, ContentError):
                _fail(exc.lines(), f"{len(exc.errors)} problem(s)")
            if isinstance(exc, SitegenError):
                _fail([str(exc)], "stopped")
            refused = disk_error(exc, exc.filename if isinstance(exc, OSError) and exc.filename else "the disk")
            if refused is not None:  # full, read-only, not ours: what was being written is named where it is known
                _fail([str(refused)], "stopped")
            if isinstance(exc, OSError) and exc.filename:
                _fail([f"{exc.filename}: {exc.strerror or exc}"], "stopped")
            _fail([f"internal error: {type(exc).__name__}: {exc}"],
                  "this is a bug in sitegen; run the command again with --debug and report what it prints")


def _after_interrupt(exc: BaseException) -> bool:
    """Whether `exc` was raised while a Ctrl-C (KeyboardInterrupt) was being handled: what stops the command is the
    interruption, whatever the clean-up then ran into."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__context__ or current.__cause__
    return False


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="sitegen")
@click.option("--debug", is_flag=True, help="Show the full traceback of an unexpected error (or set SITEGEN_DEBUG=1).")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the messages: ja or en. Default: SITEGEN_LANG, else the locale (LANG=ja_JP.UTF-8 → ja), else en.")
@click.pass_context
def main(ctx: click.Context, debug, lang) -> None:
    """sitegen: a hospital liaison office's website, brochures and newsletters from one source.

    \b
    Example:
      sitegen build                 build site.yaml + content/ in this folder into build/
      sitegen build --source ../kouhou --out /tmp/preview
      sitegen serve                 preview while you edit, at http://127.0.0.1:8000/
      sitegen new doctor sato-hanako
      sitegen init ../sakura-renkei

    Run `sitegen COMMAND --help` for each command's options.
    """
    ctx.meta["sitegen.messages"] = Messages.for_language(choose_language(lang))


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
@click.option("--verbose", "-v", is_flag=True, help="Also list every file each output made.")
@click.option("--browser", "browser", default=None, metavar="PATH", type=click.Path(dir_okay=False),
              help="Chromium or Chrome to print the PDF brochures with (default: $SITEGEN_CHROMIUM, "
                   "Playwright's, then the system's).")
@click.option("--press", is_flag=True, help="Also write print-shop PDFs to build/pdf/press/ (3 mm bleed, crop marks).")
@click.option("--clean", is_flag=True, help="Forget what earlier builds kept in .sitegen/ and write every file anew.")
def build(source, out, only, date, strict, dry_run, quiet, verbose, browser, press, clean):
    """Build the website, PDF brochures and newsletters into build/.

    \b
    Example:
      sitegen build
      sitegen build --only site --date 2026-04-01
      sitegen build --only pdf --press
    """
    project = Project.at(source, out)
    today = _date_option(date, "build failed")
    bars = ProgressBars(not quiet, {"pdf": "printing PDFs"})
    options = BuildOptions(today=today, outputs=tuple(only) or tuple(OUTPUTS), dry_run=dry_run,
                           browser=browser, press=press, clean=clean, progress=bars.update)
    try:
        with bars:
            report = run(project, options)
    except ContentError as exc:
        _show_warnings(exc.warnings, quiet)
        _fail(exc.lines(), f"build failed: {len(exc.errors)} problem(s); nothing was written")
    except SitegenError as exc:
        _show_warnings(getattr(exc, "warnings", []), quiet)  # found before the stage that failed: still shown
        _fail([str(exc)], "build failed; nothing was written")
    _show_warnings(report.warnings, quiet)
    for entry in report.skipped:
        _secho(f"{entry.name}: skipped: {entry.skipped}", fg="yellow", err=True)
    for entry in report.failed:
        kept = "nothing was written" if dry_run else f"{entry.name}/ keeps the previous files; the other outputs were built"
        _secho(f"{entry.name}: failed: {entry.failed.removeprefix(entry.name + ': ')} ({kept})", fg="red", err=True)
    if not quiet:
        for entry in report.outputs.values():
            if not entry.skipped and not entry.failed:
                where = "(dry run)" if dry_run else f"{project.out / entry.name}"
                same = f" ({entry.unchanged} unchanged)" if entry.unchanged else ""
                if entry.kept:  # pages and whole-site files whose inputs did not change since the last build
                    same = f" ({entry.unchanged} unchanged, {entry.kept} of them not rendered again)"
                _echo(f"{entry.name}: {entry.files} files{same} in {entry.seconds:.2f}s -> {where}")
                if verbose:
                    for artifact in report.artifacts.get(entry.name, ()):
                        _echo(f"  {entry.name}/{artifact.path}")
        _secho(_build_summary(report), bold=True)
    if report.failed:
        sys.exit(1)
    if report.skipped and (strict or only):
        sys.exit(1)  # an output that was asked for by name, or --strict, must not be skipped
    if strict and report.warnings:
        sys.exit(1)


@main.command("check")
@click.option("--source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Site folder holding site.yaml, content/ and optionally themes/.")
@click.option("--strict", is_flag=True, help="Fail on warnings too (not only on errors).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json (a list of findings) for CI and tools.")
@click.option("--external", is_flag=True, help="Also check external http(s) links (needs the internet).")
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1, max=120),
              help="Seconds to wait for each external link.")
@click.option("--skip", "skip", multiple=True, type=click.Choice(["ad", "links", "a11y", "recipients"]),
              help="Leave out one kind of check (repeatable).")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Check as of this date (news publication, schedule expiry). Default: $SOURCE_DATE_EPOCH or today.")
@click.option("--verbose", "-v", is_flag=True, help="Also list accepted exceptions (ad_review) and what was skipped.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and the summary line.")
@click.option("--changed", is_flag=True,
              help="Run axe-core only on pages changed since the last --changed check (and pages that had findings); "
                   "keeps page hashes in .sitegen/a11y.json.")
def check(source, strict, fmt, external, timeout, skip, date, verbose, quiet, changed):
    """Check everything before publishing: content, 医療広告ガイドライン, links, accessibility, partner list.

    Builds the website in memory (writes nothing), then reports every finding
    as file:line with the rule, why and how to fix it. Exit code 1 when there is
    an error (or, with --strict, a warning). A reviewed wording is accepted with
    an ad_review entry in the file's fields.

    \b
    Example:
      sitegen check
      sitegen check --strict --format json > check.json
      sitegen check --external --skip a11y
    """
    import json

    from sitegen.check.run import CheckOptions, run_check

    project = _site_folder(source, "nothing to check")
    today = _date_option(date, "nothing to check")
    options = CheckOptions(today=today, external=external, timeout=timeout, skip=frozenset(skip), changed=changed)
    bars = ProgressBars(fmt == "text" and not quiet,
                        {"a11y": "accessibility (axe-core)", "external": "external links"})
    with bars:
        report = run_check(project, options, bars.update)
    failed = report.failed(strict)
    if fmt == "json":
        # json escapes the C0 controls itself; DEL, the C1 controls and the bidi overrides as \\u escapes too
        click.echo(_UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}",
                                    json.dumps(report.as_dict(), ensure_ascii=False, indent=2)))
        sys.exit(1 if failed else 0)
    colours = {"error": "red", "warning": "yellow", "info": None}
    for f in report.findings:
        if f.severity == "info" and not verbose:
            continue
        if quiet and f.severity != "error":
            continue
        _secho(str(f), fg=colours[f.severity], err=f.severity != "info")
        if f.hint and not quiet:
            _echo(f"    fix: {f.hint}", err=f.severity != "info")
    if verbose:
        for stage, why in report.skipped.items():
            _echo(f"skipped {stage}: {why}")
    s = report.stats
    parts = [f"{s.get('pages', 0)} pages", f"{s.get('texts', 0)} texts", f"{s.get('links', 0)} links"]
    if "a11y_pages" in s:
        parts.append(f"{s['a11y_pages']} pages through axe-core")
    accepted = report.count("info")
    summary = (f"{report.count('error')} error(s), {report.count('warning')} warning(s)"
               + (f", {accepted} accepted" if accepted else "") + f" ({', '.join(parts)})")
    if failed:
        _secho(summary + ("; --strict: warnings count" if strict and not report.errors else ""), fg="red", err=True)
        sys.exit(1)
    _secho(summary, fg="green" if not report.warnings else "yellow")


def _build_summary(report) -> str:
    """One line: what was made, warnings, and the time each step took."""
    m = _messages()
    counts = [m(f"{n} {what}") for what, n in report.counts.items()]
    times = [f"load {report.load_seconds:.2f}s"] + [f"{e.name} {e.seconds:.2f}s" for e in report.outputs.values() if not e.skipped and not e.failed]
    return f"built {('、' if m.lang == 'ja' else ', ').join(counts) or 'nothing'}; {len(report.warnings)} warning(s); {', '.join(times)}"


def _send_summary(plan, journal_path: str | None) -> None:
    m = plan.manifest
    _echo(f"{m.series} 第{m.number}号「{m.subject}」 from {m.from_name} <{m.from_address}>")
    _echo(f"recipients: {plan.recipients_path}")
    for w in plan.warnings:
        _secho(w, fg="yellow", err=True)
    if plan.invalid:
        _secho(f"{len(plan.invalid)} invalid address(es), not sent:", fg="yellow", err=True)
        for row in plan.invalid:
            _secho(f"  {plan.recipients_path}:{row.line}: {row.address!r}: {row.reason}", fg="yellow", err=True)
    if plan.unclear:
        _secho(f"{len(plan.unclear)} row(s) without recorded consent, not sent (特定電子メール法):", fg="yellow", err=True)
        for p in plan.unclear:
            _secho(f"  {plan.recipients_path}:{p.line}: {p.email}: {p.unclear}", fg="yellow", err=True)
    for reason, count in sorted(plan.skipped.items()):
        _echo(f"skipped: {count} {reason}")
    if plan.ambiguous:
        _show_ambiguous(plan.ambiguous, journal_path)
    _secho(f"to send: {len(plan.to_send)}", bold=True)


def _show_ambiguous(addresses, journal_path: str | None) -> None:
    _secho(f"{len(addresses)} ambiguous (in flight when an earlier run stopped; the server may have it):",
                fg="yellow", err=True)
    for a in addresses:
        _secho(f"  {a}", fg="yellow", err=True)
    _secho("  check the mail server's log, then run again with --resolve-ambiguous sent (it arrived) "
                "or --resolve-ambiguous resend, or one address at a time: --resolve-ambiguous ADDRESS=sent",
                fg="yellow", err=True)


@main.command()
@click.argument("issue")
@click.option("--source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Site folder holding site.yaml, content/ and build/.")
@click.option("--recipients", default=None, type=click.Path(dir_okay=False),
              help="Partner list (CSV or YAML) inside the site folder. Default: newsletter.recipients in site.yaml.")
@click.option("--segment", "segments", multiple=True, metavar="KEY=VALUE",
              help="Only partners with this area, specialty, registered or status (repeatable).")
@click.option("--dry-run", is_flag=True, help="Write one .eml per recipient to a folder; send nothing.")
@click.option("--out-dir", default=None, type=click.Path(file_okay=False),
              help="Folder for --dry-run (default: SOURCE/.sitegen/dry-run/ISSUE).")
@click.option("--test-to", default=None, metavar="ADDRESS", help="Send one real message to this address only.")
@click.option("--rate", default=None, type=click.FloatRange(min=0.01, max=1000),
              help="Messages per second (default: smtp.rate in site.yaml).")
@click.option("--resolve-ambiguous", "resolve_ambiguous", multiple=True, metavar="[ADDRESS=]sent|resend",
              help="After checking the server's log: mark ambiguous recipients as sent, or send to them again; "
                   "ADDRESS=sent decides for one address (repeatable).")
@click.option("--build", "build_dir", default=None, type=click.Path(file_okay=False),
              help="The build folder the issue was built into (default: SOURCE/build; see build --out).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation before sending.")
def send(issue, source, recipients, segments, dry_run, out_dir, test_to, rate, resolve_ambiguous, build_dir, yes):
    """Mail a built newsletter issue to the partner list, exactly once per recipient.

    \b
    Example:
      sitegen send 2026-11-no2 --dry-run
      sitegen send 2026-11-no2 --test-to me@example.jp
      sitegen send 2026-11-no2 --segment area=港区 --rate 2
      sitegen send 2026-11-no2 --resolve-ambiguous yamada@clinic.example.jp=sent
    """
    from sitegen.content.fields import is_valid_address
    from sitegen.content.partners import parse_segments
    from sitegen.send import run as sender

    project = Project.at(source, build_dir)
    decisions = []
    for spec in resolve_ambiguous:
        address, _, decision = spec.rpartition("=")
        if decision not in ("sent", "resend") or (address and not is_valid_address(address)):
            _fail([f"--resolve-ambiguous {spec!r}: expected sent, resend, or ADDRESS=sent|resend"], "nothing was sent")
        decisions.append((address or None, decision))
    if sum(map(bool, (dry_run, test_to, resolve_ambiguous))) > 1:
        _fail(["--dry-run, --test-to and --resolve-ambiguous cannot be combined"], "nothing was sent")
    if out_dir and not dry_run:
        _fail(["--out-dir only goes with --dry-run"], "nothing was sent")
    if test_to and not is_valid_address(test_to):
        _fail([f"--test-to: not a valid e-mail address: {test_to!r}"], "nothing was sent")
    try:
        segs = parse_segments(segments)
    except ValueError as exc:
        _fail([str(exc)], "nothing was sent")
    now = dt.datetime.now(sender.JST)
    bar = None

    def confirm(plan, where: str) -> bool:
        nonlocal bar
        if not yes and not click.confirm(f"Send to {len(plan.to_send)} recipient(s) through {where}?", default=False):
            return False
        bar = click.progressbar(length=len(plan.to_send), label="sending", file=sys.stderr, item_show_func=lambda a: a or "")
        bar.__enter__()
        return True

    try:
        if dry_run or test_to:
            plan = sender.preview(project, issue, recipients=recipients, segments=segs)
            _send_summary(plan, None)
            if dry_run:
                folder = sender.dry_run_dir(project, issue, out_dir)
                written = sender.dry_run(plan, folder, now)
                _echo(f"dry run: wrote {len(written)} message(s) to {folder}; nothing was sent")
                return
            smtp = sender.SmtpConfig.from_settings(plan.smtp, os.environ, project.root)
            mid = sender.send_test(plan, smtp, test_to, now)
            _echo(f"test message {mid} accepted by {smtp.where} for {test_to}; the journal is unchanged")
            return
        try:
            outcome = sender.run(project, issue, recipients=recipients, segments=segs, rate=rate,
                                 resolve_ambiguous=decisions, show=_send_summary, confirm=confirm,
                                 progress=lambda done, total, address, result: bar.update(1, address) if bar else None)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
    except click.exceptions.Abort:
        _fail([], "not confirmed; nothing was sent (use --yes to send without asking)")
    except KeyboardInterrupt:
        _fail(["interrupted"], "run the same command again to continue; nobody accepted is mailed twice, "
              "and a message that was in flight is reported as ambiguous")
    except ContentError as exc:
        _fail(exc.lines(), f"{len(exc.errors)} problem(s); nothing was sent")
    except SitegenError as exc:
        _fail([str(exc)], "nothing was sent")
    for decision, verb in (("sent", "marked as sent"), ("resend", "will be sent again")):
        chosen = [a for a, d in outcome.resolved if d == decision]
        if chosen:
            _echo(f"{len(chosen)} ambiguous recipient(s) {verb}" + "".join(f"\n  {a}" for a in chosen))
    if not outcome.confirmed:
        _fail([], "not confirmed; nothing was sent (use --yes to send without asking)")
    if outcome.report is None:
        _echo("nothing to send")
        sys.exit(1 if outcome.plan.ambiguous or outcome.plan.unclear else 0)
    _send_report(outcome.report, outcome.journal, unclear=len(outcome.plan.unclear))


def _send_report(report, journal_path: str, unclear: int = 0) -> None:
    skipped = sum(report.skipped.values())
    _echo(f"sent: {report.sent}  skipped: {skipped}  failed: {len(report.failed)}  "
               f"bounced: {len(report.bounced)}  ambiguous: {len(report.ambiguous)}  "
               + (f"not tried: {report.not_tried}  " if report.stopped else "")
               + f"({report.seconds:.1f}s, {report.retries} retries)")
    for address, error in report.bounced:
        _secho(f"bounced (never retried): {address}: {error}", fg="yellow", err=True)
    for address, error in report.failed:
        _secho(f"failed (tried again on the next run): {address}: {error}", fg="red", err=True)
    if report.ambiguous:
        _show_ambiguous(report.ambiguous, journal_path)
    _echo(f"journal: {journal_path}/journal.sqlite")
    if report.stopped:
        _fail([f"stopped early: {report.stopped}"], "run the same command again to continue; nobody is mailed twice")
    if unclear:
        _secho(f"{unclear} row(s) of the partner list have no recorded consent and were not mailed; "
                    "see the list above", fg="yellow", err=True)
    if report.failed or report.ambiguous or unclear:
        sys.exit(1)


def _mailbox_options(func):
    """--maildir / --mbox / --imap and the IMAP details, shared by `bounces` and `unsubscribes`."""
    options = [
        click.option("--maildir", default=None, type=click.Path(file_okay=False),
                     help="Read this Maildir folder (the one with cur/ and new/)."),
        click.option("--mbox", default=None, type=click.Path(dir_okay=False), help="Read this mbox file."),
        click.option("--imap", "imap_host", default=None, metavar="HOST",
                     help="Read a folder on this IMAP server over TLS; login from SITEGEN_IMAP_USER and "
                          "SITEGEN_IMAP_PASSWORD."),
        click.option("--imap-port", default=993, show_default=True, type=click.IntRange(1, 65535),
                     help="IMAP port (TLS from the start)."),
        click.option("--imap-folder", default="INBOX", show_default=True, help="IMAP folder to read."),
        click.option("--imap-ca-file", default=None, type=click.Path(dir_okay=False),
                     help="CA certificate (PEM) of an IMAP server with its own certificate authority."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _mailbox_source(maildir, mbox, imap_host, imap_port, imap_folder, imap_ca_file):
    """The mailbox named by the options, or None when none is."""
    from pathlib import Path

    from sitegen.send.mailbox import ImapSource, Source

    given = [x for x in (maildir, mbox, imap_host) if x]
    if len(given) > 1:
        _fail(["name one mailbox: --maildir, --mbox or --imap"], "nothing was read")
    if not given:
        return None
    if imap_host:
        return Source(imap=ImapSource(imap_host, imap_port, imap_folder, imap_ca_file))
    return Source(maildir=Path(maildir)) if maildir else Source(mbox=Path(mbox))


def _one_action(actions: dict[str, bool], usage: str) -> None:
    chosen = [name for name, given in actions.items() if given]
    if len(chosen) != 1:
        _fail([f"{' and '.join(chosen)} cannot be combined; {usage}" if chosen else usage], "nothing was done")


@main.command("bounces")
@click.option("--source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Site folder holding site.yaml and the send journal (.sitegen/send/).")
@click.option("--recipients", default=None, type=click.Path(dir_okay=False),
              help="Partner list (CSV or YAML) inside the site folder. Default: newsletter.recipients in site.yaml.")
@_mailbox_options
@click.option("--list", "show_list", is_flag=True, help="Show the recorded bounces (address, issue, date, error).")
@click.option("--clear", "clear", multiple=True, metavar="ADDRESS",
              help="Forget the bounce of this address: it is mailed again in later issues (repeatable).")
def bounces(source, recipients, maildir, mbox, imap_host, imap_port, imap_folder, imap_ca_file, show_list, clear):
    """Record bounce messages from the office's mailbox in the send journal.

    A relay accepts every recipient and reports an unknown address later, as a
    bounce message. This reads those messages (nothing is deleted, moved or
    marked read) and records each address that failed permanently; later issues
    skip it. Temporary failures and auto-replies (不在通知) are not recorded.
    Reading the same mailbox again records nothing new.

    \b
    Example:
      sitegen bounces --maildir ~/Maildir/.bounces
      sitegen bounces --imap mail.example.jp --imap-folder 配信エラー
      sitegen bounces --list
      sitegen bounces --clear yamada@clinic.example.jp
    """
    from sitegen.send import bounces as bounce_mail
    from sitegen.send import mailbox
    from sitegen.send.inbox import load_context

    project = _site_folder(source, "nothing was read")
    where = _mailbox_source(maildir, mbox, imap_host, imap_port, imap_folder, imap_ca_file)
    _one_action({"a mailbox": where is not None, "--list": show_list, "--clear": bool(clear)},
                "give a mailbox (--maildir, --mbox or --imap), --list or --clear ADDRESS")
    try:
        if show_list:
            rows = bounce_mail.listed(project)
            _echo(f"{len(rows)} bounced address(es) in {project.rel(project.root / '.sitegen/send')}/journal.sqlite"
                       + (":" if rows else ""))
            for b in rows:
                _echo(f"  {b.address}  issue {b.issue or '-'}  {b.recorded}  {b.error}")
            return
        context = load_context(project, recipients)
        _show_warnings(context.warnings, False)
        if clear:
            for address in clear:
                done = bounce_mail.clear(project, context, address)
                if not done.removed and not done.issues:
                    _secho(f"{done.address} was not recorded as bounced; nothing changed", fg="yellow", err=True)
                    continue
                again = f"; sending {', '.join(done.issues)} again mails it too" if done.issues else ""
                _echo(f"cleared {done.address}: it is mailed again from the next issue{again}")
                if done.list_line:
                    _secho(f"  but {context.partners.path}:{done.list_line} says bounced, and the list wins: "
                                "change that row to subscribed too", fg="yellow", err=True)
            return
        assert where is not None
        result = bounce_mail.scan(project, context, mailbox.read(where, os.environ))
    except SitegenError as exc:
        _fail([str(exc)], "stopped; what was recorded before the problem stays recorded")
    _echo(f"read {result.read} message(s) from {where.describe()}"
               + (f" ({result.already_read} already read before)" if result.already_read else ""))
    _secho(f"recorded {len(result.recorded)} hard bounce(s)" + ("; later issues skip them:" if result.recorded else ""),
                bold=True)
    for r in result.recorded:
        _echo(f"  {r.address}  issue {r.issue or '-'}  {r.error}")
    if result.known:
        _echo(f"already recorded: {len(result.known)}")
    if result.temporary:
        _echo(f"temporary failures, not recorded (the address may work again): {', '.join(sorted(set(result.temporary)))}")
    if result.not_ours:
        _echo(f"not on the partner list or in the journal, ignored: {', '.join(sorted(set(result.not_ours)))}")
    if result.auto_replies:
        _echo(f"auto-replies (不在通知 …), not bounces: {result.auto_replies}")
    if result.other:
        _echo(f"other messages (no bounce found in them): {len(result.other)}")


@main.command("unsubscribes")
@click.argument("files", nargs=-1, metavar="[import FILE…]")
@click.option("--source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Site folder holding site.yaml and the send journal (.sitegen/send/).")
@click.option("--recipients", default=None, type=click.Path(dir_okay=False),
              help="Partner list (CSV or YAML) inside the site folder. Default: newsletter.recipients in site.yaml.")
@_mailbox_options
@click.option("--list", "show_list", is_flag=True, help="Show the recorded opt-outs.")
@click.option("--clear", "clear", multiple=True, metavar="ADDRESS",
              help="Forget the opt-out of this address (only after the clinic agreed again; repeatable).")
def unsubscribes(files, source, recipients, maildir, mbox, imap_host, imap_port, imap_folder, imap_ca_file, show_list,
                 clear):
    """Record opt-outs in the send journal: every later issue skips them.

    `import FILE` reads the store of the one-click endpoint (JSON lines, the file
    SITEGEN_UNSUBSCRIBE_STORE of sitegen.send.unsubscribe_app); a mailbox option
    reads replies to the mailto link (subject unsubscribe-TOKEN). Tokens are traced
    back to addresses with SITEGEN_UNSUBSCRIBE_SECRET and the partner list, which
    is never rewritten. Unknown (forged) tokens are counted, not recorded.

    \b
    Example:
      sitegen unsubscribes import unsubscribes.jsonl
      sitegen unsubscribes --maildir ~/Maildir/.teishi
      sitegen unsubscribes --list
      sitegen unsubscribes --clear yamada@clinic.example.jp
    """
    from pathlib import Path

    from sitegen.send import mailbox
    from sitegen.send import unsubscribes as optouts
    from sitegen.send.inbox import load_context

    if files and (files[0] != "import" or len(files) < 2):
        _fail([f"unexpected {' '.join(files)!r}: write `sitegen unsubscribes import FILE`"], "nothing was read")
    project = _site_folder(source, "nothing was read")
    where = _mailbox_source(maildir, mbox, imap_host, imap_port, imap_folder, imap_ca_file)
    _one_action({"import": bool(files), "a mailbox": where is not None, "--list": show_list, "--clear": bool(clear)},
                "give `import FILE`, a mailbox (--maildir, --mbox or --imap), --list or --clear ADDRESS")
    try:
        if show_list:
            rows = optouts.listed(project)
            _echo(f"{len(rows)} opt-out(s) in {project.rel(project.root / '.sitegen/send')}/journal.sqlite"
                       + (":" if rows else ""))
            for u in rows:
                _echo(f"  {u.address}  {u.via}  asked {u.requested or '-'}  recorded {u.recorded}")
            return
        if clear:
            for address in clear:
                if optouts.clear(project, address):
                    _echo(f"cleared {address.strip().lower()}: it is mailed again from the next issue "
                               "(keep the clinic's new consent on record)")
                else:
                    _secho(f"{address} had not opted out here; nothing changed", fg="yellow", err=True)
            return
        context = load_context(project, recipients)
        _show_warnings(context.warnings, False)
        secret = optouts.secret_from(os.environ)
        if files:
            paths = [Path(f) for f in files[1:]]
            result = optouts.import_store(project, context, paths, secret)
            what = f"{result.read} entr(ies) from {', '.join(str(p) for p in paths)}"
        else:
            assert where is not None
            result = optouts.import_mail(project, context, mailbox.read(where, os.environ), secret)
            what = f"{result.read} message(s) from {where.describe()}" + (
                f" ({result.already_read} already read before)" if result.already_read else "")
    except SitegenError as exc:
        _fail([str(exc)], "stopped; what was recorded before the problem stays recorded")
    _echo(f"read {what}")
    _secho(f"recorded {len(result.recorded)} opt-out(s)" + ("; later issues skip them:" if result.recorded else ""),
                bold=True)
    for u in result.recorded:
        _echo(f"  {u.address}  {u.via}  asked {u.requested or '-'}")
    if result.already:
        _echo(f"already recorded: {len(result.already)}")
    _echo(f"unknown tokens: {result.unknown} (forged, unsigned, for an address no longer on the list, "
               "or signed with another secret; not recorded)")
    if result.malformed:
        _echo(f"malformed: {result.malformed}")
    if result.without_token:
        _secho(f"{len(result.without_token)} request(s) without a token; check them by hand (a sender can be "
                    "forged), then set the row's status to unsubscribed:", fg="yellow", err=True)
        for sender, place in result.without_token:
            _secho(f"  {sender}  ({place})", fg="yellow", err=True)
    if result.unmatched:
        _secho(f"{len(result.unmatched)} mail request(s) whose token matches nobody (a reply to an issue sent "
                    "before the tokens were signed, or forged); check them by hand:", fg="yellow", err=True)
        for sender, place in result.unmatched:
            _secho(f"  {sender}  ({place})", fg="yellow", err=True)
    if result.other:
        _echo(f"other messages (auto-replies, bounces, other mail): {result.other}")


@main.command("new")
@click.argument("kind", type=click.Choice(["department", "doctor", "guide", "equipment", "pathway", "news", "newsletter",
                                          "schedule"]))
@click.argument("name", required=False)
@click.option("--source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Site folder holding site.yaml and content/.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Today's date for news and newsletters. Default: $SOURCE_DATE_EPOCH or today.")
def new(kind, name, source, date):
    """Write a new content file with every field, commented in Japanese.

    KIND is department, doctor, guide, news, newsletter or schedule; NAME is the file's id
    (lowercase letters, digits, hyphens). The file builds as written: replace
    the 「（…を入力）」 placeholders. An existing file is never replaced.
    `new newsletter` drafts the next issue from what changed since the last one
    (NAME is optional there).

    \b
    Example:
      sitegen new doctor sato-hanako
      sitegen new news nenmatsu          -> content/news/2026-12-01-nenmatsu.md
      sitegen new newsletter
      sitegen new schedule naika         -> content/schedules/naika.yaml
    """
    from sitegen.scaffold import new_file, write_new

    project = Project.at(source)
    today = _date_option(date, "nothing was written")
    try:
        path, text = new_file(project, kind, name, today)
        write_new(path, text)
    except ContentError as exc:
        _fail(exc.lines(), f"{len(exc.errors)} problem(s) in the site; fix them first; nothing was written")
    except SitegenError as exc:
        _fail([str(exc)], "nothing was written")
    _echo(f"wrote {project.rel(path)}")
    _echo("fill in the fields marked 「（…を入力）」, then look at it with `sitegen serve` or `sitegen build`")


@main.command("init")
@click.argument("directory", type=click.Path(file_okay=True))
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Start date of the sample schedule and news. Default: $SOURCE_DATE_EPOCH or today.")
def init(directory, date):
    """Create a small new site for another hospital in DIRECTORY (new or empty).

    It has site.yaml, one department, doctor, schedule, guide and news item, the
    qualification list and a placeholder logo, all commented in Japanese, and
    uses the theme packaged with sitegen.

    \b
    Example:
      sitegen init ../sakura-renkei
      cd ../sakura-renkei && sitegen serve
    """
    from pathlib import Path

    from sitegen.scaffold import init_site

    today = _date_option(date, "nothing was written")
    try:
        written = init_site(Path(directory), today)
    except SitegenError as exc:
        _fail([str(exc)], "nothing was written")
    root = Path(directory).resolve()
    _echo(f"created a new site in {root} ({len(written)} files):")
    for path in written:
        _echo(f"  {path.relative_to(root).as_posix()}")
    _echo("next: edit site.yaml (hospital, contacts), replace content/images/logo.png, then "
               f"`sitegen serve --source {directory}`")


def _stop_on_terminate() -> None:
    import signal
    import threading

    def interrupt(signum, frame) -> NoReturn:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


@main.command("serve")
@click.option("--source", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Site folder holding site.yaml, content/ and optionally themes/.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Keep 127.0.0.1: the preview shows drafts and has no login.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests addressed to this host name (with --host; repeatable). Others are refused.")
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in the default web browser.")
@click.option("--date", "date", default=None, metavar="YYYY-MM-DD",
              help="Preview as of this date (news publication, schedule expiry). Default: $SOURCE_DATE_EPOCH or today.")
def serve(source, port, host, allow_hosts, open_browser, date):
    """Preview the site while you edit: rebuilds on save and reloads the browser.

    Watches site.yaml, content/ and themes/. Mistakes in the content are shown
    over the page (file:line: message) until they are fixed. Newsletters are at
    /__sitegen/mail/ (desktop and phone width), brochures at /__sitegen/pdf/.
    Nothing is written to build/. Stop with Ctrl-C.

    \b
    Example:
      sitegen serve
      sitegen serve --source ../sakura-renkei --port 8080 --open
    """
    import webbrowser

    from sitegen import serve as preview_server

    project = _site_folder(source, "nothing to serve")
    today = _date_option(date, "nothing to serve")
    ctx = click.get_current_context()
    messages = _messages()

    def report(r) -> None:
        with ctx:  # called from the watcher's thread: the messages' language lives in the context
            _report(r)

    def _report(r) -> None:
        what = ", ".join(r.trigger[:3]) + (f" (+{len(r.trigger) - 3})" if len(r.trigger) > 3 else "") or "first build"
        if r.errors:
            _secho(f"{what}: {len(r.errors)} problem(s), shown in the browser:", fg="red", err=True)
            for line in r.errors:
                _echo(f"  {line}", err=True)
        elif not r.trigger:
            _echo(f"built {len(r.changed)} file(s) in {r.total_seconds:.2f}s" + (f"; {len(r.warnings)} warning(s):" if r.warnings else ""))
        else:
            _echo(f"{what}: {len(r.changed)} file(s) changed; {r.first_pages} page(s) first in {r.first_seconds:.2f}s, "
                       f"{r.rendered} rendered again, all in {r.total_seconds:.2f}s"
                       + (f"; {len(r.warnings)} warning(s):" if r.warnings else ""))
        if not r.errors:
            for line in r.warnings:  # listed, not only counted: the author must see which file to fix
                _secho(f"  {line}", fg="yellow", err=True)

    try:
        running = preview_server.start(project, today, host, port, log=lambda text: click.echo(visible(messages.line(text)), err=True), report=report,
                                       allow_hosts=tuple(allow_hosts))
    except OSError as exc:
        _fail([f"cannot listen on {host}:{port}: {exc.strerror or exc}"], "try another --port")
    try:
        _stop_on_terminate()  # stopped by a service manager or `kill`: the preview's temporary files go as on Ctrl-C
        if host not in ("127.0.0.1", "localhost", "::1"):
            _secho(f"warning: listening on {host}: others on the network can see the preview", fg="yellow", err=True)
        _secho(f"Serving {running.url}  (mail: /__sitegen/mail/, PDF: /__sitegen/pdf/; Ctrl-C to stop)", bold=True)
        if open_browser:
            webbrowser.open(running.url)
        running.serve_forever()
    except KeyboardInterrupt:
        _echo("stopped")
    finally:
        running.stop()


def program() -> None:
    """The `sitegen` program (its console script, `python -m sitegen`): `main`, and then what is still alive is
    frozen for the interpreter's end (`gc.freeze`) — its last collections walked every object a large build left
    (0.4 s at 10,000 pages, on top of a 6 s build). Everything else about the end is as usual: files were written and
    closed by the command, and exit handlers run. Not done by `main`: tests run commands in their own process."""
    try:
        main()
    finally:
        gc.freeze()
