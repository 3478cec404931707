"""`imr vocab report`: what the vocabulary did not resolve, most frequent first."""

from __future__ import annotations

from pathlib import Path

from etl.terminal import printable
from etl.warehouse.files import open_read_only

KINDS = ("request", "drug", "specialty", "state", "citation")


class ReportError(Exception):
    """Why the report could not be made, in one line."""


def vocabulary_report(db: Path, limit: int = 25) -> str:
    """The report as terminal text: every value from the warehouse is escaped (`printable`).

    Values come from letters anyone can write; a request holding ``\\x1b]52;…`` must be shown,
    never obeyed by the terminal.
    """
    if not db.exists():
        raise ReportError(f"no warehouse at {db}")
    con, _ = open_read_only(db)
    try:
        rows = con.execute(
            """
            with counted as (
                select kind, value, occurrences, letters from unresolved_counts
            ),
            ranked as (
                select
                    *,
                    row_number() over (partition by kind order by occurrences desc, value) as rank
                from counted
            )
            select kind, value, occurrences, letters from ranked
            where rank <= ? order by kind, rank
            """,
            [limit],
        ).fetchall()
        totals = dict(
            con.execute(
                "select kind, sum(occurrences)::bigint from unresolved_counts group by kind"
            ).fetchall()
        )
    finally:
        con.close()
    lines = []
    for kind in KINDS:
        kind_rows = [r for r in rows if r[0] == kind]
        lines.append(f"{kind}: {totals.get(kind, 0):,} unresolved")
        lines += [
            f"  {n:6,}  ({letters:,} letters)  {printable(value)}"
            for _, value, n, letters in kind_rows
        ]
    return "\n".join(lines)
