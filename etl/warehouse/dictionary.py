"""The data dictionary's tables, rendered from the warehouse contract.

    python -m etl.warehouse.dictionary           # rewrite the generated part of docs/warehouse.md
    python -m etl.warehouse.dictionary --check   # exit 1 when it is out of date (a test runs this)

Only the text between the two markers is generated; the prose around it is written by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from etl.warehouse import contract
from etl.warehouse.contract import Column, Table

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
START = "<!-- contract: generated from etl/warehouse/contract.py by `python -m etl.warehouse.dictionary`; edit the contract, not this -->"  # noqa: E501
END = "<!-- /contract -->"


def render(tables: tuple[Table, ...] | None = None) -> str:
    """Markdown for every table: its columns, types, nullability, accepted values, meaning."""
    parts = []
    for table in tables or contract.TABLES:
        lines = [
            f"### `{table.name}` — {table.description}",
            "",
            "| column | type | null | meaning |",
            "|---|---|---|---|",
        ]
        lines += [_row(column) for column in table.columns]
        if table.key:
            keys = ", ".join(f"`{k}`" for k in table.key)
            how = "a primary key" if table.primary_key else "kept so by the build"
            lines += ["", f"Unique: {keys} ({how})."]
        if table.lookup:
            indexed = ", ".join(f"`{c}` (`{table.index_name(c)}`)" for c in table.lookup)
            lines += ["", f"Indexed for lookups: {indexed}, made at publish."]
        for note in table.notes:
            lines += ["", note]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _row(column: Column) -> str:
    meaning = column.description
    if column.accepted:
        meaning += "; one of " + ", ".join(f"`{value}`" for value in column.accepted)
    if column.default is not None:
        meaning += f"; default `{column.default}`"
    null = "yes" if column.nullable else "no"
    return f"| `{column.name}` | {column.type.upper()} | {null} | {meaning} |"


def rewrite(text: str, tables: tuple[Table, ...] | None = None) -> str:
    """``text`` with the part between the markers replaced by ``render()``."""
    before, start, rest = text.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the markers are missing from the document: {START!r} … {END!r}")
    return f"{before}{START}\n\n{render(tables)}\n\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the doc is out of date")
    args = parser.parse_args(argv)
    text = DOC.read_text(encoding="utf-8")
    wanted = rewrite(text)
    if args.check:
        if wanted != text:
            print(f"{DOC} is out of date: run python -m etl.warehouse.dictionary", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
