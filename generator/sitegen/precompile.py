"""sitegen's own themes' templates compiled once, when sitegen is installed (`make compile`), as Python compiles
the modules beside them:

    python -m sitegen.precompile

A build, `--clean` too, then loads each of them (`templates.INSTALLED`) instead of compiling it: compiling the web
templates took 0.2 s of CPU in each process that renders pages. Jinja checks each against its source and
sitegen's code, so a template or module changed since is compiled again by the build. A site's own templates are
compiled by the build and kept in its .sitegen/.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import jinja2
import jinja2.bccache

from sitegen.mail.render import theme_environment
from sitegen.project import PACKAGE_THEMES, Project
from sitegen.templates import INSTALLED, make_environment, source_checksum


class _Writing(jinja2.FileSystemBytecodeCache):
    """Jinja's compiled templates written to a folder as the build reads them (`<key>.cache`, the checksum
    `templates.source_checksum`), never read from it."""

    def get_source_checksum(self, source: str) -> str:
        return source_checksum(source)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        pass  # always compiled anew


def environments(project: Project) -> Iterator[tuple[str, jinja2.Environment]]:
    """(output, environment) of each packaged theme, made as the outputs make them."""
    for theme in sorted(path.name for path in PACKAGE_THEMES.iterdir() if path.is_dir()):
        yield "web", make_environment(project, theme, "web")
        yield "print", make_environment(project, theme, "print")
        yield "mail", theme_environment(project, theme, "")


def precompile(folder: Path = INSTALLED) -> int:
    """Every template of the packaged themes compiled into `folder` (what was there before goes), by the names a
    build loads it by: its own and `!theme/…`. Returns how many were written."""
    shutil.rmtree(folder, ignore_errors=True)
    written = 0
    with tempfile.TemporaryDirectory(prefix="sitegen-precompile-") as empty:
        project = Project.at(empty)  # a site without a theme of its own: only the packaged templates are found
        for output, env in environments(project):
            (folder / output).mkdir(parents=True, exist_ok=True)
            env.bytecode_cache = _Writing(str(folder / output), "%s.cache")
            for name in env.list_templates():
                env.get_template(name)
                written += 1
    return written


def main() -> None:
    count = precompile()
    print(f"compiled {count} templates of the packaged themes into {INSTALLED}", file=sys.stderr)


if __name__ == "__main__":
    main()
