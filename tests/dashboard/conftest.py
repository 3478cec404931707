"""A real (small) warehouse for the dashboard tests.

Built from the warehouse contract (``etl/warehouse/contract.py``), a few dozen hand-made rows
with known counts, then the derived tables (``etl.load.build_derived``), without parsing any PDF.

Run as a script to build one for a manual ``streamlit run``:
``.venv/bin/python tests/dashboard/conftest.py /tmp/imr-fixture.duckdb``
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from etl.load import build_derived
from etl.warehouse import contract

ROOT = Path(__file__).resolve().parents[2]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PMR = "Physical Medicine & Rehabilitation"

# letter_id, case_number, decision_date, injury_year, specialties, states, layout, synthetic,
# priority, application_received
LETTERS: list[tuple] = [
    (
        "CM13-0000001",
        "CM13-0000001",
        "2013-11-05",
        2010,
        [PMR, "Pain Management"],
        ["California"],
        "A",
        False,
        None,
        None,
    ),
    (
        "CM14-0000002",
        "CM14-0000002",
        "2014-03-10",
        2012,
        ["Orthopedic Surgery"],
        ["California", "Nevada"],
        "B",
        False,
        "Standard",
        "2014-02-10",
    ),
    (
        "CM14-0000003",
        "CM14-0000003",
        "2014-08-20",
        2011,
        ["Chiropractic"],
        ["Texas"],
        "B",
        False,
        "Standard",
        "2014-07-21",
    ),
    (
        "CM15-0000004",
        "CM15-0000004",
        "2015-02-02",
        2013,
        ["Psychology"],
        ["California"],
        "B",
        False,
        "Expedited",
        "2015-01-30",
    ),
    (
        "CM15-0000005",
        "CM15-0000005",
        "2015-06-15",
        2014,
        ["Internal Medicine", "Occupational Medicine"],
        ["Oregon"],
        "B",
        False,
        "Standard",
        "2015-05-16",
    ),
    (
        "CM16-0000006",
        "CM16-0000006",
        "2016-01-20",
        2015,
        ["Anesthesiology", "Pain Management"],
        ["California"],
        "B2",
        False,
        "Standard",
        "2015-12-21",
    ),
    (
        "CM16-0000007",
        "CM16-0000007",
        "2016-09-09",
        None,
        ["Family Practice"],
        ["Arizona"],
        "B2",
        False,
        None,
        None,
    ),
    (
        "CM17-0000008",
        "CM17-0000008",
        "2017-04-04",
        2016,
        [PMR],
        ["California"],
        "B2",
        True,
        "Standard",
        "2017-03-05",
    ),
    (
        "CM17-0000009",
        "CM17-0000009",
        "2017-12-12",
        2015,
        ["Orthopedic Surgery"],
        ["Nevada"],
        "B2",
        True,
        "Standard",
        "2017-11-12",
    ),
    ("fp-5a1d", None, "2018-05-05", 2017, [PMR], ["California"], "B2", False, None, None),
]

# letter_id, item_no, request, decision, category, subcategory, drugs,
# maximus sources, claims-admin sources, rationale
ITEMS: list[tuple] = [
    (
        "CM13-0000001",
        1,
        "Norco 10/325mg #120",
        "Upheld",
        "Pharmaceuticals",
        "Opioids",
        ["hydrocodone", "acetaminophen"],
        ["MTUS"],
        ["MTUS"],
        "Opioids lack functional improvement.",
    ),
    (
        "CM13-0000001",
        2,
        "Lidoderm patch #30",
        "Upheld",
        "Pharmaceuticals",
        "Topical Analgesics",
        ["lidocaine"],
        ["MTUS"],
        [],
        "No trial of first-line therapy.",
    ),
    (
        "CM13-0000001",
        3,
        "MRI lumbar spine",
        "Overturned",
        "Diagnostic Testing",
        "Imaging/Radiology",
        [],
        ["MTUS", "ODG"],
        ["ODG"],
        "Red flags documented.",
    ),
    (
        "CM14-0000002",
        1,
        "Percocet 5/325mg #60",
        "Overturned",
        "Pharmaceuticals",
        "Opioids",
        ["oxycodone", "acetaminophen"],
        ["MTUS"],
        ["MTUS"],
        "Documented improvement on opioids.",
    ),
    (
        "CM14-0000002",
        2,
        "Right knee arthroscopy",
        "Upheld",
        "Surgery",
        "Arthroscopic Surgery",
        [],
        ["ODG"],
        ["MTUS"],
        "Conservative care not exhausted.",
    ),
    (
        "CM14-0000002",
        3,
        '=HYPERLINK("http://evil")',
        "Upheld",
        "DMEPOS",
        "DME",
        [],
        [],
        [],
        "<script>alert(1)</script> not supported.",
    ),
    (
        "CM14-0000003",
        1,
        "Chiropractic x 12 visits",
        "Upheld",
        "Rehabilitation",
        "Chiropractic",
        [],
        ["MTUS"],
        ["MTUS"],
        "Exceeds guideline visits.",
    ),
    (
        "CM14-0000003",
        2,
        "Tramadol 50mg #90",
        "Upheld",
        "Pharmaceuticals",
        "Opioids",
        ["tramadol"],
        ["MTUS"],
        ["ODG"],
        "No urine drug screen.",
    ),
    (
        "CM15-0000004",
        1,
        "Psychotherapy x 6",
        "Overturned",
        "Psych Services",
        "Therapies",
        [],
        ["ODG"],
        ["ODG"],
        "Guidelines support CBT.",
    ),
    (
        "CM15-0000004",
        2,
        "Ativan 1mg #30",
        "Upheld",
        "Pharmaceuticals",
        "Benzodiazepines",
        ["lorazepam"],
        ["MTUS"],
        ["MTUS"],
        "Benzodiazepines not for long-term use.",
    ),
    (
        "CM15-0000005",
        1,
        "Naproxen 550mg #60",
        "Overturned",
        "Pharmaceuticals",
        "NSAID",
        ["naproxen"],
        ["MTUS"],
        ["MTUS"],
        "NSAIDs are first line.",
    ),
    (
        "CM15-0000005",
        2,
        "Omeprazole 20mg #30",
        "Upheld",
        "Pharmaceuticals",
        "Proton Pump Inhibitors",
        ["omeprazole"],
        ["MTUS"],
        ["Other"],
        "No GI risk factors.",
    ),
    (
        "CM15-0000005",
        3,
        "Follow-up visit",
        "Overturned",
        "Evaluation & Management",
        "Medical Specialties",
        [],
        ["ACOEM"],
        [],
        "Follow-up is reasonable.",
    ),
    (
        "CM16-0000006",
        1,
        "Lumbar epidural steroid injection",
        "Upheld",
        "Injection",
        "Injection",
        [],
        ["MTUS"],
        ["MTUS"],
        "No radiculopathy on exam.",
    ),
    (
        "CM16-0000006",
        2,
        "Norco 10/325mg #90",
        "Upheld",
        "Pharmaceuticals",
        "Opioids",
        ["hydrocodone", "acetaminophen"],
        ["MTUS", "Other"],
        ["MTUS"],
        "Weaning recommended.",
    ),
    (
        "CM16-0000006",
        3,
        "Cyclobenzaprine 7.5mg #60",
        "Upheld",
        "Pharmaceuticals",
        "Muscle Relaxant",
        ["cyclobenzaprine"],
        ["MTUS"],
        ["MTUS"],
        "Short-term use only.",
    ),
    (
        "CM16-0000007",
        1,
        "Physical therapy x 8",
        "Overturned",
        "Rehabilitation",
        "PT/OT",
        [],
        ["MTUS"],
        ["MTUS"],
        "Post-operative therapy supported.",
    ),
    (
        "CM16-0000007",
        2,
        "Gym membership",
        "Upheld",
        "Other",
        "Unclassified",
        [],
        [],
        ["ODG"],
        "Not medical treatment.",
    ),
    (
        "CM17-0000008",
        1,
        "Norco 5/325mg #60",
        "Overturned",
        "Pharmaceuticals",
        "Opioids",
        ["hydrocodone", "acetaminophen"],
        ["MTUS"],
        ["MTUS"],
        "Demo letter: taper approved.",
    ),
    (
        "CM17-0000008",
        2,
        "TENS unit",
        "Upheld",
        "DMEPOS",
        "Electrical Stimulation",
        [],
        ["MTUS"],
        ["MTUS"],
        "Demo letter: no trial documented.",
    ),
    (
        "CM17-0000009",
        1,
        "Shoulder arthroscopy",
        "Overturned",
        "Surgery",
        "Arthroscopic Surgery",
        [],
        ["ODG"],
        ["ODG"],
        "Demo letter: failed conservative care.",
    ),
    (
        "fp-5a1d",
        1,
        "Tramadol ER 150mg #30",
        "Upheld",
        "Pharmaceuticals",
        "Opioids",
        ["tramadol"],
        ["MTUS"],
        ["MTUS"],
        "+cmd|' /C calc'!A0 no improvement.",
    ),
    (
        "fp-5a1d",
        2,
        "Acupuncture x 6",
        "Overturned",
        "Rehabilitation",
        "Acupuncture",
        [],
        ["MTUS"],
        ["MTUS"],
        "Acupuncture guidelines support a trial.",
    ),
]

REJECTS = [
    ("in/bad1.pdf", "aa11", "no_text", "PDF has no text layer"),
    ("in/bad2.pdf", "bb22", "no_text", "PDF has no text layer"),
    ("in/dup.pdf", "cc33", "not_a_decision", "Cover letter only"),
]

UNRESOLVED = [
    ("CM16-0000007", 2, "request", "Gym membership"),
    ("CM16-0000007", None, "specialty", "Sports Medicin"),
    ("fp-5a1d", None, "specialty", "Sports Medicin"),
]


def build_warehouse(path: Path) -> Path:
    """Create a warehouse at ``path`` the way the ETL does: schema, rows, views."""
    con = duckdb.connect(str(path))
    try:
        con.execute(contract.ddl())
        now = dt.datetime(2026, 1, 1, 12, 0, 0)
        items_per_letter: dict[str, int] = {}
        for item in ITEMS:
            items_per_letter[item[0]] = items_per_letter.get(item[0], 0) + 1
        for (
            letter_id,
            case,
            decided,
            injury_year,
            specs,
            states,
            layout,
            synthetic,
            priority,
            received,
        ) in LETTERS:
            decisions = [i[3] for i in ITEMS if i[0] == letter_id]
            outcome = (
                "Upheld"
                if set(decisions) == {"Upheld"}
                else "Overturned"
                if set(decisions) == {"Overturned"}
                else "Partially Overturned"
            )
            con.execute(
                """insert into letters (letter_id, source_path, source_sha256, layout, case_number,
                decision_date, injury_date, injury_year, reviewer_states, reviewer_specialties,
                outcome, case_summary, priority, application_received, item_count, synthetic,
                parser_version, loaded_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    letter_id,
                    f"in/{letter_id}.pdf",
                    f"sha-{letter_id}",
                    layout,
                    case,
                    decided,
                    None if injury_year is None else f"{injury_year}-06-01",
                    injury_year,
                    states,
                    specs,
                    outcome,
                    f"Summary of {letter_id}: injured worker.",
                    priority,
                    received,
                    items_per_letter[letter_id],
                    synthetic,
                    "1",
                    now,
                ],
            )
        for letter_id, item_no, request, decision, category, sub, drugs, mx, ca, rationale in ITEMS:
            con.execute(
                """insert into decisions (letter_id, item_no, request, decision, category,
                subcategory, drug_class, drugs, maximus_guideline, rationale)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    letter_id,
                    item_no,
                    request,
                    decision,
                    category,
                    sub,
                    sub if category == "Pharmaceuticals" else None,
                    drugs or None,
                    ", ".join(mx) or None,
                    rationale,
                ],
            )
            for role, sources in (("maximus", mx), ("claims_administrator", ca)):
                for source in sources:
                    con.execute(
                        "insert into citations values (?, ?, ?, ?, ?, ?, ?)",
                        [
                            letter_id,
                            item_no,
                            role,
                            source,
                            "Chronic Pain Medical Treatment Guidelines"
                            if source == "MTUS"
                            else None,
                            None,
                            f"{source} citation",
                        ],
                    )
        for path_, sha, reason, detail in REJECTS:
            con.execute(
                "insert into rejects values (?, ?, ?, ?, ?)", [path_, sha, reason, detail, now]
            )
        for row in UNRESOLVED:
            con.execute("insert into unresolved values (?, ?, ?, ?)", list(row))
        con.execute("insert into meta values ('built_at', '2026-01-01T12:00:00')")
        build_derived(con, "384MB")
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("warehouse") / "fixture.duckdb")


@pytest.fixture()
def con(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/imr-fixture.duckdb")
    out.unlink(missing_ok=True)
    print(build_warehouse(out))
