"""Parsed rows waiting to be loaded: Parquet chunk files beside the warehouse, outside its versions.

A long ingest writes what the workers parsed here as it goes, a chunk of a few thousand letters at
a time, and loads the chunks into the new warehouse version only at the end. If that run dies
(killed, out of memory, disk full at the final commit) the chunks survive, and the next run loads
them without parsing those files again: their hashes count as already seen.

A chunk is complete once its marker ``<chunk>.json`` exists: the marker is written (atomically)
after the chunk's table files are on disk (fsync), so a chunk cut short by a crash or a power
cut has no marker and is discarded.
Only files named like our chunks are ever removed from the spool folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl.warehouse.files import fsync_path

_CHUNK = r"chunk-\d{20}-\d+"
_NAME = re.compile(rf"({_CHUNK})(?:\.(\w+)\.parquet|\.json)(?:\.tmp)?")


@dataclass
class Chunk:
    """One complete chunk: its table files and the keys it replaces in the warehouse."""

    folder: Path
    name: str
    parser_version: str
    letters: int
    tables: list[str]
    bytes: int = 0  # bytes of the input files behind its letters
    # ... of its long strings (etl.load.long_string_bytes: what loading it holds in memory);
    # None in a chunk an older run spooled
    long_bytes: int | None = None
    replaced_letters: list[str] = field(default_factory=list)
    replaced_sources: list[str] = field(default_factory=list)
    refused_paths: list[str] = field(default_factory=list)

    @property
    def held_bytes(self) -> int:
        """What loading it holds in DuckDB's memory until a checkpoint (etl.load._groups)."""
        return self.bytes if self.long_bytes is None else self.long_bytes

    def file(self, table: str) -> Path:
        return self.folder / f"{self.name}.{table}.parquet"


class Spool:
    def __init__(self, folder: Path, parser_version: str) -> None:
        self.folder = folder
        self.parser_version = parser_version
        self.damaged: list[Chunk] = []  # found by open(): complete but unreadable, dropped

    def open(self) -> list[Chunk]:
        """Create the folder; drop incomplete or damaged chunks and those of another parser
        version (``damaged`` holds the damaged ones: their letters are parsed again).

        Returns the complete chunks left by an earlier run, oldest first.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        sound: list[Chunk] = []
        for chunk in self.chunks():
            (sound if _readable(chunk) else self.damaged).append(chunk)
        chunks = [c for c in sound if c.parser_version == self.parser_version]
        # Everything else of ours goes: incomplete or damaged chunks, another parser's.
        kept = {c.name for c in chunks}
        self.remove(sorted({m.group(1) for m in self._our_files()} - kept))
        return chunks

    def chunks(self) -> list[Chunk]:
        """The complete chunks (a damaged marker is not trusted), oldest first."""
        found = []
        for path in sorted(self.folder.glob("chunk-*.json")):
            if not _NAME.fullmatch(path.name):
                continue
            try:
                marker = json.loads(path.read_text(encoding="utf-8"))
                found.append(Chunk(self.folder, path.name.removesuffix(".json"), **marker))
            except (OSError, ValueError, TypeError):
                continue
        return found

    def write(
        self,
        tables: dict[str, pa.Table],
        letters: int,
        size: int,
        long_bytes: int,
        replaced_letters: list[str],
        replaced_sources: list[str],
        refused_paths: list[str],
    ) -> Chunk:
        name = f"chunk-{time.time_ns():020d}-{os.getpid()}"
        written = []
        for table, frame in tables.items():
            if frame.num_rows:
                target = self.folder / f"{name}.{table}.parquet"
                temporary = target.with_name(target.name + ".tmp")
                pq.write_table(frame, temporary, compression="zstd")
                fsync_path(temporary)  # on disk before the marker says the chunk is complete
                os.replace(temporary, target)
                written.append(table)
        if written:
            fsync_path(self.folder)  # ... and under their names
        chunk = Chunk(
            self.folder,
            name,
            self.parser_version,
            letters,
            written,
            size,
            long_bytes,
            replaced_letters,
            replaced_sources,
            refused_paths,
        )
        marker = {
            "parser_version": chunk.parser_version,
            "letters": letters,
            "tables": written,
            "bytes": size,
            "long_bytes": long_bytes,
            "replaced_letters": replaced_letters,
            "replaced_sources": replaced_sources,
            "refused_paths": refused_paths,
        }
        temporary = self.folder / f"{name}.json.tmp"
        with open(temporary, "w", encoding="utf-8", errors="surrogateescape") as handle:
            json.dump(marker, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.folder / f"{name}.json")
        return chunk

    def remove(self, names: list[str]) -> None:
        wanted = set(names)
        for match in self._our_files():
            if match.group(1) in wanted:
                (self.folder / match.group(0)).unlink(missing_ok=True)

    def remove_folder_if_empty(self) -> None:
        with contextlib.suppress(OSError):
            self.folder.rmdir()

    def _our_files(self) -> list[re.Match[str]]:
        if not self.folder.is_dir():
            return []
        return [m for p in self.folder.iterdir() if (m := _NAME.fullmatch(p.name))]


def _readable(chunk: Chunk) -> bool:
    """Whether each table file of ``chunk`` is whole Parquet (its footer reads): a file cut
    short or damaged on disk made every later ingest fail at loading it, for good."""
    try:
        for table in chunk.tables:
            pq.read_metadata(chunk.file(table))
    except (OSError, pa.ArrowException):
        return False
    return True
