"""The warehouse contract: every base table declared once.

From these declarations come the DDL (``ddl()``), the Arrow schemas the build writes with
(``arrow_schema()``), and the data dictionary tables in docs/warehouse.md
(``etl.warehouse.dictionary``; a test fails when the doc is out of date). A new column is one
``Column`` here plus a migration in ``etl.warehouse.migrations`` (``AddColumn``).

Keys are kept unique by the build, not by primary-key constraints: DuckDB keeps such indexes in
memory, which a warehouse of millions of rows cannot afford (schema version 2). A table's
``lookup`` columns get a plain index instead (``lookup_indexes()``), made at publish once the
rows are loaded: the dashboard reads one letter's rows by it (a scan of millions of keys
otherwise); a build that starts from a published version keeps it up to date as it appends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from etl.classify.reasons import REASONS

_ARROW = {
    "varchar": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "boolean": pa.bool_(),
    "varchar[]": pa.list_(pa.string()),
}

DECISIONS = ("Upheld", "Overturned")
REJECT_REASONS = (
    "not_found",
    "not_a_file",
    "unreadable_file",
    "too_large",
    "bad_zip",
    "bad_zip_member",
    "encrypted_zip_member",
    "unsafe_zip_path",
    "zip_symlink",
    "nested_archive",
    "zip_bomb_ratio",
    "zip_bomb_total",
    "empty_file",
    "binary_file",
    "not_a_pdf",
    "unreadable_pdf",
    "encrypted_pdf",
    "too_many_pages",
    "no_text_layer",
    "text_too_long",
    "empty",
    "not_a_letter",
    "missing_section",
    "no_items",
    "unknown_decision",
    "missing_request",
    "conflicting_decisions",
    "item_numbering",
    "parse_timeout",
    "too_much_memory",
    "worker_crashed",
    "conflicting_duplicate",
    "internal_error",
)


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # DuckDB type: a key of _ARROW
    description: str
    nullable: bool = True
    accepted: tuple[str, ...] = ()  # the only values it may hold (NULL aside, if nullable)
    default: str | None = None  # a DuckDB literal

    def __post_init__(self) -> None:
        if self.type not in _ARROW:
            raise ValueError(f"{self.name}: unknown type {self.type!r}")

    def ddl(self) -> str:
        text = f"{self.name} {self.type}"
        if not self.nullable:
            text += " not null"
        if self.default is not None:
            text += f" default {self.default}"
        return text

    def arrow_field(self) -> pa.Field:
        return pa.field(self.name, _ARROW[self.type], nullable=self.nullable)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique together (kept so by the build)
    primary_key: bool = False  # a real constraint: small tables only
    notes: tuple[str, ...] = field(default=())
    lookup: tuple[str, ...] = ()  # columns indexed for point lookups (made at publish)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def ddl(self) -> str:
        lines = [f"    {c.ddl()}" for c in self.columns]
        if self.primary_key and self.key:
            lines.append(f"    primary key ({', '.join(self.key)})")
        body = ",\n".join(lines)
        return f"create table if not exists {self.name} (\n{body}\n);"

    def arrow_schema(self) -> pa.Schema:
        # Made once per table: each worker packs every batch of rows with it.
        schema = self.__dict__.get("_arrow_schema")
        if schema is None:
            schema = pa.schema([c.arrow_field() for c in self.columns])
            object.__setattr__(self, "_arrow_schema", schema)
        return schema

    def index_name(self, column: str) -> str:
        return f"{self.name}_by_{column}"


def _c(name: str, type_: str, description: str, **options: object) -> Column:
    return Column(name, type_, description, **options)  # type: ignore[arg-type]


LETTERS = Table(
    "letters",
    "one row per Final Determination Letter",
    (
        _c(
            "letter_id",
            "varchar",
            "the case number (`CM16-0213037`); for letters that print none (2014–15 layout), "
            "`FP-` + a fingerprint of the letter's content that is the same for every rendering",
            nullable=False,
        ),
        _c(
            "source_path",
            "varchar",
            "the first file the letter was loaded from (`archive.zip!/member` inside zips); "
            "bytes of a file name that are not UTF-8 are written as backslash escapes "
            "(`r\\xe9sum\\xe9.txt`)",
            nullable=False,
        ),
        _c("source_sha256", "varchar", "SHA-256 of that file's bytes", nullable=False),
        _c(
            "layout",
            "varchar",
            "`A` 2013 notice, `B` 2014–15 (no case header), `B2` 2016+ (case header block)",
            nullable=False,
            accepted=("A", "B", "B2"),
        ),
        _c(
            "case_number",
            "varchar",
            "as printed; NULL when the letter prints none. Synthetic demo letters use the "
            "reserved prefix `SY`",
        ),
        _c("decision_date", "date", "header `Decision Date`; layout A: `Dated:`"),
        _c(
            "injury_date",
            "date",
            "header `Date of Injury` when printed, else the date the case summary gives "
            '("sustained an industrial injury on 10-13-16")',
        ),
        _c("injury_year", "integer", "year of `injury_date`"),
        _c(
            "patient_age",
            "integer",
            'from the case summary ("a 48 year old male"); NULL when not stated',
        ),
        _c(
            "patient_sex",
            "varchar",
            "`male` / `female` / NULL, from the summary's opening sentences only",
            accepted=("male", "female"),
        ),
        _c("reviewer_states", "varchar[]", "licensure states, full names"),
        _c(
            "reviewer_specialties",
            "varchar[]",
            "board specialties normalised to DWC names; wrapped lines joined",
        ),
        _c(
            "outcome",
            "varchar",
            "`Upheld` (every item upheld), `Overturned` (every item overturned) or "
            "`Partially Overturned`",
            accepted=("Upheld", "Overturned", "Partially Overturned"),
        ),
        _c("diagnoses", "varchar", "the diagnoses phrase of the case summary, where it has one"),
        _c(
            "body_regions",
            "varchar[]",
            "body regions the diagnoses name (`spine-lumbar`, `shoulder`, `psych`, …; vocabulary "
            "`etl/classify/data/body_regions.csv`), in the vocabulary's order; empty when the "
            "letter states no diagnoses or they name no region (schema 5, backfilled)",
        ),
        _c("case_summary", "varchar", "the clinical case summary, as one paragraph"),
        _c(
            "priority",
            "varchar",
            "`Standard` / `Expedited`, where printed",
            accepted=("Standard", "Expedited"),
        ),
        _c("date_assigned", "date", "header `Date Assigned`"),
        _c(
            "ur_denial_date",
            "date",
            'header `UR Denial Date`; layout A: "Utilization Review Denial dated …"',
        ),
        _c(
            "application_received",
            "date",
            'header `Application Received`; layout A: "application … was filed on …"',
        ),
        _c("item_count", "integer", "number of disputed items", nullable=False),
        _c(
            "synthetic",
            "boolean",
            "true for generated demo letters (case prefix `SY`, or loaded from a folder holding "
            "a `.synthetic` marker file)",
            nullable=False,
            default="false",
        ),
        _c(
            "parser_version",
            "varchar",
            "the parser that produced the row; a newer parser re-parses files when they are "
            "ingested again",
            nullable=False,
        ),
        _c("loaded_at", "timestamp", "when the row was written", nullable=False),
        _c(
            "items_digest",
            "bigint",
            "a 64-bit digest of the letter's (request, decision) pairs, reduced (lower-case "
            "letters and digits) so that every rendering of the letter gives the same one. A "
            "letter with the same case number and the same digest is another rendering "
            "(`unchanged`); with another digest it is a `conflicting_duplicate` reject",
        ),
    ),
    key=("letter_id",),
    lookup=("letter_id",),
)

DECISIONS_TABLE = Table(
    "decisions",
    "one row per disputed item",
    (
        _c("letter_id", "varchar", "the letter", nullable=False),
        _c("item_no", "integer", "1-based, in letter order", nullable=False),
        _c(
            "request",
            "varchar",
            "the disputed request as written; for partial authorizations, the remaining "
            "IMR-eligible portion",
            nullable=False,
        ),
        _c(
            "original_request",
            "varchar",
            'partial authorizations only: "X was the original request"',
        ),
        _c(
            "authorized_portion",
            "varchar",
            "partial authorizations only: what the claims administrator authorized",
        ),
        _c(
            "decision",
            "varchar",
            "`Upheld` (denial stands) / `Overturned` (treatment approved)",
            nullable=False,
            accepted=DECISIONS,
        ),
        _c("category", "varchar", "DWC request category; unknown services are `Other`"),
        _c("subcategory", "varchar", "DWC request subcategory; unknown services `Unclassified`"),
        _c(
            "drug_class",
            "varchar",
            "the subcategory when `category = 'Pharmaceuticals'`, else NULL",
        ),
        _c(
            "drugs",
            "varchar[]",
            "generic ingredients, lower case (`hydrocodone`, `acetaminophen`)",
        ),
        _c("strength", "varchar", "as written in the request (`10/325mg`)"),
        _c("quantity", "varchar", "as written in the request (`60`)"),
        _c("refills", "integer", "as written in the request (`2`)"),
        _c("claims_admin_guideline", "varchar", 'the "Claims Administrator guideline:" text'),
        _c("maximus_guideline", "varchar", 'the "MAXIMUS guideline:" text'),
        _c("rationale", "varchar", 'the "Decision rationale:" text'),
        _c(
            "reasons",
            "varchar[]",
            'the reviewer\'s reasons found in the rationale (taxonomy.md, "Reasons"), in the '
            "taxonomy's order; empty when none was found. A finding for the request in an upheld "
            "item (or against it in an overturned one) is not a reason for the decision",
        ),
    ),
    key=("letter_id", "item_no"),
    lookup=("letter_id",),
)

REASON_EVIDENCE = Table(
    "reason_evidence",
    "one row per reason of an item: the sentence of the rationale that carries it",
    (
        _c("letter_id", "varchar", "the letter", nullable=False),
        _c("item_no", "integer", "the item", nullable=False),
        _c("reason", "varchar", "the reason", nullable=False, accepted=REASONS),
        _c("sentence", "varchar", "the sentence, as stored in the rationale", nullable=False),
        _c(
            "start_offset",
            "integer",
            "where the sentence starts in `decisions.rationale` (0-based, characters)",
            nullable=False,
        ),
        _c("end_offset", "integer", "where it ends (exclusive)", nullable=False),
    ),
    key=("letter_id", "item_no", "reason"),
    lookup=("letter_id",),
)

CITATIONS = Table(
    "citations",
    "one row per guideline cited, per item and role",
    (
        _c("letter_id", "varchar", "the letter", nullable=False),
        _c("item_no", "integer", "the item", nullable=False),
        _c(
            "role",
            "varchar",
            "who cited it",
            nullable=False,
            accepted=("claims_administrator", "maximus"),
        ),
        _c(
            "source",
            "varchar",
            "the guideline source",
            nullable=False,
            accepted=("MTUS", "ODG", "ACOEM", "Other"),
        ),
        _c(
            "document",
            "varchar",
            "canonical document (MTUS guideline or ACOEM chapter; ODG and its topic)",
        ),
        _c("section", "varchar", "section or pages, where written"),
        _c("raw", "varchar", "the citation as written", nullable=False),
    ),
    notes=('"did not cite any medical evidence" gives no row for that role.',),
    lookup=("letter_id",),
)

SOURCES = Table(
    "sources",
    "every input file ever seen",
    (
        _c("source_sha256", "varchar", "SHA-256 of the file's bytes", nullable=False),
        _c("source_path", "varchar", "where it was last seen", nullable=False),
        _c(
            "status",
            "varchar",
            "what became of it (a `conflicting_duplicate` is `rejected`)",
            nullable=False,
            accepted=("loaded", "rejected"),
        ),
        _c("letter_id", "varchar", "the letter it holds, when loaded"),
        _c("parser_version", "varchar", "the parser that read it", nullable=False),
        _c("seen_at", "timestamp", "when", nullable=False),
    ),
    key=("source_sha256",),
    notes=(
        "Ingest is keyed by content: a file whose bytes were already processed by the same "
        "parser version is `unchanged`, whatever its name.",
    ),
)

REJECTS = Table(
    "rejects",
    "files that could not be loaded, with the reason",
    (
        _c(
            "source_path",
            "varchar",
            "the file (or the folder that could not be listed)",
            nullable=False,
        ),
        _c(
            "source_sha256",
            "varchar",
            "NULL when the file was refused unread (too large, unreadable, a folder)",
        ),
        _c(
            "reason",
            "varchar",
            "a stable code, explained in [reliability.md](reliability.md)",
            nullable=False,
            accepted=REJECT_REASONS,
        ),
        _c("detail", "varchar", "the specifics, for a person"),
        _c("seen_at", "timestamp", "when", nullable=False),
    ),
)

UNRESOLVED = Table(
    "unresolved",
    "names the vocabulary could not resolve",
    (
        _c("letter_id", "varchar", "the letter", nullable=False),
        _c("item_no", "integer", "the item, where the name belongs to one"),
        _c(
            "kind",
            "varchar",
            "what kind of name",
            nullable=False,
            accepted=("request", "drug", "specialty", "state", "citation"),
        ),
        _c("value", "varchar", "the name as written", nullable=False),
    ),
    notes=("`imr vocab report` lists them by frequency.",),
)

DWC_INDEX = Table(
    "dwc_index",
    "DWC's own index of the letters (IMR Decision Search, treatment search): one row per "
    "treatment, as `imr fetch` read it",
    (
        _c("case_number", "varchar", "DWC's case number (the letter link's text)", nullable=False),
        _c(
            "treatment_no",
            "integer",
            "1-based, in the order DWC lists the case's treatments (matched to "
            "`decisions.item_no`)",
            nullable=False,
        ),
        _c("decision_date", "date", "DWC's Decision Date", nullable=False),
        _c("injury_date", "date", "DWC's Date of Injury"),
        _c("received_date", "date", "DWC's Received Date (application received)"),
        _c("specialty", "varchar", "DWC's IMRO Reviewer Specialty, as listed"),
        _c("category_raw", "varchar", "DWC's Request Category, as listed"),
        _c("subcategory_raw", "varchar", "DWC's SubCategory/Drug, as listed"),
        _c("decision_raw", "varchar", "DWC's Request Decision, as listed"),
        _c(
            "category",
            "varchar",
            "`category_raw` as one of our request categories; NULL when it is none of them",
        ),
        _c(
            "subcategory",
            "varchar",
            "`subcategory_raw` as one of our subcategories of `category` (for Pharmaceuticals, "
            "our drug class); NULL when it is none of them",
        ),
        _c(
            "drug_class",
            "varchar",
            "`subcategory_raw` as one of our drug classes when `category = 'Pharmaceuticals'`, "
            "else NULL",
        ),
        _c(
            "decision",
            "varchar",
            "`decision_raw` as `Upheld` / `Overturned`; NULL when it is neither",
            accepted=DECISIONS,
        ),
        _c("letter_url", "varchar", "the letter's address on DWC's site"),
        _c(
            "letter_sha256",
            "varchar",
            "SHA-256 of the letter PDF `imr fetch` downloaded (`sources.source_sha256` once "
            "ingested); NULL until downloaded",
        ),
        _c("fetched_at", "timestamp", "when DWC's rows for the case were read", nullable=False),
    ),
    key=("case_number", "treatment_no"),
    notes=(
        "Written by `imr fetch`; a case read again replaces its rows. Texts are stored as DWC "
        "lists them and mapped to our taxonomy only where they are one of its names (or one of "
        "DWC's spellings in `etl/fetch/dwc_names.csv`), never guessed.",
    ),
)

META = Table(
    "meta",
    "key/value facts about the build",
    (
        _c(
            "key",
            "varchar",
            "`parser_version`, `built_at`, `last_ingest` (the summary line of the last ingest), "
            "`last_fetch` (the summary line of the last `imr fetch`), "
            "`schema_version` (a warehouse without it is version 1), `migration_N` (when "
            "migration N was applied), `spool_loaded_through` (the last spool chunk this "
            "version holds: never loaded again), `search_index` and `search_index_id` (the "
            "folder of this version's search index beside it, and the id its marker holds: "
            "a reader uses the index only when both agree), `derived_digest` (what defined "
            "this version's derived tables: a build updates them only when it is unchanged), "
            "`list_patterns` (how many patterns of bits each list column's items hold, JSON: "
            "the dashboard sizes its letters' bits by it), "
            "`build_seconds` (seconds per phase of the build that made this version, JSON), "
            "`row_group_merges` (`on` when that build let DuckDB merge partly filled row groups "
            "at its checkpoints, as a build that deletes rows does; `off` when it only added "
            "rows and left them as written)",
            nullable=False,
        ),
        _c("value", "varchar", "its value"),
    ),
    key=("key",),
    primary_key=True,
)

TABLES: tuple[Table, ...] = (
    LETTERS,
    DECISIONS_TABLE,
    CITATIONS,
    REASON_EVIDENCE,
    SOURCES,
    REJECTS,
    UNRESOLVED,
    DWC_INDEX,
    META,
)


def table(name: str, tables: tuple[Table, ...] | None = None) -> Table:
    return next(t for t in (tables or TABLES) if t.name == name)


def ddl(tables: tuple[Table, ...] | None = None) -> str:
    """``create table if not exists`` for every table (the module's TABLES by default)."""
    return "\n\n".join(t.ddl() for t in (tables or TABLES))


def lookup_indexes(tables: tuple[Table, ...] | None = None) -> list[tuple[str, str, str]]:
    """(index, table, column) of every ``lookup`` column."""
    return [(t.index_name(c), t.name, c) for t in (tables or TABLES) for c in t.lookup]
