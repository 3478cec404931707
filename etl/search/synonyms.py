"""Drug names of the project's vocabulary, for search and the Drug filter.

``etl/classify/data/drugs.csv`` maps every brand or other name of a product (``norco``,
``lyrica``, ``hydrocodone/apap``) to its generic ingredients; ``ingredient_classes.csv`` lists
the generics. From them:

* an item's index terms (``index_names``): its generic ingredients, and every name whose
  ingredients the item holds all of: an item with hydrocodone and acetaminophen is found by
  ``norco`` (and ``tylenol``), an item with acetaminophen alone is not found by ``norco``;
* the Drug filter's value for a name (``canonical``): the generic (``lyrica`` ->
  ``pregabalin``), or for a product of several ingredients their combination
  (``norco`` -> ``acetaminophen + hydrocodone``), which selects items holding all of them;
* the names to highlight for a query word (``related``): the word, its ingredients and the
  names of products holding them all.

Pure: no DuckDB, no Streamlit, no Tantivy.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass

from etl.classify import tables

# Joins the ingredients of a combination in a Drug filter value: "acetaminophen + hydrocodone".
COMBINATION = " + "
# How many items' lists of drugs DrugNames.index_names keeps the terms of (a few MB).
NAMES_KEPT = 50_000
# Written between a name and its generic in a Drug filter option's label: "lyrica → pregabalin".
ARROW = " → "


def combination(ingredients: tuple[str, ...] | list[str] | set[str]) -> str:
    """The Drug filter value of a set of ingredients (sorted, joined with `` + ``)."""
    return COMBINATION.join(sorted({i.strip().lower() for i in ingredients if i.strip()}))


@dataclass(frozen=True)
class DrugNames:
    """Every name of the vocabulary with its ingredients."""

    products: dict[str, tuple[str, ...]]  # a name other than a generic -> its ingredients
    generics: frozenset[str]  # ingredient names

    @classmethod
    def from_vocabulary(cls) -> DrugNames:
        products: dict[str, tuple[str, ...]] = {}
        for name, row in tables.drug_products().items():
            ingredients = tuple(
                sorted({i.strip().lower() for i in row["ingredients"].split("+") if i.strip()})
            )
            if ingredients and (name,) != ingredients:
                products[name] = ingredients
        # Ingredients: those with a class, and those only named by a product's row.
        generics = frozenset(tables.ingredient_classes()) | {
            i for ingredients in products.values() for i in ingredients
        }
        return cls(products, generics)

    @functools.cached_property
    def _by_ingredient(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for name, ingredients in self.products.items():
            for ingredient in ingredients:
                found[ingredient].append(name)
        return dict(found)

    @functools.cached_property
    def _names_of(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {}

    def index_names(self, drugs: list[str] | tuple[str, ...] | None) -> list[str]:
        """An item's drug terms: its generics, then every name all of whose ingredients it
        holds (sorted). Kept per list of drugs: the index build asks for every item's, and a
        common ingredient is in hundreds of names (a sixth of the build's time)."""
        key = tuple(drugs or ())
        known = self._names_of.get(key)
        if known is None:
            if len(self._names_of) >= NAMES_KEPT:
                self._names_of.clear()
            known = self._names_of[key] = tuple(self._index_names(key))
        return list(known)

    def _index_names(self, drugs: tuple[str, ...]) -> list[str]:
        held = {d.strip().lower() for d in drugs if d and d.strip()}
        names: set[str] = set()
        for ingredient in held:
            for name in self._by_ingredient.get(ingredient, ()):
                if set(self.products[name]) <= held:
                    names.add(name)
        return sorted(held) + sorted(names - held)

    def canonical(self, value: str) -> str | None:
        """The Drug filter value ``value`` stands for: a generic as it is, a name as its
        generic or combination, a combination normalised; an option label ``name → generic``
        as that generic. None for text that names no drug of the vocabulary."""
        text = " ".join(value.split()).lower()
        if ARROW.strip() in text:
            text = text.split(ARROW.strip(), 1)[1].strip()
        if text in self.products:
            return combination(self.products[text])
        if COMBINATION.strip() in text:
            parts = [p.strip() for p in text.split(COMBINATION.strip()) if p.strip()]
            canonical_parts: set[str] = set()
            for part in parts:
                resolved = self.canonical(part)
                if resolved is None:
                    return None
                canonical_parts.update(resolved.split(COMBINATION))
            return combination(canonical_parts) if canonical_parts else None
        if text in self.generics:
            return text
        return None

    def ingredients_of(self, value: str) -> tuple[str, ...]:
        """The generics a Drug filter value (generic, name or combination) requires."""
        canonical = self.canonical(value)
        if canonical is None:
            return ()
        return tuple(canonical.split(COMBINATION))

    def related(self, word: str) -> set[str]:
        """Names to highlight with a query word naming a drug: the word, its ingredients, and
        every name of a product holding all of them. Empty for other words."""
        ingredients = self.ingredients_of(word)
        if not ingredients:
            return set()
        wanted = set(ingredients)
        names = {word.lower(), *ingredients}
        for name in self._by_ingredient.get(ingredients[0], ()):
            if wanted <= set(self.products[name]):
                names.add(name)
        return names

    def option_names(self, available: set[str]) -> dict[str, str]:
        """Names usable in the Drug filter: name -> its value, for names whose value is
        ``available`` (a generic or combination that some item holds)."""
        options: dict[str, str] = {}
        for name, ingredients in self.products.items():
            value = combination(ingredients)
            if value in available and name not in available:
                options[name] = value
        return dict(sorted(options.items()))

    def combinations(self) -> list[str]:
        """Every combination value a product of several ingredients stands for."""
        return sorted({combination(i) for i in self.products.values() if len(i) > 1})


@functools.cache
def drug_names() -> DrugNames:
    """The vocabulary's names (read once per process)."""
    return DrugNames.from_vocabulary()


def vocabulary_digest() -> str:
    """A digest of the vocabulary files the index's drug terms come from: when it changes, the
    next ingest rebuilds the index whole."""
    digest = hashlib.sha256()
    for name in ("drugs.csv", "ingredient_classes.csv"):
        digest.update(name.encode())
        digest.update((tables.DATA_DIR / name).read_bytes())
    return digest.hexdigest()[:32]
