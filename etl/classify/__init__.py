"""Vocabulary: requests to DWC categories, drugs to classes, reviewers and guidelines normalised.

Pure functions over a parsed ``Letter``; never touches DuckDB. The tables are CSV files in
``classify/data`` so that a maintainer extends the vocabulary without touching code:
``request_rules.csv`` (ordered regex -> category/subcategory), ``drugs.csv`` (brand/product ->
ingredients), ``ingredient_classes.csv`` (ingredient -> DWC drug class), ``specialties.csv``,
``states.csv`` and ``guideline_documents.csv``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import Any

from etl import native

# The compiled parser first, while it is the build of these sources (etl/native.py).
native.extend_path(__name__, __path__)

from etl.classify.guidelines import cites_claims_administrator, parse_guideline
from etl.classify.reasons import find_reasons
from etl.classify.requests import classify_request
from etl.classify.specialties import parse_specialties
from etl.classify.states import parse_states
from etl.model import CLAIMS_ADMINISTRATOR, MAXIMUS, Decision, Letter
from etl.text import TextCache

__all__ = [
    "Unresolved",
    "classify_item",
    "classify_letter",
    "prepare",
    "text_caches",
    "vocabulary_builders",
]


@dataclass(frozen=True)
class Unresolved:
    """A name the vocabulary could not resolve: reported, never guessed."""

    item_no: int | None
    kind: str  # 'request' | 'drug' | 'specialty' | 'state' | 'citation'
    value: str


def _caches(takes_text: bool) -> list[Any]:
    found = []
    for module_info in pkgutil.iter_modules(__path__, f"{__name__}."):
        module = importlib.import_module(module_info.name)
        for _, function in inspect.getmembers(module, lambda o: hasattr(o, "cache_info")):
            parameters = inspect.signature(function).parameters.values()
            required = any(p.default is p.empty for p in parameters)
            if function.__module__ == module.__name__ and required == takes_text:
                found.append(function)
    return found


def vocabulary_builders() -> list[functools._lru_cache_wrapper[object]]:
    """The cached functions of this package that take no argument: each builds a vocabulary
    or its patterns on first use (reading a CSV, compiling regexes)."""
    return _caches(takes_text=False)


def text_caches() -> list[TextCache[Any]]:
    """The cached functions of this package that take an argument: what it read (a sentence's
    reasons, a request's class, a guideline's citations), each an ``etl.text.TextCache``."""
    return _caches(takes_text=True)


def prepare() -> None:
    """Build every vocabulary now rather than on first use: workers forked after this inherit
    them built (on a 2-core machine, each worker built them again for its first letter, about
    60 ms of every ingest)."""
    for build in vocabulary_builders():
        build()


def classify_letter(letter: Letter) -> list[Unresolved]:
    """Fill the letter's vocabulary fields in place and return what did not resolve."""
    unresolved: list[Unresolved] = []
    letter.reviewer_states, bad_states = parse_states(letter.reviewer_states_raw)
    unresolved += [Unresolved(None, "state", s) for s in bad_states]
    letter.reviewer_specialties, bad_specialties = parse_specialties(
        letter.reviewer_specialties_raw
    )
    unresolved += [Unresolved(None, "specialty", s) for s in bad_specialties]
    for item in letter.items:
        unresolved += classify_item(item)
    return unresolved


def classify_item(item: Decision) -> list[Unresolved]:
    """Fill one item's category, drug fields and citations in place; return what did not resolve."""
    unresolved: list[Unresolved] = []
    result = classify_request(item.request or "")
    item.category, item.subcategory = result.category, result.subcategory
    med = result.medication
    item.drugs = list(med.drugs) if med else []
    item.strength = med.strength if med else None
    item.quantity = med.quantity if med else None
    item.refills = med.refills if med else None
    if result.unresolved_request:
        unresolved.append(Unresolved(item.item_no, "request", item.request))
    unresolved += [Unresolved(item.item_no, "drug", name) for name in result.unknown_drugs]

    ca, ca_ok = parse_guideline(item.claims_admin_guideline, CLAIMS_ADMINISTRATOR)
    mx, mx_ok = parse_guideline(item.maximus_guideline, MAXIMUS)
    if not mx and cites_claims_administrator(item.maximus_guideline) and ca:
        # 'The Expert Reviewer found the guidelines used by the Claims Administrator appropriate'
        mx, mx_ok = [dataclasses.replace(c, role=MAXIMUS) for c in ca], True
    item.citations = ca + mx
    item.reason_evidence = find_reasons(item.rationale, item.decision)
    item.reasons = [e.reason for e in item.reason_evidence]
    for text, ok in ((item.claims_admin_guideline, ca_ok), (item.maximus_guideline, mx_ok)):
        if not ok and text:
            unresolved.append(Unresolved(item.item_no, "citation", text.strip()))
    return unresolved
