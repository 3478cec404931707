from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL = SHARED / "letters" / "real"


def require_shared() -> Path:
    """The shared real letters, or a clean skip on machines that do not have them."""
    if not (REAL / "INDEX.tsv").is_file():
        pytest.skip(f"real letters not found at {REAL} (they live beside the repo, in ../shared)")
    return REAL
