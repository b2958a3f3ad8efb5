"""Handlers stay thin: no file in bot/handlers imports the database layer or SQLAlchemy, or
opens a session or a tap connection itself; services do that (ARCHITECTURE: bot → services
→ db). Every import counts, also inside functions and under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HANDLERS = Path(__file__).resolve().parents[2] / "bot" / "handlers"
# The status words of /stats and /schedule are keyed by the status enums; they go once
# the one status → words table lives in services.
ALLOWED_DB_MODULES = frozenset({"db.status"})
FORBIDDEN_ROOTS = ("db", "sqlalchemy", "asyncpg", "aiosqlite")
# Opening a unit of work, a tap connection or a session is the services' job: these
# attributes anywhere, and these of `database` (`rt.database.run(service, …)` is the way).
FORBIDDEN_ATTRIBUTES = frozenset({"unit_of_work", "sessionmaker", "engine"})
FORBIDDEN_OF_DATABASE = frozenset({"tap", "connection"})


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module in FORBIDDEN_ROOTS:  # `from db import repositories`
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def violations(source: str) -> list[str]:
    """What in `source` (a handler module) breaks the rule, as "line: what"."""
    tree = ast.parse(source)
    out = [
        f"{line}: imports {module}"
        for line, module in _imported_modules(tree)
        if module.split(".", 1)[0] in FORBIDDEN_ROOTS and module not in ALLOWED_DB_MODULES
    ]
    out += [
        f"{node.lineno}: uses .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and (
            node.attr in FORBIDDEN_ATTRIBUTES
            or (node.attr in FORBIDDEN_OF_DATABASE and _names_database(node.value))
        )
    ]
    return out


def _names_database(node: ast.expr) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "database") or (
        isinstance(node, ast.Name) and node.id == "database"
    )


def _handler_files() -> list[Path]:
    return sorted(HANDLERS.glob("*.py"))


def test_there_are_handlers_to_check() -> None:
    assert len(_handler_files()) >= 10


@pytest.mark.parametrize("path", _handler_files(), ids=lambda p: p.name)
def test_handler_has_no_database_calls(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from db.repositories import agents as agents_repo\n", ["1: imports db.repositories"]),
        ("import db.models\n", ["1: imports db.models"]),
        ("from db import repositories\n", ["1: imports db.repositories"]),
        ("from sqlalchemy import select\n", ["1: imports sqlalchemy.select"]),
        (
            "from sqlalchemy.ext.asyncio import AsyncSession\n",
            ["1: imports sqlalchemy.ext.asyncio"],
        ),
        (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from db.driver import Executor\n",
            ["3: imports db.driver"],
        ),
        ("async def h(rt):\n    from db.errors import X\n", ["2: imports db.errors"]),
        (
            "async def h(rt):\n    async with rt.database.unit_of_work() as s:\n        pass\n",
            ["2: uses .unit_of_work"],
        ),
        (
            "async def h(rt):\n    async with rt.database.tap() as c:\n        pass\n",
            ["2: uses .tap"],
        ),
        ("async def h(database):\n    await database.tap()\n", ["2: uses .tap"]),
        ("from db.status import ContentStatus\nfrom services import approval\n", []),
        ("async def h(c):\n    await draft_taps.tap(c.rt.database, 'approve')\n", []),
    ],
)
def test_the_rule_catches_each_kind_of_database_call(source: str, expected: list[str]) -> None:
    assert violations(source) == expected
