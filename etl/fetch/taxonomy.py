"""DWC's index texts in our taxonomy: mapped where they match, NULL where they do not.

The targets are the project's own vocabularies (``etl.classify``): the request categories and
subcategories of ``request_rules.csv``, and the drug classes of ``ingredient_classes.csv``,
``drugs.csv`` and the classifier's class list. A text matches when it is one of those names
(case and spacing aside) or one of DWC's own spellings listed in ``dwc_names.csv`` beside it.
Nothing else is mapped: the raw text is stored either way.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from etl.classify import drugs, tables
from etl.classify.requests import PHARMACEUTICALS
from etl.warehouse.contract import DECISIONS

NAMES_CSV = Path(__file__).with_name("dwc_names.csv")
KINDS = ("decision", "category", "subcategory", "drug_class")


def key(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Vocabulary:
    categories: dict[str, str]  # key -> our name
    subcategories: dict[str, dict[str, str]]  # our category -> key -> our subcategory
    drug_classes: dict[str, str]
    decisions: dict[str, str]


@functools.cache
def vocabulary() -> Vocabulary:
    categories: dict[str, str] = {key(PHARMACEUTICALS): PHARMACEUTICALS}
    subcategories: dict[str, dict[str, str]] = {}
    for row in tables.request_rules():
        categories[key(row["category"])] = row["category"]
        subcategories.setdefault(row["category"], {})[key(row["subcategory"])] = row["subcategory"]
    classes = {*drugs.CLASS_PRIORITY, drugs.TOPICAL_COMPOUNDS}
    classes |= set(tables.ingredient_classes().values())
    classes |= {row["drug_class"] for row in tables.drug_products().values() if row["drug_class"]}
    return Vocabulary(
        categories=categories,
        subcategories=subcategories,
        drug_classes={key(name): name for name in classes},
        decisions={key(name): name for name in DECISIONS},
    )


def read_names(path: Path = NAMES_CSV) -> list[dict[str, str]]:
    """The rows of ``dwc_names.csv``; '#' comment rows skipped."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = []
        for row in csv.DictReader(handle):
            cleaned = {k: (v or "").strip() for k, v in row.items()}
            if not cleaned.get("kind") or cleaned["kind"].startswith("#"):
                continue
            rows.append(cleaned)
        return rows


@functools.cache
def dwc_names() -> dict[tuple[str, str], str]:
    """(kind, key of DWC's spelling) -> our name."""
    return {(row["kind"], key(row["dwc"])): row["ours"] for row in read_names()}


@dataclass(frozen=True)
class Mapped:
    category: str | None
    subcategory: str | None
    drug_class: str | None
    decision: str | None


def _lookup(kind: str, text: str, names: dict[str, str]) -> str | None:
    k = key(text)
    if not k:
        return None
    found = names.get(k)
    if found is not None:
        return found
    alias = dwc_names().get((kind, k))
    return alias if alias is not None and alias in names.values() else None


def map_treatment(category: str, subcategory: str, decision: str) -> Mapped:
    """DWC's Request Category, SubCategory/Drug and Request Decision in our terms."""
    vocab = vocabulary()
    ours_category = _lookup("category", category, vocab.categories)
    ours_sub: str | None = None
    drug_class: str | None = None
    if ours_category == PHARMACEUTICALS:
        drug_class = _lookup("drug_class", subcategory, vocab.drug_classes)
        ours_sub = drug_class  # as in `decisions`: a medication's subcategory is its class
    elif ours_category is not None:
        ours_sub = _lookup("subcategory", subcategory, vocab.subcategories.get(ours_category, {}))
    return Mapped(
        category=ours_category,
        subcategory=ours_sub,
        drug_class=drug_class,
        decision=_lookup("decision", decision, vocab.decisions),
    )
