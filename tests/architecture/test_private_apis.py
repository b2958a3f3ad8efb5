"""Libraries' private names are used only by their one adapter module each."""

from __future__ import annotations

import re

from tests.architecture.import_graph import ROOT, imports_of, project_modules

ADAPTERS = {"telegram": "bot.ptb_private", "sqlalchemy": "db.sqlalchemy_private"}
# Attribute uses that are private whatever the import looks like.
PRIVATE_ATTRIBUTES = {
    "telegram": re.compile(r"\._post\("),
    "sqlalchemy": re.compile(r"\.(positiontup|binds|_invalidate)\b|greenlet_spawn"),
}
# Modules of these libraries that are not public API though their names have no underscore.
PRIVATE_MODULES = {"sqlalchemy": ("sqlalchemy.util",)}


def _is_private(library: str, target: str, names: tuple[str, ...]) -> bool:
    if target != library and not target.startswith(library + "."):
        return False
    dotted = [target, *(f"{target}.{name}" for name in names)]
    if any(part.startswith("_") for name in dotted for part in name.split(".")):
        return True
    return any(
        name == private or name.startswith(private + ".")
        for name in dotted
        for private in PRIVATE_MODULES.get(library, ())
    )


def test_private_names_are_imported_only_by_their_adapter() -> None:
    offending = []
    for name, path in project_modules().items():
        for imp in imports_of(name, path):
            for library, adapter in ADAPTERS.items():
                if name != adapter and _is_private(library, imp.target, imp.names):
                    where = path.relative_to(ROOT)
                    offending.append(f"{where}:{imp.line} {imp.target} {imp.names}")
    assert not offending, f"import these through {sorted(ADAPTERS.values())}: {offending}"


def test_private_attributes_are_used_only_by_their_adapter() -> None:
    offending = []
    for name, path in project_modules().items():
        text = path.read_text(encoding="utf-8")
        for library, pattern in PRIVATE_ATTRIBUTES.items():
            if name == ADAPTERS[library]:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                code = line.split("#", 1)[0]
                if pattern.search(code):
                    offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offending, f"move these into {sorted(ADAPTERS.values())}: {offending}"


def test_the_checks_recognise_private_names() -> None:
    assert _is_private("telegram", "telegram._utils.types", ("ODVInput",))
    assert _is_private("sqlalchemy", "sqlalchemy.util", ("greenlet_spawn",))
    assert _is_private("sqlalchemy", "sqlalchemy", ("util",))
    assert not _is_private("telegram", "telegram.ext", ("Application",))
    assert not _is_private("sqlalchemy", "sqlalchemy.ext.asyncio", ("AsyncEngine",))
    assert PRIVATE_ATTRIBUTES["telegram"].search("await bot._post(x)")
    assert PRIVATE_ATTRIBUTES["sqlalchemy"].search("compiled.positiontup or ()")
