"""`imr ingest` end to end on real files, into real warehouses in tmp_path."""

from __future__ import annotations

import csv
import dataclasses
import zipfile
from pathlib import Path

import duckdb
import pytest

from etl.ingest import ingest
from etl.model import PARSER_VERSION
from etl.settings import Settings
from tests.conftest import ROOT, require_shared

SEEDS = ROOT / "data" / "samples" / "seeds"


def settings_for(tmp_path: Path, jobs: int = 1) -> Settings:
    return Settings(db=tmp_path / "wh" / "current.duckdb", jobs=jobs)


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_all_real_letters_load_and_match_the_index(tmp_path: Path) -> None:
    real = require_shared()
    settings = settings_for(tmp_path, jobs=2)
    summary = ingest([real], settings)
    index = list(csv.DictReader((real / "INDEX.tsv").open(), delimiter="\t"))
    # Three renderings of each letter: one letter each, the other two unchanged.
    assert summary.letters == len(index) == 130
    assert summary.rejected == 0
    assert summary.files == 3 * 130
    assert summary.unchanged == 2 * 130
    rows = query(
        settings.db,
        "select letter_id, count(*), string_agg(decision, ',' order by item_no)"
        " from decisions group by letter_id",
    )
    got = {case: (n, decisions) for case, n, decisions in rows}
    assert got == {r["case_number"]: (int(r["n_items"]), r["decisions"]) for r in index}
    header = query(
        settings.db,
        "select case_number, strftime(decision_date, '%m/%d/%Y'),"
        " strftime(injury_date, '%m/%d/%Y'), strftime(date_assigned, '%m/%d/%Y'),"
        " strftime(ur_denial_date, '%m/%d/%Y'),"
        " strftime(application_received, '%m/%d/%Y') from letters",
    )
    fields = (
        "case_number",
        "decision_date",
        "date_of_injury",
        "date_assigned",
        "ur_denial_date",
        "application_received",
    )
    assert sorted(header) == sorted(tuple(r[f] for f in fields) for r in index)


def test_rerun_changes_nothing(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first = ingest([SEEDS], settings)
    assert (first.letters, first.rejected) == (2, 0)
    before = query(settings.db, "select * from decisions order by all")
    second = ingest([SEEDS], settings)
    assert (second.letters, second.unchanged, second.rejected) == (0, 2, 0)
    assert query(settings.db, "select * from decisions order by all") == before
    assert query(settings.db, "select count(*) from letters") == [(2,)]


def test_same_letter_under_another_name_is_one_letter(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    seed = sorted(SEEDS.glob("*.txt"))[0]
    (folder / "a.txt").write_bytes(seed.read_bytes())
    (folder / "b.txt").write_bytes(seed.read_bytes())
    # Another rendering of the same letter: different bytes, same content.
    (folder / "c.txt").write_text(seed.read_text().replace("\n\n", "\n"))
    summary = ingest([folder], settings_for(tmp_path))
    assert (summary.files, summary.letters, summary.unchanged) == (3, 1, 2)
    assert query(settings_for(tmp_path).db, "select count(*) from letters") == [(1,)]


def test_the_same_bytes_long_after_the_first_are_not_parsed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In one process each file is recorded before the next is handed out: the copy is
    # recognised by the build's set of sources, not by the files in flight.
    import etl.ingest
    from etl.demo import write_corpus

    parsed: list[str] = []

    def counting(path: str, *args: object) -> object:
        parsed.append(path)
        return extract(path, *args)

    extract = etl.ingest.extract
    monkeypatch.setattr(etl.ingest, "extract", counting)
    folder = tmp_path / "in"
    write_corpus(folder / "b-many", letters=60, seed=3, pdf_share=0.0)
    seed = sorted(SEEDS.glob("*.txt"))[0]
    (folder / "a-first.txt").write_bytes(seed.read_bytes())
    (folder / "z-last.txt").write_bytes(seed.read_bytes())
    settings = settings_for(tmp_path, jobs=0)
    summary = ingest([folder], settings)
    assert (summary.letters, summary.unchanged, summary.rejected) == (61, 1, 0)
    assert len(parsed) == 61 and not any(p.endswith("z-last.txt") for p in parsed)


def test_new_parser_version_reparses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    ingest([SEEDS], settings)
    import etl.load
    import etl.rows

    # The build (what to re-parse) and the row shaping (what is stored) both see the new version.
    monkeypatch.setattr(etl.load, "PARSER_VERSION", PARSER_VERSION + "-next")
    monkeypatch.setattr(etl.rows, "PARSER_VERSION", PARSER_VERSION + "-next")
    summary = ingest([SEEDS], settings)
    assert summary.letters == 2
    assert query(settings.db, "select distinct parser_version from letters") == [
        (PARSER_VERSION + "-next",)
    ]
    assert query(settings.db, "select count(*) from letters") == [(2,)]
    assert query(settings.db, "select count(*) from sources") == [(2,)]


def test_bad_inputs_are_rejected_with_reasons_and_the_batch_finishes(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.pdf").write_bytes(b"\x00\x01binary junk" * 50)
    (folder / "junk.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (folder / "prose.txt").write_text("Dear friend, this is not an IMR letter at all.\n")
    seed = sorted(SEEDS.glob("*.txt"))[0].read_text()
    (folder / "no-items.txt").write_text(seed.split("IMR ISSUES, DECISIONS AND RATIONALES")[0])
    (folder / "good.txt").write_text(seed)
    (folder / "notes.md").write_text("ignored: not a letter file type")
    settings = settings_for(tmp_path)
    summary = ingest([folder], settings)
    assert summary.files == 6
    assert summary.letters + summary.rejected + summary.unchanged == summary.files
    reasons = dict(query(settings.db, "select source_path, reason from rejects"))
    assert reasons == {
        str(folder / "empty.txt"): "empty_file",
        str(folder / "junk.pdf"): "not_a_pdf",
        str(folder / "junk.txt"): "binary_file",
        str(folder / "prose.txt"): "not_a_letter",
        str(folder / "no-items.txt"): "missing_section",
    }
    assert summary.ignored == 1
    # Rejected files are remembered: a rerun neither reparses them nor duplicates their rows.
    again = ingest([folder], settings)
    assert again.unchanged == 6
    assert query(settings.db, "select count(*) from rejects") == [(5,)]


def test_zip_archives_are_read_in_memory_and_unsafe_members_refused(tmp_path: Path) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0].read_bytes()
    archive = tmp_path / "letters.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("letters/one.txt", seed)
        z.writestr("../escape.txt", seed)
        z.writestr("/abs.txt", seed)
        z.writestr("README.md", "not a letter")
    settings = settings_for(tmp_path)
    summary = ingest([archive], settings)
    assert (summary.letters, summary.rejected) == (1, 2)
    assert sorted(query(settings.db, "select reason from rejects")) == [
        ("unsafe_zip_path",),
        ("unsafe_zip_path",),
    ]
    assert not (tmp_path.parent / "escape.txt").exists()


def test_large_files_are_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    settings = dataclasses.replace(settings_for(tmp_path), max_file_bytes=1024)
    summary = ingest([big], settings)
    assert summary.rejected == 1
    assert query(settings.db, "select reason from rejects") == [("too_large",)]


def test_warehouse_is_a_symlink_to_a_complete_version(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    ingest([SEEDS], settings)
    first = settings.db.resolve()
    assert settings.db.is_symlink()
    ingest([SEEDS], settings)
    second = settings.db.resolve()
    assert first != second
    # The version readers saw until the publish stays until the next build starts, for a
    # reader that resolved the link just before the swap; older ones are removed.
    versions = sorted(p.name for p in settings.db.parent.glob("current.*.duckdb"))
    assert versions == sorted([first.name, second.name])
    ingest([SEEDS], settings)
    third = settings.db.resolve()
    versions = sorted(p.name for p in settings.db.parent.glob("current.*.duckdb"))
    assert versions == sorted([second.name, third.name])


def test_a_letter_whose_rows_do_not_fit_the_warehouse_is_a_reject_not_a_lost_batch() -> None:
    """Workers turn a batch's rows into Arrow (etl.rows.pack): one letter whose rows do not fit
    the contract's types becomes an internal_error reject; its batch's other letters load."""
    from etl.pipeline import Loaded, Rejected, process
    from etl.rows import LetterRows, letter_rows, pack
    from etl.warehouse import contract

    def parsed() -> list[tuple[int, LetterRows | Rejected]]:
        results: list[tuple[int, LetterRows | Rejected]] = []
        for seq, path in enumerate(sorted((ROOT / "data" / "samples").rglob("*.txt"))[:4]):
            outcome = process(str(path), path.read_bytes())
            assert isinstance(outcome, Loaded)
            results.append((seq, letter_rows(outcome)))
        return results

    results = parsed()
    whole = [r for _, r in pack(results)]
    # Packing leaves its input whole: a worker that cannot send a packed batch packs its
    # letters again one by one (etl.workers._answer), from the same results.
    again = [r for _, r in pack(results)]
    assert isinstance(again[0], LetterRows) and again[0].batch is not None
    assert isinstance(whole[0], LetterRows) and whole[0].batch is not None
    for name in ("letters", "decisions", "citations"):
        assert again[0].batch.tables[name].equals(whole[0].batch.tables[name])
    assert all(isinstance(r, LetterRows) and r.batch is whole[0].batch for r in whole)
    assert isinstance(whole[0], LetterRows) and whole[0].batch is not None
    assert whole[0].batch.letters == 4
    assert whole[0].batch.tables["letters"].column("letter_id").to_pylist() == [
        r.letter_id for r in whole if isinstance(r, LetterRows)
    ]

    results = parsed()
    broken = results[2][1]
    assert isinstance(broken, LetterRows)
    row = list(broken.decisions[0])
    row[contract.table("decisions").names.index("item_no")] = 2**40  # beyond its integer type
    broken.decisions[0] = tuple(row)
    packed = dict(pack(results))
    assert isinstance(packed[2], Rejected) and packed[2].reason == "internal_error"
    assert "do not fit" in packed[2].detail
    kept = [r for r in packed.values() if isinstance(r, LetterRows)]
    assert len(kept) == 3
    for rows in kept:  # packed again one by one: each its own batch
        assert rows.batch is not None and rows.decisions == []
        found = rows.batch.rows_of("letters", [rows.seq]).column("letter_id").to_pylist()
        assert found == [rows.letter_id]


def test_parsing_in_this_process_packs_rows_in_batches_as_workers_do(tmp_path: Path) -> None:
    """``--jobs 0`` packed each letter alone (a batch of one letter's rows, appended one at a
    time by the writer): its results now come in batches of at most ``BATCH`` letters, in input
    order, each letter's rows in its batch."""
    from etl.demo import write_corpus
    from etl.ingest import _run, _weight
    from etl.pipeline import Rejected
    from etl.rows import LetterRows
    from etl.workers import BATCH

    folder = tmp_path / "in"
    write_corpus(folder, letters=BATCH + 8, seed=5, pdf_share=0.0)
    files = sorted(folder.rglob("*.txt"))
    tasks = [("parse", str(p), p.read_bytes(), True, "") for p in files]
    tasks.insert(3, ("refused", "x.bin", b"", False, "binary_file:not text"))
    results = list(_run(tasks, Settings(db=tmp_path / "wh.duckdb", jobs=0)))
    assert isinstance(results[3], Rejected) and results[3].path == "x.bin"
    letters = [r for r in results if isinstance(r, LetterRows)]
    assert [r.path for r in letters] == [str(p) for p in files]
    batches = {id(r.batch): r.batch for r in letters if r.batch is not None}
    # The first batch's results: the refused file and BATCH - 1 letters.
    assert [b.letters for b in batches.values()] == [BATCH - 1, 9]
    for rows in letters:
        assert rows.batch is not None and rows.decisions == []
        found = rows.batch.rows_of("letters", [rows.seq]).column("source_path").to_pylist()
        assert found == [rows.path]
    assert _weight(letters[0]) == 4 * letters[0].chars > 0 and _weight(results[3]) == 0
