"""Two different letters under one case number: both stay visible, neither silently dropped.

Regression for: the second was recorded as "loaded" in ``sources`` while its items were
discarded, and which one won depended on file-name order. Now the rule is documented: the
letter loaded first (in walk order, or already in the warehouse) is kept, and a letter with the
same case number but other items or decisions is a ``conflicting_duplicate`` reject naming the
kept file. Renderings of one letter (same items and decisions) remain one letter.
"""

from __future__ import annotations

from pathlib import Path

from etl.ingest import ingest
from tests.conftest import ROOT
from tests.reliability.helpers import query, settings_for, variant

# A 2016+ letter with a case number (seed letters have none: their id is a content fingerprint).
LETTER = ROOT / "data" / "samples" / "regressions" / "header_missing_value_pypdf.txt"


def _conflicting(text: str) -> str:
    """The same case number, one decision the other way."""
    for old, new in ((": Upheld", ": Overturned"), (": Overturned", ": Upheld")):
        if old in text:
            return text.replace(old, new, 1)
    raise AssertionError("seed letter without a decision line")


def test_a_conflicting_letter_is_a_reject_naming_the_kept_one(tmp_path: Path) -> None:
    seed = LETTER.read_text(encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(seed)
    (folder / "b-conflict.txt").write_text(_conflicting(seed))
    (folder / "c-rendering.txt").write_text(variant(seed, 7))  # same items: the same letter
    settings = settings_for(tmp_path, jobs=2)
    summary = ingest([folder], settings)
    assert (summary.letters, summary.unchanged, summary.rejected) == (1, 1, 1)
    assert summary.reasons["conflicting_duplicate"] == 1
    [(path, detail)] = query(settings.db, "select source_path, detail from rejects")
    assert path == str(folder / "b-conflict.txt")
    assert str(folder / "a.txt") in detail
    assert query(settings.db, "select source_path from letters") == [(str(folder / "a.txt"),)]
    statuses = dict(query(settings.db, "select source_path, status from sources"))
    assert statuses[str(folder / "b-conflict.txt")] == "rejected"

    # Later, on its own: the warehouse's letter is kept, the newcomer named as conflicting.
    later = tmp_path / "later"
    later.mkdir()
    (later / "z.txt").write_text(_conflicting(variant(seed, 8)))
    again = ingest([later], settings)
    assert again.reasons["conflicting_duplicate"] == 1
    detail = query(settings.db, "select detail from rejects where source_path like '%z.txt'")
    assert str(folder / "a.txt") in detail[0][0]
    assert query(settings.db, "select count(*) from letters") == [(1,)]
