"""The shape of the package, as tests: the webui bridge is the only code that imports the webui,
features never probe the host, kit depends on no step, steps form no import cycle and never reach
up to the tab, the router or the bridge, and nothing cites a file outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "lib_textinv"
STEPS = ("dataset", "crop", "captions", "embedding", "train", "compare", "scores", "autopilot")
TOP = ("tab", "routes", "standalone", "__main__", "webui")
MAX_FUNCTION_LINES = 80


def modules() -> dict[str, ast.Module]:
    return {
        ".".join(p.relative_to(ROOT).with_suffix("").parts): ast.parse(p.read_text(encoding="utf-8"))
        for p in sorted(PKG.rglob("*.py"))
    }


def imported(tree: ast.Module) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def area(module: str) -> str:
    """lib_textinv.<area>[.…] → area (a step, kit, or a top-level module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


MODULES = modules()


def test_only_the_bridge_imports_the_webui():
    offenders = [
        m
        for m, tree in MODULES.items()
        if area(m) != "webui" and any(i == "modules" or i.startswith("modules.") for i in imported(tree))
    ]
    assert offenders == []


def test_features_never_probe_the_host():
    probe = re.compile(r"\b(getattr|hasattr)\((self\.)?(host|_host|ctx\.host)\b")
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in PKG.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if probe.search(line)
    ]
    assert offenders == []


def test_kit_depends_on_no_step_and_steps_not_on_the_top():
    wrong = []
    for m, tree in MODULES.items():
        targets = {area(i) for i in imported(tree) if i.startswith("lib_textinv.")}
        if area(m) == "kit":
            wrong += [f"{m} -> {t}" for t in targets if t in STEPS or t in TOP]
        elif area(m) in STEPS:
            wrong += [f"{m} -> {t}" for t in targets if t in TOP]
    assert wrong == []


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for m, tree in MODULES.items():
        for i in imported(tree):
            if i in MODULES and i != m:
                graph[m].add(i)
    # Tarjan-free check: a depth-first search that meets a module on its own stack found a cycle.
    cycles, state = [], dict.fromkeys(graph, 0)

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state[n] == 1:
                cycles.append(" -> ".join([*stack[stack.index(n) :], n]))
            elif state[n] == 0:
                visit(n, [*stack, n])
        state[m] = 2

    for m in sorted(graph):
        if state[m] == 0:
            visit(m, [m])
    assert cycles == []


def test_steps_form_no_cycle_between_folders():
    edges = {
        (area(m), area(i))
        for m, tree in MODULES.items()
        for i in imported(tree)
        if i.startswith("lib_textinv.") and area(m) in STEPS and area(i) in STEPS and area(i) != area(m)
    }
    assert sorted((a, b) for a, b in edges if (b, a) in edges) == []


@pytest.mark.parametrize("step", STEPS)
def test_each_step_has_its_core_section_and_routes(step):
    names = {p.name for p in (PKG / step).glob("*.py")}
    assert {"section.py", "routes.py"} <= names
    assert len(names - {"section.py", "routes.py", "__init__.py"}) >= 1, (
        "a step's pure core lives beside them"
    )


def test_no_function_is_too_long():
    long = [
        f"{m}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for m, tree in MODULES.items()
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_nothing_cites_a_file_outside_the_repository():
    outside = re.compile(r"\.\./shared|webui-api\.md")
    offenders = [
        str(p.relative_to(ROOT))
        for p in ROOT.rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".md", ".js", ".css", ".toml", ".txt")
        and not {".git", ".venv", ".pydantic2", "artifacts"} & set(p.relative_to(ROOT).parts)
        and outside.search(p.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
