"""CSS selection over a BeautifulSoup tree, indexed so each selector tests few elements.

soupsieve's `select` matches every element of the page against every selector, which
made it most of the parser's cost. Here the tags are indexed once by id, class and name;
a selector is then matched (with soupsieve, so full CSS semantics hold) only against the
tags carrying the rarest id, class or name of its rightmost part.
Limitation: attribute values in selectors must not contain `,` or `]`.
"""

from __future__ import annotations

import functools
import re

import soupsieve
from bs4 import BeautifulSoup, Tag

_COMBINATOR = re.compile(r"[\s>+~]+")
_ATTRIBUTE = re.compile(r"\[[^\]]*\]")
_ID = re.compile(r"#([\w-]+)")
_CLASS = re.compile(r"\.([\w-]+)")
_NAME = re.compile(r"^([A-Za-z][\w-]*)")


@functools.lru_cache(maxsize=256)
def _compiled(selector: str) -> soupsieve.SoupSieve:
    return soupsieve.compile(selector)


@functools.lru_cache(maxsize=256)
def _index_keys(selector: str) -> tuple[str, ...]:
    """The index keys any match must carry: the rightmost compound's id, classes and name."""
    compound = _COMBINATOR.split(_ATTRIBUTE.sub("", selector.strip()))[-1]
    keys = [f"#{m}" for m in _ID.findall(compound)] + [f".{m}" for m in _CLASS.findall(compound)]
    if match := _NAME.match(compound):
        keys.append(match.group(1).lower())
    return tuple(keys) or ("*",)


class IndexedSoup:
    """A parsed document whose `select` only matches likely candidates."""

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        self.tags: list[Tag] = [t for t in soup.find_all(True) if isinstance(t, Tag)]
        self._order = {id(tag): i for i, tag in enumerate(self.tags)}
        self._by_key: dict[str, list[Tag]] = {"*": self.tags}
        for tag in self.tags:
            self._by_key.setdefault(tag.name, []).append(tag)
            classes = tag.get("class")
            if isinstance(classes, list):
                for name in dict.fromkeys(classes):
                    self._by_key.setdefault(f".{name}", []).append(tag)
            tag_id = tag.get("id")
            if isinstance(tag_id, str):
                self._by_key.setdefault(f"#{tag_id}", []).append(tag)

    def select(self, selectors: str) -> list[Tag]:
        """Tags matching any of the comma-separated `selectors`, in document order."""
        parts = [s.strip() for s in selectors.split(",") if s.strip()]
        found: dict[int, Tag] = {}
        for selector in parts:
            compiled = _compiled(selector)
            candidates = min((self._by_key.get(key, []) for key in _index_keys(selector)), key=len)
            for tag in candidates:
                if compiled.match(tag):
                    found[id(tag)] = tag
        if len(parts) == 1:
            return list(found.values())
        return sorted(found.values(), key=lambda tag: self._order[id(tag)])

    def select_one(self, selectors: str) -> Tag | None:
        """The first tag in document order matching `selectors`, or None."""
        matches = self.select(selectors)
        return matches[0] if matches else None
