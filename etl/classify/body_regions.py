"""Body regions named in a letter's diagnoses ("lumbar disc herniation, right shoulder
impingement" -> spine-lumbar, shoulder), from the vocabulary ``data/body_regions.csv``.

Pure: runs in the ingest workers, never touches DuckDB. Only the diagnoses phrase is read (the
case summary mentions imaging and history too, which would invent regions); a letter without
one has no regions, never a guessed one. Each region is listed once, in the file's order.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from etl.classify import tables
from etl.text import cached_text

VOCABULARY = "body_regions.csv"


@dataclass(frozen=True)
class Rule:
    region: str
    pattern: re.Pattern[str]
    unless: frozenset[str]


@functools.cache
def rules() -> tuple[Rule, ...]:
    return tuple(
        Rule(
            row["region"],
            re.compile(row["pattern"]),
            frozenset(r.strip() for r in row["unless"].split("|") if r.strip()),
        )
        for row in tables.read_rows(VOCABULARY)
    )


@functools.cache
def regions() -> tuple[str, ...]:
    """Every region, in the vocabulary's order."""
    return tuple(dict.fromkeys(rule.region for rule in rules()))


def body_regions(diagnoses: str | None) -> list[str]:
    """The regions the diagnoses name, in vocabulary order; [] when there are none."""
    if not diagnoses or not diagnoses.strip():
        return []
    return list(_regions_of(diagnoses))


# Diagnoses repeat across letters and every rule is a search of them: each text's regions are
# found once per process (bounded).
@cached_text(maxsize=4096)
def _regions_of(diagnoses: str) -> tuple[str, ...]:
    text = " ".join(diagnoses.lower().split())
    matched = [rule for rule in rules() if rule.pattern.search(text)]
    found = {rule.region for rule in matched if not rule.unless}
    found |= {rule.region for rule in matched if rule.unless and not rule.unless & found}
    return tuple(region for region in regions() if region in found)
