"""The index reads its documents a slice of letters at a time (`etl/search/build.Slices`): every
letter row id is in exactly one slice, in order, each slice as large as asked (cut short at the
end of the last block it reaches), with the item row ids of every block it touches."""

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest

from etl.search.build import Slice, Slices


def _blocks(spec: list[tuple[int, int]]) -> list[Slice]:
    # (first_letter, last_letter) per block; its items: ten row ids per letter row id.
    return [Slice(a, b, 10 * a + 5, 10 * b + 9) for a, b in spec]


def _take_all(slices: Slices, sizes: list[int]) -> list[Slice]:
    taken = []
    for size in sizes:
        piece = slices.take(size)
        if piece is None:
            break
        taken.append(piece)
    assert slices.take(1) is None
    return taken


def test_slices_of_contiguous_blocks() -> None:
    slices = Slices(_blocks([(0, 255), (256, 511), (512, 600)]))
    taken = _take_all(slices, [64, 300, 1000])
    assert [(s.first_letter, s.last_letter) for s in taken] == [(0, 63), (64, 363), (364, 600)]
    assert [(s.first_item, s.last_item) for s in taken] == [(5, 2559), (5, 5119), (2565, 6009)]


def test_a_slice_skips_the_gaps_between_blocks() -> None:
    # An update indexes only its changed letters: blocks far apart.
    slices = Slices(_blocks([(10, 20), (5000, 5100)]))
    taken = _take_all(slices, [4096, 4096])
    assert [(s.first_letter, s.last_letter) for s in taken] == [(10, 20), (5000, 5100)]
    assert (taken[0].first_item, taken[0].last_item) == (105, 209)
    assert (taken[1].first_item, taken[1].last_item) == (50005, 51009)


def test_no_blocks_no_slices() -> None:
    assert Slices([]).take(10) is None


@pytest.mark.parametrize("seed", range(20))
def test_every_letter_row_is_in_one_slice_with_its_items(seed: int) -> None:
    rng = random.Random(seed)
    spec, start = [], rng.randrange(0, 100)
    for _ in range(rng.randrange(1, 30)):
        length = rng.randrange(1, 300)
        spec.append((start, start + length - 1))
        start += length + rng.choice([0, 0, 1, 500])
    blocks = _blocks(spec)
    taken = _take_all(Slices(blocks), [rng.choice([1, 3, 64, 256, 4096]) for _ in range(10**5)])
    rows = [r for s in taken for r in range(s.first_letter, s.last_letter + 1)]
    assert rows == sorted(set(rows))  # in order, none twice
    for block in blocks:
        for row in range(block.first_letter, block.last_letter + 1):
            piece = next(s for s in taken if s.first_letter <= row <= s.last_letter)
            assert piece.first_item <= block.first_item and block.last_item <= piece.last_item


@pytest.mark.parametrize("name", ["documents.sql", "document_blocks.sql"])
def test_a_whole_build_never_reads_the_list_of_changed_letters(
    search_file: Path, name: str
) -> None:
    """A first build's changed_letters holds every letter, and a whole index build
    (``$all``) matched each slice's letters against it: at 4M items the documents' reads took
    34 s instead of 10. The list is read only when it is used; either way the same rows."""
    from etl.search.build import read_sql

    con = duckdb.connect(str(search_file), read_only=True)
    try:
        con.execute(read_sql("scratch.sql"))
        con.execute("insert into changed_letters select letter_id from letters")
        con.execute(
            "delete from changed_letters where letter_id in (select letter_id from letters limit 3)"
        )
        sql = read_sql(name)
        slice_ = {"first_letter": 0, "last_letter": 10**9, "first_item": 0, "last_item": 10**9}
        params = {"letters": 64} if name == "document_blocks.sql" else {"salt": 0, **slice_}
        plans = {}
        rows = {}
        for everything in (True, False):
            bound = {**params, "all": everything}
            plans[everything] = "\n".join(
                r[1] for r in con.execute("explain " + sql, bound).fetchall()
            )
            rows[everything] = con.execute(sql, bound).fetchall()
        assert "changed_letters" not in plans[True]
        assert "changed_letters" in plans[False]  # an update reads it
        if name == "documents.sql":
            letters = {row[1] for row in rows[True]}
            assert len(letters) == con.execute("select count(*) from letters").fetchall()[0][0]
            assert len({row[1] for row in rows[False]}) == len(letters) - 3
    finally:
        con.close()
