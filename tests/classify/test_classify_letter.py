"""classify_letter fills a Letter in place and reports what did not resolve."""

from __future__ import annotations

from etl.classify import Unresolved, classify_letter
from etl.model import Citation, Decision, Letter


def make_letter() -> Letter:
    return Letter(
        layout="B2",
        reviewer_states_raw="California,North Carolina",
        reviewer_specialties_raw="Preventive Medicine, Occupational Medicine, Public Health & "
        "General Preventive Medicine",
        items=[
            Decision(
                item_no=1,
                request="Norco 10/325mg #120 with 2 refills",
                decision="Upheld",
                claims_admin_guideline="The Claims Administrator did not cite any medical evidence "
                "for its decision.",
                maximus_guideline="Decision based on MTUS Opioid Treatment 2016.",
            ),
            Decision(
                item_no=2,
                request="MRI of the lumbar spine L4-5",
                decision="Overturned",
                claims_admin_guideline="Decision based on MTUS Low Back Complaints 2004.",
                maximus_guideline="The Expert Reviewer found the guideline used by the Claims "
                "Administrator relevant and appropriate.",
            ),
            Decision(item_no=3, request="Frobnication of the aura", decision="Upheld"),
            Decision(item_no=4, request="Zzyxorin 20mg #60", decision="Upheld"),
        ],
    )


def test_classify_letter_fills_fields() -> None:
    letter = make_letter()
    unresolved = classify_letter(letter)
    assert letter.reviewer_states == ["California", "North Carolina"]
    assert letter.reviewer_specialties == [
        "Preventive Medicine",
        "Occupational Medicine",
        "Public Health & General Preventive Medicine",
    ]
    norco, mri, odd, unknown = letter.items
    assert (norco.category, norco.subcategory) == ("Pharmaceuticals", "Opioids")
    assert norco.drugs == ["acetaminophen", "hydrocodone"]
    assert (norco.strength, norco.quantity, norco.refills) == ("10/325mg", "120", 2)
    assert norco.citations == [
        Citation(
            "maximus", "MTUS", "Opioids Treatment Guidelines", None, "MTUS Opioid Treatment 2016"
        )
    ]
    assert (mri.category, mri.subcategory) == ("Diagnostic Testing", "Imaging/Radiology")
    assert (mri.drugs, mri.strength, mri.quantity, mri.refills) == ([], None, None, None)
    assert [(c.role, c.document) for c in mri.citations] == [
        ("claims_administrator", "Low Back Complaints"),
        ("maximus", "Low Back Complaints"),
    ]
    assert (odd.category, odd.subcategory) == ("Other", "Unclassified")
    assert (unknown.category, unknown.subcategory) == ("Pharmaceuticals", "Unclassified Drug")
    assert unresolved == [
        Unresolved(3, "request", "Frobnication of the aura"),
        Unresolved(4, "drug", "Zzyxorin"),
    ]


def test_classify_letter_reports_reviewer_and_citation_misses() -> None:
    letter = Letter(
        layout="B",
        reviewer_states_raw="Atlantis",
        reviewer_specialties_raw="Wizardry",
        items=[
            Decision(1, "TENS unit", "Upheld", maximus_guideline="See the attached page."),
        ],
    )
    unresolved = classify_letter(letter)
    assert letter.items[0].subcategory == "Electrical Stimulation"
    assert unresolved == [
        Unresolved(None, "state", "Atlantis"),
        Unresolved(None, "specialty", "Wizardry"),
        Unresolved(1, "citation", "See the attached page."),
    ]


def test_classify_letter_is_idempotent() -> None:
    letter = make_letter()
    first = classify_letter(letter)
    snapshot = letter.as_dict()
    assert classify_letter(letter) == first
    assert letter.as_dict() == snapshot
