"""Theme overrides are files a site can change: templates run in Jinja's sandbox, so a template can neither
reach Python internals nor run a command, and the mistake is reported as a template error with its line."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sitegen.build import BuildOptions, run
from sitegen.errors import SitegenError
from sitegen.project import Project

SITES = Path(__file__).resolve().parent / "sites"
PAYLOADS = [
    "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}",
    "{{ joiner.__init__.__globals__['os'].system('touch PWNED') }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ site.config.__class__.__init__.__globals__ }}",
    "{{ url.__globals__ }}",
    "{% set x = site.departments | list %}{{ x.append(1) }}",
    "{{ '{0.__class__.__mro__}'.format(page) }}",  # str.format reads attributes too: the sandbox wraps it
    "{{ page.title.format_map({'t': url}) }}{{ '{t.__globals__}'.format_map({'t': url}) }}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_theme_override_cannot_reach_python(tmp_path, payload):
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    web = root / "themes" / "default" / "web"
    web.mkdir(parents=True)
    (web / "home.html").write_text('{% extends "!theme/home.html" %}\n{% block content %}\n' + payload
                                   + "\n{% endblock %}\n", encoding="utf-8")
    with pytest.raises(SitegenError) as exc:
        run(Project.at(root, tmp_path / "out"), BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",)))
    assert "template error" in str(exc.value) and "home.html:3" in str(exc.value), str(exc.value)
    assert not (root / "PWNED").exists() and not Path("PWNED").exists()
    assert not (tmp_path / "out").exists()


MISTAKES = [  # what a theme's author may write, and the error it raises inside sitegen's code
    ("web/home.html", '{% extends "!theme/home.html" %}\n{% block content %}\n{{ site.doctor(site) }}\n{% endblock %}\n',
     "home.html:3: KeyError"),
    ("web/home.html", '{% extends "!theme/home.html" %}\n{% block content %}\n{{ site.doctor("nope").name }}\n'
     '{% endblock %}\n', "home.html:3: KeyError: no doctor 'nope'"),
    ("web/home.html", '{% extends "!theme/home.html" %}\n{% block content %}\n{{ "2026-04-01" | date_ja }}\n{% endblock %}\n',
     "home.html:3: AttributeError"),
    ("web/home.html", '{% extends "!theme/home.html" %}\n{% block content %}\n{% for x in site.doctors[0] %}{% endfor %}\n'
     '{% endblock %}\n', "home.html:3: TypeError"),
    ("partials/_footer.html", '<footer>\n{{ url("no-such-page") }}\n</footer>\n', "_footer.html:2: KeyError"),
    ("mail/newsletter.txt", '{{ issue.data.subject }}\n{{ issue.data.date.year | date_ja }}\n', "newsletter.txt:2: AttributeError"),
]


@pytest.mark.parametrize("template,text,where", MISTAKES)
def test_an_error_raised_while_the_sites_own_template_runs_is_a_template_error(tmp_path, template, text, where):
    """Not only Jinja's own errors: an error raised in sitegen's code by what a template of the site's own theme gave
    it (a site function called with the site, a date filter given text, a loop over a doctor) is reported at the
    template's line, with the build left as it was; never as sitegen's internal error."""
    from click.testing import CliRunner

    from mail_fixtures import make_mail_site
    from sitegen.cli import main

    root = make_mail_site(tmp_path / "site")
    target = root / "themes" / "default" / template
    target.parent.mkdir(parents=True)
    target.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--source", str(root), "--out", str(out), "--only", template.split("/")[0]
                                       .replace("partials", "site").replace("web", "site"), "--date", "2026-11-25"])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output, result.output
    assert "template error: " in result.output and where in result.output, result.output
    assert not out.exists()


def test_a_packaged_template_failing_on_an_overridden_partials_data_names_the_sites_theme_files(tmp_path):
    """The site's _nav.html gives the packaged header a menu entry of no kind of page: the error is raised in the
    packaged template, whose line it gives, and names the site's own theme files — not an internal error."""
    from click.testing import CliRunner

    from sitegen.cli import main

    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    nav = root / "themes" / "default" / "partials" / "_nav.html"
    nav.parent.mkdir(parents=True)
    packaged = (Path(__file__).resolve().parent.parent / "themes" / "default" / "partials" / "_nav.html").read_text(
        encoding="utf-8")
    nav.write_text(packaged.replace('("news", "お知らせ"', '("oshirase", "お知らせ"', 1), encoding="utf-8")
    assert nav.read_text(encoding="utf-8") != packaged
    result = CliRunner().invoke(main, ["build", "--source", str(root), "--only", "site", "--date", "2026-11-25"])
    assert result.exit_code == 1 and "internal error" not in result.output, result.output
    assert "template error: " in result.output and "_header.html:" in result.output and "KeyError: no 'oshirase'" \
        in result.output and "(with the site's own theme files: themes/default/partials/_nav.html)" in result.output


def test_a_packaged_template_failing_without_theme_files_of_the_site_is_not_a_template_error(tmp_path):
    """With no theme file of the site's own, an error raised in a template outside the site (as the packaged ones
    are) is sitegen's: it stays internal. Once the site has a theme file, the same error names it."""
    import jinja2

    from sitegen.templates import theme_mistake

    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    packaged = tmp_path / "packaged"
    packaged.mkdir()
    (packaged / "menu.html").write_text("<ul>\n{{ url('no-such-kind') }}\n</ul>\n", encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(packaged)))
    try:
        env.get_template("menu.html").render(url=lambda kind: {}[kind])
    except KeyError as exc:
        failure = exc
    assert theme_mistake(failure, Project.at(root)) is None
    (root / "themes" / "default" / "web").mkdir(parents=True)
    (root / "themes" / "default" / "web" / "home.html").write_text("{% extends '!theme/home.html' %}\n", encoding="utf-8")
    mistake = theme_mistake(failure, Project.at(root))
    assert mistake is not None and str(mistake) == (
        f"template error: {packaged / 'menu.html'}:2: KeyError: no 'no-such-kind' "
        "(with the site's own theme files: themes/default/web/home.html)")


def test_an_error_outside_the_sites_templates_is_not_called_a_template_error(tmp_path):
    from sitegen.templates import theme_mistake

    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    try:
        {}["x"]
    except KeyError as exc:
        assert theme_mistake(exc, Project.at(root)) is None


def test_the_kept_verdicts_refuse_what_the_sandbox_refuses_every_time():
    """sitegen keeps the sandbox's verdict per type and attribute name: a safe attribute of one type does not make
    an unsafe one (or the same name on another type) pass, and a refusal holds on every later render."""
    import jinja2
    from jinja2.exceptions import SecurityError

    from sitegen.templates import _Sandbox

    env = _Sandbox(undefined=jinja2.StrictUndefined)  # as sitegen makes it
    reading = env.from_string("{{ d.items() | list | length }}{{ l.count(1) }}{{ f.__name__ is defined }}")
    changing = [env.from_string("{{ d.update({'a': 1}) }}"), env.from_string("{{ l.append(1) }}"),
                env.from_string("{{ s.add(1) }}"), env.from_string("{{ f.__globals__ }}"),
                env.from_string("{{ g.gi_frame }}")]

    def gen():
        yield 1

    data = {"d": {"x": 1}, "l": [1], "s": set(), "f": gen, "g": gen()}
    for _ in range(2):
        assert reading.render(data) == "11False"
        for template in changing:
            with pytest.raises(SecurityError):
                template.render(data)
    assert data == {"d": {"x": 1}, "l": [1], "s": set(), "f": gen, "g": data["g"]}
    assert env.is_safe_attribute({}, "items", None) and not env.is_safe_attribute({}, "update", None)
    assert env.is_safe_attribute((), "count", None) and not env.is_safe_attribute([], "append", None)


def test_calls_made_straight_still_refuse_unsafe_callables_and_pass_the_context():
    """The sandbox calls a macro, a built-in, sitegen's own functions and a function or partial with no attributes
    straight (templates._Sandbox.call). A callable marked unsafe or as altering data is still refused, and one that
    asks for the context, the environment or the evaluation context still gets it — also inside a loop, where Jinja
    adds its loop variables to every call — whether it is a function, a partial or an object whose method asks."""
    import functools

    import jinja2
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import unsafe

    from sitegen.templates import TemplateFunction, _Sandbox

    env = _Sandbox(undefined=jinja2.StrictUndefined)

    def plain(x=1):
        return f"p{x}"

    def alters():
        return "altered"

    alters.alters_data = True  # type: ignore[attr-defined]

    def stops():
        raise StopIteration

    class Own(TemplateFunction):
        def __call__(self, x):
            return f"o{x}"

    class AsksContext:
        @jinja2.pass_context
        def __call__(self, context, x):
            return f"{context['who']}{x}"

    with_context = jinja2.pass_context(lambda context, x: f"{context['who']}{x}")
    given_partial = functools.partial(lambda context, x: f"{context['who']}!{x}")
    given_partial.jinja_pass_arg = jinja2.utils._PassArg.context  # type: ignore[attr-defined]
    data = {"who": "w", "plain": plain, "ctx": with_context, "part": given_partial, "own": Own(),
            "asks": AsksContext(), "env_name": jinja2.pass_environment(lambda e: type(e).__name__),
            "eval": jinja2.pass_eval_context(lambda e: str(e.autoescape)),
            "bare": functools.partial(plain, 2), "iso": __import__("datetime").date(2026, 1, 2).isoformat,
            "stops": stops}
    template = env.from_string(
        "{% macro m(x) %}m{{ x }}{% endmacro %}"
        "{% for i in [1, 2] %}{{ m(i) }}{{ plain(i) }}{{ ctx(i) }}{{ part(i) }}{{ own(i) }}{{ asks(i) }}|{% endfor %}"
        "{{ env_name() }} {{ eval() }} {{ bare() }} {{ iso() }} {{ stops() is defined }}")
    for _ in range(2):
        assert template.render(data) == "m1p1w1w!1o1w1|m2p2w2w!2o2w2|_Sandbox False p2 2026-01-02 False"
    for name, value in (("u", unsafe(lambda: "x")), ("a", alters), ("flagged", _flagged_partial())):
        with pytest.raises(SecurityError):
            env.from_string("{% for i in [1] %}{{ " + name + "() }}{% endfor %}").render({name: value})


def _flagged_partial():
    import functools

    part = functools.partial(print)
    part.unsafe_callable = True  # type: ignore[attr-defined]
    return part


def test_the_partials_rendered_once_per_folder_are_those_each_page_would_render(tmp_path):
    """base.html renders the footer and the call bar with once(…): once per folder and build; and the header, which
    marks the menu entry of the page's kind, once per folder and kind. A theme that includes them on every page
    instead builds the same bytes (links relative to each folder, the 404 page's from the root, the current menu
    entry of each kind)."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    options = BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",))
    run(Project.at(root, tmp_path / "once"), options)
    web = root / "themes" / "default" / "web"
    web.mkdir(parents=True)
    base = (Path(__file__).resolve().parent.parent / "themes" / "default" / "web" / "base.html").read_text(encoding="utf-8")
    each_page = {'{{ once("_footer.html") }}': '{% include "_footer.html" +%}',
                 '{{ once("_header.html", page.kind) }}': '{% include "_header.html" +%}',
                 '{{ once("_call_bar.html") -}}': '{% include "_call_bar.html" -%}'}
    for once_call, include in each_page.items():
        assert once_call in base
        base = base.replace(once_call, include)
    (web / "base.html").write_text(base, encoding="utf-8")
    run(Project.at(root, tmp_path / "each"), options)
    once = {p.relative_to(tmp_path / "once"): p.read_bytes() for p in (tmp_path / "once").rglob("*.html")}
    each = {p.relative_to(tmp_path / "each"): p.read_bytes() for p in (tmp_path / "each").rglob("*.html")}
    folders = {p.parent for p in once}
    assert once == each and len(folders) >= 4
    # one folder, two kinds: the menu marks 医師紹介 as the page itself on the index, as its section on 注目のドクター
    index, featured = (once[Path("site/doctors", name)].decode("utf-8") for name in ("index.html", "featured.html"))
    assert '<a href="index.html" aria-current="page">医師紹介</a>' in index.split("</header>")[0]
    assert '<a href="index.html" aria-current="true">医師紹介</a>' in featured.split("</header>")[0]


def test_once_given_anything_but_texts_and_numbers_is_a_template_error(tmp_path):
    """once(name, …) renders a partial once per value given: a record (which a theme could change under it, and
    which is not a key) is refused with the template's file and line, not a traceback."""
    root = tmp_path / "site"
    shutil.copytree(SITES / "minimal", root)
    web = root / "themes" / "default" / "web"
    web.mkdir(parents=True)
    (web / "home.html").write_text('{% extends "!theme/home.html" %}\n{% block content %}\n'
                                   '{{ once("_footer.html", site.hospital) }}\n{% endblock %}\n', encoding="utf-8")
    with pytest.raises(SitegenError) as exc:
        run(Project.at(root, tmp_path / "out"), BuildOptions(today=dt.date(2026, 11, 25), outputs=("site",)))
    assert "home.html:3" in str(exc.value) and "give texts or numbers" in str(exc.value), str(exc.value)


class _Html:
    def __init__(self, html):
        self.html = html

    def __html__(self):
        return self.html


class _Shouting(str):
    def __str__(self):
        return self.upper() + "<!>"


ESCAPED_VALUES = [
    "医師 00000", "", "<script>alert('x')</script>", 'a "b" & c', "&amp; 既に", "\u3000全角\ufffd", "\ud800",
    0, 42, -7, 3.5, float("nan"), True, False, None, [1, "<b>"], ("t", "<"), {"k": "<v>"},
    dt.date(2026, 11, 25), _Shouting("mixed <Case>"),
]


def _safe_values():
    from markupsafe import Markup
    return [Markup("<p>安全</p>"), Markup(""), _Html("<em>html</em>"), _Html(Markup("<i>m</i>"))]


ESCAPING_TEMPLATES = [
    "{{ v }}|{{ v ~ '<' }}|{{ v | e }}|{{ v | string }}|{{ [v] | join(',') }}",
    "{% macro m(x) %}<{{ x }}>{% endmacro %}{% macro c(x) %}[{{ caller(x) }}]{% endmacro %}{{ m(v) }}"
    "{% call(y) c(v) %}{{ y }}{{ v }}{% endcall %}",
    "{% set s %}{{ v }}<{% endset %}{{ s }}{{ s | length }}{% filter upper %}{{ v }}{% endfilter %}",
    "{% for x in [v, v] %}{{ loop.index }}{{ x }}{% endfor %}{% if v %}{{ v }}{% else %}{{ '<none>' }}{% endif %}",
    "{% autoescape false %}{{ v }}{% endautoescape %}{{ v }}{% autoescape flag %}{{ v }}{% endautoescape %}",
    "{% block b %}{{ v }}{% endblock %}{{ self.b() }}",
    "{{ '%s<' | format(v) }}{{ v if v is string else '' }}{{ v | pprint }}{{ v | list if v is iterable else v }}",
]


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("source", ESCAPING_TEMPLATES)
def test_what_a_template_outputs_is_escaped_as_jinja_escapes_it(source, autoescape):
    """sitegen's sandbox escapes `{{ ... }}` with its own function (`templates.escaped`, compiled in by its code
    generator): every value, safe or not, in every kind of output, gives the text Jinja's own sandbox gives."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from sitegen.templates import _Sandbox

    def blank_none(value):
        return "" if value is None else value

    for options in ({}, {"finalize": blank_none}):
        ours, jinjas = (cls(undefined=jinja2.StrictUndefined, autoescape=autoescape, **options)
                        for cls in (_Sandbox, ImmutableSandboxedEnvironment))
        compiled = ours.compile(source, raw=True)
        assert ("environment.escaped(" in compiled) == autoescape  # the code generator is in use
        for value in ESCAPED_VALUES + _safe_values():
            for flag in (True, False):
                expected = jinjas.from_string(source).render(v=value, flag=flag)
                assert ours.from_string(source).render(v=value, flag=flag) == expected, (source, value, flag, options)


def test_escaped_gives_markupsafes_text_for_any_value():
    from markupsafe import Markup, escape

    from sitegen.templates import escaped

    for value in ESCAPED_VALUES + _safe_values() + [Markup("<"), _Shouting("<x>"), object]:
        assert escaped(value) == str(escape(value)), value
        assert type(escaped(value)) in (str, Markup)
