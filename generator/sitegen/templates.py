"""Jinja environments: one per output (web, print, mail), strict and escaping.

Search path, first match wins:
  1. the site's own   themes/<theme>/<output>/   then  themes/<theme>/partials/
  2. the packaged     themes/<theme>/<output>/   then  themes/<theme>/partials/
  3. the packaged default theme (when <theme> is another name)
A template can extend the one it overrides with the `!theme/` prefix, which
skips the site's folder: `{% extends "!theme/base.html" %}`.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import types
from pathlib import Path
from typing import Any, Callable

import jinja2
import jinja2.bccache
import jinja2.compiler
import markupsafe
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from sitegen import fingerprint, seal
from sitegen.colour import ink
from sitegen.errors import SitegenError
from sitegen.project import PACKAGE_THEMES, Project

WEEKDAY_JA = "月火水木金土日"


class ThemeError(SitegenError):
    pass


TEMPLATE_SUFFIXES = (".html", ".xml", ".txt", ".mjml", ".css")


def template_error(exc: jinja2.TemplateError) -> ThemeError:
    """A template mistake as `template:line: message` (the innermost template frame)."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = f"{exc.filename or exc.name}:{exc.lineno}: "
    else:
        lines = _template_lines(exc)
        where = f"{lines[-1][0]}:{lines[-1][1]}: " if lines else ""
    return ThemeError(f"template error: {where}{exc.message or exc}")


def _template_lines(exc: BaseException) -> list[tuple[str, int]]:
    """The template lines running when `exc` was raised, outermost first (Jinja gives its frames the template's
    file and line)."""
    lines = []
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(TEMPLATE_SUFFIXES):
            lines.append((name, tb.tb_lineno))
        tb = tb.tb_next
    return lines


def theme_files(project: Project, folders: list[Path]) -> list[str]:
    """The files in `folders` (of the site's own theme), as the site names them."""
    return sorted(project.rel(path) for folder in folders if folder.is_dir() for path in folder.rglob("*")
                  if path.is_file())


def theme_mistake(exc: BaseException, project: Project) -> ThemeError | None:
    """An error raised while templates ran, where the site's own theme (themes/ in the site folder) is involved, as
    `template error: template:line: message`: at the innermost line of the site's templates when one was running
    (a call given arguments of the wrong kind, a filter given text where it needs a date, a loop over a doctor);
    else, when the site overrides any theme file, at the innermost template line, naming the site's files (a
    packaged template that imports the data of an overridden partial). None when no template was running or the
    site has no theme files of its own: the packaged theme's or sitegen's own mistake stays an internal error."""
    lines = _template_lines(exc)
    if not lines:
        return None
    themes = project.themes.resolve()
    own = [(name, line) for name, line in lines if Path(name).resolve().is_relative_to(themes)]
    message = _missing(exc.args[0] if exc.args else None) if isinstance(exc, KeyError) else str(exc)
    if own:
        return ThemeError(f"template error: {own[-1][0]}:{own[-1][1]}: {type(exc).__name__}: {message}")
    files = theme_files(project, [themes])
    if not files:
        return None
    shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    return ThemeError(f"template error: {lines[-1][0]}:{lines[-1][1]}: {type(exc).__name__}: {message} "
                      f"(with the site's own theme files: {shown})")


def _missing(key: Any) -> str:
    """A KeyError's key as said to a theme's author: `site.doctor("nope")` looks up ("doctor", "nope")."""
    if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str):
        return f"no {key[0]} {key[1]!r}"
    return f"no {key!r}"


def theme_dirs(project: Project, theme: str) -> tuple[list[Path], list[Path]]:
    """(site dirs, packaged dirs) holding the theme, most specific first. Raises ThemeError when a symbolic link
    takes themes/, the theme's folder or one of its template or static folders out of where it belongs (loading
    the site reports it first; this keeps any other way to the theme from reading through such a link): the
    files of those folders are then only checked against the folder's real path."""
    escapes = [(rel, message) for rel, message in project.link_escapes(theme) if rel.startswith("themes")]
    if escapes:
        raise ThemeError("; ".join(f"{rel}: {message}" for rel, message in escapes))
    site = [project.themes / theme] if (project.themes / theme).is_dir() else []
    packaged = [PACKAGE_THEMES / name for name in dict.fromkeys([theme, "default"]) if (PACKAGE_THEMES / name).is_dir()]
    if not site and theme not in [p.name for p in packaged]:
        raise ThemeError(f"site.yaml: site.theme: theme '{theme}' not found in {project.themes} or the packaged themes")
    return site, packaged


def template_folders(output: str) -> tuple[str, str]:
    """The folders of a theme that one output's templates are loaded from."""
    return output, "partials"


def _search_path(dirs: list[Path], output: str) -> list[str]:
    return [str(d / sub) for d in dirs for sub in template_folders(output) if (d / sub).is_dir()]


class ConfinedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that reads a template only when the file, symbolic links followed, stays inside
    the folder it was found in (a theme file linked to /etc/passwd is not read)."""

    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        real = Path(filename).resolve()
        if not any(real.is_relative_to(Path(root).resolve()) for root in self.searchpath):
            raise ThemeError(f"template error: {filename}: points outside the theme folder (symbolic link); not read")
        return source, filename, uptodate


def inside_theme(path: Path, folder: Path) -> bool:
    """True when `path`, with every symbolic link followed, stays inside `folder`."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


class TemplateFunction:
    """A callable of sitegen's own handed to templates (a site method, `deps._Method`): it takes no context and
    alters nothing, so the sandbox calls it straight (`_Sandbox.call`)."""

    __slots__ = ()


# callables the sandbox calls straight, when they carry no attributes of their own (Jinja reads `jinja_pass_arg`,
# `unsafe_callable` and `alters_data` from the object itself: a function's or partial's are in its __dict__)
_PLAIN_WITHOUT_ATTRIBUTES = (types.FunctionType, functools.partial)
# and these always: a macro (Jinja's own, never given such attributes), a built-in (`date.isoformat`: it has none)
_PLAIN_ALWAYS = (jinja2.runtime.Macro, types.BuiltinFunctionType)

_METHODS = (types.MethodType, types.BuiltinMethodType)  # bound methods: `str.format` is one
# values that are data, not methods: what a template reads most (a doctor's name, a date, a list of slots)
_DATA = frozenset({str, Markup, int, float, bool, type(None), tuple, list, dict, dt.date, dt.datetime})


def _plain_escape() -> Callable[[str], str]:
    """markupsafe's escaping of a str, as a str: its C function where it has one (markupsafe 3's `_escape_inner`,
    checked against `escape`), else `escape` itself."""
    inner = getattr(markupsafe, "_escape_inner", None)
    probe = "<a href=\"x\" title='&'>診療科</a>"
    if callable(inner) and inner(probe) == str(markupsafe.escape(probe)):
        return inner
    return markupsafe.escape


_escape_str = _plain_escape()


def escaped(value: Any) -> str:
    """`{{ value }}` in an escaping template: what markupsafe's `escape` gives, but a text is escaped to a str,
    not a `Markup` — the pieces a template yields are only ever joined. markupsafe 3's `escape` makes a `Markup`
    in Python for each of them (760,000 at 10,000 pages): rendering them in one process took 3.2 s with it, 2.7 s
    with this."""
    t = type(value)
    if t is str:
        return _escape_str(value)
    if t is Markup:
        return value
    return markupsafe.escape(value)


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's code generator, but for what an escaping template outputs (`{{ ... }}`): `environment.escaped`
    in place of `escape` (the same text). Where Jinja would decide at run time (`{% autoescape %}` with a
    variable), or does not escape, it is Jinja's own."""

    def _output_child_pre(self, node, frame, finalize) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            return super()._output_child_pre(node, frame, finalize)
        self.write("environment.escaped(")
        if finalize.src is not None:
            self.write(finalize.src)


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, keeping its verdict on each attribute by the object's type and the attribute's
    name: the checks behind it (internal attributes of functions, methods, types, frames; methods that change a
    list, dict or set) look at nothing else, and asking them anew took 40 % of a 10,000-page site's rendering."""

    code_generator_class = _CodeGenerator

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.escaped = escaped
        self._safe: dict[tuple[type, str], bool] = {}
        # types whose every attribute not starting with "_" is given by their __getattr__ (they have no other):
        # `getattr` calls it straight. Python finds __getattr__ only after a failed lookup, which raises and catches
        # an exception: ten times the cost of the call (web/deps.py's Reads and Traced, 700,000 reads per 10,000
        # pages)
        self.readers: dict[type, Callable[[Any, str], Any]] = {}

    def is_safe_attribute(self, obj, attr: str, value) -> bool:
        key = (type(obj), attr)
        safe = self._safe.get(key)
        if safe is None:
            safe = self._safe[key] = super().is_safe_attribute(obj, attr, value)
        return safe

    def getattr(self, obj, attribute: str):
        """`obj.attribute` in a template, as Jinja's sandbox gives it (`SandboxedEnvironment.getattr`), with one
        step fewer for a value that is data: only a method can be `str.format`, which the sandbox wraps. A page
        reads about two hundred attributes; this was a tenth of its rendering."""
        reader = self.readers.get(type(obj))
        try:
            if reader is not None and attribute[:1] != "_":
                value = reader(obj, attribute)
            else:
                value = getattr(obj, attribute)
        except AttributeError:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        if type(value) not in _DATA and isinstance(value, _METHODS):  # what `wrap_str_format` looks at first
            fmt = self.wrap_str_format(value)
            if fmt is not None:
                return fmt
        safe = self._safe.get((type(obj), attribute))  # `is_safe_attribute`'s verdict, without a call
        if safe is None:
            safe = self.is_safe_attribute(obj, attribute, value)
        return value if safe else self.unsafe_undefined(obj, attribute)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's names (a keyword may be "self")
        """A call in a template (`url("doctor", d.slug)`, a macro, `site.doctor(...)`: forty per page), made
        without the checks of `SandboxedEnvironment.call` and `Context.call` when they could find nothing: a
        macro, a built-in, one of sitegen's `TemplateFunction`s, or a function or partial with no attributes of
        its own — not unsafe, not asking for the context. Anything else takes Jinja's way. A tenth of rendering."""
        t = type(__obj)
        if t in _PLAIN_ALWAYS or isinstance(__obj, TemplateFunction) \
                or (t in _PLAIN_WITHOUT_ATTRIBUTES and not __obj.__dict__):
            kwargs.pop("_block_vars", None)  # what Context.call drops for a callable that takes no context
            kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.undefined("value was undefined because a callable raised a StopIteration exception")
        return super().call(__context, __obj, *args, **kwargs)


def make_environment(project: Project, theme: str, output: str, *, autoescape=True) -> jinja2.Environment:
    """A strict, escaping, sandboxed environment for one output's templates."""
    site_dirs, packaged = theme_dirs(project, theme)
    loader = jinja2.ChoiceLoader([
        ConfinedLoader(_search_path(site_dirs + packaged, output)),
        jinja2.PrefixLoader({"!theme": ConfinedLoader(_search_path(packaged, output))}, delimiter="/"),
    ])
    # Themes are files a site can override: rendered in Jinja's sandbox, a template cannot reach Python
    # internals ({{ cycler.__init__.__globals__ }}), change the data, or call anything but what it is given.
    env = _Sandbox(
        loader=loader,
        bytecode_cache=_bytecode_cache(project, output),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one environment per build (serve makes a new one when a theme file changes)
    )
    env.filters.update(date_ja=date_ja, weekday_ja=weekday_ja, number=number, ink=ink)
    return env


# sitegen's own themes' templates, compiled when sitegen is installed (`make compile`: sitegen/precompile.py), one
# folder per output: read as Python reads the compiled modules beside them, they are part of the installation
INSTALLED = Path(__file__).resolve().parent / "_compiled"


def _bytecode_cache(project: Project, output: str) -> jinja2.BytecodeCache | None:
    """Compiled templates: those of sitegen's own themes as compiled at installation (INSTALLED), the others kept
    between builds in .sitegen/templates/<output> (`_kept_templates`); None when there are neither."""
    installed = INSTALLED / output if (INSTALLED / output).is_dir() else None
    folder, key = _kept_templates(project, output)
    if folder is None and installed is None:
        return None
    return _SealedBytecodeCache(folder, key, installed)


def _kept_templates(project: Project, output: str) -> tuple[Path | None, bytes | None]:
    """(.sitegen/templates/<output>, this checkout's key): compiled templates kept between builds (Jinja checks each
    against its source), sealed to this checkout (sitegen.seal); (None, None) when the folder cannot be made (a
    read-only checkout builds as before, only slower)."""
    folder = project.template_cache
    key = seal.key(project) if folder is not None else None
    if folder is None or key is None or project.state_path("templates", output) is None:
        return None, None
    try:
        (folder / output).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None, None
    return folder / output, key


def source_checksum(source: str) -> str:
    """A template's checksum for Jinja's compiled-template caches: its source's, and sitegen's code's
    (`fingerprint.code`), so that a template compiled by another version of sitegen (its code generator,
    `_CodeGenerator`) or of Jinja is compiled again."""
    return hashlib.sha1(f"{fingerprint.code()}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()


class _SealedBytecodeCache(jinja2.BytecodeCache):
    """Jinja's compiled templates: first those compiled at installation (`installed`), then files in `folder`
    sealed with this checkout's key: a file there that does not open (made elsewhere, or changed) is never handed
    to Jinja, which would unpickle and run it; the template is compiled again instead. Only `folder` is written."""

    def __init__(self, folder: Path | None, key: bytes | None, installed: Path | None = None):
        self.folder = folder
        self.key = key
        self.installed = installed

    def get_source_checksum(self, source: str) -> str:
        return source_checksum(source)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.installed is not None:
            try:
                bucket.bytecode_from_string((self.installed / f"{bucket.key}.cache").read_bytes())
            except Exception:  # noqa: BLE001 - missing or broken (a pickle can fail in many ways): compiled again
                bucket.reset()
            if bucket.code is not None:  # Jinja checked it against this source
                return
        if self.folder is not None and self.key is not None:
            data = seal.read(self.key, self._file(bucket))
            if data is not None:
                bucket.bytecode_from_string(bytes(data))

    def _file(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.cache"  # type: ignore[operator]

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if self.folder is not None and self.key is not None:
            seal.write(self.key, self._file(bucket), bucket.write_bytecode)


def static_dirs(project: Project, theme: str) -> list[Path]:
    """Folders of static files, lowest priority first, so later copies win."""
    site_dirs, packaged = theme_dirs(project, theme)
    return [d / "static" for d in reversed(site_dirs + packaged) if (d / "static").is_dir()]


def date_ja(value: dt.date | None, weekday: bool = False) -> str:
    if value is None:
        return ""
    text = f"{value.year}年{value.month}月{value.day}日"
    return text + f"（{WEEKDAY_JA[value.weekday()]}）" if weekday else text


def weekday_ja(value: dt.date) -> str:
    return WEEKDAY_JA[value.weekday()]


def number(value) -> str:
    return f"{value:,}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
