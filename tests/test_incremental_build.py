"""A build updates the derived tables with what it added or replaced; the result must equal a
whole build of the same letters (etl/warehouse/derived.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from etl.demo import write_corpus
from etl.ingest import ingest
from etl.load import ROW_GROUP_MERGES
from etl.settings import Settings
from etl.warehouse import derived
from etl.warehouse.files import resolve
from tests.conftest import (
    ROOT,
    UNORDERED_FACTS,
    assert_bits_hold_their_lists,
    assert_fresh_flags_hold,
)

SEED = ROOT / "data" / "samples" / "seeds" / "000_8688a23c91e089a1.txt"

# Every column but the ones that depend on the order of loading (checked apart).
FACTS = f"{UNORDERED_FACTS} order by letter_id, item_no"
COVERAGE = "select * from parse_coverage order by all"
UNRESOLVED = "select * from unresolved_counts order by all"
FACETS = "select * from facet_counts order by all"
PAIRS = "select * from facet_pairs order by all"
REASON_PAIRS = "select * from reason_pairs order by all"


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two batches of synthetic letters: the first two thirds and the rest."""
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root / "all", letters=240, seed=11, pdf_share=0.0)
    files = sorted((root / "all" / "letters").rglob("*.txt"))
    first, second = root / "first", root / "second"
    for index, path in enumerate(files):
        target = (first if index < 160 else second) / path.name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, target)
    # Names the vocabulary does not know, one letter per batch: unresolved counts to add up.
    seed = SEED.read_text(encoding="utf-8")
    for folder, drug in ((first, "Zorblatex"), (second, "Quendorin")):
        letter = seed.replace("Ativan", drug).replace("Family Practice", f"{drug} Medicine")
        (folder / f"unknown-{drug}.txt").write_text(letter, encoding="utf-8")
    return first, second


def settings(folder: Path) -> Settings:
    return Settings(db=folder / "current.duckdb", jobs=0)


def tables(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(resolve(db)), read_only=True)
    try:
        keys = con.execute(
            "select count(distinct letter_id) = count(distinct letter_key),"
            " count(*) = count(distinct (letter_key, item_no)) from item_facts"
        ).fetchone()
        assert keys == (True, True), "letter_key is not one number per letter"
        assert_bits_hold_their_lists(con)
        assert_fresh_flags_hold(con)
        return {
            name: con.execute(query).fetchall()
            for name, query in (
                ("facts", FACTS),
                ("coverage", COVERAGE),
                ("unresolved", UNRESOLVED),
                ("facets", FACETS),
                ("pairs", PAIRS),
                ("reason pairs", REASON_PAIRS),
            )
        }
    finally:
        con.close()


@pytest.fixture
def modes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How each build from here on built the derived tables: incremental or whole."""
    seen: list[str] = []
    original = derived.DerivedTables.build

    def spy(self: derived.DerivedTables) -> dict[str, str]:
        entries = original(self)
        seen.append(self.mode)
        return entries

    monkeypatch.setattr(derived.DerivedTables, "build", spy)
    return seen


def spy_on_long_form(monkeypatch: pytest.MonkeyPatch, allowed: bool) -> set[bool]:
    """Allow the long form of facet_pairs (derived.long_pair_sql) or not; the set returned
    collects which way each of its counts went."""
    if not allowed:
        monkeypatch.setattr(derived, "LONG_FORM_ITEMS", 0)
    used: set[bool] = set()
    original = derived.pair_sql

    def spy(
        facts: str, long_form: bool = False, one_query: bool = False, hashed: bool = False
    ) -> list[str]:
        used.add(long_form)
        return original(facts, long_form, one_query, hashed)

    monkeypatch.setattr(derived, "pair_sql", spy)
    return used


def spy_on_value_keys(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each check of the values' keys (derived.make_value_keys) found."""
    found: list[bool] = []
    original = derived.make_value_keys

    def spy(con: duckdb.DuckDBPyConnection, facts: str) -> bool:
        found.append(original(con, facts))
        return found[-1]

    monkeypatch.setattr(derived, "make_value_keys", spy)
    return found


def meta_value(db: Path, key: str) -> str | None:
    """The published version's ``meta`` value under ``key`` (None when it has none)."""
    con = duckdb.connect(str(resolve(db)), read_only=True)
    try:
        row = con.execute("select value from meta where key = ?", [key]).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def digest_of(db: Path) -> str:
    return meta_value(db, derived.DIGEST) or ""


def rebuild_whole(db: Path, threads: int | None = None) -> None:
    """Build the derived tables of the published version whole, from its base tables (the
    version file is ours: no reader has it open), on ``threads`` of DuckDB if given."""
    con = duckdb.connect(str(resolve(db)))
    try:
        if threads:
            con.execute(f"set threads = {threads}")
        con.execute("delete from meta where key = ?", [derived.DIGEST])
        tables = derived.DerivedTables(con, "384MB")
        tables.snapshot(replaced=[])
        for key, value in tables.build().items():
            con.execute("insert or replace into meta values (?, ?)", [key, value])
        assert tables.mode == "whole"
    finally:
        con.close()


def whole_of(first: Path, second: Path, tmp_path: Path) -> Path:
    """A warehouse of both batches, its derived tables built whole."""
    whole = settings(tmp_path / "whole")
    ingest([first, second], whole)
    rebuild_whole(whole.db)
    return whole.db


# A third of the letters, by their ids.
STALE = "letter_id in (select letter_id from letters where hash(letter_id) % 3 = 0)"


def make_stale(db: Path) -> None:
    """Make a third of the letters (and their files) look parsed by an older parser: the next
    ingest replaces them. The version file is ours: no reader has it open."""
    con = duckdb.connect(str(resolve(db)))
    try:
        con.execute(f"update letters set parser_version = '0' where {STALE}")
        con.execute(f"update sources set parser_version = '0' where {STALE}")
    finally:
        con.close()


def test_passes_side_by_side_count_what_one_at_a_time_counts(
    batches: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over facts of one row group the whole build runs the pair marts' passes side by side on
    cursors (derived.DerivedTables._insert_passes); over larger facts one at a time. Both give
    the same marts."""
    spy_on_long_form(monkeypatch, allowed=False)  # the passes, not the long form
    pools: list[int] = []

    class Pool(derived.ThreadPoolExecutor):
        def __init__(self, workers: int) -> None:
            pools.append(workers)
            super().__init__(workers)

    monkeypatch.setattr(derived, "ThreadPoolExecutor", Pool)
    found = {}
    for name, row_group in (("side by side", derived.ROW_GROUP_ROWS), ("one at a time", 0)):
        monkeypatch.setattr(derived, "ROW_GROUP_ROWS", row_group)
        db = settings(tmp_path / name).db
        ingest(list(batches), settings(tmp_path / name))
        pools.clear()
        rebuild_whole(db, threads=2)
        found[name] = tables(db)
        # (a pool of one thread appends each bucket's facts to item_facts)
        passes = [workers for workers in pools if workers > 1]
        assert passes == ([2] if name == "side by side" else []), pools
    assert found["side by side"]["pairs"]
    assert found["side by side"] == found["one at a time"]


@pytest.mark.parametrize("long_form", [True, False], ids=["long form", "grouping-sets passes"])
def test_two_batches_give_what_a_whole_build_gives(
    batches: tuple[Path, Path],
    tmp_path: Path,
    modes: list[str],
    monkeypatch: pytest.MonkeyPatch,
    long_form: bool,
) -> None:
    # A few hundred items: facet_pairs from the long form unless it is switched off, in the
    # batches' builds and the whole one alike.
    used = spy_on_long_form(monkeypatch, allowed=long_form)
    first, second = batches
    stepwise = settings(tmp_path / "stepwise")
    ingest([first], stepwise)
    ingest([second], stepwise)
    # An empty warehouse's tables are updated too, from nothing.
    assert modes == ["incremental", "incremental"]
    expected, got = tables(whole_of(first, second, tmp_path)), tables(stepwise.db)
    assert len(got["facts"]) > 200 and got["coverage"] and got["unresolved"]
    assert {row[0] for row in got["facets"]} >= {"category", "drug", "reason", "decision"}
    assert {(row[0], row[2]) for row in got["pairs"]} >= {("drug_class", "drug"), ("drug", "state")}
    assert got == expected
    assert used == {long_form}
    # A rerun adds nothing: the update is empty and changes nothing.
    ingest([first, second], stepwise)
    assert modes[-1] == "incremental"
    assert tables(stepwise.db) == expected


def test_replaced_letters_leave_no_trace(
    batches: tuple[Path, Path], tmp_path: Path, modes: list[str]
) -> None:
    """Letters an older parser read are read again and replaced: their old facts and counts go."""
    first, second = batches
    stepwise = settings(tmp_path / "stepwise")
    ingest([first, second], stepwise)
    # Make a third of the letters look parsed by an older parser, with other facts than the
    # parser gives now (the version file is ours: no reader has it open).
    con = duckdb.connect(str(resolve(stepwise.db)))
    con.execute(f"update letters set parser_version = '0', layout = 'Z' where {STALE}")
    con.execute(f"update sources set parser_version = '0' where {STALE}")
    con.execute(f"update decisions set category = 'Other' where {STALE}")
    con.execute(
        f"insert into unresolved select letter_id, 1, 'drug', 'Oldname' from letters where {STALE}"
    )
    # ... and the derived tables built from those rows, as the older build would have.
    con.close()
    rebuild_whole(stepwise.db)
    reference = tables(whole_of(first, second, tmp_path))
    assert tables(stepwise.db)["facts"] != reference["facts"]  # the older parser's facts
    summary = ingest([first, second], stepwise)
    assert modes[-1] == "incremental" and summary.letters > 50
    assert tables(stepwise.db) == reference


def test_only_a_build_that_deletes_rows_merges_row_groups(
    batches: tuple[Path, Path], tmp_path: Path
) -> None:
    """Adding letters leaves partly filled row groups as written; replacing letters deletes
    rows, and the build lets DuckDB merge row groups so that they leave the file."""
    first, second = batches
    stepwise = settings(tmp_path / "stepwise")
    ingest([first], stepwise)
    assert meta_value(stepwise.db, ROW_GROUP_MERGES) == "off"
    ingest([second], stepwise)
    assert meta_value(stepwise.db, ROW_GROUP_MERGES) == "off"
    make_stale(stepwise.db)
    ingest([first, second], stepwise)
    assert meta_value(stepwise.db, ROW_GROUP_MERGES) == "on"
    ingest([second], stepwise)  # nothing new: nothing deleted
    assert meta_value(stepwise.db, ROW_GROUP_MERGES) == "off"


def test_only_a_build_whose_rows_stay_put_checkpoints_beside_its_index(
    batches: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpoint that makes room for the index writer runs beside the index's build only
    when it renumbers no row (etl.load.room_for_the_index_writer): not in a build that deleted
    rows, whose checkpoints merge row groups."""
    from etl import load

    beside: list[int] = []
    real = load._checkpoint

    def counted(cursor: duckdb.DuckDBPyConnection) -> None:
        beside.append(1)
        real(cursor)

    monkeypatch.setattr(load, "_checkpoint", counted)
    first, second = batches
    stepwise = settings(tmp_path / "stepwise")
    seen = []
    for step in ("first", "stale", "again"):
        if step == "stale":
            make_stale(stepwise.db)
        beside.clear()
        ingest([first, second], stepwise)
        seen.append((meta_value(stepwise.db, ROW_GROUP_MERGES), len(beside)))
    assert seen == [("off", 1), ("on", 0), ("off", 1)]


@pytest.mark.parametrize("merges", ["on", "off"])
def test_duckdb_leaves_partly_filled_row_groups_as_written_when_told_to(
    tmp_path: Path, merges: str
) -> None:
    """What ``row_group_merges`` stands on: each bulk append leaves a partly filled row group,
    which a checkpoint merges with its neighbours unless ``max_vacuum_tasks`` is 0."""
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    if merges == "off":
        con.execute("set max_vacuum_tasks = 0")
    con.execute("create table t (n integer)")
    for _ in range(2):
        con.execute("insert into t from range(140000)")  # more than a row group (122,880)
        con.execute("checkpoint")
    sizes = [
        n
        for (n,) in con.execute(
            "select sum(count)::integer from pragma_storage_info('t')"
            " where column_path = '[0]' group by row_group_id order by row_group_id"
        ).fetchall()
    ]
    con.close()
    full, rest = 122_880, 140_000 - 122_880
    if merges == "off":
        assert sizes == [full, rest, full, rest]
    else:
        assert sizes == [full, full, 2 * rest]


def test_a_changed_definition_rebuilds_whole(
    batches: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modes: list[str]
) -> None:
    first, second = batches
    stepwise = settings(tmp_path / "stepwise")
    ingest([first], stepwise)
    before = digest_of(stepwise.db)
    monkeypatch.setattr(derived, "digest", lambda con: "another definition")
    ingest([second], stepwise)
    assert modes == ["incremental", "whole"]
    assert before != digest_of(stepwise.db) == "another definition"
    assert tables(stepwise.db) == tables(whole_of(first, second, tmp_path))


def test_groups_per_letter_are_keyed_by_hashes_only_where_they_tell_values_apart(
    batches: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole build's pair passes group per letter by the values' hashes (derived.VALUE_KEY)
    when no two values share one, else by the values: the marts are the same either way. Keys
    that two values share (their lengths, here) are found out and not used."""
    spy_on_long_form(monkeypatch, allowed=False)  # the passes, not the long form
    checked = spy_on_value_keys(monkeypatch)
    found = {}
    for name, key in (("hashes", derived.VALUE_KEY), ("shared keys", "length({}::varchar)")):
        monkeypatch.setattr(derived, "VALUE_KEY", key)
        ingest(list(batches), settings(tmp_path / name))
        found[name] = tables(settings(tmp_path / name).db)
    assert checked == [True, False]
    assert found["hashes"]["pairs"]
    assert found["hashes"] == found["shared keys"]


@pytest.mark.parametrize("kind", ["pairs", "selections"])
def test_a_hashed_pass_fails_on_a_value_it_has_no_key_for(
    batches: tuple[Path, Path], tmp_path: Path, kind: str
) -> None:
    """The hashed passes' values come from derived.VALUE_KEYS: a key missing there (a table
    made over other facts) fails the pass rather than count its value as no value; the
    pairs' passes and the passes of two filters selected together alike."""
    ingest(list(batches), settings(tmp_path / "wh"))
    con = duckdb.connect()
    try:
        con.execute(f"attach '{resolve(settings(tmp_path / 'wh').db)}' as wh (read_only)")
        con.execute("use wh")
        assert derived.make_value_keys(con, "item_facts")
        if kind == "pairs":
            passes = derived.pair_sql("item_facts", hashed=True)
        else:
            passes = derived.selection_pair_sql("item_facts", hashed=True)
        assert sum(len(con.execute(sql).fetchall()) for sql in passes) > 100
        category = con.execute("select min(category) from item_facts").fetchone()[0]
        con.execute(f"delete from {derived.VALUE_KEYS} where value = ?", [category])
        with pytest.raises(duckdb.Error, match="a value without its key"):
            for sql in passes:
                con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("corpus", ["synthetic and samples", "real letters"])
def test_two_filters_together_count_the_same_keyed_or_not(
    batches: tuple[Path, Path], tmp_path: Path, corpus: str
) -> None:
    """The passes of two filters selected together (derived.selection_pair_sql) give the same
    rows grouped by the values or by their keys (a whole build's way), on the same items."""
    from tests.conftest import require_shared

    folders = [*batches, ROOT / "data" / "samples"]
    if corpus == "real letters":
        folders = [require_shared() / "pdftotext"]
    ingest(folders, settings(tmp_path / "wh"))
    con = duckdb.connect()
    try:
        con.execute(f"attach '{resolve(settings(tmp_path / 'wh').db)}' as wh (read_only)")
        con.execute("use wh")
        assert derived.make_value_keys(con, "item_facts")
        ways = [
            sorted(
                (
                    row
                    for sql in derived.selection_pair_sql("item_facts", hashed)
                    for row in con.execute(sql).fetchall()
                ),
                key=repr,
            )
            for hashed in (False, True)
        ]
        assert len(ways[0]) > 100
        # every kind of pass: a letter's own scalar field, a letter's list, an item's field
        assert {"decision_year", "specialty", "category"} <= {row[2] for row in ways[0]}
        assert ways[0] == ways[1]
    finally:
        con.close()


@pytest.mark.parametrize("corpus", ["synthetic and samples", "real letters"])
def test_the_long_form_counts_what_the_passes_count(
    batches: tuple[Path, Path], tmp_path: Path, corpus: str
) -> None:
    """facet_pairs' two ways (derived.pair_sql): one join of each item's values, or the
    grouping-sets passes one by one or as one union, their groups per letter keyed by the
    values or by their hashes, give the same rows on the same items."""
    from tests.conftest import require_shared

    folders = [*batches, ROOT / "data" / "samples"]
    if corpus == "real letters":
        folders = [require_shared() / "pdftotext"]
    db = settings(tmp_path / "wh").db
    ingest(folders, settings(tmp_path / "wh"))
    # The warehouse read-only, the hashes' values in the build's in-memory database.
    con = duckdb.connect()
    try:
        con.execute(f"attach '{resolve(db)}' as wh (read_only)")
        con.execute("use wh")
        con.execute("create temp table scope_facts as from item_facts")
        assert con.execute("select count(*) from scope_facts").fetchone()[0] > 200
        assert derived.make_value_keys(con, "scope_facts")
        ways = {
            name: sorted(
                (
                    row
                    for sql in derived.pair_sql("scope_facts", long_form, one_query, hashed)
                    for row in con.execute(sql).fetchall()
                ),
                key=repr,
            )
            for name, long_form, one_query, hashed in (
                ("long form", True, False, False),
                ("passes", False, False, False),
                ("union of passes", False, True, False),
                ("hashed passes", False, False, True),
                ("union of hashed passes", False, True, True),
            )
        }
        # Every kind of pair is there: two scalars, a list and a scalar, two lists, a list
        # with itself, each with letters counted its own way.
        kinds = {(row[0], row[2]) for row in ways["passes"]}
        assert {("category", "decision_year"), ("drug", "category"), ("drug", "reason")} <= kinds
        assert {
            ("drug", "drug"),
            ("specialty", "specialty"),
            ("guideline_source", "state"),
        } <= kinds
        assert len({repr(rows) for rows in ways.values()}) == 1, [
            name for name, rows in ways.items() if rows != ways["long form"]
        ]
    finally:
        con.close()


@pytest.mark.parametrize("long_form", [True, False], ids=["long form", "hashed passes"])
@pytest.mark.parametrize("corpus", ["synthetic and samples", "real letters"])
def test_every_pair_counts_its_letters_of_each_outcome(
    batches: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    corpus: str,
    long_form: bool,
) -> None:
    """facet_pairs' letters, and those with an overturned item and with an upheld one, are
    each pair's distinct letters (counted here from item_facts by brute force), for every kind
    of pair: two letter fields, a letter field with an item's, two items' fields, a list with
    itself; from the long form, or from the passes (a whole build's: their groups per letter
    keyed by the values' hashes)."""
    from dashboard import dimensions
    from tests.conftest import require_shared

    used = spy_on_long_form(monkeypatch, allowed=long_form)
    checked = spy_on_value_keys(monkeypatch)
    folders = [*batches, ROOT / "data" / "samples"]
    if corpus == "real letters":
        folders = [require_shared() / "pdftotext"]
    db = settings(tmp_path / "wh").db
    ingest(folders, settings(tmp_path / "wh"))
    # (the values' keys are made either way: the selection passes group by them)
    assert used == {long_form} and checked == [True]

    def side(dim: dimensions.Dimension, name: str) -> tuple[str, str]:
        """Its values in a FROM clause over item_facts f (an empty list: one NULL)."""
        if dim.shape == "scalar":
            return "", f"f.{dim.column}::varchar"
        listed = f"case when len(f.{dim.column}) = 0 then [null::varchar] else f.{dim.column} end"
        return f" cross join unnest({listed}) as {name}({name})", name

    con = duckdb.connect(str(resolve(db)), read_only=True)
    try:
        pairs = con.execute(
            "select distinct dimension, other from facet_pairs where dimension in $names",
            {"names": list(dimensions.BY_NAME)},
        ).fetchall()
        assert len(pairs) > 100
        for name, other in pairs:
            a, b = dimensions.get(name), dimensions.get(other)
            a_from, a_value = side(a, "a_value")
            b_from, b_value = side(b, "b_value")
            want = con.execute(
                f"select {a_value}, {b_value}, count(distinct letter_key),"
                " count(distinct letter_key) filter (where overturned),"
                " count(distinct letter_key) filter (where not overturned)"
                f" from item_facts f{a_from}{b_from} where {a_value} is not null"
                " group by all order by all"
            ).fetchall()
            got = con.execute(
                "select value, other_value, letters, letters_overturned, letters_upheld"
                " from facet_pairs where dimension = ? and other = ? order by all",
                [name, other],
            ).fetchall()
            assert got == want, (name, other)
    finally:
        con.close()


@pytest.mark.parametrize("corpus", ["synthetic and samples", "real letters"])
def test_two_filters_together_count_what_their_items_hold(
    batches: tuple[Path, Path], tmp_path: Path, corpus: str
) -> None:
    """facet_pairs' rows of two filters selected together (derived.selection_pair_sql: the
    registry's SELECTION_PAIRS) are, for each value of one with each of the other and each
    value of every filter, the items holding all three, their overturned ones, their distinct
    letters (of each outcome too) and their agreement with the claims administrator, and
    reason_pairs' rows of them the upheld items giving each reason (reason NULL: all of
    them) per category and drug class, counted here by brute force; built in two batches
    (the second adding to the first's counts)."""
    from dashboard import dimensions
    from tests.conftest import require_shared

    folders = [*batches, ROOT / "data" / "samples"]
    if corpus == "real letters":
        folders = [require_shared() / "pdftotext"]
    db = settings(tmp_path / "wh").db
    ingest(folders[:1], settings(tmp_path / "wh"))
    ingest(folders, settings(tmp_path / "wh"))

    def side(dim: dimensions.Dimension, name: str, listed: bool) -> tuple[str, str]:
        """Its values in a FROM clause over item_facts f (an empty list: one NULL, if
        ``listed``: an other filter's no value is a row of its own)."""
        if dim.shape == "scalar":
            return "", f"f.{dim.column}::varchar"
        values = f"f.{dim.column}"
        if listed:
            values = f"case when len({values}) = 0 then [null::varchar] else {values} end"
        return f" cross join unnest({values}) as {name}({name})", name

    con = duckdb.connect(str(resolve(db)), read_only=True)

    def held(mart: str, counts: str, other: str, want: list[tuple[object, ...]]) -> int:
        """Checks the mart's rows of the pair (a, b) with ``other`` are ``want``; how many."""
        got = con.execute(
            f"select value, other_value, {counts} from {mart}"
            " where dimension = ? and other = ? order by all",
            [dimensions.pair_name(a, b), other],
        ).fetchall()
        assert got == want, (mart, a.name, b.name, other)
        return len(got)

    try:
        assert dimensions.SELECTION_PAIRS
        checked = 0
        for a, b in dimensions.SELECTION_PAIRS:
            a_from, a_value = side(a, "a_value", listed=False)
            b_from, b_value = side(b, "b_value", listed=False)
            for other in dimensions.FILTERS:
                o_from, o_value = side(other, "o_value", listed=True)
                same = (
                    f"list_contains(f.claims_admin_sources, {o_value})"
                    if other.column == derived.CONCORDANT
                    else "f.same_source_as_claims_admin"
                )
                want = con.execute(
                    f"select {a_value} || chr(31) || {b_value}, {o_value}, count(*),"
                    " count_if(f.overturned), count(distinct f.letter_key),"
                    " count_if(f.same_source_as_claims_admin is not null),"
                    f" count_if({same}),"
                    " count(distinct f.letter_key) filter (where f.overturned),"
                    " count(distinct f.letter_key) filter (where not f.overturned)"
                    f" from item_facts f{a_from}{b_from}{o_from}"
                    f" where {a_value} is not null and {b_value} is not null"
                    " group by all order by all"
                ).fetchall()
                measures = ", ".join(derived.PAIR_MEASURES)  # in the order counted above
                checked += held("facet_pairs", measures, other.name, want)
            for by in dimensions.REASONS_BY:  # the upheld items giving each reason, and all
                want = con.execute(
                    f"select {a_value} || chr(31) || {b_value}, f.{by.column}::varchar,"
                    " reason, count(*)"
                    f" from item_facts f{a_from}{b_from}"
                    " cross join unnest(list_append(f.reasons, null)) as r(reason)"
                    f" where not f.overturned and {a_value} is not null"
                    f" and {b_value} is not null and f.{by.column} is not null"
                    " group by all order by all"
                ).fetchall()
                checked += held("reason_pairs", "reason, upheld", by.name, want)
        assert checked > 100
    finally:
        con.close()


def test_the_digest_holds_what_gives_the_hashed_passes_their_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A whole build's hashed passes take their rows' values from derived.VALUE_KEYS: what
    makes that table is part of what defines facet_pairs (an edit of it rebuilds the marts)."""
    con = duckdb.connect()
    before = derived.digest(con)
    original = derived.value_keys_sql
    monkeypatch.setattr(
        derived, "value_keys_sql", lambda facts: original(facts).replace("v::varchar", "lower(v)")
    )
    assert "v::varchar" in original("item_facts")
    assert derived.digest(con) != before


def test_the_digest_reads_the_sql_not_its_comments_or_layout(monkeypatch) -> None:
    """The derived tables are rebuilt when what defines them changes: a token of their SQL, not
    a comment or a line break (every warehouse rebuilt its derived tables, minutes at 4M items,
    for an edited comment)."""
    con = duckdb.connect()
    original = derived.read_sql
    before = derived.digest(con)

    def edited(change) -> str:  # the digest with every SQL file changed by ``change``
        monkeypatch.setattr(derived, "read_sql", lambda name: change(original(name)))
        try:
            return derived.digest(con)
        finally:
            monkeypatch.setattr(derived, "read_sql", original)

    def recommented(sql: str) -> str:  # other comments, lines split and indented otherwise
        lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
        text = "".join(f"  {line}  -- a remark\n\n" for line in lines)  # (a file ends a line)
        return "/* a block comment */\n-- a new first line\n" + text.replace(" as ", "\n as ")

    assert edited(recommented) == before
    assert "item_facts.sql" in derived.SQL and " as decision_year" in original("item_facts.sql")
    for change in (
        lambda sql: sql.replace(" as decision_year", " as decision_yr"),  # a name
        lambda sql: sql.replace("'A: 2013 notice'", "'A: 2013 notices'"),  # a string
        lambda sql: sql.replace("< 18 then", "< 19 then"),  # a number
    ):
        assert edited(change) != before
