"""CSS selection over an lxml HTML tree, indexed so each selector tests few elements.

A compiled XPath walks the whole document at every evaluation, and a page is asked about
twenty questions, which alone cost several times the parse. Here a `SelectorIndex` knows
every selector compiled through it; one pass over a page lists the elements carrying the
tags and classes those selectors need, and a selector then tests only the elements on
its rightmost part's list, walking up from each (an ancestor is rejected by a set lookup
when it is not on its compound's list).

Selectors are the subset the parser uses, with the meaning soupsieve gave them on a
BeautifulSoup tree (the parser's earlier engine): type selectors and `*`, `#id`,
`.class` (a whitespace-separated token, case-sensitive), `[attr]`, `[attr="v"]` and
`[attr*="v"]` (values of HTML's case-insensitive attributes, such as `type`, compared in
ASCII lower case), descendant and child combinators (a child combinator only as the
last one), and comma-separated lists. Anything else is refused when compiled.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

Element = etree._Element

_COMPOUND = re.compile(r"(?P<tag>[A-Za-z][\w-]*|\*)?(?P<rest>(?:#[\w-]+|\.[\w-]+|\[[^\]]*\])*)")
_PART = re.compile(
    r'#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)|\[(?P<attr>[\w-]+)(?:(?P<op>\*?)="(?P<value>[^"]*)")?\]'
)
# soupsieve's HTML_CASE_INSENSITIVE_ATTRIBUTES: their values compare in ASCII lower case.
_CASE_INSENSITIVE_NAMES = (
    "accept accept-charset align alink axis bgcolor charset checked clear codetype color "
    "compact declare defer dir direction disabled enctype face frame hreflang http-equiv "
    "lang language link media method multiple nohref noresize noshade nowrap readonly rel "
    "rev rules scope scrolling selected shape target text type valign valuetype vlink"
)
_CASE_INSENSITIVE = frozenset(_CASE_INSENSITIVE_NAMES.split())
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _attribute_test(name: str, op: str, value: str) -> Callable[[str], bool]:
    if name in _CASE_INSENSITIVE:
        value = value.translate(_ASCII_LOWER)
        if op == "*":
            return lambda actual: bool(value) and value in actual.translate(_ASCII_LOWER)
        return lambda actual: actual.translate(_ASCII_LOWER) == value
    if op == "*":
        return lambda actual: bool(value) and value in actual
    return lambda actual: actual == value


@dataclass(frozen=True)
class _Compound:
    """One compound selector such as `div.a.b#c[d]`."""

    tag: str | None
    element_id: str | None
    classes: frozenset[str]
    attributes: tuple[tuple[str, Callable[[str], bool] | None], ...]
    # The index list any match is on: a class of it (the longest name, usually the most
    # specific), else its tag, else an attribute it must have, else every element.
    key: str = field(init=False)

    def __post_init__(self) -> None:
        if self.classes:
            key = "." + max(sorted(self.classes), key=len)
        elif self.tag is not None:
            key = self.tag
        else:
            key = f"[{self.attributes[0][0]}]" if self.attributes else "*"
        object.__setattr__(self, "key", key)

    def matches(self, el: Element, page: IndexedTree, *, listed: bool = False) -> bool:
        """Whether `el` itself satisfies this compound (`listed`: `el` is known to be on
        this compound's index list)."""
        if not listed:
            if self.classes and el not in page.members(self.key):
                return False
            if self.tag is not None and el.tag != self.tag:
                return False
        elif self.classes and self.tag is not None and el.tag != self.tag:
            return False
        if self.element_id is not None and el.get("id") != self.element_id:
            return False
        if len(self.classes) > 1 and not self.classes.issubset((el.get("class") or "").split()):
            return False
        for name, test in self.attributes:
            value = el.get(name)
            if value is None or (test is not None and not test(value)):
                return False
        return True


def _compound(text: str, selector: str) -> _Compound:
    match = _COMPOUND.fullmatch(text)
    rest = match.group("rest") if match else ""
    parts = list(_PART.finditer(rest))
    if match is None or not text or "".join(p.group(0) for p in parts) != rest:
        raise ValueError(f"unsupported selector: {selector!r}")
    tag = match.group("tag")
    element_id: str | None = None
    classes: set[str] = set()
    attributes: list[tuple[str, Callable[[str], bool] | None]] = []
    for part in parts:
        if part.group("id"):
            element_id = part.group("id")
        elif part.group("cls"):
            classes.add(part.group("cls"))
        else:
            name, value = part.group("attr").lower(), part.group("value")
            test = None if value is None else _attribute_test(name, part.group("op"), value)
            attributes.append((name, test))
    return _Compound(
        tag=None if tag in (None, "*") else tag.lower(),
        element_id=element_id,
        classes=frozenset(classes),
        attributes=tuple(attributes),
    )


@dataclass(frozen=True)
class _Complex:
    """Compounds joined by descendant combinators, the last one maybe by a child combinator."""

    ancestors: tuple[_Compound, ...]  # outermost first
    parent: _Compound | None  # `parent > subject`
    subject: _Compound

    def compounds(self) -> tuple[_Compound, ...]:
        """Every compound of it."""
        return (*self.ancestors, *((self.parent,) if self.parent else ()), self.subject)

    @property
    def anchor(self) -> _Compound | None:
        """The compound next to the subject when matches are best found below its elements:
        the subject has no class (so its list is long: every `p`, `span`, `a`) and it has."""
        near = self.parent or (self.ancestors[-1] if self.ancestors else None)
        return near if near is not None and near.classes and not self.subject.classes else None

    def _above(self, el: Element, page: IndexedTree, count: int) -> bool:
        """Whether `el`'s ancestors match the first `count` ancestor compounds, in order.

        Descendant combinators only: the nearest matching ancestor is as good as any
        farther one, so no backtracking is needed.
        """
        pending = count - 1
        if pending < 0:
            return True
        for ancestor in el.iterancestors():
            if self.ancestors[pending].matches(ancestor, page):
                pending -= 1
                if pending < 0:
                    return True
        return False

    def matches(self, el: Element, page: IndexedTree) -> bool:
        """Whether `el`, an element on the subject's index list, is matched (tested
        bottom-up; nearest ancestors first)."""
        if not self.subject.matches(el, page, listed=True):
            return False
        if self.parent is not None:
            up = el.getparent()
            if up is None or not self.parent.matches(up, page):
                return False
            el = up
        return self._above(el, page, len(self.ancestors))

    def below(self, anchor: Element, page: IndexedTree) -> Iterator[Element]:
        """The matches under `anchor`, an element on the anchor compound's list, in order."""
        if self.parent is not None:
            if not self.parent.matches(anchor, page, listed=True) or not self._above(
                anchor, page, len(self.ancestors)
            ):
                return
            found = anchor.iterchildren(self.subject.tag or etree.Element)
        else:
            assert self.ancestors
            if not self.ancestors[-1].matches(anchor, page, listed=True) or not self._above(
                anchor, page, len(self.ancestors) - 1
            ):
                return
            found = anchor.iterdescendants(self.subject.tag or etree.Element)
        for el in found:
            if self.subject.matches(el, page):
                yield el


def _complex(text: str) -> _Complex:
    steps = [s.strip() for s in re.split(r"(>)", text)]
    if len(steps) not in (1, 3) or any(not s for s in steps):
        raise ValueError(f"unsupported selector: {text!r}")
    left = steps[0].split()
    if len(steps) == 3:
        if len(steps[2].split()) != 1:
            raise ValueError(f"unsupported selector (a child combinator must be last): {text!r}")
        return _Complex(
            ancestors=tuple(_compound(s, text) for s in left[:-1]),
            parent=_compound(left[-1], text),
            subject=_compound(steps[2], text),
        )
    return _Complex(
        ancestors=tuple(_compound(s, text) for s in left[:-1]),
        parent=None,
        subject=_compound(left[-1], text),
    )


class Selector:
    """A compiled selector list; compile it through a `SelectorIndex`."""

    def __init__(self, selectors: str) -> None:
        self.text = selectors
        alternatives = [_complex(s.strip()) for s in selectors.split(",")]
        # Alternatives on one index list are tested in one pass, which keeps document order.
        groups: dict[str, list[_Complex]] = {}
        for alternative in alternatives:
            groups.setdefault(alternative.subject.key, []).append(alternative)
        self.groups = tuple((key, tuple(alts)) for key, alts in groups.items())
        self.compounds = tuple(c for a in alternatives for c in a.compounds())

    @staticmethod
    def _matching(
        page: IndexedTree, key: str, alternatives: tuple[_Complex, ...]
    ) -> Iterator[Element]:
        only = alternatives[0] if len(alternatives) == 1 else None
        anchor = only.anchor if only is not None else None
        if only is not None and anchor is not None:
            # From the few elements of the anchor's list down (anchors can nest: merged).
            yield from page.in_order(
                *(list(only.below(top, page)) for top in page.candidates(anchor.key))
            )
        elif only is not None:
            for el in page.candidates(key):
                if only.matches(el, page):
                    yield el
        else:
            for el in page.candidates(key):
                if any(alternative.matches(el, page) for alternative in alternatives):
                    yield el

    def select(self, page: IndexedTree) -> list[Element]:
        """Every match on `page`, in document order."""
        if len(self.groups) == 1:
            return list(self._matching(page, *self.groups[0]))
        return page.in_order(*(list(self._matching(page, *group)) for group in self.groups))

    def first(self, page: IndexedTree) -> Element | None:
        """The first match on `page` in document order, or None."""
        if len(self.groups) == 1:
            return next(self._matching(page, *self.groups[0]), None)
        matches = self.select(page)
        return matches[0] if matches else None


def _all_elements(root: Element) -> Iterator[Element]:
    """Every element of `root`'s document in document order, comments left out.

    Markup after an early `</html>` makes libxml2 start more top-level elements beside
    the root; they are part of the page.
    """
    for top in (*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()):
        if isinstance(top.tag, str):
            yield from top.iter(etree.Element)


class SelectorIndex:
    """The selectors one parser uses, and the one-pass index of a page that serves them."""

    def __init__(self) -> None:
        self._tags: set[str] = set()
        self._classes: set[str] = set()

    def css(self, selectors: str) -> Selector:
        """Compile `selectors`; pages indexed from now on can answer it."""
        selector = Selector(selectors)
        for compound in selector.compounds:
            if compound.key.startswith("."):
                self._classes.add(compound.key[1:])
            elif compound.key[0] not in "[*":
                self._tags.add(compound.key)
        return selector

    def index(self, root: Element | None) -> IndexedTree:
        """Index a parsed page (None: an empty page)."""
        by_tag: dict[str, list[Element]] = {tag: [] for tag in self._tags}
        by_class: dict[str, list[Element]] = {name: [] for name in self._classes}
        elements: list[Element] = []
        if root is not None:
            # The loop every page pays for: names bound once, comments skipped by lxml.
            listed, tag_list, class_list = elements.append, by_tag.get, by_class.get
            for el in _all_elements(root):
                listed(el)
                found = tag_list(el.tag)
                if found is not None:
                    found.append(el)
                names = el.get("class")
                if names:
                    for name in names.split():
                        found = class_list(name)
                        # `class="a a"` lists an element once
                        if found is not None and (not found or found[-1] is not el):
                            found.append(el)
        return IndexedTree(root, elements, by_tag, by_class)


class IndexedTree:
    """A parsed page with its elements listed by the tags and classes selectors need."""

    def __init__(
        self,
        root: Element | None,
        elements: list[Element],
        by_tag: dict[str, list[Element]],
        by_class: dict[str, list[Element]],
    ) -> None:
        self.root = root
        self.elements = elements  # every element, in document order
        self._by_tag = by_tag
        self._by_class = by_class
        self._by_attribute: dict[str, list[Element]] = {}
        self._sets: dict[str, set[Element]] = {}
        self._order: dict[Element, int] | None = None
        self.memo: dict[object, Any] = {}  # what callers work out once per page

    def candidates(self, key: str) -> list[Element]:
        """The elements listed under a selector's key (KeyError: not compiled by the index)."""
        if key == "*":
            return self.elements
        if key[0] == ".":
            return self._by_class[key[1:]]
        if key[0] == "[":  # listed on first use: most pages never ask
            found = self._by_attribute.get(key)
            if found is None:
                name = key[1:-1]
                found = self._by_attribute[key] = [
                    el for el in self.elements if el.get(name) is not None
                ]
            return found
        return self._by_tag[key]

    def members(self, key: str) -> set[Element]:
        """`candidates(key)` as a set."""
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = set(self.candidates(key))
        return found

    def in_order(self, *groups: list[Element]) -> list[Element]:
        """The elements of several lists, each in document order, merged in document order
        without repeats."""
        filled = [group for group in groups if group]
        if len(filled) < 2:
            return filled[0] if filled else []
        if self._order is None:
            self._order = {e: i for i, e in enumerate(self.elements)}
        order = self._order
        return sorted(dict.fromkeys(el for group in filled for el in group), key=order.__getitem__)
