"""Every label the vocabulary can emit is spelled as in ../shared/docs/taxonomy.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from etl.classify import drugs, tables

TAXONOMY = Path(__file__).parents[2].parent / "shared" / "docs" / "taxonomy.md"


@pytest.fixture(scope="module")
def taxonomy() -> dict[str, set[str]]:
    if not TAXONOMY.is_file():
        pytest.skip(
            f"taxonomy doc not found at {TAXONOMY} (it lives beside the repo, in ../shared)"
        )
    text = TAXONOMY.read_text(encoding="utf-8")
    categories: dict[str, set[str]] = {}
    section = text.split("## Request category and subcategory", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] not in ("category", "---") and not set(cells[0]) <= {"-"}:
            categories[cells[0]] = {s.strip() for s in cells[1].split(";")}
    classes_block = text.split("## Drug classes", 1)[1].split("Rules, in order", 1)[0]
    drug_classes = {c.strip() for c in re.split(r"·|\n", classes_block) if c.strip()}
    drug_classes.discard("(subcategory of Pharmaceuticals)")
    categories["Pharmaceuticals"] = drug_classes
    other = re.search(r"category `(\w+)` and subcategory `(\w+)`", text)
    assert other, "taxonomy no longer names the fallback category"
    categories[other.group(1)] = {other.group(2)}
    return categories


def test_taxonomy_parsed(taxonomy: dict[str, set[str]]) -> None:
    assert "Unclassified Drug" in taxonomy["Pharmaceuticals"]
    assert "Imaging/Radiology" in taxonomy["Diagnostic Testing"]


def test_request_rule_labels_are_in_taxonomy(taxonomy: dict[str, set[str]]) -> None:
    for row in tables.request_rules():
        assert row["category"] in taxonomy, row
        assert row["subcategory"] in taxonomy[row["category"]], row


def test_drug_classes_are_in_taxonomy(taxonomy: dict[str, set[str]]) -> None:
    used = set(tables.ingredient_classes().values())
    used |= {r["drug_class"] for r in tables.drug_products().values() if r["drug_class"]}
    used |= set(drugs.CLASS_PRIORITY) | {drugs.UNCLASSIFIED_DRUG}
    assert used <= taxonomy["Pharmaceuticals"], used - taxonomy["Pharmaceuticals"]


def test_guideline_sources_and_mtus_documents_are_in_taxonomy() -> None:
    if not TAXONOMY.is_file():
        pytest.skip(f"taxonomy doc not found at {TAXONOMY}")
    text = TAXONOMY.read_text(encoding="utf-8")
    for row in tables.guideline_documents():
        assert f"| {row['source']} |" in text, row
    # The canonical MTUS names the taxonomy spells out must be the ones we emit.
    emitted = {r["document"] for r in tables.guideline_documents() if r["source"] == "MTUS"}
    for name in (
        "Chronic Pain Medical Treatment Guidelines",
        "Opioids Treatment Guidelines",
        "Acupuncture Medical Treatment Guidelines",
        "Postsurgical Treatment Guidelines",
        "Low Back Complaints",
        "Neck and Upper Back Complaints",
        "Shoulder Complaints",
        "Elbow Disorders",
        "Forearm, Wrist, and Hand Complaints",
        "Knee Complaints",
        "Ankle and Foot Complaints",
        "Stress Related Conditions",
        "General Approaches",
        "Independent Medical Examinations and Consultations",
    ):
        assert name in text and name in emitted, name


def test_specialty_examples_of_taxonomy() -> None:
    rows = {r["alias"]: r["specialty"] for r in tables.specialty_aliases()}
    assert rows["PM&R"] == "Physical Medicine & Rehabilitation"
    assert rows["Chiropractor"] == "Chiropractic"
    assert rows["Psychologist"] == "Psychology"
    assert rows["Orthopaedic Surgery"] == "Orthopedic Surgery"
    assert rows["Pain Medicine"] == "Pain Management"
    assert rows["Acupuncturist"] == "Oriental Medicine"
