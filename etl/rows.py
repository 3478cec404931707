"""Table rows for one parsed letter. Pure: no DuckDB; runs in worker processes.

A letter's rows are tuples of their table's columns in the contract's order
(``etl.warehouse.contract``), built by functions compiled from it (``row_maker``); the writer's
own rows (sources, rejects) are dicts keyed by column name. A worker turns the rows of a batch
of letters into Arrow tables (``pack``) before it sends them: the single writer process only
filters and appends columns.
"""

from __future__ import annotations

import dataclasses
import importlib.abc
import importlib.machinery
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from keyword import iskeyword
from types import ModuleType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from etl.classify import Unresolved
from etl.classify.body_regions import body_regions
from etl.model import PARSER_VERSION, Citation, Decision, Letter, ReasonEvidence
from etl.pipeline import Loaded, Rejected, items_digest
from etl.warehouse import contract
from etl.warehouse.contract import Table

Row = dict[str, Any]  # by column name
Values = tuple[Any, ...]  # a row's values in its table's column order (the contract's)

# The name a row maker gives the object whose attributes fill the row: no column's.
_OF = "_of"


def row_maker(table: Table, source: type, given: Sequence[str]) -> Callable[..., Values]:
    """A function ``(of, **given) -> row`` for ``table``: the row as a tuple in the contract's
    column order, each column the argument of its name in ``given``, else the attribute of
    that name of ``of`` (a ``source``: a field or a property), else NULL (a column the parser
    does not fill yet, as a dict without its key gave).

    Compiled from the contract's columns, as ``dataclasses`` compiles an ``__init__``: a worker
    builds millions of rows, and a tuple made in one expression costs a fraction of a dict,
    which Arrow also converts more slowly (the worker's loop 4% faster: docs/benchmarks.md,
    stop 50). Called with keywords: two strings given in another order would swap columns
    silently."""
    names = table.names
    bad = [n for n in given if n not in names] + [
        n for n in names if not n.isidentifier() or iskeyword(n) or n == _OF
    ]
    if bad or len(set(given)) != len(given):
        raise ValueError(f"{table.name}: no row maker with the columns {bad or list(given)}")
    fields = {f.name for f in dataclasses.fields(source)}
    values = ", ".join(
        name
        if name in given
        else f"{_OF}.{name}"
        if name in fields or hasattr(source, name)  # a property is the class's attribute
        else "None"
        for name in names
    )
    parameters = ", ".join((_OF, "*", *given))
    return eval(f"lambda {parameters}: ({values},)", {})  # noqa: S307 - the contract's names


@dataclass(frozen=True)
class _RowMakers:
    """The row makers of the letter tables, compiled from the contract's ``tables``."""

    tables: tuple[Table, ...]
    letter: Callable[..., Values]
    decision: Callable[..., Values]
    citation: Callable[..., Values]
    evidence: Callable[..., Values]
    unresolved: Callable[..., Values]


_compiled: list[_RowMakers] = []


def _row_makers() -> _RowMakers:
    """The row makers of the contract as it is (compiled again should it change: a test adds
    a column to it)."""
    if not _compiled or _compiled[0].tables is not contract.TABLES:
        letter_given = (
            "letter_id",
            "source_path",
            "source_sha256",
            "body_regions",
            "item_count",
            "synthetic",
            "parser_version",
            "loaded_at",
            "items_digest",
        )
        makers = _RowMakers(
            contract.TABLES,
            row_maker(contract.table("letters"), Letter, letter_given),
            row_maker(contract.table("decisions"), Decision, ("letter_id", "drug_class")),
            row_maker(contract.table("citations"), Citation, ("letter_id", "item_no")),
            row_maker(
                contract.table("reason_evidence"),
                ReasonEvidence,
                ("letter_id", "item_no", "start_offset", "end_offset"),
            ),
            row_maker(contract.table("unresolved"), Unresolved, ("letter_id",)),
        )
        _compiled[:] = [makers]
    return _compiled[0]


@dataclass
class RowBatch:
    """The rows of a batch of letters, one Arrow table per table of ``LETTER_TABLES``: the
    contract's columns (``loaded_at`` left NULL: the writer sets it) and ``SEQ``, the place of
    the row's letter in the input (the writer keeps the input's order by it)."""

    tables: dict[str, pa.Table]
    letters: int  # how many letters it holds

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent from a worker as Arrow IPC streams: a third of the cost of pickling the tables.
        streams = {}
        for name, table in self.tables.items():
            sink = pa.BufferOutputStream()
            # One thread: Arrow's thread pools would take the worker's capped address space.
            options = pa.ipc.IpcWriteOptions(use_threads=False)
            with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
                writer.write_table(table)
            streams[name] = sink.getvalue().to_pybytes()
        return (_read_batch, (streams, self.letters))

    def rows_of(self, name: str, seqs: list[int]) -> pa.Table:
        """Table ``name``'s rows of the letters at ``seqs`` (all of them: no copy)."""
        table = self.tables[name]
        if len(seqs) == self.letters:
            return table
        return table.filter(pc.is_in(table[SEQ], value_set=pa.array(seqs, pa.int64())))


def _read_batch(streams: dict[str, bytes], letters: int) -> RowBatch:
    tables = {name: pa.ipc.open_stream(data).read_all() for name, data in streams.items()}
    return RowBatch(tables, letters)


@dataclass
class LetterRows:
    """A loaded letter as table rows (tuples in the contract's column order: ``row_maker``),
    built in the worker so the writer only appends. ``loaded_at`` is set by the writer.
    Packed (``pack``), the rows are in ``batch`` under ``seq`` and the lists are empty."""

    path: str
    sha256: str
    letter_id: str
    item_count: int
    items_digest: int  # etl.pipeline.items_digest: tells renderings from conflicting letters
    size: int  # bytes of the input file: the writer bounds what it buffers by it
    chars: int  # characters of its long texts (summary, requests, rationales): what it weighs
    letter: Values
    decisions: list[Values] = field(default_factory=list)
    citations: list[Values] = field(default_factory=list)
    reason_evidence: list[Values] = field(default_factory=list)
    unresolved: list[Values] = field(default_factory=list)
    seq: int = -1
    batch: RowBatch | None = None
    # Characters of its summary, requests, rationales and guidelines that pass LONG_STRING_CHARS
    # each: what DuckDB may hold in memory to load it (they shape its spool chunk: etl.load)
    long_chars: int = 0


# The tables a letter has rows in (the writer adds sources and rejects itself).
LETTER_TABLES = ("letters", "decisions", "citations", "reason_evidence", "unresolved")
SEQ = "_seq"  # a RowBatch's column: the input place of the row's letter


def prepare_worker() -> None:
    """Ready Arrow in a worker process before its address space is capped (etl.workers): the
    C library's malloc (Arrow's default, mimalloc, reserves address space in large segments),
    and one batch packed and written, so that what Arrow maps on first use (its thread pools
    among it) counts as the worker's starting size, not against its cap. Without this, an
    ingest of the sample and hostile letters had every batch fail to pack ("ArrowMemoryError:
    malloc of size 64 failed") and each of its letters rejected."""
    pa.set_memory_pool(pa.system_memory_pool())
    pack_sample()


def pack_sample() -> None:
    """Pack and pickle an empty letter: Arrow's conversion from Python ready (its first use
    imports pandas, if installed, to check what it is given: 0.2 s)."""
    empty = tuple(None for _ in contract.table("letters").names)
    sample = LetterRows("", "", "", 0, 0, 0, 0, letter=empty)
    [(_, packed)] = _pack_letters([(0, sample)]).items()
    pickle.loads(pickle.dumps(packed.batch))


class _PandasAbsent(importlib.abc.MetaPathFinder):
    """An import finder for which pandas does not exist (``convert_without_pandas``)."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def convert_without_pandas() -> None:
    """Make this process's first Arrow conversion with pandas unimportable.

    pyarrow's first conversion of Python objects imports pandas to check whether it was given
    pandas objects: about 0.4 s of an `imr ingest` of one letter (1.1 s), which never gives it
    any. Made with pandas unimportable, pyarrow notes pandas absent for those checks and never
    imports it (its workers, forked later, neither); a conversion that needs pandas
    (``from_pandas``, ``to_pandas``) still imports it then. So only a process that hands
    pyarrow no pandas objects calls this: the CLI's ingest (the dashboard replaces it)."""
    if "pandas" in sys.modules:
        return  # imported already: nothing to save
    absent = _PandasAbsent()
    sys.meta_path.insert(0, absent)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(absent)


def pack(results: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """``(input place, result)`` pairs with every ``LetterRows`` among them packed into one
    ``RowBatch`` (Arrow built here, in the worker). A letter whose rows do not fit the contract
    becomes an ``internal_error`` reject; the others are kept."""
    letters = [(seq, r) for seq, r in results if isinstance(r, LetterRows)]
    if not letters:
        return results
    packed: dict[int, LetterRows | Rejected]
    try:
        packed = dict(_pack_letters(letters))
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        packed = {}
        for seq, rows in letters:
            try:
                packed.update(_pack_letters([(seq, rows)]))
            except (pa.ArrowException, ValueError, TypeError, OverflowError) as error:
                detail = f"its rows do not fit the warehouse: {type(error).__name__}: {error}"
                packed[seq] = Rejected(rows.path, rows.sha256, "internal_error", detail)
    return [(seq, packed.get(seq, r)) for seq, r in results]


def _pack_letters(letters: list[tuple[int, LetterRows]]) -> dict[int, LetterRows]:
    """The letters' rows as one RowBatch: a copy of each ``LetterRows`` pointing into it (the
    ones given stay whole, should the batch have to be packed again letter by letter)."""
    tables = {}
    for name in LETTER_TABLES:
        rows: list[Values] = []
        seqs: list[int] = []
        for seq, letter in letters:
            own = [letter.letter] if name == "letters" else getattr(letter, name)
            rows += own
            seqs += [seq] * len(own)
        frame = arrow_table(contract.table(name), rows)
        tables[name] = frame.append_column(SEQ, pa.array(seqs, pa.int64()))
    batch = RowBatch(tables, len(letters))
    empty: dict[str, Any] = {name: [] for name in LETTER_TABLES[1:]}
    return {
        seq: dataclasses.replace(letter, letter=(), seq=seq, batch=batch, **empty)
        for seq, letter in letters
    }


def letter_rows(outcome: Loaded, size: int = 0) -> LetterRows:
    """Pure: no DuckDB. Runs in worker processes."""
    letter, letter_id = outcome.letter, outcome.letter_id
    digest = items_digest([(item.request, item.decision) for item in letter.items])
    make = _row_makers()
    texts = [letter.case_summary]
    for item in letter.items:
        texts += (item.request, item.rationale, item.claims_admin_guideline, item.maximus_guideline)
    rows = LetterRows(
        path=outcome.path,
        sha256=outcome.sha256,
        letter_id=letter_id,
        item_count=len(letter.items),
        items_digest=digest,
        size=size,
        chars=len(letter.case_summary or "")
        + sum(len(item.request or "") + len(item.rationale or "") for item in letter.items),
        letter=make.letter(
            letter,
            letter_id=letter_id,
            source_path=outcome.path,
            source_sha256=outcome.sha256,
            body_regions=body_regions(letter.diagnoses),
            item_count=len(letter.items),
            synthetic=outcome.synthetic,
            parser_version=PARSER_VERSION,
            loaded_at=None,  # the writer's
            items_digest=digest,
        ),
        long_chars=sum(len(t) for t in texts if t and len(t) > LONG_STRING_CHARS),
    )
    for item in letter.items:
        drug_class = drug_class_of(item.category, item.subcategory)
        rows.decisions.append(make.decision(item, letter_id=letter_id, drug_class=drug_class))
        rows.reason_evidence += evidence_rows(letter_id, item.item_no, item.reason_evidence)
        rows.citations += [
            make.citation(c, letter_id=letter_id, item_no=item.item_no) for c in item.citations
        ]
    rows.unresolved += [make.unresolved(u, letter_id=letter_id) for u in outcome.unresolved]
    return rows


# DuckDB keeps strings over about 29 KB in memory until a checkpoint writes them, committed or
# not (docs/benchmarks.md, stop 44): a spool chunk weighs its strings over LONG_STRING_BYTES
# (etl.load), and a letter its texts that may pass it in UTF-8 (``LetterRows.long_chars``).
LONG_STRING_BYTES = 8 * 1024
LONG_STRING_CHARS = LONG_STRING_BYTES // 4


def evidence_rows(letter_id: str, item_no: int, evidence: list[ReasonEvidence]) -> list[Values]:
    evidence_row = _row_makers().evidence
    return [
        evidence_row(
            e, letter_id=letter_id, item_no=item_no, start_offset=e.start, end_offset=e.end
        )
        for e in evidence
    ]


def drug_class_of(category: str | None, subcategory: str | None) -> str | None:
    """A pharmaceutical's subcategory is its drug class (DWC's taxonomy)."""
    return subcategory if category == "Pharmaceuticals" else None


def arrow_table(table: Table, rows: Sequence[Row] | Sequence[Values]) -> pa.Table:
    """Rows (by column name, or in the contract's column order) as an Arrow table of the
    contract's schema.

    Converted by Arrow as one array of structs: this runs for every row of a full-history
    ingest, and a Python loop per column cost five times as much."""
    schema = table.arrow_schema()
    return pa.Table.from_struct_array(pa.array(rows, type=pa.struct(schema)))


# Every table a build appends to.
APPENDED: tuple[Table, ...] = tuple(
    contract.table(name)
    for name in (
        "letters",
        "decisions",
        "citations",
        "reason_evidence",
        "sources",
        "rejects",
        "unresolved",
    )
)
