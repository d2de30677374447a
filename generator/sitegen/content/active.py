"""Files under content/ that would run in a visitor's browser: they are published as they are, on the hospital's
own site (its address, its cookies), so a script in one would act as the hospital.

An SVG picture is XML that a browser runs when it is opened by its address (/images/x.svg): scripts, event
handlers (onload=…), javascript: links, <foreignObject> (HTML inside the picture), and references to other files
or addresses (which load or link elsewhere) are refused; a plain drawing has none of them. HTML, XML and
JavaScript files are refused outright: an office publishes documents as PDF, Word or Excel.
"""
from __future__ import annotations

import os
import re
import threading
from xml.parsers import expat

# extensions a browser runs or renders as a page (a web server sends them as HTML, XML or JavaScript)
RUNNABLE = (".html", ".htm", ".xhtml", ".xht", ".shtml", ".xml", ".xsl", ".xslt", ".js", ".mjs", ".svgz")
SVG = ".svg"
MAX_FINDINGS = 10  # per file: enough to see what to remove

# elements that run or embed something: <script>, HTML inside the picture, other documents
_ELEMENTS = {
    "script": "a <script> element",
    "foreignobject": "a <foreignObject> element (HTML inside the picture)",
    "iframe": "an <iframe> element", "embed": "an <embed> element", "object": "an <object> element",
    "frame": "a <frame> element", "applet": "an <applet> element", "base": "a <base> element",
    "meta": "a <meta> element", "link": "a <link> element", "form": "a <form> element",
    "handler": "a <handler> element (a script)", "listener": "a <listener> element (an event handler)",
}
_ANIMATIONS = {"set", "animate", "animatemotion", "animatetransform", "animatecolor"}
_REFERENCES = {"href", "src", "action", "formaction", "data", "codebase"}  # xlink:href too (prefix dropped)
_SCHEME = re.compile(r"(?:java|vb|live)script:|data:text/|data:application/")
_EMBEDDED_PICTURE = re.compile(r"data:image/(?:png|jpeg|jpg|gif|webp|avif);", re.I)
_CSS_URL = re.compile(r"url\((?![\s'\"]*#)|@import|expression\(|-moz-binding|behavior\s*:", re.I)
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f]+")


def runnable_problem(name: str) -> str | None:
    """Why a file under content/ with this name may not be published (its extension runs in browsers), or None."""
    ext = os.path.splitext(name)[1].lower()
    if ext == ".svgz":
        return ("is a compressed SVG (.svgz), which sitegen cannot check for scripts: save it as a plain .svg "
                "(or as PNG)")
    if ext in RUNNABLE:
        return (f"is a {ext} file, which a browser would run as a page or a script on the hospital's site; publish "
                "documents as PDF, Word or Excel (.pdf, .docx, .xlsx)")
    return None


_memo: dict[tuple, list[tuple[int, str]]] = {}
_memo_lock = threading.Lock()


def svg_findings(path: str) -> list[tuple[int, str]]:
    """(line, what) for each piece of active content in the SVG file at `path` ([] for a plain drawing, or a file
    that cannot be read here: that is reported where it is looked for). Kept by the file's stamp."""
    try:
        st = os.stat(path)
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    stamp = (path, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    with _memo_lock:
        if stamp in _memo:
            return _memo[stamp]
    found = svg_data_findings(data)
    with _memo_lock:
        _memo[stamp] = found
    return found


def svg_problem(path: str) -> str | None:
    """Why the SVG file at `path` may not be published (in one sentence), or None when it is a plain drawing."""
    found = svg_findings(path)
    if not found:
        return None
    line, what = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"is an SVG with {what} at line {line}{more}: {ADVICE}"


ADVICE = ("an SVG on the site may not have scripts, event handlers (onload=…), javascript: links, <foreignObject> or "
          "references to other files or addresses, which would run or load in a visitor's browser; export it again "
          "as a plain drawing, or as PNG")


class _Stop(Exception):
    pass


def svg_data_findings(data: bytes) -> list[tuple[int, str]]:
    """(line, what) for each piece of active content in an SVG's bytes (at most MAX_FINDINGS, and the first
    well-formedness mistake: a browser runs what comes before it)."""
    found: list[tuple[int, str]] = []
    parser = expat.ParserCreate()  # no namespace processing: a prefix (svg:script, xlink:href) is dropped below
    style: list[str] | None = None

    def add(what: str) -> None:
        if (parser.CurrentLineNumber, what) not in found:
            found.append((parser.CurrentLineNumber, what))
        if len(found) >= MAX_FINDINGS:
            raise _Stop

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal style
        local = name.rsplit(":", 1)[-1].lower()
        if local in _ELEMENTS:
            add(_ELEMENTS[local])
        if local == "style":
            style = []
        for attr, value in attrs.items():
            key = attr.rsplit(":", 1)[-1].lower()
            compact = _INVISIBLE.sub("", value).lower()
            if key.startswith("on"):
                add(f"an event handler ({attr}=…)")
            elif _SCHEME.search(compact):
                add(f"a script or page address in {attr}=…")
            elif key in _REFERENCES and not (compact.startswith("#") or _EMBEDDED_PICTURE.match(compact)):
                add(f"a reference to another file or address ({attr}=\"{value[:60]}\")")
            elif _CSS_URL.search(value):
                add(f"a reference to another file or address in {attr}=…")
        if local in _ANIMATIONS:
            target = attrs.get("attributeName", "").rsplit(":", 1)[-1].lower()
            if target.startswith("on") or target in _REFERENCES:
                add(f"an animation that changes {target}")

    def end(name: str) -> None:
        nonlocal style
        if name.rsplit(":", 1)[-1].lower() == "style" and style is not None:
            css = "".join(style)
            if _CSS_URL.search(css) or _SCHEME.search(_INVISIBLE.sub("", css).lower()):
                add("a style sheet that loads another file or address")
            style = None

    def text(data: str) -> None:
        if style is not None:
            style.append(data)

    def instruction(target: str, _data: str) -> None:
        if target.lower() == "xml-stylesheet":
            add("a style sheet from another file (<?xml-stylesheet?>)")

    def entity(name: str, *_rest) -> None:
        add(f"an XML entity declaration (<!ENTITY {name}>)")

    def external(*_args) -> int:
        add("a reference to an external XML entity")
        return 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.ProcessingInstructionHandler = instruction
    parser.EntityDeclHandler = entity
    parser.ExternalEntityRefHandler = external
    try:
        parser.Parse(data, True)
    except _Stop:
        pass
    except expat.ExpatError as exc:
        if len(found) < MAX_FINDINGS:
            found.append((exc.lineno, f"an XML mistake ({expat.ErrorString(exc.code)}), after which browsers "
                                      "show it broken (and it cannot be checked)"))
    return found
