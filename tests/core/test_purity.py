"""The pure core (everything under bot/core/) imports no Slack, database, scheduler or HTTP code.

Checked twice: statically, every import statement in every file (imports inside functions included, relative
ones resolved), and at run time, by importing every core module in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE_DIR = Path(__file__).resolve().parents[2] / "bot" / "core"
# Slack, databases, the scheduler, HTTP and numeric libraries (the statistics are written out)
FORBIDDEN = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "alembic", "psycopg", "sqlite3", "waitress",
             "http", "socket", "requests", "urllib3", "scipy", "numpy", "PIL")
FORBIDDEN_DOTTED = ("urllib.request",)
# the project's impure layers
IMPURE = ("models", "handlers", "scheduler", "migrations", "bot.services", "bot.web", "bot.cli", "bot.sandbox",
          "bot.app", "bot.context", "bot.db", "bot.slack", "bot.executor", "bot.settings")


def core_modules() -> list[str]:
    names = []
    for path in sorted(CORE_DIR.rglob("*.py")):
        parts = list(path.relative_to(CORE_DIR.parents[1]).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def module_of(path: Path) -> tuple[str, bool]:
    """The dotted name of a file under the project root, and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(CORE_DIR.parents[1]).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def names_in(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every name an import statement in ``source`` reaches, relative imports resolved against ``module``
    (``from ..services import x`` in ``bot.core.foo`` is ``bot.services`` and ``bot.services.x``)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                above = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                base = ".".join([*above, *([node.module] if node.module else [])])
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
    return names


def imported_names(path: Path) -> list[str]:
    return names_in(path.read_text(encoding="utf-8"), *module_of(path))


def is_forbidden(name: str) -> bool:
    top = name.split(".")[0]
    return (top in FORBIDDEN or any(name == d or name.startswith(d + ".") for d in FORBIDDEN_DOTTED)
            or any(name == m or name.startswith(m + ".") for m in IMPURE))


def test_the_core_folder_holds_the_pure_modules():
    assert len(core_modules()) >= 20
    for name in ("bot.core.checklist", "bot.core.scoring", "bot.core.marking", "bot.core.reminder_plan",
                 "bot.core.review", "bot.core.evidence.judge", "bot.core.packet.links"):
        assert name in core_modules()


def test_no_core_file_imports_anything_impure_anywhere():
    bad = {str(path.relative_to(CORE_DIR)): hits for path in sorted(CORE_DIR.rglob("*.py"))
           if (hits := sorted({n for n in imported_names(path) if is_forbidden(n)}))}
    assert bad == {}


def test_relative_imports_are_resolved_and_checked_like_absolute_ones():
    """The checker itself, on made-up source: a relative import must not slip past it (it once skipped them)."""
    def bad(source: str, module: str = "bot.core.foo", is_package: bool = False) -> list[str]:
        return sorted({n for n in names_in(source, module, is_package) if is_forbidden(n)})

    assert bad("from ..services import assessments\n") == ["bot.services", "bot.services.assessments"]
    assert bad("def f():\n    from ...web import server\n", "bot.core.evidence.judge") == ["bot.web",
                                                                                               "bot.web.server"]
    assert bad("from .. import db\n") == ["bot.db"]
    assert bad("from .. import cli\n", "bot.core", is_package=True) == ["bot.cli"]
    assert bad("from . import scoring\nfrom .evidence import judge\nfrom .. import core\n") == []
    assert bad("import sqlalchemy.orm\nfrom slack_sdk import WebClient\n") == ["slack_sdk", "slack_sdk.WebClient",
                                                                                 "sqlalchemy.orm"]
    assert module_of(CORE_DIR / "evidence" / "__init__.py") == ("bot.core.evidence", True)
    assert module_of(CORE_DIR / "scoring.py") == ("bot.core.scoring", False)


def test_is_forbidden_catches_what_it_should():
    assert is_forbidden("sqlalchemy.orm") and is_forbidden("slack_sdk") and is_forbidden("http.client")
    assert is_forbidden("bot.services.assessments") and is_forbidden("models") and is_forbidden("urllib.request")
    assert not is_forbidden("bot.core.scoring") and not is_forbidden("urllib.parse") and not is_forbidden("jinja2")


# At run time only third-party and project modules are looked for: the standard library loads its own
# helpers (importlib.metadata, which pydantic uses, loads email and socket); the static check covers it.
LOADED_FORBIDDEN = tuple(name for name in FORBIDDEN if name not in ("http", "socket", "sqlite3"))


def test_core_modules_load_nothing_impure():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in core_modules())
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        + repr(LOADED_FORBIDDEN) + " or any(m == i or m.startswith(i + '.') for i in " + repr(IMPURE) + "))\n"
        + "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
