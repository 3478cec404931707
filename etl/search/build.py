"""Build the search index of a new warehouse version, inside ``imr ingest``'s build.

``WarehouseBuild.publish`` calls ``SearchBuild.build`` once the rows are loaded and the derived
tables built, before it checkpoints and swaps the link; the returned meta entries
(``search_index``, ``search_index_id``) are written into the new version. So the version and its
index are published together, and a crash before the swap leaves the old pair (the unfinished
index folder is removed with its version file).

Incremental: the new version starts as a copy of the published one, whose index matched it
(checked by its id). The new index starts as a hard-link copy of that index (Tantivy never
changes a segment file once written), drops the documents of letters that were replaced and
adds those of new or replaced letters: the build's ``removed_letters`` and ``changed_letters``
(etl/sql/changes.sql, shared with the derived tables). A full build happens when there is no
usable previous index, its format or the drug vocabulary changed, or the item keys need
another salt. Either way the document count must equal the warehouse's items, or the build
fails.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from dataclasses import asdict, dataclass
from importlib import resources
from itertools import islice, takewhile
from pathlib import Path
from typing import Any

import duckdb
import tantivy

from etl.search import schema, store
from etl.search.synonyms import drug_names, vocabulary_digest
from etl.warehouse import WarehouseError

# meta keys of a warehouse version: the index folder's name and the id its marker must hold.
META_INDEX = "search_index"
META_INDEX_ID = "search_index_id"
# A probe of DuckDB's hash: a reader whose DuckDB hashes differently cannot use the keys.
HASH_PROBE = "select hash('imr-search-probe', 7::integer, 0::integer)"
WRITER_HEAP = 128 * 1024 * 1024
BATCH_ROWS = 5000
# The documents' query reads a slice of letters at a time: as many as give about SLICE_BYTES
# of documents (measured on the slice before), between 1 and SLICE_LETTERS, starting from
# FIRST_SLICE_LETTERS. Item ranges are looked up in blocks of BLOCK_LETTERS.
BLOCK_LETTERS = 256
FIRST_SLICE_LETTERS = 64
SLICE_LETTERS = 4096
SLICE_BYTES = 32 * 1024 * 1024
MAX_SALT = 16


class SearchBuildError(WarehouseError):
    """The index could not be built, or not consistently with the warehouse."""


def read_sql(name: str) -> str:
    return resources.files("etl.search").joinpath("sql", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Previous:
    folder: Path
    marker: dict[str, Any]


class SearchBuild:
    """The index of the version file ``version`` (being built)."""

    def __init__(self, version: Path) -> None:
        self.version = version
        self.folder = store.index_dir_for(version)
        self.stats: dict[str, Any] = {}

    def discard(self) -> None:
        """Remove this build's index folder (the version was not published)."""
        store.remove_index_dir(self.folder)

    # -- build --------------------------------------------------------------------------------

    def build(self, con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, str]:
        """Build the index and return the meta entries that publish it with the version
        (``full``: whole, even when the previous index could be updated; otherwise the
        connection holds the build's ``changed_letters`` and ``removed_letters``)."""
        try:
            return self._build(con, full)
        except ValueError as error:  # Tantivy's errors (a full disk among them)
            raise SearchBuildError(
                f"could not write the warehouse's search index ({error}); "
                "the previous warehouse is unchanged"
            ) from error

    def _build(self, con: duckdb.DuckDBPyConnection, full: bool) -> dict[str, str]:
        started = time.perf_counter()
        previous = None if full else self._previous(con)
        salt = int(previous.marker.get("salt", 0)) if previous else 0
        salt, resalted = _unique_salt(con, salt)
        incremental = previous is not None and not resalted
        if incremental and not self._update(con, previous, salt):  # type: ignore[arg-type]
            incremental = False
        if not incremental:
            self._full(con, salt)
        index_id = uuid.uuid4().hex
        store.share_files(self.folder)
        store.fsync_tree(self.folder)
        store.write_marker(
            self.folder,
            {
                **self._identity(con, salt),
                "state": store.COMPLETE,
                "id": index_id,
                "documents": self.stats.get("documents", 0),
                "mode": self.stats.get("mode"),
                "added": self.stats.get("added", 0),
                "removed": self.stats.get("removed", 0),
                "build_seconds": round(time.perf_counter() - started, 3),
                "built_at": dt.datetime.now().isoformat(timespec="seconds"),
            },
        )
        return {META_INDEX: self.folder.name, META_INDEX_ID: index_id}

    def _identity(self, con: duckdb.DuckDBPyConnection, salt: int) -> dict[str, Any]:
        probe = con.execute(HASH_PROBE).fetchone()
        return {
            "format": schema.FORMAT,
            "warehouse": self.version.name,
            "salt": salt,
            "hash_probe": str(probe[0]) if probe else "",
            "vocabulary": vocabulary_digest(),
        }

    def _previous(self, con: duckdb.DuckDBPyConnection) -> Previous | None:
        """The index of the version this build copied, if it is complete and current."""
        rows = dict(
            con.execute(
                "select key, value from meta where key in (?, ?)", [META_INDEX, META_INDEX_ID]
            ).fetchall()
        )
        name, index_id = rows.get(META_INDEX), rows.get(META_INDEX_ID)
        if not name or not index_id or os.sep in name or name in (".", ".."):
            return None
        folder = self.version.with_name(name)
        marker = store.read_marker(folder)
        if (
            marker is None
            or folder == self.folder
            or marker.get("state") != store.COMPLETE
            or marker.get("id") != index_id
            or marker.get("format") != schema.FORMAT
            or marker.get("vocabulary") != vocabulary_digest()
        ):
            return None
        return Previous(folder, marker)

    def _fresh_folder(self, con: duckdb.DuckDBPyConnection, salt: int) -> None:
        if self.folder.exists() and not store.remove_index_dir(self.folder):
            raise SearchBuildError(f"{self.folder} holds files this tool did not write")
        store.create_index_dir(self.folder, self._identity(con, salt))

    def _full(self, con: duckdb.DuckDBPyConnection, salt: int) -> None:
        self._fresh_folder(con, salt)
        index = tantivy.Index(schema.build_schema(), path=str(self.folder))
        writer = _writer(index)
        added = _add_documents(con, writer, salt, everything=True)
        writer.commit()
        writer.wait_merging_threads()
        self.stats = {"mode": "full", "added": added, "removed": 0}
        self._check(con, index)

    def _update(self, con: duckdb.DuckDBPyConnection, previous: Previous, salt: int) -> bool:
        """Start from the previous index; False when it does not add up (then build whole)."""
        self._fresh_folder(con, salt)
        store.link_copy(previous.folder, self.folder)
        index = tantivy.Index.open(str(self.folder))
        con.execute(read_sql("scratch.sql"))  # empty when the build computed no changes
        removed = [r for (r,) in con.execute("select letter_id from removed_letters").fetchall()]
        writer = _writer(index)
        for letter_id in removed:
            writer.delete_documents_by_term(schema.LETTER_ID, letter_id)
        added = _add_documents(con, writer, salt, everything=False)
        writer.commit()
        writer.wait_merging_threads()
        self.stats = {"mode": "incremental", "added": added, "removed": len(removed)}
        try:
            self._check(con, index)
        except SearchBuildError:
            return False
        return True

    def _check(self, con: duckdb.DuckDBPyConnection, index: tantivy.Index) -> None:
        index.reload()
        documents = index.searcher().num_docs
        items = con.execute("select count(*) from decisions").fetchone()[0]  # type: ignore[index]
        self.stats["documents"] = documents
        if documents != items:
            raise SearchBuildError(
                f"the search index holds {documents:,} documents for {items:,} items"
            )


def _writer(index: tantivy.Index) -> tantivy.IndexWriter:
    threads = max(1, min(2, os.cpu_count() or 1))
    return index.writer(heap_size=WRITER_HEAP, num_threads=threads)


def _unique_salt(con: duckdb.DuckDBPyConnection, salt: int) -> tuple[int, bool]:
    """A salt under which no two items share a key (the given one when it still works)."""
    query = read_sql("key_collisions.sql")
    for candidate in range(salt, salt + MAX_SALT):
        collisions = con.execute(query, {"salt": candidate}).fetchone()[0]  # type: ignore[index]
        if collisions == 0:
            return candidate, candidate != salt
    raise SearchBuildError("no salt gives every item its own search key")


@dataclass(frozen=True)
class Slice:
    """Letters by row id, and the row ids of decisions that hold their items."""

    first_letter: int
    last_letter: int
    first_item: int
    last_item: int


class Slices:
    """Slices of the letters' row ids, in order, each of the size asked for when it is taken:
    the size follows the text read, since letters can hold megabytes."""

    def __init__(self, blocks: list[Slice]) -> None:
        self.blocks = blocks
        self.block = 0  # the first block not wholly taken
        self.next_letter = blocks[0].first_letter if blocks else 0

    def take(self, letters: int) -> Slice | None:
        """The next ``letters`` row ids (None when all are taken)."""
        if self.block >= len(self.blocks):
            return None
        first = max(self.next_letter, self.blocks[self.block].first_letter)
        last = first + max(letters, 1) - 1
        rest = islice(self.blocks, self.block, None)
        covered = list(takewhile(lambda b: b.first_letter <= last, rest))
        self.next_letter = last + 1
        while self.block < len(self.blocks) and self.blocks[self.block].last_letter <= last:
            self.block += 1
        return Slice(
            first,
            min(last, covered[-1].last_letter),
            min(b.first_item for b in covered),
            max(b.last_item for b in covered),
        )


def _add_documents(
    con: duckdb.DuckDBPyConnection, writer: tantivy.IndexWriter, salt: int, *, everything: bool
) -> int:
    names = drug_names()
    con.execute(read_sql("scratch.sql"))
    blocks = con.execute(
        read_sql("document_blocks.sql"), {"all": everything, "letters": BLOCK_LETTERS}
    ).fetchall()
    slices = Slices([Slice(*row) for row in blocks])
    query = read_sql("documents.sql")
    added, size = 0, FIRST_SLICE_LETTERS
    while (piece := slices.take(size)) is not None:
        read = 0
        reader = con.sql(query, params={"all": everything, "salt": salt, **asdict(piece)})
        for batch in reader.to_arrow_reader(BATCH_ROWS):
            read += batch.nbytes
            columns = batch.to_pydict()
            for row in range(batch.num_rows):
                writer.add_document(_document(columns, row, names))
            added += batch.num_rows
        letters = piece.last_letter - piece.first_letter + 1
        size = min(max(letters * SLICE_BYTES // max(read, 1), 1), SLICE_LETTERS)
    return added


def _document(columns: dict[str, list[Any]], row: int, names: Any) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_unsigned(schema.KEY, columns["key"][row])
    doc.add_text(schema.LETTER_ID, columns["letter_id"][row])
    doc.add_unsigned(schema.ITEM_NO, columns["item_no"][row])
    for field, column in (
        (schema.REQUEST, "request"),
        (schema.RATIONALE, "rationale"),
        (schema.GUIDELINES, "guidelines"),
        (schema.SUMMARY, "case_summary"),
        (schema.DIAGNOSES, "diagnoses"),
        (schema.CATEGORY, "category"),
        (schema.DRUG_CLASS, "drug_class"),
    ):
        value = columns[column][row]
        if value:
            doc.add_text(field, value)
    for name in names.index_names(columns["drugs"][row]):
        doc.add_text(schema.DRUG, name)
    return doc
