"""`imr export`: the warehouse tables as files for other tools, with the data dictionary."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

DICTIONARY = Path(__file__).resolve().parent.parent / "docs" / "warehouse.md"

# Item-level tables carry the letter's decision year so that they partition alike.
_EXPORTS = {
    "letters": "select *, year(decision_date) as decision_year from letters",
    "decisions": (
        "select d.*, year(l.decision_date) as decision_year"
        " from decisions d join letters l using (letter_id)"
    ),
    "citations": (
        "select c.*, year(l.decision_date) as decision_year"
        " from citations c join letters l using (letter_id)"
    ),
    "rejects": "select * from rejects",
    "unresolved": "select * from unresolved",
}


def export_warehouse(db: Path, out: Path, fmt: str = "parquet") -> list[Path]:
    """Write every table under ``out``; Parquet is partitioned by decision year."""
    if not db.exists():
        raise SystemExit(f"imr export: no warehouse at {db}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table, query in _EXPORTS.items():
            target = out / (table if fmt == "parquet" else f"{table}.csv")
            if target.is_dir():
                shutil.rmtree(target)
            if fmt == "parquet" and table in ("letters", "decisions", "citations"):
                options = "format parquet, partition_by (decision_year), overwrite_or_ignore"
            elif fmt == "parquet":
                target = out / f"{table}.parquet"
                options = "format parquet"
            else:
                options = "format csv, header"
            # Paths are ours, not user SQL; quote-escaped all the same.
            location = str(target).replace("'", "''")
            con.execute(f"copy ({query}) to '{location}' ({options})")
            written.append(target)
    finally:
        con.close()
    if DICTIONARY.exists():
        shutil.copyfile(DICTIONARY, out / "warehouse.md")
        written.append(out / "warehouse.md")
    return written
