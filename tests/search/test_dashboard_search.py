"""q as a global filter in the dashboard's queries, the ranked list, the Drug filter's names and
combinations, similar decisions: every number against the index and the warehouse directly."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboard import queries, search
from dashboard.filters import Filters
from etl.search.engine import SearchIndex

Key = tuple[str, int]


def matches(index: SearchIndex, text: str) -> set[Key]:
    compiled = index.compile(text)
    return {(h.letter_id, h.item_no) for h in index.top(compiled, max(index.count(compiled), 1))}


def facts(oracle: duckdb.DuckDBPyConnection, where: str = "true") -> dict[Key, tuple]:
    rows = oracle.execute(
        f"select letter_id, item_no, overturned, category, decision from item_facts where {where}"
    ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


@pytest.fixture(scope="module")
def oracle(search_file: Path):
    connection = duckdb.connect(str(search_file), read_only=True)
    yield connection
    connection.close()


@pytest.mark.parametrize("text", ["norco", "urine drug screen", "-norco", "*", "lyrica", "zzzz"])
def test_q_filters_the_headline_numbers(con, oracle, index, text) -> None:
    want = matches(index, text) & set(facts(oracle))
    row = queries.summary(con, Filters.build(search=text)).row(0, named=True)
    assert row["n"] == len(want)
    assert row["letters"] == len({letter for letter, _ in want})
    all_facts = facts(oracle)
    assert row["overturned"] == sum(1 for key in want if all_facts[key][0])


def test_q_with_other_filters_rates_and_csv(con, oracle, index) -> None:
    filters = Filters.build(search="norco OR percocet", decision=["Upheld"])
    upheld = facts(oracle, "decision = 'Upheld'")
    want = matches(index, "norco OR percocet") & set(upheld)
    assert want
    assert queries.summary(con, filters).item(0, "n") == len(want)
    rates = queries.rates_by(con, filters, "category")
    by_category: dict[str, int] = {}
    for key in want:
        category = upheld[key][1]
        by_category[category] = by_category.get(category, 0) + 1
    assert dict(zip(rates["category"], rates["n"], strict=True)) == by_category
    csv = pl.concat(list(queries.items_batches(con, filters, batch_rows=50)))
    assert set(csv.select("letter_id", "item_no").iter_rows()) == want
    assert set(queries.items(con, filters).select("letter_id", "item_no").iter_rows()) == want


def test_searches_are_forgotten_and_found_again(con, index, monkeypatch) -> None:
    monkeypatch.setattr(search, "IDLE_SECONDS", -1.0)  # everything is idle at once
    texts = [f"mri {n}" for n in range(search.KEEP + 4)] + ["norco"]
    for text in texts:
        queries.summary(con, Filters.build(search=text))
    kept = queries.cursor(con).execute("select count(*) from memory.main.search_registry")
    assert kept.fetchone()[0] == search.KEEP
    # A forgotten search is run again when asked for, with the same numbers.
    again = queries.summary(con, Filters.build(search=texts[0])).item(0, "n")
    assert again == len(matches(index, texts[0]))


def test_the_ranked_list_is_best_first_and_passes_the_filters(con, oracle, index) -> None:
    filters = Filters.build(search="urine drug screen", category=["Pharmaceuticals"])
    ranked = search.ranked(con, filters, 10)
    allowed = set(facts(oracle, "category = 'Pharmaceuticals'"))
    hits = matches(index, "urine drug screen") & allowed
    assert ranked.height == min(10, len(hits)) > 0
    assert set(ranked.select("letter_id", "item_no").iter_rows()) <= hits
    scores = ranked.get_column("score").to_list()
    assert scores == sorted(scores, reverse=True)
    assert ranked.get_column("rank").to_list() == list(range(1, ranked.height + 1))
    # Without other filters: exactly the index's best, in its order.
    plain = search.ranked(con, Filters.build(search="urine drug screen"), 10)
    compiled = index.compile("urine drug screen")
    best = [(h.letter_id, h.item_no) for h in index.top(compiled, 10)]
    assert list(plain.select("letter_id", "item_no").iter_rows()) == best
    # Every snippet's spans fall on words of the query.
    for row in plain.iter_rows(named=True):
        for start, end in row["snippet_spans"]:
            assert row["snippet"][start:end].lower() in {"urine", "drug", "screen"}


def test_no_search_no_ranked_list(con) -> None:
    assert search.ranked(con, Filters(), 10).height == 0


def test_a_brand_in_the_drug_filter(con, oracle) -> None:
    generics = queries.filter_options(con).filter(pl.col("dimension") == "drug")
    options = search.drug_options(con, tuple(generics.select("value", "n").iter_rows()))
    values = dict(zip(options["value"], options["n"], strict=True))
    both = oracle.execute(
        "select count(*) from item_facts"
        " where list_has_all(drugs, ['acetaminophen', 'hydrocodone'])"
    ).fetchone()[0]
    alone = oracle.execute(
        "select count(*) from item_facts where list_contains(drugs, 'acetaminophen')"
    ).fetchone()[0]
    assert 0 < both < alone
    assert values["acetaminophen + hydrocodone"] == both
    assert values["norco → acetaminophen + hydrocodone"] == both
    available = {v for v in values if "→" not in v}
    assert search.canonical_drugs(
        ["Norco", "norco → acetaminophen + hydrocodone", "LYRICA", "bogus", "pregabalin"], available
    ) == ["acetaminophen + hydrocodone", "pregabalin"]
    combination = Filters.build(drug=["acetaminophen + hydrocodone"])
    assert queries.summary(con, combination).item(0, "n") == both
    either = Filters.build(drug=["acetaminophen + hydrocodone", "acetaminophen"])
    assert queries.summary(con, either).item(0, "n") == alone


def test_similar_decisions(con, oracle, index) -> None:
    letter_id, item_no = oracle.execute(
        "select letter_id, item_no from item_facts where drug_class = 'Opioids'"
        " order by letter_id, item_no limit 1"
    ).fetchone()
    similar = search.similar(con, letter_id, item_no, 20)
    assert 0 < similar.height <= 20
    assert set(similar.get_column("drug_class")) == {"Opioids"}
    assert (letter_id, item_no) not in set(similar.select("letter_id", "item_no").iter_rows())
    ids = tuple(similar.get_column("letter_id"))
    numbers = tuple(similar.get_column("item_no"))
    outcomes = search.similar_outcomes(con, ids, numbers).row(0, named=True)
    assert outcomes["n"] == similar.height
    assert outcomes["overturned"] == similar.filter(pl.col("decision") == "Overturned").height
    sections = search.similar_sections(con, ids, numbers)
    overturned = similar.filter(pl.col("decision") == "Overturned")
    cited = oracle.execute(
        "select count(distinct (letter_id, item_no)) from citations where role = 'maximus'"
        " and (letter_id, item_no) in (select unnest(?), unnest(?))",
        [overturned["letter_id"].to_list(), overturned["item_no"].to_list()],
    ).fetchone()[0]
    # Every section is cited by at most the overturned items citing anything; some when any.
    assert (sections.height > 0) == (cited > 0)
    if cited:
        assert sections.get_column("items").max() <= cited
    assert search.similar(con, "no such letter", 1).height == 0


def test_reader_highlights(con) -> None:
    spans = search.highlights(
        con, "norco", (("a", "Norco 10/325 and hydrocodone"), ("b", None), ("c", "nothing"))
    )
    assert spans == {"a": [(0, 5), (17, 28)], "b": [], "c": []}


def test_a_warehouse_without_an_index_searches_literally(tmp_path, search_file, oracle) -> None:
    copy = tmp_path / "old.duckdb"
    shutil.copyfile(search_file, copy)
    with duckdb.connect(str(copy)) as writable:
        writable.execute("delete from meta where key like 'search_index%'")
    session = queries.connect(copy)
    try:
        status = search.status(session).row(0, named=True)
        assert not status["available"] and "no search index" in status["problem"]
        want = oracle.execute(
            "select count(*) from decisions where request ilike '%norco%' or rationale ilike"
            " '%norco%'"
        ).fetchone()[0]
        assert queries.summary(session, Filters.build(search="norco")).item(0, "n") == want
        ranked = search.ranked(session, Filters.build(search="norco"), 5)
        assert ranked.height == 5
    finally:
        session.close()


def test_the_search_text_is_in_the_caption_and_file_names() -> None:
    filters = Filters.build(search='  norco   "urine drug" ', decision=["Upheld"])
    assert filters.search == 'norco "urine drug"'
    assert filters.describe()[-1] == 'Search: “norco "urine drug"”'
    assert filters.slug() == "decision-Upheld_q-norco-urine-drug"


@pytest.mark.parametrize("text", ["urine drug screen", "norco", "chapter", "official disability"])
def test_ranked_rows_are_their_items_with_snippets_of_their_own_texts(
    con, oracle, index, text
) -> None:
    # The index stores no text: each row's details and its snippet come from the warehouse,
    # matched to the hit by letter and item.
    ranked = search.ranked(con, Filters.build(search=text), 50)
    compiled = index.compile(text)
    assert list(ranked.select("letter_id", "item_no").iter_rows()) == [
        (h.letter_id, h.item_no) for h in index.top(compiled, 50)
    ]
    assert ranked.height > 0
    for row in ranked.iter_rows(named=True):
        item = oracle.execute(
            "select f.case_number, f.decision_date, f.request, f.decision, f.category,"
            " f.drug_class, f.drugs, d.rationale,"
            " concat_ws(chr(10), d.claims_admin_guideline, d.maximus_guideline)"
            " from item_facts f join decisions d using (letter_id, item_no)"
            " where letter_id = ? and item_no = ?",
            [row["letter_id"], row["item_no"]],
        ).fetchone()
        shown = (row["case_number"], row["decision_date"], row["request"], row["decision"])
        assert shown + (row["category"], row["drug_class"], row["drugs"]) == item[:7]
        texts = {"request": item[2], "rationale": item[7], "guidelines": item[8]}
        if row["snippet"] is not None:
            assert row["snippet"] in texts[row["snippet_field"]]
            assert row["snippet_spans"]


def test_snippets_come_from_every_text_field(con) -> None:
    fields = set()
    for text in ("urine drug screen", "norco", "chapter", "official disability", "mri"):
        ranked = search.ranked(con, Filters.build(search=text), 50)
        fields |= set(ranked.get_column("snippet_field").drop_nulls())
    assert fields == {"request", "rationale", "guidelines"}
