"""The generator's vocabularies, read once from the CSV files shipped next to this module.

Every list a synthetic letter draws from lives in a CSV so that it can be extended without
touching code: ``requests.csv`` (disputed items with their DWC category, subcategory and, for
drugs, the drug class as subcategory), ``categories.csv`` (each category's share of items and
overturn rate), ``citations.csv`` (guideline wording by topic and letter era),
``specialties.csv``, ``states.csv`` and ``phrases.csv`` (case-summary and rationale sentences).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

from etl.rows import drug_class_of


@dataclass(frozen=True)
class RequestTemplate:
    category: str
    subcategory: str  # the drug class for Pharmaceuticals
    weight: float
    template: str  # '{n}' stands for a quantity
    quantities: tuple[int, ...]

    @property
    def drug_class(self) -> str | None:
        return drug_class_of(self.category, self.subcategory)


@dataclass(frozen=True)
class CitationTemplate:
    group: str  # a subcategory, a category, 'Topical', 'Pharmaceuticals' or 'general'
    style: str  # 'A' (2013 prose phrase), 'B' (2014-15, pages), 'B2' (2016+, sections)
    source: str  # 'MTUS' | 'ODG' | 'ACOEM' | 'Other'
    text: str


@dataclass(frozen=True)
class Vocab:
    requests: tuple[RequestTemplate, ...]
    category_share: dict[str, float]
    overturn_rate: dict[str, float]
    citations: dict[tuple[str, str], tuple[CitationTemplate, ...]]
    specialties: tuple[tuple[str, float], ...]
    states: tuple[tuple[str, float], ...]
    phrases: dict[str, tuple[str, ...]]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("etl.demo").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def load_vocab() -> Vocab:
    requests = tuple(
        RequestTemplate(
            category=row["category"],
            subcategory=row["subcategory"],
            weight=float(row["weight"]),
            template=row["template"],
            quantities=tuple(int(q) for q in row["quantities"].split("|") if q),
        )
        for row in _rows("requests.csv")
    )
    categories = _rows("categories.csv")
    citations: dict[tuple[str, str], list[CitationTemplate]] = {}
    for row in _rows("citations.csv"):
        citation = CitationTemplate(row["group"], row["style"], row["source"], row["text"])
        citations.setdefault((citation.group, citation.style), []).append(citation)
    phrases: dict[str, list[str]] = {}
    for row in _rows("phrases.csv"):
        phrases.setdefault(row["kind"], []).append(row["text"])
    return Vocab(
        requests=requests,
        category_share={row["category"]: float(row["share"]) for row in categories},
        overturn_rate={row["category"]: float(row["overturn_rate"]) for row in categories},
        citations={key: tuple(value) for key, value in citations.items()},
        specialties=tuple((r["specialties"], float(r["weight"])) for r in _rows("specialties.csv")),
        states=tuple((r["state"], float(r["weight"])) for r in _rows("states.csv")),
        phrases={key: tuple(value) for key, value in phrases.items()},
    )
