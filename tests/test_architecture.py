"""The package's layering, enforced: data flows one way, and only the CLI knows Typer.

See docs/architecture.md. Each module of ``src/minders`` belongs to a layer;
a module may import (at the top or inside a function) only from its own
layer or the layers below. Module-level imports must also form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "minders"

#: Layers from the bottom up; a module's layer is that of its longest matching prefix.
LAYERS: list[tuple[str, ...]] = [
    # 0: foundations, shared by everything
    ("minders.errors", "minders.formatting", "minders.codes", "minders.streams",
     "minders.helper_signals",
     "minders.scenarios", "minders.data"),
    # 1: what every scenario kind shares
    ("minders.distributions", "minders.spec"),
    # 2: the minders model's scenario, and the registry of kinds
    ("minders.scenario", "minders.kinds"),
    # 3: the world a scenario builds
    ("minders.population", "minders.network", "minders.shocks"),
    # 4: the engine
    ("minders.kernels", "minders.records", "minders.result", "minders.engine"),
    # 5: the minders kind's hooks: summary, figure, checks
    ("minders.plotting", "minders.model"),
    # 6: the classic models (each a complete kind)
    ("minders.classic",),
    # 7: experiments over any kind
    ("minders.experiments",),
    # reports and exports of results folders (of runs and of experiments)
    ("minders.report",),
    # 8: interfaces
    ("minders.dashboard",),
    ("minders.cli",),
    # the public facade (``import minders``), which loads the API lazily
    ("minders",),
]


def layer_of(module: str) -> int:
    best, level = "", -1
    for k, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, k
    return level


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, module: str, top_level_only: bool = False) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = runtime_nodes(tree.body, recurse=not top_level_only)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, node.lineno))
            # ``from minders import kinds`` imports the submodule minders.kinds
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names
                      if f"{base}.{alias.name}" in MODULES]
    return found


def runtime_nodes(body: list[ast.stmt], recurse: bool) -> list[ast.AST]:
    """Statements that run: ``if TYPE_CHECKING:`` blocks (type hints only) are left out."""
    found: list[ast.AST] = []
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        found.append(node)
        if recurse:
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.If | ast.Try):  # still module level
            stack.extend(ast.iter_child_nodes(node))
    return found


MODULES = modules()


def test_every_module_has_a_layer():
    missing = [name for name in MODULES if layer_of(name) < 0]
    assert not missing, f"add these modules to a layer in LAYERS: {missing}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    own = layer_of(module)
    wrong = []
    for target, line in imports(MODULES[module], module):
        if not target.startswith("minders") or target == "minders":
            continue
        if layer_of(target) > own:
            wrong.append(f"line {line}: {target} (layer {layer_of(target)} > {own})")
    assert not wrong, f"{module} imports from a higher layer: {wrong}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("minders.cli")))
def test_only_the_cli_imports_typer(module):
    names = [t for t, _ in imports(MODULES[module], module)]
    assert not any(t == "typer" or t.startswith("typer.") for t in names)


def test_module_level_imports_have_no_cycle():
    graph = {
        name: {t for t, _ in imports(path, name, top_level_only=True)
               if t in MODULES and t != name and t != "minders"}
        for name, path in MODULES.items()
    }
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*trail, node, nxt]
            if nxt not in state:
                cycle = visit(nxt, [*trail, node])
                if cycle:
                    return cycle
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name, [])
            assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_the_layer_check_catches_an_upward_import(tmp_path):
    fake = tmp_path / "engine.py"
    fake.write_text("from minders.experiments import sweep\n")
    found = imports(fake, "minders.engine")
    assert any(layer_of(t) > layer_of("minders.engine") for t, _ in found)
