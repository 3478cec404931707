"""Load outcomes into DuckDB, building a new warehouse file and swapping a symlink to it.

Readers open ``current.duckdb`` read-only; it is a symlink to a versioned file. A build copies the
current file, writes into the copy, checkpoints, then atomically repoints the symlink. A crash or
a full disk at any moment leaves the symlink on the old, complete file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa

from etl.model import PARSER_VERSION
from etl.pipeline import Loaded, Rejected

BUILD_MEMORY = "384MB"
FLUSH_EVERY = 2000  # letters per insert batch: bounded memory, few round trips

_LETTER_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "source_path": pa.string(),
    "source_sha256": pa.string(),
    "layout": pa.string(),
    "case_number": pa.string(),
    "decision_date": pa.date32(),
    "injury_date": pa.date32(),
    "injury_year": pa.int32(),
    "patient_age": pa.int32(),
    "patient_sex": pa.string(),
    "reviewer_states": pa.list_(pa.string()),
    "reviewer_specialties": pa.list_(pa.string()),
    "outcome": pa.string(),
    "diagnoses": pa.string(),
    "case_summary": pa.string(),
    "priority": pa.string(),
    "date_assigned": pa.date32(),
    "ur_denial_date": pa.date32(),
    "application_received": pa.date32(),
    "item_count": pa.int32(),
    "synthetic": pa.bool_(),
    "parser_version": pa.string(),
}
_DECISION_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "item_no": pa.int32(),
    "request": pa.string(),
    "original_request": pa.string(),
    "authorized_portion": pa.string(),
    "decision": pa.string(),
    "category": pa.string(),
    "subcategory": pa.string(),
    "drug_class": pa.string(),
    "drugs": pa.list_(pa.string()),
    "strength": pa.string(),
    "quantity": pa.string(),
    "refills": pa.int32(),
    "claims_admin_guideline": pa.string(),
    "maximus_guideline": pa.string(),
    "rationale": pa.string(),
}
_CITATION_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "item_no": pa.int32(),
    "role": pa.string(),
    "source": pa.string(),
    "document": pa.string(),
    "section": pa.string(),
    "raw": pa.string(),
}
_SOURCE_SCHEMA: dict[str, Any] = {
    "source_sha256": pa.string(),
    "source_path": pa.string(),
    "status": pa.string(),
    "letter_id": pa.string(),
    "parser_version": pa.string(),
    "seen_at": pa.timestamp("us"),
}
_REJECT_SCHEMA: dict[str, Any] = {
    "source_path": pa.string(),
    "source_sha256": pa.string(),
    "reason": pa.string(),
    "detail": pa.string(),
    "seen_at": pa.timestamp("us"),
}
_UNRESOLVED_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "item_no": pa.int32(),
    "kind": pa.string(),
    "value": pa.string(),
}


@dataclass
class LetterRows:
    """A loaded letter as table rows, built in the worker so the writer only appends.

    Tuples follow the column order of the ``_*_SCHEMA`` dicts (``loaded_at`` is set at flush).
    """

    path: str
    sha256: str
    letter_id: str
    item_count: int
    letter: tuple[Any, ...]
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    citations: list[tuple[Any, ...]] = field(default_factory=list)
    unresolved: list[tuple[Any, ...]] = field(default_factory=list)


def letter_rows(outcome: Loaded) -> LetterRows:
    """Pure: no DuckDB. Runs in worker processes."""
    letter, letter_id = outcome.letter, outcome.letter_id
    rows = LetterRows(
        path=outcome.path,
        sha256=outcome.sha256,
        letter_id=letter_id,
        item_count=len(letter.items),
        letter=(
            letter_id,
            outcome.path,
            outcome.sha256,
            letter.layout,
            letter.case_number,
            letter.decision_date,
            letter.injury_date,
            letter.injury_year,
            letter.patient_age,
            letter.patient_sex,
            letter.reviewer_states,
            letter.reviewer_specialties,
            letter.outcome,
            letter.diagnoses,
            letter.case_summary,
            letter.priority,
            letter.date_assigned,
            letter.ur_denial_date,
            letter.application_received,
            len(letter.items),
            outcome.synthetic,
            PARSER_VERSION,
        ),
    )
    for item in letter.items:
        drug_class = item.subcategory if item.category == "Pharmaceuticals" else None
        rows.decisions.append(
            (
                letter_id,
                item.item_no,
                item.request,
                item.original_request,
                item.authorized_portion,
                item.decision,
                item.category,
                item.subcategory,
                drug_class,
                item.drugs,
                item.strength,
                item.quantity,
                item.refills,
                item.claims_admin_guideline,
                item.maximus_guideline,
                item.rationale,
            )
        )
        for c in item.citations:
            rows.citations.append(
                (letter_id, item.item_no, c.role, c.source, c.document, c.section, c.raw)
            )
    for u in outcome.unresolved:
        rows.unresolved.append((letter_id, u.item_no, u.kind, u.value))
    return rows


class WarehouseBusy(Exception):
    """Another ingest holds the warehouse's lock."""


def read_sql(name: str) -> str:
    return resources.files("etl").joinpath("sql", name).read_text(encoding="utf-8")


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(read_sql("schema.sql"))


def create_views(con: duckdb.DuckDBPyConnection) -> None:
    views = resources.files("etl").joinpath("sql", "views.sql")
    if views.is_file():
        # The derived tables are built whole from millions of rows; their row order carries no
        # meaning, and not keeping it lets DuckDB build them within the memory limit.
        con.execute("set preserve_insertion_order = false")
        con.execute(views.read_text(encoding="utf-8"))


class WarehouseBuild:
    """A new version of the warehouse, published only by ``publish()``.

    Use as a context manager: leaving it without publishing (an exception, a signal) deletes
    the unfinished file and leaves ``current`` untouched.
    """

    def __init__(self, link: Path) -> None:
        self.link = link
        self.folder = link.parent
        stamp = f"{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9:09d}-{os.getpid()}"
        self.new_path = self.folder / f"{link.stem}.{stamp}.duckdb"
        self._lock_file: Any = None
        self.con: duckdb.DuckDBPyConnection | None = None
        self.published = False
        self._now = dt.datetime.now()
        self._buffers: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        self._replace_ids: set[str] = set()
        self._processed_shas: set[str] = set()
        self._refused_paths: set[str] = set()
        self.known_sources: dict[str, str] = {}
        self.known_letters: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> WarehouseBuild:
        self.folder.mkdir(parents=True, exist_ok=True)
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
            self._remove_stale_versions()
            current = self.current_file()
            if current is not None:
                shutil.copyfile(current, self.new_path)
            # A bounded buffer pool keeps the writer's memory flat however large the warehouse:
            # DuckDB spills and writes pages out instead of caching them all.
            self.con = duckdb.connect(str(self.new_path), config={"memory_limit": BUILD_MEMORY})
            create_schema(self.con)
            self.known_sources = dict(
                self.con.execute("select source_sha256, parser_version from sources").fetchall()
            )
            self.known_letters = dict(
                self.con.execute("select letter_id, parser_version from letters").fetchall()
            )
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
        if self.con is not None:
            with contextlib.suppress(duckdb.Error):
                self.con.close()
            self.con = None
        if not self.published:
            for path in (self.new_path, self.new_path.with_name(self.new_path.name + ".wal")):
                path.unlink(missing_ok=True)
        if self._lock_file is not None:
            self._lock_file.close()

    def current_file(self) -> Path | None:
        """The file readers see now, or None before the first build."""
        if self.link.exists():
            return self.link.resolve()
        return None

    def _remove_stale_versions(self) -> None:
        """Delete every version file but the current one: killed builds, superseded versions.

        A reader still on a deleted version keeps reading it (POSIX keeps an open file alive).
        We hold the lock, so no other build is writing any of them.
        """
        current = self.current_file()
        for path in self.folder.glob(f"{self.link.stem}.*.duckdb*"):
            if path.resolve() != current and path != self.new_path:
                path.unlink(missing_ok=True)

    # -- rows --------------------------------------------------------------------------------

    def is_unchanged(self, sha256: str) -> bool:
        return self.known_sources.get(sha256) == PARSER_VERSION

    def add_loaded(self, rows: LetterRows) -> bool:
        """Add a parsed letter. False when the same letter is already here (another rendering)."""
        self._processed_shas.add(rows.sha256)
        self.known_sources[rows.sha256] = PARSER_VERSION
        known = self.known_letters.get(rows.letter_id)
        self._buffers["sources"].append(
            (rows.sha256, rows.path, "loaded", rows.letter_id, PARSER_VERSION, self._now)
        )
        if known == PARSER_VERSION:
            return False
        if known is not None:
            self._replace_ids.add(rows.letter_id)
        self.known_letters[rows.letter_id] = PARSER_VERSION
        self._buffers["letters"].append(rows.letter)
        self._buffers["decisions"] += rows.decisions
        self._buffers["citations"] += rows.citations
        self._buffers["unresolved"] += rows.unresolved
        if len(self._buffers["letters"]) >= FLUSH_EVERY:
            self.flush()
        return True

    def add_rejected(self, outcome: Rejected) -> None:
        if outcome.sha256:
            self._processed_shas.add(outcome.sha256)
            self.known_sources[outcome.sha256] = PARSER_VERSION
            self._buffers["sources"].append(
                (outcome.sha256, outcome.path, "rejected", None, PARSER_VERSION, self._now)
            )
        else:
            self._refused_paths.add(outcome.path)
        self._buffers["rejects"].append(
            (outcome.path, outcome.sha256, outcome.reason, outcome.detail[:2000], self._now)
        )
        if len(self._buffers["rejects"]) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        con = self._connection()
        con.execute("begin transaction")
        if self._replace_ids:
            ids = sorted(self._replace_ids)
            for table in ("letters", "decisions", "citations", "unresolved"):
                con.execute(
                    f"delete from {table} where list_contains($ids, letter_id)", {"ids": ids}
                )
            self._replace_ids.clear()
        if self._processed_shas:
            shas = sorted(self._processed_shas)
            con.execute("delete from rejects where list_contains($s, source_sha256)", {"s": shas})
            con.execute("delete from sources where list_contains($s, source_sha256)", {"s": shas})
            self._processed_shas.clear()
        if self._refused_paths:
            paths = sorted(self._refused_paths)
            con.execute(
                "delete from rejects"
                " where source_sha256 is null and list_contains($p, source_path)",
                {"p": paths},
            )
            self._refused_paths.clear()
        for table, schema in (
            ("letters", _LETTER_SCHEMA),
            ("decisions", _DECISION_SCHEMA),
            ("citations", _CITATION_SCHEMA),
            ("sources", _SOURCE_SCHEMA),
            ("rejects", _REJECT_SCHEMA),
            ("unresolved", _UNRESOLVED_SCHEMA),
        ):
            rows = self._buffers.pop(table, [])
            if not rows:
                continue
            if table == "sources":
                # A file seen twice in one batch keeps its last record.
                rows = list({row[0]: row for row in rows}.values())
            # Column by column into Arrow: far cheaper than any row-wise conversion.
            columns = zip(*rows, strict=True)
            frame = pa.Table.from_arrays(
                [
                    pa.array(list(values), type=kind)
                    for values, kind in zip(columns, schema.values(), strict=True)
                ],
                names=list(schema),
            )
            if table == "letters":
                frame = frame.append_column(
                    "loaded_at", pa.array([self._now] * len(rows), pa.timestamp("us"))
                )
            con.register("frame", frame)
            con.execute(f"insert into {table} by name select * from frame")
            con.unregister("frame")
        con.execute("commit")

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, meta: dict[str, str] | None = None) -> Path:
        """Finish the new file and make it the one readers see."""
        self.flush()
        con = self._connection()
        create_views(con)
        entries = {"parser_version": PARSER_VERSION, "built_at": self._now.isoformat()}
        entries.update(meta or {})
        for key, value in entries.items():
            con.execute("insert or replace into meta values (?, ?)", [key, value])
        con.execute("checkpoint")
        con.close()
        self.con = None
        _fsync(self.new_path)
        swap_symlink(self.link, self.new_path)
        self.published = True
        self._remove_stale_versions()
        return self.new_path

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            raise RuntimeError("the warehouse build is not open")
        return self.con


def swap_symlink(link: Path, target: Path) -> None:
    """Point ``link`` at ``target`` atomically (rename over the old link)."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name)
    os.replace(temporary, link)
    _fsync(link.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
