"""Row-level tests: every row of every vocabulary CSV resolves exactly as it declares."""

from __future__ import annotations

import re

import pytest

from etl.classify import drugs, guidelines, requests, specialties, states, tables
from etl.classify.requests import classify_request

REQUEST_RULES = tables.read_rows("request_rules.csv")
DRUG_ROWS = tables.read_rows("drugs.csv")
INGREDIENT_ROWS = tables.read_rows("ingredient_classes.csv")
SPECIALTY_ROWS = tables.read_rows("specialties.csv")
STATE_ROWS = tables.read_rows("states.csv")
GUIDELINE_ROWS = tables.read_rows("guideline_documents.csv")


def _ids(rows: list[dict[str, str]], key: str) -> list[str]:
    return [f"{i}:{row[key]}"[:60] for i, row in enumerate(rows, start=2)]


@pytest.mark.parametrize("row", REQUEST_RULES, ids=_ids(REQUEST_RULES, "example"))
def test_request_rule_example_lands_on_its_row(row: dict[str, str]) -> None:
    text = requests.normalise_request(row["example"])
    assert requests.match_rule(text, row["stage"]) == (row["category"], row["subcategory"])
    result = classify_request(row["example"])
    assert (result.category, result.subcategory) == (row["category"], row["subcategory"])


def test_request_patterns_are_lower_case() -> None:
    # They are matched against lower-cased text (faster than IGNORECASE).
    for row in REQUEST_RULES:
        without_escapes = re.sub(r"\\[A-Za-z]", "", row["pattern"])
        assert without_escapes == without_escapes.lower(), row["pattern"]


@pytest.mark.parametrize("row", DRUG_ROWS, ids=_ids(DRUG_ROWS, "name"))
def test_drug_name_resolves_to_its_ingredients(row: dict[str, str]) -> None:
    mentions = drugs.find_drug_mentions(row["name"])
    assert [m.name for m in mentions] == [row["name"].lower()]
    expected = sorted({i.strip() for i in row["ingredients"].split("+")})
    med = drugs.classify_medication(row["name"])
    assert med.drugs == expected
    assert med.drug_class != drugs.UNCLASSIFIED_DRUG
    if row["drug_class"]:
        assert med.drug_class == row["drug_class"]
    for ingredient in expected:
        # Every ingredient needs a class unless the product row fixes the class itself.
        assert row["drug_class"] or ingredient in tables.ingredient_classes(), ingredient


@pytest.mark.parametrize("row", INGREDIENT_ROWS, ids=_ids(INGREDIENT_ROWS, "ingredient"))
def test_ingredient_resolves_to_its_class(row: dict[str, str]) -> None:
    med = drugs.classify_medication(row["ingredient"])
    assert med.drugs == [row["ingredient"]]
    assert med.drug_class == row["drug_class"]


@pytest.mark.parametrize("row", SPECIALTY_ROWS, ids=_ids(SPECIALTY_ROWS, "alias"))
def test_specialty_alias_resolves(row: dict[str, str]) -> None:
    assert specialties.resolve_specialty(row["alias"]) == row["specialty"]
    assert specialties.parse_specialties(row["alias"]) == ([row["specialty"]], [])


@pytest.mark.parametrize("row", STATE_ROWS, ids=_ids(STATE_ROWS, "alias"))
def test_state_alias_resolves(row: dict[str, str]) -> None:
    assert states.resolve_state(row["alias"]) == row["state"]
    assert states.resolve_state(row["state"]) == row["state"]


@pytest.mark.parametrize("row", GUIDELINE_ROWS, ids=_ids(GUIDELINE_ROWS, "example"))
def test_guideline_row_example_resolves(row: dict[str, str]) -> None:
    kind, example, document = row["kind"], row["example"], row["document"]
    if kind == "mtus":
        assert guidelines.resolve_mtus_document(example) == document
    elif kind == "acoem_chapter":
        for number in row["pattern"].split("|"):
            assert guidelines.resolve_mtus_document(f"ACOEM Chapter {number}") == document
    elif kind == "acoem_pages":
        low, high = row["pattern"].split("-")
        for page in (low, high, example.rsplit(" ", 1)[-1]):
            assert guidelines.resolve_mtus_document(f"ACOEM Page(s): {page}") == document
    elif kind == "odg_topic":
        assert guidelines.resolve_odg_topic(example) == document
    elif kind == "other":
        assert guidelines.resolve_other_document(example) == document
    else:
        pytest.fail(f"unknown kind {kind!r}")


def test_every_csv_has_rows_and_no_duplicate_keys() -> None:
    for rows, key in (
        (DRUG_ROWS, "name"),
        (INGREDIENT_ROWS, "ingredient"),
        (SPECIALTY_ROWS, "alias"),
        (STATE_ROWS, "alias"),
    ):
        keys = [r[key].lower() for r in rows]
        assert keys and len(keys) == len(set(keys)), key
    assert len(INGREDIENT_ROWS) >= 300
