"""`imr vocab report`: what the vocabulary did not resolve, most frequent first.

Names (requests, drugs, specialties, states, citations) that no vocabulary row resolved, and the
reviewer's sentences in upheld items where no reason was found, grouped by shape so the reason
patterns can grow where they miss most.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from etl.terminal import printable
from etl.warehouse.files import open_read_only

KINDS = ("request", "drug", "specialty", "state", "citation")
# Upheld items without a reason read for the sentence shapes (a sample on a large warehouse).
REASON_SAMPLE = 20_000
_SHAPE_WORDS = 8
_NUMBER = re.compile(r"\d+([./-]\d+)*")
_NOT_WORD = re.compile(r"[^a-z# ]+")


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
        no_reason = _items_without_reason(con)
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
    lines += _reason_lines(*no_reason, limit)
    return "\n".join(lines)


def _items_without_reason(con: Any) -> tuple[int, int, list[str]]:
    """(upheld items, those without a reason, a sample of the latter's rationales)."""
    columns = {
        name
        for (name,) in con.execute(
            "select column_name from information_schema.columns where table_name = 'decisions'"
        ).fetchall()
    }
    if "reasons" not in columns:
        return 0, 0, []
    upheld, without = con.execute(
        "select count(*), count(*) filter (where len(coalesce(reasons, [])) = 0)"
        " from decisions where decision = 'Upheld'"
    ).fetchone()
    rows = con.execute(
        "select rationale from decisions"
        " where decision = 'Upheld' and len(coalesce(reasons, [])) = 0 and rationale is not null"
        f" using sample reservoir({REASON_SAMPLE} rows) repeatable (1)"
    ).fetchall()
    return upheld, without, [r for (r,) in rows]


def sentence_shape(sentence: str) -> str:
    """A sentence's first words, lower case, numbers as ``#``: sentences worded alike share it."""
    text = _NOT_WORD.sub(" ", _NUMBER.sub("#", sentence.lower()))
    return " ".join(text.split()[:_SHAPE_WORDS])


def _reason_lines(upheld: int, without: int, rationales: list[str], limit: int) -> list[str]:
    from etl.classify.reasons import own_sentences

    lines = [f"reasons: {without:,} of {upheld:,} upheld items have no reason found"]
    if not rationales:
        return lines
    shapes: Counter[str] = Counter()
    items: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for rationale in rationales:
        seen = set()
        for sentence in own_sentences(rationale):
            shape = sentence_shape(sentence)
            if not shape:
                continue
            shapes[shape] += 1
            examples.setdefault(shape, sentence)
            if shape not in seen:
                items[shape] += 1
                seen.add(shape)
    sampled = f" (a sample of {len(rationales):,})" if len(rationales) < without else ""
    lines.append(f"  the reviewer's sentences in those items{sampled}, most frequent shapes first:")
    for shape, n in shapes.most_common(limit):
        lines.append(f"  {n:6,}  ({items[shape]:,} items)  {printable(shape)} …")
        lines.append(f"          e.g. {printable(examples[shape][:200])}")
    return lines
