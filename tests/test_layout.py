"""The tree shows the pipeline: no import loops, and no output (web, pdf, mail) importing another output or a command.

Every import counts, also those inside functions ("imported late" is how loops hide).
Allowed direction, top to bottom:
  cli -> commands (build, check, send, serve, scaffold) -> outputs (web, pdf, mail) -> content -> shared modules
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator" / "sitegen"
OUTPUTS = {"web", "pdf", "mail"}
COMMANDS = {"build", "check", "send", "serve", "scaffold", "precompile", "cli", "__main__"}
SHARED = {"artifacts", "errors", "project", "urls", "templates", "write", "chromium", "colour", "cores", "fingerprint",
          "seal", "logs", "__init__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name}: relative import (use sitegen.…)"
                if node.module and node.module.startswith("sitegen"):
                    targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                               for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("sitegen")]
            edges[name].update(t for t in targets if t in modules and t != name)
    return edges


def area(module: str) -> str:
    """sitegen.pdf.render -> pdf; sitegen.build -> build."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_the_graph_sees_the_packages():
    g = graph()
    assert {"sitegen.build", "sitegen.web.render", "sitegen.pdf.render", "sitegen.mail.render",
            "sitegen.content.site"} <= set(g)
    assert "sitegen.content.site" in g["sitegen.web.render"]  # imports are found (the test can fail)


def test_no_import_loops():
    g = graph()
    loops = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(g[m]):
            if state.get(n) == 1:
                loops.append(" -> ".join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not loops, "import loops:\n" + "\n".join(loops)


@pytest.mark.parametrize("layer", sorted(OUTPUTS | {"content"} | SHARED))
def test_layers_import_only_downwards(layer):
    g = graph()
    allowed = {"content": {"content"} | SHARED, **{o: {o, "content"} | SHARED for o in OUTPUTS}}
    allowed.update({s: SHARED for s in SHARED})
    bad = [f"{m} imports {n}" for m, targets in g.items() if area(m) == layer
           for n in sorted(targets) if area(n) not in allowed[layer]]
    assert not bad, "\n".join(bad)


def test_site_yaml_and_the_partner_list_are_read_only_by_the_loader():
    """Outside content/, nothing parses YAML files or reads site.yaml or a CSV itself."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.relative_to(PACKAGE).parts[0] == "content":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("load_yaml_file", "site_file.read", "csv.reader", "csv.DictReader", "yaml.safe_load(project"):
            if needle in text:
                offenders.append(f"{path.relative_to(PACKAGE)}: {needle}")
    assert not offenders, offenders
