"""A batch of any size completes in bounded memory, and a late failure keeps the parsed work.

Regressions for the full-history break: `imr ingest` of 1.5 million letters failed at its final
commit (`failed to pin block … 366.1 MiB/366.2 MiB used`) under the build's DuckDB memory cap and
loaded nothing. Here the same failure is made small: a corpus several times larger than a tiny
memory cap allows to hold (the code before the fix fails on it), which must now load whole,
with the same derived tables as an unconstrained build.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pytest
import tantivy

from etl.demo import write_corpus
from etl.ingest import ingest
from etl.search import schema
from etl.settings import Settings
from tests.conftest import (
    ROOT,
    UNORDERED_FACTS,
    assert_bits_hold_their_lists,
    assert_fresh_flags_hold,
)
from tests.reliability.helpers import cli_env, ingest_command, query, seed_texts, variant
from tests.search.conftest import open_index

TINY = "40MB"  # DuckDB's own floor for these queries is about 32 MB


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "letters"
    write_corpus(out, letters=5000, seed=11, pdf_share=0.0)
    return out


def _derived(db: Path) -> dict[str, set[tuple[object, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        # Lists as tuples, so rows can be compared as sets.
        facts = [
            tuple(tuple(v) if isinstance(v, list) else v for v in row)
            for row in con.execute(UNORDERED_FACTS).fetchall()
        ]
        assert_bits_hold_their_lists(con)
        assert_fresh_flags_hold(con)
        keys = con.execute(
            "select count(distinct letter_key), min(letter_key), max(letter_key),"
            " count(distinct letter_id) from item_facts"
        ).fetchall()
        return {
            "item_facts": set(facts),
            "letter_key": set(keys),
            "parse_coverage": set(con.execute("select * from parse_coverage").fetchall()),
        }
    finally:
        con.close()


def test_a_large_batch_completes_under_a_tiny_memory_cap(corpus: Path, tmp_path: Path) -> None:
    tiny = Settings(db=tmp_path / "tiny" / "current.duckdb", jobs=2, build_memory=TINY)
    summary = ingest([corpus], tiny)
    assert (summary.letters, summary.rejected) == (5000, 0)
    assert summary.items > 13_000
    roomy = Settings(db=tmp_path / "roomy" / "current.duckdb", jobs=2, build_memory="1GB")
    ingest([corpus], roomy)
    # Built bucket by bucket under the cap, the derived tables equal the ones built in one go;
    # letter_key stays a dense, distinct number per letter.
    small, large = _derived(tiny.db), _derived(roomy.db)
    assert small == large
    assert small["letter_key"] == {(5000, 1, 5000, 5000)}
    assert query(tiny.db, "select count(*), count(distinct letter_id) from letters") == [
        (5000, 5000)
    ]


LONG_LETTERS = 150
PROSE = "The patient continues to report pain with reduced function despite therapy. "


def _long_letters(folder: Path, letters: int, chars: int) -> Path:
    """Seed-letter variants whose case summaries are padded with prose to ``chars`` and end
    with a word no other letter has."""
    folder.mkdir(parents=True)
    seeds = seed_texts()
    for n in range(letters):
        text = variant(seeds[n % len(seeds)], n)
        note = f"Reference note {n}. "
        padding = PROSE * (chars // len(PROSE)) + "Quokkafinale. "
        (folder / f"long-{n:03d}.txt").write_text(text.replace(note, note + padding, 1))
    return folder


def test_long_letters_in_bulk_are_indexed_under_the_default_cap(tmp_path: Path) -> None:
    # A scan of 2,048 case summaries at once must hold them all: the search index's one join
    # over the warehouse failed here under the default cap (its 256 MB while indexing), after
    # the letters had loaded (stop 21's known limit). Now read a slice of letters at a time.
    folder = _long_letters(tmp_path / "long", LONG_LETTERS, 1_900_000)
    default = Settings(db=tmp_path / "wh" / "current.duckdb", jobs=2)
    summary = ingest([folder], default)
    assert (summary.letters, summary.rejected) == (LONG_LETTERS, 0)
    # Every item is a document (the build checks the count), with its summary's last word.
    index = open_index(default.db.resolve())
    word = tantivy.Query.term_query(index.schema, schema.SUMMARY, "quokkafinale")
    assert index.searcher.search(word, 1, count=True).count == summary.items


def _limited(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:  # in the child: writes past the limit fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_failure_late_in_a_batch_keeps_the_parsed_work(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "wh" / "current.duckdb"
    # The disk fills up while the parsed letters are loaded into the new version: every file
    # was parsed and spooled (each spool chunk is far smaller than the limit), nothing published.
    failed = subprocess.run(
        ingest_command([corpus], db),
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limited(3 * 1024 * 1024),
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "could not write the warehouse" in failed.stderr
    assert not db.exists()
    spool = db.parent / ".current.duckdb.spool"
    assert len(list(spool.glob("chunk-*.json"))) >= 2
    # The rerun loads the spooled letters without parsing anything: here it is given no input
    # at all, and the letters are there.
    empty = tmp_path / "nothing-new"
    empty.mkdir()
    rerun = subprocess.run(
        ingest_command([empty], db), cwd=ROOT, env=cli_env(), capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert "5,000 letters resumed" in rerun.stdout, rerun.stdout
    assert query(db, "select count(*), count(distinct letter_id) from letters") == [(5000, 5000)]
    assert not spool.exists()  # consumed, then removed
    # And the original batch is now entirely unchanged.
    again = subprocess.run(
        ingest_command([corpus], db), cwd=ROOT, env=cli_env(), capture_output=True, text=True
    )
    assert " 0 letters loaded" in again.stdout and "5,000 unchanged" in again.stdout, again.stdout
    assert os.readlink(db) != ""


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_setting('memory_limit')").fetchall()[0][0]


def _shown(limit: str) -> str:  # a limit as DuckDB shows it
    con = duckdb.connect(config={"memory_limit": limit})
    try:
        return _limit(con)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("cap", "while_indexing"),
    [("384MB", "256MB"), ("1GB", "872MB"), ("128MB", "128MB"), ("40MB", "40MB")],
)
def test_the_index_writer_heap_comes_out_of_the_build_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cap: str, while_indexing: str
) -> None:
    # DuckDB's pool gives the index writer its 128 MB while the index is built, down to
    # 128 MB for DuckDB (its queries there need that); a smaller cap is left as it is.
    from etl.search import build as search_build

    seen: list[str] = []
    real_build = search_build.SearchBuild.build

    def build(self: search_build.SearchBuild, con: duckdb.DuckDBPyConnection, **kw: bool) -> dict:
        seen.append(_limit(con))
        return real_build(self, con, **kw)

    monkeypatch.setattr(search_build.SearchBuild, "build", build)
    folder = tmp_path / "in"
    write_corpus(folder, letters=5, seed=2, pdf_share=0.0)
    ingest([folder], Settings(db=tmp_path / "wh" / "current.duckdb", jobs=0, build_memory=cap))
    assert seen == [_shown(while_indexing)]


def _log_bytes(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select wal_size from pragma_database_size()").fetchall()[0][0]


def _holding(path: Path, batches: int) -> duckdb.DuckDBPyConnection:
    """A database whose rows, committed, are held in DuckDB's memory and its log until a
    checkpoint: small appends (a large one would be written to the file at once)."""
    con = duckdb.connect(str(path), config={"wal_autocheckpoint": "10GB", "memory_limit": "1GB"})
    con.execute("create table t (i bigint, s varchar)")
    for batch in range(batches):
        con.execute(
            "insert into t select range, repeat('letter ' || (range * ?)::varchar, 20)"
            " from range(20000)",
            [batch],
        )
    return con


@pytest.mark.parametrize(
    ("batches", "cap", "rows_move", "pool"),
    [(60, "160MB", False, "128MB"), (3, "384MB", True, "256MB")],
    ids=["holding-more-than-the-index-leaves", "rows-move"],
)
def test_a_build_checkpoints_before_the_index(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    batches: int,
    cap: str,
    rows_move: bool,
    pool: str,
) -> None:
    # Under a 160 MB cap DuckDB keeps 128 MB beside the index writer: holding more, it writes
    # its rows out before the index's build, so that its pages can go rather than spill. And a
    # build that deleted rows lets DuckDB's vacuum merge row groups at its checkpoints, which
    # renumbers rows: the index reads its documents by ranges of row ids taken before, so the
    # checkpoint comes first, however little DuckDB holds.
    from etl import load

    def beside(con: duckdb.DuckDBPyConnection) -> None:
        raise AssertionError("checkpointed beside the index")

    monkeypatch.setattr(load, "_checkpoint", beside)
    con = _holding(tmp_path / "w.duckdb", batches=batches)
    held = "select sum(memory_usage_bytes) from duckdb_memory()"
    assert (con.execute(held).fetchall()[0][0] > 128 * 2**20) is not rows_move
    with load.room_for_the_index_writer(con, cap, rows_move=rows_move):
        assert _log_bytes(con) == "0 bytes"
        assert _limit(con) == _shown(pool)
    assert con.execute("select count(*) from t").fetchall() == [(batches * 20_000,)]


def test_a_build_holding_little_checkpoints_beside_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Holding less than its smaller pool, DuckDB writes its rows out while the index is built
    # (the checkpoint's one thread beside the index's): here the checkpoint waits for the
    # index's build to begin, which sees the log emptied under it.
    from etl import load

    begun, threads = threading.Event(), []
    real = load._checkpoint

    def after_the_index_began(con: duckdb.DuckDBPyConnection) -> None:
        assert begun.wait(30)
        threads.append(threading.current_thread().name)
        real(con)

    monkeypatch.setattr(load, "_checkpoint", after_the_index_began)
    con = _holding(tmp_path / "w.duckdb", batches=3)
    assert _log_bytes(con) != "0 bytes"
    with load.room_for_the_index_writer(con, "384MB", rows_move=False):
        try:
            assert _limit(con) == _shown("256MB")
        finally:
            begun.set()
        deadline = time.monotonic() + 30
        while _log_bytes(con) != "0 bytes" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _log_bytes(con) == "0 bytes"
    assert [name.startswith("imr-checkpoint") for name in threads] == [True]
    assert con.execute("select count(*) from t").fetchall() == [(60_000,)]


def test_the_checkpoint_beside_waits_for_a_writer_to_finish(tmp_path: Path) -> None:
    # DuckDB refuses a checkpoint at once while another transaction holds its checkpoint lock
    # (here one that has updated rows and not committed; in CI, a reader of the database's
    # size): the checkpoint beside the index tries again until the writer is done.
    from etl import load

    con = _holding(tmp_path / "w.duckdb", batches=3)
    writer = con.cursor()
    writer.execute("begin transaction")
    writer.execute("update t set s = 'held' where i = 0")  # an update takes the lock
    refused = con.cursor()
    with pytest.raises(duckdb.TransactionException, match="other write transactions"):
        refused.execute("checkpoint")  # what DuckDB does without the retries
    refused.close()
    done = threading.Timer(0.3, lambda: writer.execute("commit"))
    start = time.monotonic()
    done.start()
    load._checkpoint(con.cursor())
    done.join()
    assert time.monotonic() - start >= 0.3  # it waited for the commit
    assert _log_bytes(con) == "0 bytes"
    assert con.execute("select count(*) from t where s = 'held'").fetchall() == [(3,)]


def test_the_checkpoint_beside_gives_up_with_duckdbs_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl import load

    monkeypatch.setattr(load, "CHECKPOINT_WAIT_S", 0.2)
    con = _holding(tmp_path / "w.duckdb", batches=1)
    writer = con.cursor()
    writer.execute("begin transaction")
    writer.execute("update t set s = 'held' where i = 0")
    start = time.monotonic()
    with pytest.raises(duckdb.TransactionException, match="other write transactions"):
        load._checkpoint(con.cursor())
    assert 0.2 <= time.monotonic() - start < 5
    writer.execute("rollback")
    assert _log_bytes(con) != "0 bytes"  # nothing was written out


def test_a_checkpoint_beside_the_index_that_fails_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from etl import load

    def fail(con: duckdb.DuckDBPyConnection) -> None:
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(load, "_checkpoint", fail)
    con = _holding(tmp_path / "w.duckdb", batches=1)
    with (
        pytest.raises(duckdb.IOException, match="disk full"),
        load.room_for_the_index_writer(con, "384MB", rows_move=False),
    ):
        pass
    # The index's build failing too: its error is raised, with the checkpoint's beside it.
    with (
        pytest.raises(ValueError, match="the index") as failed,
        load.room_for_the_index_writer(con, "384MB", rows_move=False),
    ):
        raise ValueError("the index")
    assert any("disk full" in note for note in failed.value.__notes__)


def test_the_index_is_built_without_the_derived_tables_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The derived tables gather their counts in temporary tables (a hundred MB at 4M items):
    # dropped before the index's queries run under the smaller cap, the changes kept for it.
    from etl.search import build as search_build

    seen: list[set[str]] = []
    real_build = search_build.SearchBuild.build

    def build(self: search_build.SearchBuild, con: duckdb.DuckDBPyConnection, **kw: bool) -> dict:
        temporary = "select table_name from duckdb_tables() where temporary"
        seen.append({name for (name,) in con.execute(temporary).fetchall()})
        return real_build(self, con, **kw)

    monkeypatch.setattr(search_build.SearchBuild, "build", build)
    db = tmp_path / "wh" / "current.duckdb"
    for seed in (2, 3):  # a first build, then an update of it
        folder = tmp_path / f"in{seed}"
        write_corpus(folder, letters=20, seed=seed, pdf_share=0.0)
        ingest([folder], Settings(db=db, jobs=0))
    assert seen == [{"changed_letters", "removed_letters"}] * 2


def test_load_transactions_hold_bounded_bytes_of_long_texts(tmp_path: Path) -> None:
    # Spool chunks load a group per transaction: at most LOAD_GROUP chunks, and no more bytes
    # of long texts than the bound given (a chunk larger than it alone); none left out. A chunk
    # an older run spooled (no count of its long texts) counts all its input bytes.
    from etl.load import LOAD_GROUP, _groups
    from etl.warehouse.spool import Chunk

    weights = [5, 30, 30, 50, 1, 1, 100, 2] + [1] * (LOAD_GROUP + 3)
    chunks = [
        Chunk(tmp_path, f"c{i:03}", "v", 1, [], 10**9, weight) for i, weight in enumerate(weights)
    ]
    chunks[1] = Chunk(tmp_path, "c001", "v", 1, [], 30)  # an older run's
    groups = _groups(chunks, 64)
    assert [c for group in groups for c in group] == chunks
    weighed = [sum(c.held_bytes for c in g) for g in groups]
    assert chunks[1].held_bytes == 30 and chunks[2].held_bytes == 30
    assert weighed[:5] == [35, 30, 52, 100, 2 + LOAD_GROUP - 1]
    assert all(len(g) <= LOAD_GROUP for g in groups)
    # Letters without long texts: only the chunk count bounds a transaction.
    short = [Chunk(tmp_path, f"s{i:03}", "v", 1, [], 10**9, 0) for i in range(2 * LOAD_GROUP)]
    assert [len(g) for g in _groups(short, 64)] == [LOAD_GROUP, LOAD_GROUP]


@pytest.mark.parametrize("beside", [False, True], ids=["in-turn", "beside"])
def test_a_checkpoint_comes_each_time_the_bound_of_long_strings_has_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: bool
) -> None:
    # DuckDB holds long strings until a checkpoint: one comes when the groups loaded since the
    # last hold the bound (``most_held``), the count starting again after it, and one after
    # the last group. Not resetting the count only added checkpoints, which no test noticed.
    from etl import load
    from etl.warehouse.spool import Chunk

    monkeypatch.setattr(load, "_load_chunks", lambda con, group: None)

    class Derived:  # the derived tables' side of the loads: when they were written out
        def __init__(self) -> None:
            self.added = 0
            self.checkpoints: list[int] = []

        def add(self, group: list[Chunk]) -> None:
            self.added += 1

        def appended(self) -> None:
            self.checkpoints.append(self.added)

    groups = [[Chunk(tmp_path, f"c{i}", "v", 1, [], 0, 40)] for i in range(7)]
    derived = Derived()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        load._load_groups(con, groups, derived, beside, tmp_path / "log", most_held=100)  # type: ignore[arg-type]
    assert derived.checkpoints == [3, 6, 7]


def test_a_chunk_weighs_its_long_strings_in_bytes() -> None:
    # Every string column of every table, in UTF-8 bytes, twice; short strings, NULLs and
    # other types weigh nothing.
    import pyarrow as pa

    from etl.load import long_string_bytes
    from etl.rows import LONG_STRING_BYTES

    at = LONG_STRING_BYTES
    frame = pa.table(
        {
            "summary": ["a" * at, "a" * (at + 1), None, "é" * (at // 2 + 1)],
            "guideline": ["b" * (3 * at), "", "short", None],
            "item_no": [1, 2, 3, 4],
            "drugs": [["c" * (2 * at)], [], None, ["d"]],
        }
    )
    assert long_string_bytes(frame) == 2 * ((at + 1) + (at + 2) + 3 * at)
    assert long_string_bytes(frame.slice(2, 1)) == 0


def test_a_letter_counts_its_long_guidelines_too() -> None:
    # A letter's long texts shape its spool chunk: a MAXIMUS guideline of 40,000 characters
    # counted nothing (only the summary, requests and rationales were counted).
    from etl.pipeline import Loaded, process
    from etl.rows import LONG_STRING_CHARS, letter_rows

    text = seed_texts()[0]
    pad = "The guidelines discuss this treatment in general terms for chronic pain. " * 550
    padded = text.replace("MAXIMUS guideline:", "MAXIMUS guideline: " + pad, 1)
    assert padded != text
    plain, long = (process("x.txt", t.encode()) for t in (text, padded))
    assert isinstance(plain, Loaded) and isinstance(long, Loaded)
    assert letter_rows(plain).long_chars < LONG_STRING_CHARS
    assert letter_rows(long).long_chars >= len(pad)


@pytest.mark.parametrize(("cap", "letters"), [("128MB", 600), ("256MB", 1300)])
def test_letters_with_strings_over_half_a_block_load_in_bounded_memory(
    tmp_path: Path, cap: str, letters: int
) -> None:
    # DuckDB holds long strings (here over half a block, 128 KiB) in memory until a
    # checkpoint writes them, across commits: case summaries of 200,000 characters, more of
    # them than the cap holds, failed to load ("failed to pin block of size 256.0 KiB"), in
    # transactions of 42 or 160 letters alike. Under 128 MB the base tables load, then the
    # derived tables take each group; under 256 MB the two run beside each other
    # (LOAD_BESIDE_MIB).
    folder = _long_letters(tmp_path / "long", letters, 200_000)
    settings = Settings(db=tmp_path / "wh" / "current.duckdb", jobs=2, build_memory=cap)
    summary = ingest([folder], settings)
    assert (summary.letters, summary.rejected) == (letters, 0)
    counted = "select count(*), min(length(case_summary)) > 200_000 from letters"
    assert query(settings.db, counted) == [(letters, True)]
