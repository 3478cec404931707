"""DWC's texts in our taxonomy: exact names (case and spacing aside) and DWC's own spellings in
dwc_names.csv, every row checked; anything else unmapped, never guessed."""

from __future__ import annotations

import pytest

from etl.fetch.taxonomy import key, map_treatment, read_names, vocabulary

NAMES = read_names()


def _targets(kind: str) -> set[str]:
    vocab = vocabulary()
    if kind == "decision":
        return set(vocab.decisions.values())
    if kind == "category":
        return set(vocab.categories.values())
    if kind == "drug_class":
        return set(vocab.drug_classes.values())
    return {name for names in vocab.subcategories.values() for name in names.values()}


def test_the_vocabulary_is_the_projects() -> None:
    vocab = vocabulary()
    assert "Pharmaceuticals" in vocab.categories.values()
    assert {"Opioids", "NSAID", "Topical Compounds"} <= set(vocab.drug_classes.values())
    assert vocab.subcategories["Rehabilitation"][key("pt/ot")] == "PT/OT"


@pytest.mark.parametrize("row", NAMES, ids=[f"{r['kind']}:{r['dwc']}" for r in NAMES])
def test_every_dwc_spelling_maps_to_one_of_our_names(row: dict[str, str]) -> None:
    kind, dwc, ours = row["kind"], row["dwc"], row["ours"]
    assert kind in ("decision", "category", "subcategory", "drug_class")
    assert ours in _targets(kind), f"{ours!r} is not one of our {kind} names"
    assert dwc not in _targets(kind), "DWC's spelling is already one of our names: a useless row"
    assert row["source"], "say where DWC's spelling comes from"
    if kind == "decision":
        assert map_treatment("Surgery", "Spine", dwc).decision == ours
    elif kind == "drug_class":
        mapped = map_treatment("Pharmaceuticals", dwc, "Upheld")
        assert (mapped.drug_class, mapped.subcategory) == (ours, ours)
    elif kind == "subcategory":
        category = next(
            c for c, names in vocabulary().subcategories.items() if ours in names.values()
        )
        assert map_treatment(category, dwc, "Upheld").subcategory == ours


def test_our_names_map_to_themselves_whatever_the_case_and_spacing() -> None:
    mapped = map_treatment("  pharmaceuticals ", "OPIOIDS", "upheld")
    assert mapped.category == "Pharmaceuticals" and mapped.drug_class == "Opioids"
    assert mapped.subcategory == "Opioids" and mapped.decision == "Upheld"
    mapped = map_treatment("Diagnostic  Testing", "imaging/radiology", "Overturned")
    assert (mapped.category, mapped.subcategory, mapped.drug_class, mapped.decision) == (
        "Diagnostic Testing",
        "Imaging/Radiology",
        None,
        "Overturned",
    )


@pytest.mark.parametrize(
    ("category", "subcategory", "decision", "want"),
    [
        # A subcategory of another category is not this one's.
        ("Surgery", "PT/OT", "Upheld", ("Surgery", None, None, "Upheld")),
        # A drug's name, a dosage, free text: not a drug class (the drug tables are not asked).
        ("Pharmaceuticals", "Norco 10/325mg", "Upheld", ("Pharmaceuticals", None, None, "Upheld")),
        ("Pharmaceuticals", "", "Overturned", ("Pharmaceuticals", None, None, "Overturned")),
        ("Other Services", "Opioids", "Partially Overturned", (None, None, None, None)),
        ("", "", "", (None, None, None, None)),
    ],
)
def test_what_is_not_a_name_stays_unmapped(category, subcategory, decision, want) -> None:
    mapped = map_treatment(category, subcategory, decision)
    assert (mapped.category, mapped.subcategory, mapped.drug_class, mapped.decision) == want
