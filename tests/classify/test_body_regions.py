"""Body regions from the diagnoses: every vocabulary row finds its example, real diagnoses give
reviewed regions, and migration 5 fills the column of letters loaded before it existed."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import time
from pathlib import Path

import duckdb
import pytest

from etl.classify import body_regions as br
from etl.classify import tables
from etl.warehouse import contract
from etl.warehouse.migrations import MIGRATIONS, AddColumn, migrate
from tests.conftest import ROOT

ROWS = tables.read_rows(br.VOCABULARY)
REGIONS = (
    "spine-lumbar",
    "spine-thoracic",
    "spine-cervical",
    "spine (unspecified)",
    "shoulder",
    "elbow/forearm",
    "wrist/hand",
    "hip/pelvis",
    "knee",
    "ankle/foot",
    "leg (other)",
    "arm (other)",
    "head/face",
    "psych",
    "chronic pain",
    "internal",
)


def _ids(rows: list[dict[str, str]]) -> list[str]:
    return [f"{i}:{row['region']}:{row['example']}"[:60] for i, row in enumerate(rows, start=2)]


@pytest.mark.parametrize("row", ROWS, ids=_ids(ROWS))
def test_every_row_finds_its_example(row: dict[str, str]) -> None:
    assert row["region"] in REGIONS
    assert re.search(row["pattern"], row["example"].lower()), row
    assert row["region"] in br.body_regions(row["example"])
    # Written in lower case: the diagnoses are lower-cased before matching.
    without_escapes = re.sub(r"\\[A-Za-z]", "", row["pattern"])
    assert without_escapes == without_escapes.lower()
    for other in filter(None, row["unless"].split("|")):
        assert other in REGIONS


def test_the_regions_are_the_vocabularys_in_order() -> None:
    assert br.regions() == REGIONS


def test_an_exception_cancels_a_vague_region() -> None:
    assert br.body_regions("back pain") == ["spine (unspecified)"]
    assert br.body_regions("low back pain and back spasms") == ["spine-lumbar"]
    assert br.body_regions("cervical disc displacement") == ["spine-cervical"]
    assert br.body_regions("spinal contusion, right knee") == ["spine (unspecified)", "knee"]


@pytest.mark.parametrize("text", [None, "", "   ", "documented as crushing injury", "obesity"])
def test_no_region_is_guessed(text: str | None) -> None:
    assert br.body_regions(text) == []


def test_words_inside_other_words_do_not_count() -> None:
    assert br.body_regions("right-handed worker with shoulder strain") == ["shoulder"]
    assert br.body_regions("kneeling injury of the right knee") == ["knee"]
    assert br.body_regions("armchair fall") == []


def test_each_region_once_in_vocabulary_order() -> None:
    found = br.body_regions("knee pain, lumbar strain, left knee, psych stress, lumbar disc")
    assert found == ["spine-lumbar", "knee", "psych"]


REVIEWED = {
    "right shoulder contusion, neck strain, right shoulder injury, scapulothoracic syndrome and "
    "right arm paresthesias": ["spine-cervical", "shoulder", "arm (other)"],
    "documented as other intervertebral disc displacement, lumbosacral region": ["spine-lumbar"],
    "right-sided cubital tunnel syndrome, right-sided carpal tunnel syndrome, and sprain of the "
    "left wrist": ["elbow/forearm", "wrist/hand"],
    "piriformis syndrome, lumbar strain and right IT band pain": [
        "spine-lumbar",
        "hip/pelvis",
        "leg (other)",
    ],
    "documented as cervicalgia, lumbago with sciatica, and pain in thoracic spine": [
        "spine-lumbar",
        "spine-thoracic",
        "spine-cervical",
    ],
    "documented as tear of the medial cartilage and/or meniscus, rupture of the ACL, knee pain, "
    "and chronic pain": ["knee", "chronic pain"],
    "facial pain, adjustment disorder, neck muscle strain, traumatic brain injury, and face "
    "contusion": ["spine-cervical", "head/face", "psych"],
    "documented as umbilical hernia without obstruction or gangrene": ["internal"],
    "having right foot crush injury and right foot 2nd digit displaced fracture": ["ankle/foot"],
    "documented as unspecified fracture of right femur; nondisplaced comminuted fracture of "
    "shaft of right fibula; and other fracture of unspecified lower leg": ["leg (other)"],
    "documented as symptomatic SLAP lesion, right shoulder": ["shoulder"],
    "spinal contusion secondary to a fall": ["spine (unspecified)"],
}


@pytest.mark.parametrize("diagnoses", list(REVIEWED), ids=[d[:40] for d in REVIEWED])
def test_reviewed_real_diagnoses(diagnoses: str) -> None:
    assert br.body_regions(diagnoses) == REVIEWED[diagnoses]


def test_every_real_letter_with_diagnoses_is_classified_quickly() -> None:
    """The golden parses of the real letters: the reviewed ones are among them, and no
    diagnosis takes long (the patterns have no nested repetition)."""
    texts = [
        json.loads(path.read_text())["diagnoses"]
        for path in sorted((ROOT / "tests" / "golden" / "real").glob("*.json"))
    ]
    texts = [t for t in texts if t]
    assert set(REVIEWED) <= set(texts)
    start = time.perf_counter()
    found = [br.body_regions(t) for t in texts]
    assert time.perf_counter() - start < 1.0
    assert sum(1 for f in found if f) >= 0.9 * len(texts)
    long = "lumbar " * 20_000 + "x" * 100_000
    start = time.perf_counter()
    assert br.body_regions(long) == ["spine-lumbar"]
    assert time.perf_counter() - start < 2.0


FIXTURE = ROOT / "tests" / "fixtures" / "warehouse-schema1.duckdb.gz"


def test_migration_5_classifies_the_letters_already_loaded(tmp_path: Path) -> None:
    assert isinstance(MIGRATIONS[5], AddColumn) and MIGRATIONS[5].column == "body_regions"
    assert "body_regions" in contract.table("letters").names
    db = tmp_path / "old.duckdb"
    with gzip.open(FIXTURE) as source, open(db, "wb") as target:
        shutil.copyfileobj(source, target)
    con = duckdb.connect(str(db))
    try:
        assert 5 in migrate(con)
        rows = con.execute("select diagnoses, body_regions from letters").fetchall()
    finally:
        con.close()
    assert rows and any(regions for _, regions in rows)
    for diagnoses, regions in rows:
        assert regions == br.body_regions(diagnoses), diagnoses
