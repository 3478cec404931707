"""DWC's index as a check of our parser: a warehouse built by `imr fetch --ingest` from the
replica, where DWC's index differs from the letters in known ways; the dashboard's queries and
the Data quality page report exactly those differences."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import queries
from tests.conftest import ROOT
from tests.fetch.conftest import Run
from tests.fetch.data import edited
from tests.fetch.replica import Case, Treatment

APP = str(ROOT / "dashboard" / "app.py")


def _changed(case: Case, number: int, **fields: str) -> Case:
    treatments = list(case.treatments)
    old = treatments[number - 1]
    treatments[number - 1] = Treatment(
        fields.get("category", old.category),
        fields.get("subcategory", old.subcategory),
        fields.get("decision", old.decision),
    )
    return edited(case, treatments=treatments)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, january_cases):
    """(warehouse, the replica's cases, what was changed)."""
    cases = list(january_cases[:16])
    pharma = [c.treatments[0].category == "Pharmaceuticals" for c in cases]
    assert cases[6].treatments[0] == Treatment("Pharmaceuticals", "Benzodiazepines", "Upheld")
    assert cases[1].treatments[0].category == "Programs" and pharma[2] and pharma[5]
    flipped, recategorised, reclassed, shorter, aliased, unmapped, odd, missing = (
        cases[i].case_number for i in (6, 1, 2, 4, 5, 7, 8, 10)
    )
    cases[6] = _changed(cases[6], 1, decision="Overturned")
    cases[1] = _changed(cases[1], 1, category="Rehabilitation", subcategory="Other Therapies")
    cases[2] = _changed(cases[2], 1, subcategory="NSAID")
    cases[4] = edited(cases[4], treatments=cases[4].treatments[:-1])
    cases[5] = _changed(cases[5], 1, subcategory="Benzodiazepine", decision="Uphold")
    cases[7] = _changed(cases[7], 1, subcategory="Compounded cream")
    cases[8] = _changed(cases[8], 1, decision="Partially Overturned")
    from tests.fetch.replica import Replica

    site = Replica(cases, not_pdf={missing})
    url = site.start()
    try:
        run = Run(tmp_path_factory.mktemp("dwc"), url)
        summary = run(ingest=True)
    finally:
        site.stop()
    assert summary.downloaded == 15 and summary.ingests and summary.ingests[0].letters == 15
    names = {
        "flipped": flipped,
        "recategorised": recategorised,
        "reclassed": reclassed,
        "shorter": shorter,
        "aliased": aliased,
        "unmapped": unmapped,
        "odd": odd,
        "missing": missing,
    }
    return run.db, cases, names, january_cases[:16]


@pytest.fixture
def session(scenario):
    con = queries.connect(scenario[0])
    yield con
    con.close()


def test_the_summary_counts_letters_in_both_and_count_mismatches(session, scenario) -> None:
    _, cases, names, _ = scenario
    row = queries.dwc_summary(session).row(0, named=True)
    assert row == {
        "dwc_letters": 16,
        "dwc_items": sum(len(c.treatments) for c in cases),
        "letters_in_both": 15,
        "letters_compared": 14,
        "item_count_mismatches": 1,
        "dwc_letters_not_here": 1,
    }
    mismatch = queries.dwc_count_mismatches(session).rows(named=True)
    assert [(m["case_number"], m["dwc_items"], m["our_items"]) for m in mismatch] == [
        (names["shorter"], 7, 8)
    ]


def test_agreement_per_field(session, scenario) -> None:
    _, cases, names, originals = scenario
    compared = [
        original
        for original in originals
        if original.case_number not in (names["shorter"], names["missing"])
    ]
    items = [t for case in compared for t in case.treatments]  # our parse, item by item
    ours_pharma = sum(t.category == "Pharmaceuticals" for t in items)
    got = {r["field"]: r for r in queries.dwc_agreement(session).rows(named=True)}
    assert [*got] == ["decision", "category", "drug class"]
    want = {
        "decision": (len(items) - 1, len(items) - 2, 1),  # 'Partially Overturned' unmapped
        "category": (len(items), len(items) - 1, 0),
        "drug class": (ours_pharma - 1, ours_pharma - 2, 1),  # 'Compounded cream' unmapped
    }
    for field, (n, agree, unmapped) in want.items():
        row = got[field]
        assert (row["compared"], row["agree"], row["disagree"], row["unmapped"]) == (
            n,
            agree,
            n - agree,
            unmapped,
        ), field
        assert row["agree_rate"] == pytest.approx(agree / n)
        assert row["agree_lower"] < row["agree_rate"] < row["agree_upper"]


def test_the_disagreeing_items_are_listed(session, scenario) -> None:
    _, _, names, _ = scenario
    rows = queries.dwc_disagreements(session).rows(named=True)
    got = sorted(
        (r["case_number"], r["item_no"], r["field"], r["dwc_text"], r["dwc_value"], r["our_value"])
        for r in rows
    )
    assert got == sorted(
        [
            (names["flipped"], 1, "decision", "Overturned", "Overturned", "Upheld"),
            (
                names["recategorised"],
                1,
                "category",
                "Rehabilitation",
                "Rehabilitation",
                "Programs",
            ),
            (names["reclassed"], 1, "drug class", "NSAID", "NSAID", "Opioids"),
        ]
    )
    assert all(r["letter_id"] and r["request"] for r in rows)
    assert queries.dwc_disagreements(session, 1).height == 1


def test_letters_without_a_case_number_are_linked_through_their_pdf(scenario) -> None:
    db, _, names, _ = scenario
    con = duckdb.connect(str(db), read_only=True)
    try:
        printed = con.execute(
            "select count(*) from letters where case_number like 'CM24-%'"
        ).fetchone()
        linked = con.execute(
            "select count(distinct d.case_number) from dwc_index d"
            " join sources s on s.source_sha256 = d.letter_sha256 and s.status = 'loaded'"
        ).fetchone()
    finally:
        con.close()
    # Only the 2016+ letters (cases 4, 9 and 14) print their case number; all 15 are linked.
    assert printed == (3,)
    assert linked == (15,)


def test_letters_are_linked_by_their_printed_case_number_alone(scenario, tmp_path) -> None:
    """Without DWC's PDFs (its index fetched, the letters loaded from elsewhere), the letters
    that print their case number are still found: the three of 2016 on."""
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(Path(scenario[0]).resolve().read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("update dwc_index set letter_sha256 = null")
    session = queries.connect(copy)
    try:
        row = queries.dwc_summary(session).row(0, named=True)
    finally:
        session.close()
    assert (row["dwc_letters"], row["letters_in_both"], row["dwc_letters_not_here"]) == (16, 3, 13)


def test_a_warehouse_without_dwc_index_says_so(tmp_path: Path) -> None:
    bare = tmp_path / "bare.duckdb"
    with duckdb.connect(str(bare)) as con:
        con.execute("create table letters (letter_id varchar)")
    session = queries.connect(bare)
    try:
        assert queries.dwc_available(session).item(0, "available") is False
    finally:
        session.close()


def test_the_data_quality_page_shows_the_comparison(scenario, monkeypatch) -> None:
    db, _, names, _ = scenario
    monkeypatch.setenv("IMR_DB", str(db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/data_quality.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["DWC letters"] == "16" and metrics["Letters in both"] == "15"
    assert metrics["Compared item by item"] == "14" and metrics["Item-count mismatches"] == "1"
    frames = [df.value for df in at.dataframe]
    agreement = next(f for f in frames if "agree_rate" in f.columns)
    assert list(agreement["field"]) == ["decision", "category", "drug class"]
    differing = next(f for f in frames if "dwc_text" in f.columns)
    assert set(differing["case_number"]) == {
        names["flipped"],
        names["recategorised"],
        names["reclassed"],
    }
    assert any("another number of items than DWC lists" in w.value for w in at.warning)
