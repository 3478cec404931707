"""Requests the classifier once got wrong, each with the label it must give now."""

from __future__ import annotations

import pytest

from etl.classify.requests import classify_request

CASES = [
    # A timing prefix hid rules anchored at the start of the request.
    (
        "Retrospective Post-operative cold therapy unit rental for 7 days",
        "Surgery",
        "Adjunct Surgical Services",
    ),
    (
        "Retrospective Pre-operative labs: CBC, BMP, PT/PTT DOS: 07/15/19",
        "Surgery",
        "Adjunct Surgical Services",
    ),
    # The destination of a ride is not the service requested.
    ("Round trip transportation to physical therapy", "Transportation", "Transportation"),
    ("Methyltestosterone 10mg #30", "Pharmaceuticals", "Androgens & Anabolic Steroids"),
    ("Neurotrex #60", "Pharmaceuticals", "Nutritional Products"),
]


@pytest.mark.parametrize(("request_text", "category", "subcategory"), CASES)
def test_request_regression(request_text: str, category: str, subcategory: str) -> None:
    got = classify_request(request_text)
    assert (got.category, got.subcategory) == (category, subcategory)
