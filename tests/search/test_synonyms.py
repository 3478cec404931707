"""Drug names: every row of the vocabulary resolves as the search and the Drug filter use it."""

from __future__ import annotations

import pytest

from etl.classify import tables
from etl.search.synonyms import ARROW, DrugNames, combination, drug_names, vocabulary_digest

ROWS = tables.read_rows("drugs.csv")
NAMES = drug_names()


def _ingredients(row: dict[str, str]) -> list[str]:
    return sorted({i.strip().lower() for i in row["ingredients"].split("+") if i.strip()})


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}:{r['name']}"[:60] for i, r in enumerate(ROWS, 2)])
def test_every_name_resolves_to_its_ingredients(row: dict[str, str]) -> None:
    name, ingredients = row["name"].lower(), _ingredients(row)
    value = " + ".join(ingredients)
    if [name] == ingredients:  # a generic's own row
        assert name not in NAMES.products
        return
    # The Drug filter: the name (any case, or as its option label) stands for its generic(s).
    assert NAMES.canonical(name) == value
    assert NAMES.canonical(name.upper()) == value
    assert NAMES.canonical(f"{name}{ARROW}{value}") == value
    assert NAMES.ingredients_of(name) == tuple(ingredients)
    # The index: an item holding exactly these ingredients is found by the name ...
    assert name in NAMES.index_names(ingredients)
    # ... and so is one holding more ...
    assert name in NAMES.index_names([*ingredients, "zzz-other"])
    # ... but not one missing any of them (Norco is never every acetaminophen item).
    if len(ingredients) > 1:
        for missing in ingredients:
            assert name not in NAMES.index_names([i for i in ingredients if i != missing])
    # Highlighting: the name brings its ingredients.
    assert set(ingredients) <= NAMES.related(name)


def test_an_items_terms_are_kept_per_list_of_drugs(monkeypatch) -> None:
    names = DrugNames.from_vocabulary()
    terms = names.index_names(["hydrocodone", "acetaminophen"])
    terms.append("changed by its caller")
    again = names.index_names(["hydrocodone", "acetaminophen"])
    assert again == DrugNames.from_vocabulary().index_names(["hydrocodone", "acetaminophen"])
    assert "norco" in again and "changed by its caller" not in again
    # At most NAMES_KEPT lists are kept: then they are forgotten, not wrong.
    monkeypatch.setattr("etl.search.synonyms.NAMES_KEPT", 2)
    for drugs in (["tramadol"], ["pregabalin"], ["hydrocodone", "acetaminophen"]):
        assert names.index_names(drugs) == DrugNames.from_vocabulary().index_names(drugs)
    assert len(names._names_of) <= 2


def test_norco_and_lyrica() -> None:
    assert NAMES.canonical("Lyrica") == "pregabalin"
    assert NAMES.canonical("Norco") == "acetaminophen + hydrocodone"
    assert "norco" not in NAMES.index_names(["acetaminophen"])
    assert "norco" in NAMES.index_names(["hydrocodone", "acetaminophen"])
    assert "tylenol" in NAMES.index_names(["hydrocodone", "acetaminophen"])
    assert {"norco", "vicodin", "hysingla", "hydrocodone"} <= NAMES.related("hydrocodone")
    assert "acetaminophen" not in NAMES.related("hydrocodone")
    assert {"hydrocodone", "acetaminophen", "vicodin"} <= NAMES.related("norco")
    assert "tylenol" not in NAMES.related("norco")
    assert NAMES.related("physical therapy") == set()


def test_generics_and_combinations_are_their_own_values() -> None:
    assert NAMES.canonical("pregabalin") == "pregabalin"
    assert NAMES.canonical("hydrocodone + acetaminophen") == "acetaminophen + hydrocodone"
    assert NAMES.canonical("norco + soma") == "acetaminophen + carisoprodol + hydrocodone"
    assert NAMES.canonical("not a drug") is None
    assert NAMES.canonical("pregabalin + not a drug") is None
    assert combination({" B", "a ", ""}) == "a + b"


def test_option_names_only_for_values_in_the_warehouse() -> None:
    options = NAMES.option_names({"pregabalin", "acetaminophen + hydrocodone"})
    assert options["lyrica"] == "pregabalin" and options["norco"] == "acetaminophen + hydrocodone"
    assert "percocet" not in options
    assert "acetaminophen + hydrocodone" in NAMES.combinations()


def test_the_digest_follows_the_vocabulary(monkeypatch, tmp_path) -> None:
    before = vocabulary_digest()
    assert before == vocabulary_digest()
    for name in ("drugs.csv", "ingredient_classes.csv"):
        (tmp_path / name).write_bytes((tables.DATA_DIR / name).read_bytes())
    monkeypatch.setattr(tables, "DATA_DIR", tmp_path)
    assert vocabulary_digest() == before
    with (tmp_path / "drugs.csv").open("a") as handle:
        handle.write("newbrand,pregabalin,,\n")
    assert vocabulary_digest() != before


def test_built_from_the_vocabulary_tables() -> None:
    rebuilt = DrugNames.from_vocabulary()
    assert rebuilt.products == NAMES.products
    assert "pregabalin" in rebuilt.generics
