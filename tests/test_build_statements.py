"""benchmarks/build_statements.py: the build's DuckDB statements timed through the real ingest."""

from __future__ import annotations

from benchmarks.build_statements import StatementTimes, statement_key, timed_build


def test_statements_differing_in_literals_count_as_one() -> None:
    first = "insert into letters by name\n select * from read_parquet(['/a/chunk-1.parquet', '/b'])"
    second = "insert into letters by name select * from read_parquet(['/c/chunk-2.parquet'])"
    assert statement_key(first) == statement_key(second)
    assert statement_key(first) == "insert into letters by name select * from read_parquet([...])"
    assert statement_key("set memory_limit = '128MB'") == "set memory_limit = '?'"
    assert statement_key("select 1") != statement_key("select 2")
    # a batch's facts table (etl.warehouse.derived.FACTS_DB), numbered per batch
    assert statement_key("insert into item_facts from build_facts.batch_17") == (
        "insert into item_facts from build_facts.batch_?"
    )
    assert len(statement_key("select " + "x, " * 200 + "1")) == 150


def test_times_add_up_per_statement() -> None:
    times = StatementTimes()
    times.add("checkpoint", 1.0)
    times.add("select 'a'", 0.25)
    times.add(" checkpoint ", 2.0)
    assert times.top(5) == [
        {"statement": "checkpoint", "calls": 2, "seconds": 3.0},
        {"statement": "select '?'", "calls": 1, "seconds": 0.25},
    ]
    assert times.top(1) == [{"statement": "checkpoint", "calls": 2, "seconds": 3.0}]


def test_a_real_build_is_timed_statement_by_statement(tmp_path) -> None:
    import duckdb

    import etl.load
    from etl.demo import write_corpus

    write_corpus(tmp_path / "corpus", letters=12, seed=3, pdf_share=0.0)
    times, build = timed_build(tmp_path / "corpus", tmp_path / "wh" / "current.duckdb", jobs=0)
    assert build["letters"] == 12 and build["items"] >= 12
    assert {"parse", "search index", "lookup indexes"} <= set(build["phases"])
    statements = {row["statement"]: row for row in times.top(1000)}
    # appended on the appender's cursor (in its thread): timed too
    assert statements["insert into item_facts from build_facts.batch_?"]["calls"] >= 1
    loads = [s for s in statements if s.startswith("insert into decisions by name")]
    assert loads and all(times.seconds[s] > 0 for s in loads)
    assert etl.load.duckdb is duckdb  # the real module again once the build is done
