"""Load parsed letters into a new version of the DuckDB warehouse and publish it.

Readers open ``current.duckdb`` read-only; it is a symlink to a version file. A build:

1. takes the warehouse lock, copies the published version to a new version file;
2. spools what the workers parse as Parquet chunks beside the warehouse (``etl.warehouse.spool``):
   a run that dies keeps its parsed work, and the next run loads it without re-parsing;
3. loads the chunks into the new version, a few chunks per transaction (bounded memory), on a
   cursor in a thread of its own ...
4. ... while the derived tables take the letters of each load from the chunks' files (or are
   rebuilt bucket by bucket: bounded memory, whatever the size): ``etl.warehouse.derived``;
5. checkpoints, fsyncs and atomically repoints the symlink; then removes what is superseded.

A crash or a full disk at any moment leaves the symlink on the old, complete file.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import gc
import json
import shutil
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from etl.model import PARSER_VERSION
from etl.pipeline import Rejected
from etl.rows import (
    APPENDED,
    LETTER_TABLES,
    LONG_STRING_BYTES,
    SEQ,
    LetterRows,
    Row,
    RowBatch,
    arrow_table,
)
from etl.search import store as search_store
from etl.search.build import SLICE_BYTES, WRITER_HEAP, SearchBuild
from etl.warehouse import WarehouseError, contract, files
from etl.warehouse.derived import DerivedTables, mib
from etl.warehouse.migrations import migrate
from etl.warehouse.spool import Chunk, Spool

FLUSH_EVERY = 2000  # letters per spool chunk: bounded memory in the writer ...
FLUSH_BYTES = 32 * 1024 * 1024  # ... however large the letters (bytes of their input files)
LOAD_GROUP = 25  # spool chunks per load transaction: commits in bounded steps ...
# ... and in bounded bytes of long strings: DuckDB keeps strings over about 29 KB (under a
# 40-64 MB cap; larger under larger caps) in memory until a checkpoint writes them, committed
# or not. Under the 384 MB cap, 400 letters of 1 MiB or 2,000 of 200 KiB failed to load in
# transactions of 32 MiB; under 128 MB, 600 letters of 200 KiB failed on the twelfth
# transaction of 42, and loaded with a checkpoint after each (docs/benchmarks.md, stop 44).
# A chunk's long strings (over LONG_STRING_BYTES, twice: a copy in the facts, a block's
# slack) are measured as it is spooled: at most LOAD_BYTES of them a transaction, and half
# the build's cap between checkpoints (``_load_groups``). Other letters count only against
# LOAD_GROUP (at 4M items, groups of 25 chunks took the load ~50 s, a quarter, less).
LOAD_BYTES = 32 * 1024 * 1024
# meta key: the last spool chunk a published version holds.
LOADED_THROUGH = "spool_loaded_through"
ROW_GROUP_MERGES = "row_group_merges"  # meta: "on" or "off" (``_merge_row_groups``)
# Under a build cap of at least this many MiB the base tables load beside the derived tables'
# update (``_load_groups``); under less, one after the other (the update's batches are sized
# for the whole cap).
LOAD_BESIDE_MIB = 256
# The log's size at which DuckDB checkpoints (the build's ``wal_autocheckpoint``), and at which
# a load beside the derived tables pauses for one (``_load_groups``).
LOG_CHECKPOINT_BYTES = 2**30


def _release_memory() -> None:
    """Hand the heap freed so far back to the system: glibc keeps freed memory for reuse, so a
    process that let go of hundreds of MB still showed them resident through the load and
    the search index (no-op where the C library has no malloc_trim)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


# A build memory cap (MiB) below which the build runs DuckDB on one thread.
SMALL_CAP_MIB = 128
# A lookup index on at least this many rows is written out before the next is made (a small
# one's checkpoint only costs every test's ingest its fsyncs).
WRITE_OUT_INDEX_ROWS = 100_000
INDEX_WRITER_MIB = WRITER_HEAP // (1024 * 1024)


class WarehouseBusy(WarehouseError):
    """Another ingest holds the warehouse's lock."""


class WarehouseBuild:
    """A new version of the warehouse, published only by ``publish()``.

    Use as a context manager: leaving it without publishing (an exception, a signal) deletes
    the unfinished version file and leaves ``current`` untouched; spooled chunks are kept.
    """

    def __init__(self, link: Path, memory_limit: str = "384MB") -> None:
        self.link = link
        self.folder = link.parent
        # DuckDB's buffer pool: it spills beyond this, so the writer's memory stays flat.
        self.memory_limit = memory_limit
        self.new_path = self.folder / files.new_version_name(link)
        self.spool = Spool(self.folder / f".{link.name}.spool", PARSER_VERSION)
        self._lock_file: Any = None
        self.con: duckdb.DuckDBPyConnection | None = None
        self.published = False
        self._now = dt.datetime.now()
        self._buffers: dict[str, list[Row]] = defaultdict(list)  # sources, rejects
        self._letters: list[LetterRows] = []  # letters added since the last flush (packed)
        self._buffered_letters = 0
        self._replace_ids: list[str] = []
        self._replace_shas: list[str] = []
        self._refused_paths: list[str] = []
        self._chunks: list[Chunk] = []
        self._dwc_index_written = False  # its rows replace a case's rows: a build that deletes
        # Chunks are written in a thread of their own, one at a time (``flush``): the one being
        # written.
        self._spooler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imr-spool")
        self._spooling: Future[Chunk] | None = None
        self.resumed_letters = 0  # letters parsed by an earlier run that died, loaded now
        self.damaged_letters = 0  # ... in chunks damaged on disk since: dropped, parsed again
        # What is here at the current parser version: file hashes, and letters with the digest
        # of their items. Kept lean: millions of keys live here during a full-history build.
        self.known_sources: set[str] = set()
        self.known_letters: dict[str, int | None] = {}
        # Here, but parsed by an older parser: parsed again, and replaced.
        self._stale_sources: set[str] = set()
        self._stale_letters: set[str] = set()
        self._buffered_bytes = 0
        self._buffered_long = 0  # the letters' long texts since the last flush, 4 bytes a character
        # Seconds per phase of this build, kept in meta `build_seconds` (benchmarks read it).
        self.seconds: dict[str, float] = {}
        self._clock = time.perf_counter()

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> WarehouseBuild:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.link.exists() and not self.link.is_symlink():
            raise WarehouseError(
                f"{self.link} is a regular file, not a warehouse published by `imr ingest` "
                "(a symlink to a version file); it was left untouched: choose another --db"
            )
        self._lock_file = open(self.folder / f".{self.link.name}.lock", "w")  # noqa: SIM115
        try:
            # A POSIX record lock, not flock(): forked workers do not inherit it, so a killed
            # main process releases it at once even while orphaned workers finish their chunk.
            fcntl.lockf(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            self._lock_file.close()
            self._lock_file = None
            if error.errno in (errno.EACCES, errno.EAGAIN):
                raise WarehouseBusy(f"another ingest is writing {self.link}") from None
            raise
        try:
            files.remove_temporaries(self.link)
            files.adopt_published_version(self.link)
            files.remove_stale_versions(self.link, keep=[])
            self._chunks = self.spool.open()
            self.damaged_letters = sum(c.letters for c in self.spool.damaged)
            files.record_version(self.link, self.new_path.name)
            current = self.current_file()
            if current is not None:
                shutil.copyfile(current, self.new_path)
            self._lap("copy")
            config: dict[str, Any] = {
                "memory_limit": self.memory_limit,
                "temp_directory": str(self.new_path) + ".tmp",
                # Derived tables are rebuilt whole; their row order carries no meaning,
                # and not keeping it lets DuckDB stream and spill.
                "preserve_insertion_order": False,
                # A checkpoint per GB of log, not per 16 MB (DuckDB's default, about one per
                # load transaction): each rewrote the tables' last, partly filled row groups.
                # At 4M items the load phase took 175 s instead of 281 (docs/benchmarks.md);
                # the log, at most about 1 GB more on disk, goes with the build.
                "wal_autocheckpoint": f"{LOG_CHECKPOINT_BYTES}B",
            }
            if mib(self.memory_limit) < SMALL_CAP_MIB:
                # Each thread's hash tables take their own share of the cap: under a small
                # one, one thread (summing facet_pairs' parts ran a 40 MB build out of memory
                # with two).
                config["threads"] = 1
            self.con = duckdb.connect(str(self.new_path), config=config)
            migrate(self.con)
            self._remember_warehouse()
            self._chunks = self._unloaded(self._chunks)
            self._remember_spooled(self._chunks)
            self._lap("open")
        except BaseException:
            # A failed copy (disk full) must not leave its partial file behind.
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # A chunk being written is finished (kept for the next run if this one is not
            # published); the clean-up below happens even if this wait is interrupted.
            with contextlib.suppress(Exception):
                self.wait_for_spool()
            self._spooler.shutdown()
        finally:
            self._clean_up()

    def _clean_up(self) -> None:
        if self.con is not None:
            with contextlib.suppress(duckdb.Error):
                self.con.close()
            self.con = None
        shutil.rmtree(str(self.new_path) + ".tmp", ignore_errors=True)
        if not self.published:
            for path in (self.new_path, self.new_path.with_name(self.new_path.name + ".wal")):
                path.unlink(missing_ok=True)
            search_store.remove_index_dir(search_store.index_dir_for(self.new_path))
            self.spool.remove_folder_if_empty()  # chunks, if any, are kept for the next run
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def current_file(self) -> Path | None:
        """The file readers see now, or None before the first build."""
        if self.link.exists():
            return self.link.resolve()
        return None

    def _remember_warehouse(self) -> None:
        con = self._connection()
        sources = con.execute(
            "select source_sha256, parser_version = ? from sources", [PARSER_VERSION]
        )
        while batch := sources.fetchmany(100_000):
            for sha, current in batch:
                (self.known_sources if current else self._stale_sources).add(sha)
        letters = con.execute(
            "select letter_id, parser_version = ?, items_digest from letters", [PARSER_VERSION]
        )
        while batch := letters.fetchmany(100_000):
            for letter_id, is_current, digest in batch:
                if is_current:
                    self.known_letters[letter_id] = digest
                else:
                    self._stale_letters.add(letter_id)

    def _unloaded(self, chunks: list[Chunk]) -> list[Chunk]:
        """The spooled chunks the warehouse does not hold yet; the others are removed."""
        row = (
            self._connection()
            .execute("select value from meta where key = ?", [LOADED_THROUGH])
            .fetchone()
        )
        loaded = [c for c in chunks if row and c.name <= row[0]]
        self.spool.remove([c.name for c in loaded])
        return [c for c in chunks if c not in loaded]

    def _remember_spooled(self, chunks: list[Chunk]) -> None:
        """Files and letters an earlier, interrupted run parsed: already seen, not parsed again."""
        if not chunks:
            return
        con = self._connection()
        sources = [str(c.file("sources")) for c in chunks if "sources" in c.tables]
        if sources:
            query = "select source_sha256 from read_parquet(?)"
            self.known_sources.update(sha for (sha,) in con.execute(query, [sources]).fetchall())
        letters = [str(c.file("letters")) for c in chunks if "letters" in c.tables]
        if letters:
            query = "select letter_id, items_digest from read_parquet(?)"
            self.known_letters.update(con.execute(query, [letters]).fetchall())
        self.resumed_letters = sum(c.letters for c in chunks)

    def _source_of(self, letter_id: str) -> str:
        """The file a letter already here was loaded from (for a conflict's message)."""
        for rows in self._letters:
            if rows.letter_id == letter_id:
                return rows.path
        self.wait_for_spool()  # the chunk being written too (conflicts are rare)
        con = self._connection()
        parts = [str(c.file("letters")) for c in self._chunks if "letters" in c.tables]
        for query, args in (
            ("select source_path from read_parquet(?) where letter_id = ?", [parts, letter_id]),
            ("select source_path from letters where letter_id = ?", [letter_id]),
        ):
            if args[0] == []:
                continue
            found = con.execute(query, args).fetchone()
            if found:
                return str(found[0])
        return "an earlier file"

    # -- rows --------------------------------------------------------------------------------

    def is_unchanged(self, sha256: str) -> bool:
        return sha256 in self.known_sources

    def add_loaded(self, rows: LetterRows) -> Rejected | bool:
        """Add a parsed letter: True when added, False when it is already here (another
        rendering of it), or a reject when another letter with its case number is here."""
        if rows.letter_id in self.known_letters:
            known = self.known_letters[rows.letter_id]
            if known is not None and known != rows.items_digest:
                other = self._source_of(rows.letter_id)
                conflict = Rejected(
                    rows.path,
                    rows.sha256,
                    "conflicting_duplicate",
                    f"case number {rows.letter_id} is already loaded from {other}"
                    " with other items or decisions; the letter loaded first is kept",
                )
                self.add_rejected(conflict)
                return conflict
            self._add_source(rows.sha256, "loaded", rows.path, rows.letter_id)
            return False
        self._add_source(rows.sha256, "loaded", rows.path, rows.letter_id)
        if rows.letter_id in self._stale_letters:
            self._stale_letters.discard(rows.letter_id)
            self._replace_ids.append(rows.letter_id)
        self.known_letters[rows.letter_id] = rows.items_digest
        if rows.batch is None:
            raise ValueError("add_loaded takes packed rows (etl.rows.pack)")
        self._letters.append(rows)
        self._buffered_letters += 1
        self._buffered_bytes += rows.size
        self._buffered_long += 4 * rows.long_chars
        if (
            self._buffered_letters >= FLUSH_EVERY
            or max(self._buffered_bytes, self._buffered_long) >= FLUSH_BYTES
        ):
            self.flush()
        return True

    def add_rejected(self, outcome: Rejected) -> None:
        if outcome.sha256:
            self._add_source(outcome.sha256, "rejected", outcome.path, None)
        else:
            self._refused_paths.append(outcome.path)
        self._buffers["rejects"].append(
            {
                "source_path": outcome.path,
                "source_sha256": outcome.sha256,
                "reason": outcome.reason,
                "detail": outcome.detail[:2000],
                "seen_at": self._now,
            }
        )
        if len(self._buffers["rejects"]) >= FLUSH_EVERY:
            self.flush()

    def _add_source(self, sha256: str, status: str, path: str, letter_id: str | None) -> None:
        if sha256 in self._stale_sources:
            self._stale_sources.discard(sha256)
            self._replace_shas.append(sha256)
        self.known_sources.add(sha256)
        self._buffers["sources"].append(
            {
                "source_sha256": sha256,
                "source_path": path,
                "status": status,
                "letter_id": letter_id,
                "parser_version": PARSER_VERSION,
                "seen_at": self._now,
            }
        )

    def flush(self) -> None:
        """Spool the buffered rows as one chunk, written in the spool's thread while the workers
        go on parsing: written in line, a chunk's 65 ms left them without files (they queue
        about 7 ms of them), and the parse phase ran on 1.86 of 2 cores. One chunk at a time,
        in order: the one before is finished first. A chunk that fails to be written fails the
        build wherever it is next waited for (a flush, ``publish``, a worker's fork, a
        conflict's message); meanwhile at most one more chunk of letters is parsed in vain."""
        if not any(self._buffers.values()) and not self._letters and not self._refused_paths:
            return
        letters, buffers = self._letters, self._buffers
        counts = (self._buffered_letters, self._buffered_bytes)
        replaced = (self._replace_ids, self._replace_shas, self._refused_paths)
        self._letters, self._buffers = [], defaultdict(list)
        self._buffered_letters = self._buffered_bytes = self._buffered_long = 0
        self._replace_ids, self._replace_shas, self._refused_paths = [], [], []
        self.wait_for_spool()
        self._spooling = self._spooler.submit(self._write_chunk, letters, buffers, counts, replaced)

    def wait_for_spool(self) -> None:
        """Wait for the chunk being written (its error, if any, is raised here): once this
        returns, every flushed row is in a chunk on disk."""
        if self._spooling is None:
            return
        future, self._spooling = self._spooling, None
        self._chunks.append(future.result())

    def _write_chunk(
        self,
        letters: list[LetterRows],
        buffers: dict[str, list[Row]],
        counts: tuple[int, int],
        replaced: tuple[list[str], list[str], list[str]],
    ) -> Chunk:
        """In the spool's thread: the rows given, as a chunk (reads only what never changes)."""
        frames = self._letter_frames(letters)
        for table in APPENDED:
            if table.name in frames:
                continue
            rows = buffers.get(table.name, [])
            if table.name == "sources":
                # A file seen twice in one batch keeps its last record.
                rows = list({row["source_sha256"]: row for row in rows}.values())
            frames[table.name] = arrow_table(table, rows)
        return self.spool.write(
            frames,
            *counts,
            sum(long_string_bytes(frame) for frame in frames.values()),
            *replaced,
        )

    def _letter_frames(self, letters: list[LetterRows]) -> dict[str, pa.Table]:
        """The letters' rows, per table, from their workers' batches, in input order."""
        kept: dict[int, tuple[RowBatch, list[int]]] = {}  # per batch: its letters added
        for rows in letters:
            assert rows.batch is not None  # add_loaded takes packed rows only
            kept.setdefault(id(rows.batch), (rows.batch, []))[1].append(rows.seq)
        frames = {}
        for name in LETTER_TABLES:
            schema = contract.table(name).arrow_schema()
            parts = [batch.rows_of(name, seqs) for batch, seqs in kept.values()]
            if parts:
                frame = pa.concat_tables(parts).sort_by(SEQ).drop_columns([SEQ])
            else:
                frame = schema.empty_table()
            if name == "letters":
                stamp = pa.array([self._now] * frame.num_rows, schema.field("loaded_at").type)
                frame = frame.set_column(schema.get_field_index("loaded_at"), "loaded_at", stamp)
            frames[name] = frame.cast(schema)
        return frames

    # -- DWC's index (imr fetch) ---------------------------------------------------------------

    def add_dwc_index(self, rows: list[Row], cases_per_batch: int = 5000) -> int:
        """Put DWC's index rows into this build's ``dwc_index``: each case named replaces the
        rows it had, whole cases per transaction (bounded memory). Published by ``publish()``
        like everything else. Returns the rows written."""
        from etl.warehouse.contract import DWC_INDEX

        by_case: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            by_case[row["case_number"]].append(row)
        cases = list(by_case)
        con = self._connection()
        self._dwc_index_written = True
        written = 0
        for start in range(0, len(cases), cases_per_batch):
            batch = cases[start : start + cases_per_batch]
            frame = arrow_table(DWC_INDEX, [row for case in batch for row in by_case[case]])
            con.execute("begin transaction")
            con.execute(
                "delete from dwc_index where case_number in (select unnest($cases))",
                {"cases": batch},
            )
            con.register("dwc_index_batch", frame)
            con.execute("insert into dwc_index by name select * from dwc_index_batch")
            con.unregister("dwc_index_batch")
            con.execute("commit")
            written += frame.num_rows
        return written

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, meta: dict[str, str] | None = None) -> Path:
        """Load the spool into the new file and make it the one readers see."""
        self.flush()
        self.wait_for_spool()
        self._lap("parse")
        # What was seen is all spooled now: the sets of a full history (hundreds of MB) go
        # before DuckDB's memory grows with the load.
        self.known_sources, self.known_letters = set(), {}
        self._stale_sources, self._stale_letters = set(), set()
        _release_memory()
        con = self._connection()
        entries = {"parser_version": PARSER_VERSION, "built_at": self._now.isoformat()}
        entries[ROW_GROUP_MERGES] = self._merge_row_groups(con)
        derived = DerivedTables(con, self.memory_limit)
        derived.snapshot(
            replaced=sorted({i for c in self._chunks for i in c.replaced_letters}),
            adding=sum(c.letters for c in self._chunks),
        )
        beside = mib(self.memory_limit) >= LOAD_BESIDE_MIB
        with derived.appending():
            log = self.new_path.with_name(self.new_path.name + ".wal")
            most_held = mib(self.memory_limit) * 2**20 // 2  # long strings between checkpoints
            groups = _groups(self._chunks, min(LOAD_BYTES, most_held))
            _load_groups(con, groups, derived, beside, log, most_held)
            self._lap("load and update the derived tables")
            entries.update(derived.build())
        derived.release()  # their scratch tables: the index's queries need the memory
        self._lap(f"derived tables ({derived.mode})")
        rows_move = entries[ROW_GROUP_MERGES] == "on"
        with room_for_the_index_writer(con, self.memory_limit, rows_move):
            # The search index beside the new version, named in its meta: published together.
            entries.update(SearchBuild(self.new_path).build(con))
        self._lap("search index")
        # Last, with the build's whole pool: DuckDB builds an index in memory (at 4M items,
        # made before the search index, it ran out beside the build's other tables).
        con.execute("drop table if exists temp.changed_letters")
        con.execute("drop table if exists temp.removed_letters")
        con.execute("checkpoint")
        con.execute(f"set memory_limit = '{mib(self.memory_limit)}MB'")
        index_lookups(con)
        self._lap("lookup indexes")
        entries["build_seconds"] = json.dumps(self.seconds)
        if self._chunks:
            # Chunk names grow with time: what this version holds, should a kill land between
            # the swap and the spool's clean-up (the next run must not load them twice).
            entries[LOADED_THROUGH] = max(c.name for c in self._chunks)
        entries.update(meta or {})
        for key, value in entries.items():
            con.execute("insert or replace into meta values (?, ?)", [key, value])
        con.execute("checkpoint")
        con.close()
        self.con = None
        files.fsync_path(self.new_path)
        previous = files.published_target(self.link)
        files.swap_symlink(self.link, self.new_path)
        self.published = True
        # The version readers saw until now stays until the next build: a reader that resolved
        # the link a moment ago still finds its file.
        files.remove_stale_versions(self.link, keep=[previous] if previous else [])
        self.spool.remove([c.name for c in self._chunks])
        self.spool.remove_folder_if_empty()
        return self.new_path

    def _merge_row_groups(self, con: duckdb.DuckDBPyConnection) -> str:
        """Whether this build's checkpoints merge partly filled row groups (DuckDB's vacuum:
        "on", its default) or leave them as written ("off"), for ``meta``.

        Each load group's last row group is partly filled, and DuckDB merges such row groups
        with their neighbours at every checkpoint, rewriting rows written once already. A build
        that only adds rows leaves them: at 4M items the build's phases after parsing took
        9-14 s less (the checkpoint after the first lookup index 8 s of it) and the file 178
        MiB less, and the next build does not inherit the merges (the first daily update after
        such a whole build: 29.9 s with them, 8.7 s without; docs/benchmarks.md, stop 48).
        Small appends fill the last row group: a daily update adds no partly filled one. A
        build that deletes rows (letters or files replaced, refused files, DWC's index) merges
        as DuckDB does, so that what it deleted leaves the file."""
        deletes = self._dwc_index_written or any(
            c.replaced_letters or c.replaced_sources or c.refused_paths for c in self._chunks
        )
        if deletes:
            return "on"
        con.execute("set max_vacuum_tasks = 0")
        return "off"

    def _lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self._clock, 3)
        self._clock = now

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            raise RuntimeError("the warehouse build is not open")
        return self.con


# What the search index's queries hold at once: a slice of documents (SLICE_BYTES) and its join.
INDEX_QUERIES_MIB = 2 * SLICE_BYTES // 2**20


@contextlib.contextmanager
def room_for_the_index_writer(
    con: duckdb.DuckDBPyConnection, memory_limit: str, rows_move: bool
) -> Iterator[None]:
    """Around the search index's build: the index writer's heap comes out of the build's
    memory cap, so DuckDB's pool gives it room, not below SMALL_CAP_MIB. What DuckDB holds is
    written out by a checkpoint, beside the index's build on a cursor of its own (DuckDB
    checkpoints while other connections read and write) when both hold:
    - DuckDB holds little enough that the index's queries (INDEX_QUERIES_MIB) have room beside
      it in the smaller pool; else the checkpoint comes first, so that its pages can go rather
      than spill;
    - the checkpoint moves no row: with DuckDB's vacuum on (``rows_move``: a build that deleted
      rows, ``WarehouseBuild._merge_row_groups``) it merges row groups and renumbers their rows,
      which the index reads by ranges of row ids taken before (etl/search/sql).
    A checkpoint runs on one thread, the index on about 1.6 of two cores: at 20,000 letters the
    checkpoint's 0.6 s now pass in the index's (docs/benchmarks.md, stop 56). Either way the
    checkpoint is done when this returns, and its error raised."""
    cap = mib(memory_limit)
    pool = max(cap - INDEX_WRITER_MIB, min(cap, SMALL_CAP_MIB))
    if pool >= cap:
        yield
        return
    held = con.execute("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory()")
    if rows_move or held.fetchall()[0][0] > (pool - INDEX_QUERIES_MIB) * 2**20:
        con.execute("checkpoint")
        con.execute(f"set memory_limit = '{pool}MB'")
        yield
        return
    con.execute(f"set memory_limit = '{pool}MB'")
    cursor = con.cursor()  # here, in the connection's thread
    with ThreadPoolExecutor(1, thread_name_prefix="imr-checkpoint") as beside:
        written = beside.submit(_checkpoint, cursor)
        try:
            yield
        except BaseException as error:
            failed = written.exception()  # waited for: the connection outlives the checkpoint
            if failed is not None:
                error.add_note(f"The checkpoint beside the search index failed too: {failed!r}")
            raise
    written.result()


# How long the checkpoint beside the index tries again while another transaction holds
# DuckDB's checkpoint lock (``_checkpoint``).
CHECKPOINT_WAIT_S = 30.0


def _checkpoint(cursor: duckdb.DuckDBPyConnection) -> None:
    """A checkpoint on ``cursor`` (closed after), beside other work on its connection. DuckDB
    refuses a checkpoint at once ("other write transactions active") while any transaction
    holds its checkpoint lock: one that has updated rows or changed the catalog (not one that
    only inserted), or a moment's reading of the database's size. It is tried again until the
    lock is free, for at most CHECKPOINT_WAIT_S, then that error is raised. (FORCE CHECKPOINT
    would wait too, but keeps every new transaction from starting meanwhile: the index's
    reads. Seen in CI on a loaded machine: a reader of pragma_database_size beside it.)"""
    deadline = time.monotonic() + CHECKPOINT_WAIT_S
    pause = 0.005
    try:
        while True:
            try:
                cursor.execute("checkpoint")
                return
            except duckdb.TransactionException as error:
                if "other write transactions" not in str(error) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(2 * pause, 0.25)
    finally:
        cursor.close()


def index_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """The contract's lookup indexes (``contract.lookup_indexes``): made once the rows are in
    (a whole build appends without them; at 4M items the four took 12.7 s under the build's
    cap), kept as they are by a build that started from a version holding them. One at a time,
    on the build's threads: at 4M items, made again on a copy of a published version under the
    build's 384 MB cap, the four took 5.0-5.3 s on two threads against 8.2-8.6 on one, the
    process's peak 457 MiB against 448 (docs/benchmarks.md, stop 48)."""
    sizes = dict(con.execute("select table_name, estimated_size from duckdb_tables()").fetchall())
    for index, table, column in contract.lookup_indexes():
        con.execute(f"create index if not exists {index} on {table} ({column})")
        if sizes.get(table, 0) >= WRITE_OUT_INDEX_ROWS:
            con.execute("checkpoint")  # written out: its memory can go before the next


def long_string_bytes(frame: pa.Table) -> int:
    """What loading ``frame`` holds in DuckDB's memory until a checkpoint: its strings over
    LONG_STRING_BYTES, twice (the facts copy some; a string takes a block's slack)."""
    held = 0
    for column in frame.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            sizes = pc.binary_length(column)
            long = pc.filter(sizes, pc.greater(sizes, LONG_STRING_BYTES))
            held += pc.sum(long).as_py() or 0
    return 2 * held


def _groups(chunks: list[Chunk], max_bytes: int) -> list[list[Chunk]]:
    """Chunks in load order, a few per transaction: at most LOAD_GROUP, and about ``max_bytes``
    of long strings in them (``Chunk.held_bytes``: DuckDB holds them until a checkpoint)."""
    groups: list[list[Chunk]] = []
    size = 0
    for chunk in chunks:
        if not groups or len(groups[-1]) >= LOAD_GROUP or size + chunk.held_bytes > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(chunk)
        size += chunk.held_bytes
    return groups


def _load_groups(
    con: duckdb.DuckDBPyConnection,
    groups: list[list[Chunk]],
    derived: DerivedTables,
    beside: bool,
    log: Path | None = None,
    most_held: int | None = None,
) -> None:
    """Each group of chunks into the base tables (a transaction each, in order), and into the
    derived tables from the chunks' own files. ``beside``: the loads run on a cursor of their
    own in a thread while the derived tables take the groups here (the two write different
    tables, and the facts never read the base tables), so the one's single-threaded steps
    leave a core to the other; a failed load stops the build at the next group.

    DuckDB checkpoints its log (``log``, the version's write-ahead log) on a commit only when
    no other transaction is open, which writers on three cursors seldom leave it: so whenever
    the log passes the build's threshold (LOG_CHECKPOINT_BYTES), both pause for a checkpoint
    here (without, at 4M items it came as one at the end: the search index 11 s and the
    lookup indexes 9 s longer, 169 MiB of the file left free).

    Long strings stay in DuckDB's memory, committed or not, until a checkpoint writes them
    out: so a checkpoint also comes whenever the groups loaded since the last one hold
    ``most_held`` bytes of them (``Chunk.held_bytes``), and after the last of them."""
    held = 0  # bytes of long strings loaded since the last checkpoint

    def held_too_much() -> bool:
        return most_held is not None and held >= most_held

    def checkpoint() -> None:  # the loads done: the facts appended too, then written out
        nonlocal held
        derived.appended()
        con.execute("checkpoint")
        held = 0

    if not beside:
        for group in groups:
            _load_chunks(con, group)
            derived.add(group)  # from the chunks' own files: no scan of the tables
            held += sum(c.held_bytes for c in group)
            if held_too_much():
                checkpoint()
        if held:  # the last long strings written out before the derived tables are summed
            checkpoint()
        return
    cursor = con.cursor()
    pool = ThreadPoolExecutor(1)
    loads: deque[Future[None]] = deque()  # submitted, not yet seen done (they end in order)

    def loaded(wait: bool) -> None:  # the loads done (all of them: ``wait``), their errors raised
        while loads and (wait or loads[0].done()):
            loads.popleft().result()

    try:
        for group in groups:
            loads.append(pool.submit(_load_chunks, cursor, group))
            derived.add(group)
            loaded(wait=False)
            held += sum(c.held_bytes for c in group)
            if held_too_much() or _log_full(log):
                loaded(wait=True)
                checkpoint()
        loaded(wait=True)
        if held:
            checkpoint()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        cursor.close()


def _log_full(log: Path | None) -> bool:
    """Whether the build's log has reached the size at which DuckDB would checkpoint it."""
    return log is not None and log.exists() and log.stat().st_size >= LOG_CHECKPOINT_BYTES


def _load_chunks(con: duckdb.DuckDBPyConnection, chunks: list[Chunk]) -> None:
    """One transaction: drop what the chunks replace, then append their rows."""
    con.execute("begin transaction")
    ids = sorted({i for c in chunks for i in c.replaced_letters})
    if ids:
        for table in ("letters", "decisions", "citations", "reason_evidence", "unresolved"):
            # A semi-join (hash), not list_contains: a re-parse replaces millions of letters.
            con.execute(
                f"delete from {table} where letter_id in (select unnest($ids))", {"ids": ids}
            )
    shas = sorted({s for c in chunks for s in c.replaced_sources})
    if shas:
        for table in ("rejects", "sources"):
            con.execute(
                f"delete from {table} where source_sha256 in (select unnest($s))", {"s": shas}
            )
    paths = sorted({p for c in chunks for p in c.refused_paths})
    if paths:
        con.execute(
            "delete from rejects"
            " where source_sha256 is null and source_path in (select unnest($p))",
            {"p": paths},
        )
    for table in (t.name for t in APPENDED):
        parts = [str(c.file(table)) for c in chunks if table in c.tables]
        if not parts:
            continue
        if table == "rejects":
            # A refused path (no content hash) reported by an interrupted run and by this one
            # is one reject: the latest.
            con.execute(
                "insert into rejects by name select * from read_parquet($f)"
                " qualify row_number() over ("
                "  partition by source_path, coalesce(source_sha256, '') order by seen_at desc"
                " ) = 1",
                {"f": parts},
            )
        else:
            con.execute(f"insert into {table} by name select * from read_parquet($f)", {"f": parts})
    con.execute("commit")
