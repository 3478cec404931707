"""Reviewer specialties and licensure states."""

from __future__ import annotations

import pytest

from etl.classify.specialties import parse_specialties
from etl.classify.states import parse_states


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Preventive Medicine, Occupational Medicine, Public Health & "
            "General Preventive Medicine",
            [
                "Preventive Medicine",
                "Occupational Medicine",
                "Public Health & General Preventive Medicine",
            ],
        ),
        ("PM&R", ["Physical Medicine & Rehabilitation"]),
        (
            "Physical Medicine & Rehabilitation, Pain Management",
            ["Physical Medicine & Rehabilitation", "Pain Management"],
        ),
        ("Chiropractor", ["Chiropractic"]),
        ("Psychologist", ["Psychology"]),
        ("Orthopaedic Surgery", ["Orthopedic Surgery"]),
        ("Pain Medicine", ["Pain Management"]),
        ("Acupuncturist", ["Oriental Medicine"]),
        ("Family Practice", ["Family Practice"]),
        (
            "Orthopedic Surgery, Hand Surgery, Sports Medicine",
            ["Orthopedic Surgery", "Hand Surgery", "Sports Medicine"],
        ),
        (
            "Anesthesiology, Pain Management, Hospice & Palliative Medicine",
            ["Anesthesiology", "Pain Management", "Hospice & Palliative Medicine"],
        ),
        (
            "The physician reviewer is Board Certified in Occupational Medicine and is licensed to "
            "practice in California.",
            ["Occupational Medicine"],
        ),
        ("Board Certified in Occupational Medicine", ["Occupational Medicine"]),
        (
            "The physician reviewer is Board Certified in Physical Medicine and Rehabilitation, "
            "has a subspecialty in Pain Medicine and is licensed to practice in California.",
            ["Physical Medicine & Rehabilitation", "Pain Management"],
        ),
        (
            "The expert reviewer is a Licensed Chiropractor and is licensed to practice in "
            "California",
            ["Chiropractic"],
        ),
        ("Licensed Psychologist", ["Psychology"]),
        (
            "The expert reviewer is Licensed in Chiropractic and is licensed to practice in "
            "California",
            ["Chiropractic"],
        ),
        ("Licensed in Acupuncture", ["Oriental Medicine"]),
        ("Orthopedic Surgery and Sports Medicine", ["Orthopedic Surgery", "Sports Medicine"]),
        ("Psychiatry and Neurology", ["Psychiatry"]),
        ("Neurology and Pain Medicine", ["Neurology", "Pain Management"]),
        ("", []),
        (None, []),
    ],
)
def test_specialties(raw: str | None, expected: list[str]) -> None:
    assert parse_specialties(raw) == (expected, [])


def test_unknown_specialty_is_reported() -> None:
    assert parse_specialties("Family Practice, Underwater Basket Weaving") == (
        ["Family Practice"],
        ["Underwater Basket Weaving"],
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("California,North Carolina", ["California", "North Carolina"]),
        ("Texas, California", ["Texas", "California"]),
        ("Iowa, Montana, California", ["Iowa", "Montana", "California"]),
        ("CA", ["California"]),
        ("CA, TX, N.Y.", ["California", "Texas", "New York"]),
        ("licensed to practice in California", ["California"]),
        ("California and Oregon", ["California", "Oregon"]),
        ("", []),
    ],
)
def test_states(raw: str, expected: list[str]) -> None:
    assert parse_states(raw) == (expected, [])


def test_unknown_state_is_reported() -> None:
    assert parse_states("California,Atlantis") == (["California"], ["Atlantis"])
