"""Coverage on the 130 real letters (skipped where ../shared is absent).

Requests and guideline texts are pulled out with a simple extractor of our own
(``real_letters.py``), independent of the project parser.
"""

from __future__ import annotations

import pytest

from etl.classify.guidelines import parse_guideline
from etl.classify.requests import classify_request
from tests.classify.real_letters import (
    REAL_DIR,
    extract_guidelines,
    extract_requests,
    real_letter_texts,
)


@pytest.fixture(scope="module")
def letters() -> list[tuple[str, str]]:
    if not REAL_DIR.is_dir():
        pytest.skip(
            f"real letters not found at {REAL_DIR} (they live beside the repo, in ../shared)"
        )
    return real_letter_texts()


def test_requests_get_a_category(letters: list[tuple[str, str]]) -> None:
    requests = [r for _name, text in letters for r in extract_requests(text)]
    assert len(requests) >= 250  # 130 letters, ~2.3 items each
    other = [r for r in requests if classify_request(r).category == "Other"]
    assert len(other) / len(requests) <= 0.05, other


def test_medication_requests_name_known_drugs(letters: list[tuple[str, str]]) -> None:
    results = [classify_request(r) for _n, text in letters for r in extract_requests(text)]
    meds = [r for r in results if r.category == "Pharmaceuticals"]
    assert len(meds) >= 30
    unclassified = [r for r in meds if r.subcategory == "Unclassified Drug"]
    assert len(unclassified) / len(meds) <= 0.05


def test_guideline_texts_parse(letters: list[tuple[str, str]]) -> None:
    texts = [g for _name, text in letters for g in extract_guidelines(text)]
    assert len(texts) >= 500
    not_understood = [t for role, t in texts if not parse_guideline(t, role)[1]]
    assert len(not_understood) / len(texts) <= 0.01, not_understood
