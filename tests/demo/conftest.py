"""Shared fixtures for the demo-corpus tests."""

from __future__ import annotations

import pytest

from etl.demo import SyntheticLetter, generate_letters

ROUND_TRIP_SEED = 20130926
ROUND_TRIP_LETTERS = 210


@pytest.fixture(scope="session")
def round_trip_letters() -> list[SyntheticLetter]:
    """210 letters spread evenly over the three layouts (small: fine to hold in memory)."""
    return list(generate_letters(ROUND_TRIP_LETTERS, ROUND_TRIP_SEED, balanced=True))
