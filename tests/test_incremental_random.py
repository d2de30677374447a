"""Random edits, each followed by a rebuild in place and a clean build of a copy: the two must be byte for byte the
same. The edits are of every kind a user makes, chosen and placed at random in any site (not written for one):
a field's value changed, a digit of a date or number changed, a true turned false, a list item removed or two
swapped, a line removed, a paragraph added, a file deleted, copied under a new name or saved unchanged, a CSV row
removed or changed, an image replaced or deleted, a theme template or static file overridden and the override
removed. An edit that makes the content invalid must fail the build and leave build/ as it was; it is then undone.
`sitegen serve` is put through the same edits: its rebuild after each, told which files changed as its watcher
would, must serve what a clean build writes. A failing seed prints the edits that led to it."""
from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli import main
from sitegen.project import Project
from sitegen.serve.preview import Preview

ROOT = Path(__file__).resolve().parent.parent
THEME = ROOT / "themes" / "default"
DATE = "2026-11-25"
SCALAR = re.compile(r"^(\s*(?:- )?[A-Za-z_][\w-]*:[ \t]+)([^\s\[\{|>&*!#'\"][^\n]*)$", re.M)
ITEM = re.compile(r"^[ \t]*- [^\n]+$", re.M)
MEDIA = (".png", ".jpg", ".jpeg", ".svg", ".pdf", ".webp", ".gif")


def _build(site: Path, forked: bool = False, browser: str | None = None) -> tuple[int, str]:
    """Build `site`'s web pages and newsletters (and with a `browser`, its brochures): in this process, or
    (`forked`) as `sitegen build` run on its own, where two processes render the pages of a large site (a test
    worker's threads keep this process from forking)."""
    args = ["build", "--source", str(site), "--date", DATE, "--only", "site", "--only", "mail"]
    if browser is not None:
        args += ["--only", "pdf", "--browser", browser]
    if forked:
        env = {**os.environ, "SITEGEN_WEB_WORKERS": "2", "SITEGEN_LOAD_WORKERS": "2"}
        done = subprocess.run([sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, env=env)
        return done.returncode, done.stdout + done.stderr
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def _tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != ".sitegen-build"}


def _text_files(site: Path) -> list[Path]:
    found = [p for p in (site / "content").rglob("*") if p.is_file() and p.suffix in (".md", ".yaml", ".csv")]
    return sorted(found) + [site / "site.yaml"]


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _scalar(rng: random.Random, path: Path, text: str, only: str = "") -> str | None:
    found = list(SCALAR.finditer(text))
    if only == "bool":
        found = [m for m in found if m.group(2).strip() in ("true", "false")]
    elif only == "digit":
        found = [m for m in found if re.search(r"\d", m.group(2))]
    if not found:
        return None
    m = rng.choice(found)
    value = m.group(2)
    if only == "bool":
        new = "false" if value.strip() == "true" else "true"
    elif only == "digit":
        digit = rng.choice(list(re.finditer(r"\d", value)))
        new = value[:digit.start()] + str((int(digit.group()) + rng.choice((1, 9))) % 10) + value[digit.end():]
    else:
        new = value + rng.choice(("改", "（新）", " 2", "・外来"))
    _write(path, text[:m.start(2)] + new + text[m.end(2):])
    return f"{path.name}: {value!r} -> {new!r}"


def _lines(rng: random.Random, path: Path, text: str, how: str) -> str | None:
    lines = text.splitlines(True)
    if how == "line":
        if len(lines) < 3:
            return None
        gone = lines.pop(rng.randrange(len(lines)))
        _write(path, "".join(lines))
        return f"{path.name}: removed {gone!r}"
    items = [i for i, line in enumerate(lines) if ITEM.fullmatch(line.rstrip("\n"))]
    if how == "item":
        if not items:
            return None
        gone = lines.pop(rng.choice(items))
        _write(path, "".join(lines))
        return f"{path.name}: removed {gone!r}"

    def indent(line: str) -> str:
        return line[:len(line) - len(line.lstrip())]

    pairs = [i for i in items if i + 1 in items and indent(lines[i]) == indent(lines[i + 1])]
    if not pairs:
        return None
    i = rng.choice(pairs)
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    _write(path, "".join(lines))
    return f"{path.name}: swapped lines {i + 1} and {i + 2}"


def _edit(rng: random.Random, site: Path) -> str | None:
    """One random edit of `site`, described; None when the chosen edit has nothing to act on."""
    kind = rng.choice(("value", "value", "digit", "bool", "item", "swap", "line", "body", "delete", "copy", "touch",
                       "csv", "image", "template", "static"))
    files = _text_files(site)
    path = rng.choice(files)
    text = path.read_text(encoding="utf-8")
    if kind in ("value", "digit", "bool"):
        return _scalar(rng, path, text, "" if kind == "value" else kind)
    if kind in ("item", "swap", "line"):
        return _lines(rng, path, text, kind)
    if kind == "body" and path.suffix == ".md":
        _write(path, text.rstrip("\n") + rng.choice(("\n\n追記の段落です。\n", "\n\n## 新しい見出し\n\n本文。\n",
                                                     "\n\n- 項目A\n- 項目B\n")))
        return f"{path.name}: paragraph added"
    if kind == "delete" and path.name != "site.yaml":
        path.unlink()
        return f"{path.name}: deleted"
    if kind == "copy" and path.suffix == ".md":
        new = path.with_name(f"{path.stem}-{rng.randrange(100)}{path.suffix}")
        if not new.exists():
            shutil.copyfile(path, new)
            return f"{path.name}: copied to {new.name}"
    if kind == "touch":
        _write(path, text)
        return f"{path.name}: saved unchanged"
    if kind == "csv":
        tables = [p for p in files if p.suffix == ".csv"]
        if tables:
            path = rng.choice(tables)
            lines = path.read_text(encoding="utf-8").splitlines(True)
            if len(lines) > 2:
                row = rng.randrange(1, len(lines))
                old = lines[row]
                if rng.random() < 0.5:
                    del lines[row]
                else:
                    lines[row] = old.replace(",", "改,", 1)
                _write(path, "".join(lines))
                return f"{path.name}: row {row + 1} {old!r} changed or removed"
    if kind == "image":
        media = sorted(p for p in (site / "content").rglob("*") if p.is_file() and p.suffix.lower() in MEDIA)
        if len(media) >= 2:
            a, b = rng.sample(media, 2)
            if rng.random() < 0.3:
                a.unlink()
                return f"{a.name}: deleted"
            if a.suffix == b.suffix:
                shutil.copyfile(b, a)
                return f"{a.name}: replaced by {b.name}"
    if kind in ("template", "static"):
        folders = ("web", "partials") if kind == "template" else ("static",)
        choices = sorted(p for folder in folders for p in (THEME / folder).rglob("*") if p.is_file())
        packaged = rng.choice(choices)
        override = site / "themes" / "default" / packaged.relative_to(THEME)
        if override.exists():
            override.unlink()
            return f"{override.name}: override removed"
        data = packaged.read_bytes()
        ends = [m.end() for m in re.finditer(rb"</(?:p|h1|h2|li|div|span|a)>", data)] if kind == "template" else []
        at = rng.choice(ends) if ends else len(data)
        override.parent.mkdir(parents=True, exist_ok=True)
        override.write_bytes(data[:at] + (b"<!--x-->" if kind == "template" else b"\n") + data[at:])
        return f"{override.name}: overridden"
    return None


def _copy(site: Path, to: Path) -> None:
    shutil.rmtree(to, ignore_errors=True)
    shutil.copytree(site, to, ignore=shutil.ignore_patterns("build", ".sitegen"))


def _undo(site: Path, before: Path) -> None:
    """Put the site's content, themes and site.yaml back as they are in `before` (a `_copy`)."""
    for name in ("content", "themes", "site.yaml"):
        path = site / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        if (before / name).is_dir():
            shutil.copytree(before / name, path)
        elif (before / name).exists():
            shutil.copyfile(before / name, path)


def _site_copy(source: str, to: Path) -> Path:
    if source == "synthetic":  # a hospital of 450 pages, enough to be rendered by two processes
        sys.path.insert(0, str(ROOT / "bench"))
        from synthetic import make_site
        return make_site(to, 12, 330, 100)
    shutil.copytree(ROOT / source, to, ignore=shutil.ignore_patterns(
        "build", ".sitegen", ".venv", ".git", "generator", "tests", "bench", "tools", "*.egg-info", ".ci"))
    return to


def _clean_site_files(site: Path, tmp_path: Path, forked: bool = False, browser: str | None = None) -> dict[str, bytes]:
    """build/ of a clean build of a copy of `site`."""
    _copy(site, tmp_path / "clean")
    code, output = _build(tmp_path / "clean", forked=forked, browser=browser)
    assert code == 0, output
    return _tree(tmp_path / "clean" / "build")


@pytest.mark.slow
@pytest.mark.parametrize("source,seed", [("tests/sites/minimal", 1), ("tests/sites/minimal", 2), (".", 3),
                                         ("synthetic", 5)],
                         ids=["minimal-1", "minimal-2", "example-3", "synthetic-forked-5"])
def test_random_edits_rebuild_to_what_a_clean_build_makes(tmp_path, source, seed):
    _random_edits(tmp_path, source, seed, 12)


@pytest.mark.slow
def test_random_edits_rebuild_the_brochures_to_what_a_clean_build_prints(tmp_path, chromium_path):
    """The same with the brochures: the pages whose print is kept (pdf/memo.py) and those printed again."""
    _random_edits(tmp_path, "tests/sites/minimal", 6, 6, browser=chromium_path)


def _random_edits(tmp_path: Path, source: str, seed: int, steps: int, browser: str | None = None) -> None:
    rng = random.Random(seed)
    forked = source == "synthetic"
    site = _site_copy(source, tmp_path / "site")
    code, output = _build(site, forked=forked, browser=browser)
    assert code == 0, output
    done: list[str] = []
    compared = invalid = 0
    while compared < steps:
        _copy(site, tmp_path / "before")
        edit = _edit(rng, site)
        if edit is None:
            continue
        published = _tree(site / "build")
        code, output = _build(site, forked=forked, browser=browser)
        if code != 0:
            assert "Traceback" not in output, output
            assert _tree(site / "build") == published, f"a failed build changed build/ after {edit}"
            _undo(site, tmp_path / "before")
            invalid += 1
            assert invalid < 40, "nearly every edit made the content invalid: the edits test nothing"
            continue
        done.append(edit)
        rebuilt, clean = _tree(site / "build"), _clean_site_files(site, tmp_path, forked, browser)
        differ = sorted(k for k in rebuilt.keys() | clean.keys() if rebuilt.get(k) != clean.get(k))
        assert not differ, f"after the edits {done}: {differ[:10]} differ from a clean build"
        compared += 1


def _stamps(site: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(site).as_posix(): (p.stat().st_mtime_ns, p.stat().st_size)
            for name in ("content", "themes", "site.yaml") for p in [site / name, *(site / name).rglob("*")]
            if p.is_file()}


def _bytes(artifact) -> bytes:
    return artifact.data if artifact.data is not None else Path(artifact.copy_from).read_bytes()


@pytest.mark.slow
def test_random_edits_in_serve_serve_what_a_clean_build_makes(tmp_path):
    rng = random.Random(4)
    site = _site_copy("tests/sites/minimal", tmp_path / "site")
    preview = Preview(Project.at(site), dt.date.fromisoformat(DATE))
    assert not preview.rebuild(None).errors
    done: list[str] = []
    compared = invalid = 0
    while compared < 12:
        _copy(site, tmp_path / "before")
        before = _stamps(site)
        edit = _edit(rng, site)
        if edit is None:
            continue
        after = _stamps(site)
        report = preview.rebuild({k for k in before.keys() | after.keys() if before.get(k) != after.get(k)})
        if report.errors:
            _undo(site, tmp_path / "before")
            undone = _stamps(site)
            assert not preview.rebuild({k for k in undone.keys() | after.keys()
                                        if undone.get(k) != after.get(k)}).errors
            invalid += 1
            assert invalid < 40, "nearly every edit made the content invalid: the edits test nothing"
            continue
        done.append(edit)
        # what a preview started afresh on these files serves (the preview shows news drafts and news dated
        # later, marked, where a build leaves them out)
        _copy(site, tmp_path / "fresh")
        fresh = Preview(Project.at(tmp_path / "fresh"), dt.date.fromisoformat(DATE))
        assert not fresh.rebuild(None).errors
        clean = {path: _bytes(artifact) for path, artifact in fresh.site_files.items()}
        served = {path: _bytes(artifact) for path, artifact in preview.site_files.items()}
        differ = sorted(k for k in served.keys() | clean.keys() if served.get(k) != clean.get(k))
        assert not differ, f"after the edits {done}: {differ[:10]} are not served as a fresh preview serves them"
        compared += 1
