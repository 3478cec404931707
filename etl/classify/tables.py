"""Loads the vocabulary CSVs in ``classify/data`` once per process.

Each loader returns plain tuples/dicts so callers can precompile what they need and so the
row-level tests can walk every row exactly as the classifier sees it.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")


def read_rows(name: str) -> list[dict[str, str]]:
    """Rows of one vocabulary CSV, cells stripped; blank lines and '#' comment rows skipped."""
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as fh:
        rows = []
        for row in csv.DictReader(fh):
            if None in row:  # more cells than headers: an unquoted comma in a pattern
                raise ValueError(f"{name}: too many cells in row {row}")
            cleaned = {k: (v or "").strip() for k, v in row.items()}
            first = next(iter(cleaned.values()), "")
            if not any(cleaned.values()) or first.startswith("#"):
                continue
            rows.append(cleaned)
        return rows


@functools.cache
def request_rules() -> tuple[dict[str, str], ...]:
    return tuple(read_rows("request_rules.csv"))


@functools.cache
def drug_products() -> dict[str, dict[str, str]]:
    """Brand/alternate name (lower case) -> row with ingredients, drug_class, form."""
    return {row["name"].lower(): row for row in read_rows("drugs.csv")}


@functools.cache
def ingredient_classes() -> dict[str, str]:
    return {
        row["ingredient"].lower(): row["drug_class"] for row in read_rows("ingredient_classes.csv")
    }


@functools.cache
def specialty_aliases() -> tuple[dict[str, str], ...]:
    return tuple(read_rows("specialties.csv"))


@functools.cache
def state_aliases() -> tuple[dict[str, str], ...]:
    return tuple(read_rows("states.csv"))


@functools.cache
def guideline_documents() -> tuple[dict[str, str], ...]:
    return tuple(read_rows("guideline_documents.csv"))
