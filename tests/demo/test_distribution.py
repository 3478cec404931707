"""The synthetic corpus looks like the real one: outcome rates, vocabulary coverage, variety."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from etl.demo import generate_letters

SEED = 7
N = 2000

CATEGORIES = {
    "Diagnostic Testing": {
        "Imaging/Radiology",
        "EMG/NCV/NCS",
        "Lab & Pathology",
        "Other Diagnostic Tests",
    },
    "DMEPOS": {"DME", "Electrical Stimulation", "Prosthetics/Orthotics", "Supplies"},
    "Evaluation & Management": {"Medical Specialties", "Dental Services"},
    "Home Health": {"Home Health"},
    "Injection": {"Facet Injection", "Injection"},
    "Programs": {"Programs"},
    "Psych Services": {"Evaluation & Management", "Therapies"},
    "Rehabilitation": {"Acupuncture", "Chiropractic", "PT/OT", "Other Therapies"},
    "Surgery": {
        "Arthroscopic Surgery",
        "Non-arthroscopic Surgery",
        "Spine",
        "Surgical Consult",
        "Adjunct Surgical Services",
    },
    "Transportation": {"Transportation"},
}
DRUG_CLASSES = {
    "Opioids", "NSAID", "Muscle Relaxant", "Topical Analgesics", "Topical Compounds",
    "Proton Pump Inhibitors", "H2 Blocker", "Benzodiazepines", "AntiAnxiety", "Antidepressant",
    "Anti-epilepsy drugs", "Sedative-hypnotics", "Misc Analgesics", "Stimulants",
    "Atypical Antipsychotic", "Antimigraine Agent", "Antiemetic", "Antihistamine",
    "Antihypertensive", "Beta-blocker", "Calcium Channel Blocker", "Alpha-blocker", "Statin",
    "Fibric Acid", "Antidiabetics", "Anti-coagulant", "Anti-infectives",
    "Adrenal Cortical Steroids", "Androgens & Anabolic Steroids", "Hormones", "Bisphosphonates",
    "Cannabinoids", "Dopamine agonists", "GI Agents", "Impotence Agents", "Nutritional Products",
    "Opioid Antagonist", "Viscosupplementation", "Asthma Medications", "Barbiturates",
    "TNF Modifiers", "Injectable Medications", "Unclassified Drug",
}  # fmt: skip


@pytest.fixture(scope="module")
def corpus() -> list:
    return list(generate_letters(N, SEED))


def test_upheld_share_near_published(corpus: list) -> None:
    items = [item for letter in corpus for item in letter.content.items]
    upheld = sum(item.decision == "Upheld" for item in items) / len(items)
    assert 0.88 <= upheld <= 0.92, upheld


def test_psych_and_em_overturned_more_often(corpus: list) -> None:
    items = [item for letter in corpus for item in letter.content.items]
    overall = sum(i.decision == "Overturned" for i in items) / len(items)
    for category in ("Psych Services", "Evaluation & Management"):
        subset = [i for i in items if i.category == category]
        rate = sum(i.decision == "Overturned" for i in subset) / len(subset)
        assert rate > overall * 1.5, (category, rate, overall)


def test_every_category_subcategory_and_drug_class(corpus: list) -> None:
    seen = {(i.category, i.subcategory) for letter in corpus for i in letter.content.items}
    for category, subcategories in CATEGORIES.items():
        for subcategory in subcategories:
            assert (category, subcategory) in seen, (category, subcategory)
    drug_classes = {s for c, s in seen if c == "Pharmaceuticals"}
    assert drug_classes == DRUG_CLASSES


def test_layouts_years_and_people(corpus: list) -> None:
    contents = [letter.content for letter in corpus]
    for content in contents:
        year = content.decision_date.year
        assert content.layout == ("A" if year == 2013 else "B" if year <= 2015 else "B2")
        assert 1990 <= content.injury_date.year <= 2025
        assert content.injury_date < content.decision_date
    assert {c.decision_date.year for c in contents} == set(range(2013, 2026))
    injury_years = {c.injury_date.year for c in contents}
    assert min(injury_years) <= 1995 and max(injury_years) == 2025
    assert {c.sex for c in contents} == {"male", "female", None}
    ages = [c.age for c in contents if c.age is not None]
    assert min(ages) < 30 and max(ages) > 65 and any(c.age is None for c in contents)
    assert Counter(c.layout for c in contents).keys() == {"A", "B", "B2"}


def test_items_per_letter(corpus: list) -> None:
    counts = Counter(len(letter.content.items) for letter in corpus)
    assert min(counts) == 1 and max(counts) >= 12 and max(counts) <= 15
    assert sum(counts[n] for n in (1, 2, 3)) / len(corpus) > 0.65


def test_textual_variety(corpus: list) -> None:
    texts = [letter.text or "" for letter in corpus]
    joined = "\n".join(texts)
    items = [item for letter in corpus for item in letter.content.items]
    suffixes = Counter(i.partial_suffix for i in items if i.original_request)
    assert set(suffixes) == {": ", " is ", " is: ", " "}
    assert any(i.original_request and i.partial_wording == " is " for i in items)
    assert any(re.search(r"DOS: [\d/]+: (Upheld|Overturned)", t) for t in texts)
    assert re.search(r"\n(Upheld|Overturned) ?\n", joined)  # decision on its own line
    assert "Public Health &\nGeneral Preventive Medicine" in joined.replace(" \n", "\n")
    assert re.search(r"State\(s\) of Licensure: [A-Za-z ]+,[A-Z]", joined)
    assert "\f" in joined and "\u2019" in joined
    for phrase in (
        "Page(s):",
        "Section(s):",
        "ACOEM",
        "Official Disability Guidelines",
        "UpToDate",
        "did not cite any medical evidence",
        "did not base their decision on the MTUS",
        "outside of the MTUS Guidelines",
    ):
        assert phrase in joined.replace("\n", " "), phrase
    specialties = {letter.content.specialties_raw for letter in corpus}
    assert len(specialties) >= 25
