"""The tree reads as the architecture: no import circles among the project's modules, few loose modules in bot/.

Every import statement counts, imports inside functions included; only those in the body of
``if TYPE_CHECKING:`` (or ``if typing.TYPE_CHECKING:``) are exempt: they never run. ``if not TYPE_CHECKING:``
and the ``else`` of an ``if TYPE_CHECKING:`` do run, and count. The packages above a module are initialised before it, so an import of one's
own ancestor package counts only when it takes a name the package defines (not a submodule).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "scheduler", "models", "migrations")
# the app wiring, settings and the helpers every layer shares
LOOSE_IN_BOT = {"__init__", "app", "context", "db", "errors", "executor", "settings", "slack"}


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` itself: false when the program runs. Not ``not
    TYPE_CHECKING``, nor ``TYPE_CHECKING or x``, whose branches do run."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING" and isinstance(test.value, ast.Name)
            and test.value.id == "typing")


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The nodes under the body of an ``if TYPE_CHECKING:`` (never its ``else``), which never run."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and is_type_checking(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def imports_of(source: str, name: str, package: str, modules: Iterable[str]) -> set[str]:
    """The project modules that the module ``name`` (in ``package``) imports when it runs, its source given."""
    known = set(modules)

    def owner(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    tree = ast.parse(source)
    skipped = _type_checking_nodes(tree)
    edges: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in targets:
            found = owner(target)
            if found is None or found == name:
                continue
            edges.add(found)
            parts = found.split(".")
            for i in range(1, len(parts)):  # importing a.b.c runs a and a.b first, unless they are ours
                ancestor = ".".join(parts[:i])
                if ancestor in known and not (name == ancestor or name.startswith(ancestor + ".")):
                    edges.add(ancestor)
    return edges


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = imports_of(path.read_text(encoding="utf-8"), name, package, modules)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_circle_among_the_projects_modules():
    assert circles(import_graph(project_modules())) == []


def test_a_circle_hidden_in_a_function_is_found(tmp_path):
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "a.py").write_text("from bot.b import thing\n")
    (tmp_path / "bot" / "b.py").write_text("def thing():\n    from bot import a\n")
    (tmp_path / "bot" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import a\n")
    (tmp_path / "bot" / "d.py").write_text("from bot import c\n")
    for package in PACKAGES[1:]:
        (tmp_path / package).mkdir()
    assert circles(import_graph(project_modules(tmp_path))) == [["bot.a", "bot.b"]]


def test_only_the_body_of_if_type_checking_is_exempt():
    """The checker itself, on made-up source: `if not TYPE_CHECKING:` runs, and so does the `else` of an
    `if TYPE_CHECKING:` (it once exempted both)."""
    modules = {"bot", "bot.a", "bot.b", "bot.c", "bot.d", "bot.e"}

    def seen(source: str) -> set[str]:
        return imports_of(source, "bot.a", "bot", modules)

    assert seen("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from bot import b\n") == set()
    assert seen("import typing\nif typing.TYPE_CHECKING:\n    import bot.b\n") == set()
    assert seen("if not TYPE_CHECKING:\n    from bot import b\n") == {"bot.b"}
    assert seen("if TYPE_CHECKING or DEBUG:\n    from bot import b\n") == {"bot.b"}
    assert seen("if TYPE_CHECKING:\n    from bot import b\nelse:\n    from bot import c\n") == {"bot.c"}
    assert seen("def f():\n    from . import d\n    from .e import thing\n") == {"bot.d", "bot.e"}


def test_a_package_that_reexports_from_a_module_that_imports_it_back_is_a_circle(tmp_path):
    (tmp_path / "bot" / "pkg").mkdir(parents=True)
    (tmp_path / "bot" / "__init__.py").write_text("")
    (tmp_path / "bot" / "pkg" / "__init__.py").write_text("from bot.pkg.x import X\nY = 1\n")
    (tmp_path / "bot" / "pkg" / "x.py").write_text("from bot.pkg import Y\nX = Y\n")
    for package in PACKAGES[1:]:
        (tmp_path / package).mkdir()
    assert circles(import_graph(project_modules(tmp_path))) == [["bot.pkg", "bot.pkg.x"]]


def test_only_the_wiring_settings_and_shared_helpers_stay_loose_in_bot():
    loose = {path.stem for path in (ROOT / "bot").glob("*.py")}
    assert loose <= LOOSE_IN_BOT, f"new loose modules in bot/: {sorted(loose - LOOSE_IN_BOT)}; give them a folder"
    folders = {path.name for path in (ROOT / "bot").iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    assert {"core", "web", "cli", "sandbox", "services"} <= folders
