from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
REAL = SHARED / "letters" / "real"


def pytest_configure(config: pytest.Config) -> None:
    """The pages AppTest runs get the server's Streamlit settings (``dashboard.serve``)."""
    from dashboard.serve import use_server_options

    use_server_options()


def require_shared() -> Path:
    """The shared real letters, or a clean skip on machines that do not have them."""
    if not (REAL / "INDEX.tsv").is_file():
        pytest.skip(f"real letters not found at {REAL} (they live beside the repo, in ../shared)")
    return REAL


def wait_until_healthy(
    url: str, process: subprocess.Popen[Any], seconds: float, log: Callable[[], str]
) -> None:
    """Return once the dashboard at ``url`` answers its health check; fail if it dies first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the dashboard did not start:\n{log()}")
        time.sleep(0.3)


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# item_facts' columns that depend on the order the letters were loaded in: the surrogate
# letter_key (one number per letter) and the list bits (from the build's dictionary, whose
# values take their bits as they first appear).
UNORDERED_FACTS = (
    "select columns(lambda c: c <> 'letter_key' and not ends_with(c, '_bits')) from item_facts"
)


def assert_bits_hold_their_lists(con: Any, shared_bit: int | None = None) -> None:
    """Every item's ``<list>_bits`` are its list's values' bits in the build's dictionary
    (``value_bits``), computed here in Python; and a bit is one value's, but the last one
    (``shared_bit``: the build's ``SHARED_BIT`` unless given)."""
    from etl.warehouse.derived import SHARED_BIT

    shared_bit = SHARED_BIT if shared_bit is None else shared_bit
    bit = {(c, v): b for c, v, b in con.execute("select * from value_bits").fetchall()}
    owners: dict[tuple[str, int], int] = {}
    for (column, _), b in bit.items():
        owners[(column, b)] = owners.get((column, b), 0) + 1
    assert all(n == 1 for (_, b), n in owners.items() if b < shared_bit), owners
    columns = [c for c in columns_of(con, "item_facts", "_bits") if not c.endswith("_fresh")]
    assert columns
    for column in columns:
        rows = con.execute(f"select {column}, {column}_bits from item_facts").fetchall()
        for values, bits in rows:
            assert bits == sum({1 << bit[(column, v)] for v in values}), (column, values)
    # <list>_fresh_bits, of an item's own list: the bits of the values that no earlier item of
    # its letter holds (item_no's order).
    fresh = sorted(columns_of(con, "item_facts", "_fresh_bits") & set(columns))
    assert fresh
    for column in fresh:
        rows = con.execute(
            f"select letter_id, item_no, {column}, {column}_fresh_bits from item_facts"
        ).fetchall()
        held: dict[str, set[str]] = {}
        for letter_id, _, values, bits in sorted(rows, key=lambda r: (r[0], r[1])):
            earlier = held.setdefault(letter_id, set())
            first = {v for v in values if v not in earlier}
            assert bits == sum({1 << bit[(column, v)] for v in first}), (column, values, earlier)
            earlier.update(values)


def assert_fresh_flags_hold(con: Any) -> None:
    """Every item's fresh flags in item_facts (``<column>_fresh``, ``<column>_outcome_fresh``,
    ``first_in_outcome``: etl/warehouse/fresh.py) are their definition, computed here item by
    item: whether no earlier item of its letter (of its outcome) holds its value (per value of
    a list, an empty list one value, none), and whether it is its letter's first of its
    outcome."""
    from etl.warehouse.derived import _own_fields

    scalars, lists = _own_fields()
    flags = [f"{c}{s}" for s in ("_fresh", "_outcome_fresh") for c in (*scalars, *lists)]
    names = ["letter_id", "item_no", "overturned", *scalars, *lists, *flags, "first_in_outcome"]
    rows = [
        dict(zip(names, row, strict=True))
        for row in con.execute(
            f"select {', '.join(names)} from item_facts order by letter_id, item_no"
        ).fetchall()
    ]
    assert rows
    earlier: list[dict[str, Any]] = []
    for row in rows:
        if earlier and earlier[-1]["letter_id"] != row["letter_id"]:
            earlier = []
        same = [r for r in earlier if r["overturned"] == row["overturned"]]
        for suffix, before in (("_fresh", earlier), ("_outcome_fresh", same)):
            for c in scalars:
                assert row[c + suffix] == all(r[c] != row[c] for r in before), (c, row)
            for c in lists:
                listed, seen = row[c] or [None], [v for r in before for v in (r[c] or [None])]
                expected = [listed.index(v) == i and v not in seen for i, v in enumerate(listed)]
                assert row[c + suffix] == expected, (c + suffix, row)
        assert row["first_in_outcome"] == (not same), row
        earlier.append(row)


def columns_of(con: Any, table: str, suffix: str) -> set[str]:
    """The columns of ``table`` whose names end in ``suffix``, without it."""
    names = con.execute(
        "select column_name from information_schema.columns where table_name = ?", [table]
    ).fetchall()
    return {name[: -len(suffix)] for (name,) in names if name.endswith(suffix)}
