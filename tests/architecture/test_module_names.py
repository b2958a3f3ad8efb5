"""One basename per module inside each package, so a file name says which module it is."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.architecture.import_graph import ROOT


def basename_clashes(package: str) -> dict[str, list[str]]:
    """Basenames used by more than one module under `package` (`__init__.py` aside)."""
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if path.name == "__init__.py" or "migrations" in relative.parts:
            continue
        where[path.name].append(str(relative))
    return {name: paths for name, paths in where.items() if len(paths) > 1}


@pytest.mark.parametrize("package", ["bot", "services", "db", "web"])
def test_no_two_modules_share_a_basename(package: str) -> None:
    clashes = basename_clashes(package)
    assert not clashes, f"rename one of each: {clashes}"


def test_a_clash_is_reported() -> None:
    clashes = basename_clashes("tests")
    # tests/ itself repeats conftest.py: proof that the finder sees nested duplicates.
    assert "conftest.py" in clashes and len(clashes["conftest.py"]) > 1


def test_the_application_type_is_spelled_once() -> None:
    # One name per idea: everything in bot/ annotates with bot.app_type.App.
    spelled = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if "Application[" in path.read_text(encoding="utf-8") and path.name != "app_type.py"
    ]
    assert not spelled, f"use bot.app_type.App instead: {spelled}"
