"""Zero import circles, and the layers: bot -> services -> db, web beside bot.

The graph counts every import statement, TYPE_CHECKING-only ones included (see import_graph).
"""

from __future__ import annotations

import pytest

from tests.architecture.import_graph import (
    ROOT,
    Import,
    cycles,
    import_graph,
    imports_of,
    project_modules,
)

MODULES = project_modules()


def _imports_under(package: str) -> list[Import]:
    return [
        imp
        for name, path in MODULES.items()
        if name == package or name.startswith(package + ".")
        for imp in imports_of(name, path)
    ]


def _names(imp: Import) -> set[str]:
    """The modules an import may load: the target and, for `from x import y`, x.y."""
    return {imp.target, *(f"{imp.target}.{name}" for name in imp.names)}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _where(imp: Import) -> str:
    return f"{MODULES[imp.importer].relative_to(ROOT)}:{imp.line}"


def test_the_graph_covers_every_package() -> None:
    packages = {name.split(".")[0] for name in MODULES}
    assert packages == {"bot", "services", "db", "web", "rltr_mktg"}
    graph = import_graph(MODULES)
    # Spot checks that edges are really read.
    assert "bot.app_type" in graph["bot.app"]
    assert "services.generation.writer" in graph["services.generation.writer_factory"]
    # Function-level imports count too: the factory picks a writer lazily.
    assert "services.generation.builtin_writer" in graph["services.generation.writer_factory"]


def test_no_import_circles() -> None:
    found = cycles(import_graph(MODULES))
    assert not found, "import circles:\n" + "\n".join(" -> ".join(loop) for loop in found)


def test_the_cycle_finder_names_a_circle() -> None:
    # The check above is only as good as this: a circle must be found and shown as a loop.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]
    assert cycles({"x": {"y"}, "y": set()}) == []


@pytest.mark.parametrize("package", ["services", "db", "web", "rltr_mktg"])
def test_telegram_is_imported_only_by_bot(package: str) -> None:
    offending = [
        f"{_where(imp)} imports {imp.target}"
        for imp in _imports_under(package)
        if _within(imp.target, "telegram")
    ]
    assert not offending, f"only bot/ may use python-telegram-bot: {offending}"


def test_services_do_not_use_the_web_server() -> None:
    offending = [
        f"{_where(imp)} imports {imp.target} {imp.names}"
        for imp in _imports_under("services")
        if any(_within(name, "aiohttp.web") for name in _names(imp))
    ]
    assert not offending, f"services/ are transport-free; aiohttp.web belongs in web/: {offending}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("db", ("services", "bot", "web", "rltr_mktg")),
        ("services", ("bot", "web", "rltr_mktg")),
        # bot/cli.py's `run` starts the process wiring (rltr_mktg), which is allowed.
        ("bot", ("web",)),
        ("web", ("bot", "rltr_mktg")),
    ],
)
def test_layers_import_only_downwards(package: str, forbidden: tuple[str, ...]) -> None:
    offending = [
        f"{_where(imp)} imports {imp.target}"
        for imp in _imports_under(package)
        if any(_within(imp.target, other) for other in forbidden)
    ]
    assert not offending, f"{package}/ must not import {', '.join(forbidden)}: {offending}"
