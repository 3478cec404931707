"""CSV export: lists joined, formula-like cells neutralised, file names carrying the filters."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable

import polars as pl

from dashboard.filters import Filters

# One rule for every CSV this project writes, here and in `imr export --format csv`.
from etl.export import FORMULA_START as FORMULA_START
from etl.export import neutralise as neutralise

LIST_SEPARATOR = "; "


def prepare(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists joined with ``; `` and every text cell neutralised (numbers stay numbers)."""
    columns: list[pl.Expr] = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.List):
            col = col.cast(pl.List(pl.String)).list.join(LIST_SEPARATOR)
        elif dtype not in (pl.String, pl.Categorical, pl.Enum):
            columns.append(col)
            continue
        else:
            col = col.cast(pl.String)
        pattern = "^[" + re.escape("".join(FORMULA_START)) + "]"
        columns.append(
            pl.when(col.str.contains(pattern)).then(pl.lit("'") + col).otherwise(col).alias(name)
        )
    return frame.select(columns)


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheet programs detect the encoding)."""
    return b"\xef\xbb\xbf" + prepare(frame).write_csv().encode("utf-8")


def batches_to_csv_bytes(frames: Iterable[pl.DataFrame]) -> bytes:
    """Like ``to_csv_bytes`` for a stream of frames with the same columns (bounded memory)."""
    out = io.BytesIO()
    out.write(b"\xef\xbb\xbf")
    first = True
    for frame in frames:
        if frame.height == 0 and not first:
            continue
        prepare(frame).write_csv(out, include_header=first)
        first = False
    return out.getvalue()


def file_name(table: str, filters: Filters, today: dt.date | None = None) -> str:
    """e.g. ``imr_items_drug_class-Opioids_2026-01-31.csv``."""
    day = (today or dt.date.today()).isoformat()
    safe_table = re.sub(r"[^a-z0-9_]+", "_", table.lower()).strip("_") or "table"
    return f"imr_{safe_table}_{filters.slug()}_{day}.csv"
