"""Guideline text to citations: the examples of taxonomy.md and letter-layouts.md, all eras."""

from __future__ import annotations

import pytest

from etl.classify.guidelines import parse_guideline

ROLE = "maximus"


def cites(text: str) -> list[tuple[str, str | None, str | None]]:
    citations, understood = parse_guideline(text, ROLE)
    assert understood
    assert all(c.role == ROLE for c in citations)
    return [(c.source, c.document, c.section) for c in citations]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Decision based on MTUS Chronic Pain Treatment Guidelines Benzodiazepines Page(s): 24.",
            [("MTUS", "Chronic Pain Medical Treatment Guidelines", "Benzodiazepines Page(s): 24")],
        ),
        (
            "Decision based on MTUS ACOEM Chapter 15 Stress Related Conditions Page(s): 402. "
            "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) "
            "Pain (Chronic).",
            [
                ("MTUS", "Stress Related Conditions", "Page(s): 402"),
                ("ODG", "Official Disability Guidelines (ODG) Pain (Chronic)", "Pain (Chronic)"),
            ],
        ),
        (
            "Decision based on MTUS Low Back Complaints 2004, Section(s): Special Studies.",
            [("MTUS", "Low Back Complaints", "Special Studies")],
        ),
        (
            "Decision based on MTUS Chronic Pain Medical Treatment 2016, Section(s): Physical "
            "medicine treatment.",
            [("MTUS", "Chronic Pain Medical Treatment Guidelines", "Physical medicine treatment")],
        ),
        (
            "Decision based on MTUS Neck and Upper Back Complaints 2004.",
            [("MTUS", "Neck and Upper Back Complaints", None)],
        ),
        (
            "Decision based on MTUS Forearm, Wrist, and Hand Complaints 2004, Section(s): Special "
            "Studies, and Chronic Pain Medical Treatment 2016, Section(s): Physical medicine "
            "treatment.",
            [
                ("MTUS", "Forearm, Wrist, and Hand Complaints", "Special Studies"),
                (
                    "MTUS",
                    "Chronic Pain Medical Treatment Guidelines",
                    "Physical medicine treatment",
                ),
            ],
        ),
        (
            "Decision based on MTUS Opioid Treatment 2016, Section(s): 3.3 Opioids for Chronic "
            "Pain and Chronic Opioid Treatment: Initiating and Monitoring Chronic Opioid "
            "Treatment.",
            [
                (
                    "MTUS",
                    "Opioids Treatment Guidelines",
                    "3.3 Opioids for Chronic Pain and Chronic Opioid Treatment: Initiating and "
                    "Monitoring Chronic Opioid Treatment",
                )
            ],
        ),
        (
            "Decision based on MTUS Elbow Complaints 2007, Section(s): Recommendations.",
            [("MTUS", "Elbow Disorders", "Recommendations")],
        ),
        (
            "Decision based on MTUS ACOEM Page(s): 127.",
            [("MTUS", "Independent Medical Examinations and Consultations", "Page(s): 127")],
        ),
        (
            "Decision based on MTUS (Effective July 18, 2009) Page(s): 78-80, Opioids.",
            [("MTUS", "Chronic Pain Medical Treatment Guidelines", "Page(s): 78-80, Opioids")],
        ),
        (
            "The Expert Reviewer based their decision on recommendation(s) outside of the MTUS "
            "Guidelines. Decision based on Non-MTUS Citation Official Disability Guidelines, 2016, "
            "Web Version, Low Back Chapter, MRI.",
            [
                (
                    "ODG",
                    "Official Disability Guidelines (ODG) Low Back",
                    "2016, Web Version, Low Back Chapter, MRI",
                )
            ],
        ),
        (
            "Decision based on Non-MTUS Citation Official Disability Guidelines (ODG) Knee & Leg, "
            "Durable medical equipment (DME).",
            [
                (
                    "ODG",
                    "Official Disability Guidelines (ODG) Knee & Leg",
                    "Knee & Leg, Durable medical equipment (DME)",
                )
            ],
        ),
        (
            "Decision based on Non-MTUS Citation ODG Mental Illness and Stress.",
            [
                (
                    "ODG",
                    "Official Disability Guidelines (ODG) Mental Illness & Stress",
                    "Mental Illness and Stress",
                )
            ],
        ),
        (
            "Decision based on Non-MTUS Citation Sildenafil: Drug information, accessed from "
            "UpToDate.com",
            [("Other", "UpToDate", None)],
        ),
        (
            "Decision based on Non-MTUS Citation ACOEM Occupational Medicine Practice Guidelines, "
            "3rd ed., Low Back Disorders, pg. 607.",
            [("ACOEM", "ACOEM Practice Guidelines", "3rd ed., Low Back Disorders, pg. 607")],
        ),
    ],
)
def test_modern_citations(text: str, expected: list[tuple[str, str | None, str | None]]) -> None:
    assert cites(text) == expected


def test_no_evidence_means_no_citation() -> None:
    for text in (
        "The Claims Administrator did not cite any medical evidence for its decision.",
        "The Expert Reviewer did not cite any medical evidence for its decision.",
    ):
        assert parse_guideline(text, ROLE) == ([], True)


def test_did_not_base_on_mtus_keeps_what_follows() -> None:
    text = (
        "The Claims Administrator did not base their decision on the MTUS. Decision based on "
        "Non-MTUS Citation Official Disability Guidelines (ODG) Pain (Mental Illness & Stress)."
    )
    assert [c[:2] for c in cites(text)] == [
        ("ODG", "Official Disability Guidelines (ODG) Pain (Chronic)")
    ]


def test_non_mtus_list_splits_into_sources() -> None:
    text = (
        "Decision based on MTUS Low Back Complaints 2004. Decision based on Non-MTUS Citation "
        "Official Disability Guidelines (ODG) Low Back, Epidural Steroid Injection (ESI) and Other "
        "Medical Treatment Guidelines www.mdguidelines.com."
    )
    assert [c[:2] for c in cites(text)] == [
        ("MTUS", "Low Back Complaints"),
        ("ODG", "Official Disability Guidelines (ODG) Low Back"),
        ("Other", "MDGuidelines (Reed Group)"),
    ]
    both = (
        "Decision based on Non-MTUS Citation ACOEM guidelines and the Official Disability "
        "Guidelines."
    )
    assert [c[0] for c in cites(both)] == ["ACOEM", "ODG"]


def test_raw_keeps_the_cited_text() -> None:
    citations, _ = parse_guideline("Decision based on MTUS Shoulder Complaints 2004.", ROLE)
    assert citations[0].raw == "MTUS Shoulder Complaints 2004"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The Claims Administrator based its decision on the Chronic Pain Medical Treatment "
            "Guidelines (May 2009), pages 41-42, which are part of the MTUS.",
            [("MTUS", "Chronic Pain Medical Treatment Guidelines")],
        ),
        (
            "The Expert Reviewer based his/her decision on the American College of "
            "Occupational and Environmental Medicine (ACOEM), 2nd Edition, (2004), Chapter 12, "
            "pages 303-305, which is part of the MTUS.",
            [("MTUS", "Low Back Complaints")],
        ),
        (
            "The Expert Reviewer based his/her decision on the Official Disability Guidelines "
            "(ODG), Pain Chapter, Medical Food, which is not part of the MTUS.",
            [("ODG", "Official Disability Guidelines (ODG) Pain (Chronic)")],
        ),
    ],
)
def test_2013_prose_citations(text: str, expected: list[tuple[str, str]]) -> None:
    assert [c[:2] for c in cites(text)] == expected


def test_unparseable_text_is_reported() -> None:
    citations, understood = parse_guideline("See attached.", ROLE)
    assert citations == [] and not understood
