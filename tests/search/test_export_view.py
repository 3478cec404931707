"""The item CSV with text, and `imr export --view '<page URL>' FILE.csv`: exactly the slice the
page shows (filters and search), with request, rationale, both guideline texts, citations and
reasons, cells neutralised, never written over an existing file."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import polars as pl
import pytest

from dashboard import queries, search, view
from dashboard.filters import Filters
from tests.browser import hostile
from tests.conftest import ROOT
from tests.reliability.helpers import PYTHON, cli_env

TEXT_COLUMNS = {
    "request",
    "rationale",
    "claims_admin_guideline",
    "maximus_guideline",
    "claims_admin_citations",
    "maximus_citations",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _export(db: Path, url: str, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "etl.cli", "export", "--db", str(db), "--view", url, str(target)],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_the_view_of_a_url_is_the_slice_the_page_shows(
    search_warehouse: Path, con, tmp_path: Path
) -> None:
    url = "http://127.0.0.1:8501/letters?q=norco&decision=Upheld&drug=Lyrica&drug=Norco"
    target = tmp_path / "slice.csv"
    done = _export(search_warehouse, url, target)
    assert done.returncode == 0, done.stderr
    filters = Filters.build(
        search="norco", decision=["Upheld"], drug=["pregabalin", "acetaminophen + hydrocodone"]
    )
    want = queries.items(con, filters)
    assert want.height > 0
    rows = _rows(target)
    assert {(r["letter_id"], int(r["item_no"])) for r in rows} == set(
        want.select("letter_id", "item_no").iter_rows()
    )
    assert set(rows[0]) >= TEXT_COLUMNS | {"reasons", "case_number", "decision"}
    assert f"{len(rows):,} items" in done.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["slice.csv"]  # no temporary left


def test_texts_are_whole_and_formulas_neutralised(search_warehouse: Path, tmp_path: Path) -> None:
    target = tmp_path / "formula.csv"
    done = _export(search_warehouse, f"?q={hostile.MARKER}", target)
    assert done.returncode == 0, done.stderr
    rows = _rows(target)
    assert {r["case_number"] for r in rows} == {hostile.FORMULA_CASE, hostile.MARKUP_CASE}
    requests = {r["request"] for r in rows}
    assert "'" + hostile.FORMULA_ITEMS[0][0] in requests
    for row in rows:
        for value in row.values():
            assert not value.startswith(FORMULA_START), value
    markup = next(r for r in rows if r["case_number"] == hostile.MARKUP_CASE)
    assert markup["rationale"] == hostile.MARKUP_RATIONALE


def test_an_existing_file_is_never_written(search_warehouse: Path, tmp_path: Path) -> None:
    target = tmp_path / "mine.csv"
    target.write_text("my notes")
    done = _export(search_warehouse, "?q=norco", target)
    assert done.returncode == 1 and "exists" in done.stderr and "Traceback" not in done.stderr
    assert target.read_text() == "my notes"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.csv"]


def test_values_not_in_the_warehouse_are_reported_and_ignored(
    search_warehouse: Path, tmp_path: Path, con
) -> None:
    target = tmp_path / "all.csv"
    url = "?category=' OR 1=1 --&drug=<script>&decision_year=1900&decision_year=1901"
    done = _export(search_warehouse, url, target)
    assert done.returncode == 0, done.stderr
    assert "ignored category=' OR 1=1 --" in done.stderr
    assert "ignored drug=<script>" in done.stderr
    assert len(_rows(target)) == queries.summary(con, Filters()).item(0, "n")


def test_parse_reads_the_sidebar_parameters(con) -> None:
    options = queries.filter_options(con)
    years = sorted(
        int(v) for v in options.filter(pl.col("dimension") == "decision_year")["value"].to_list()
    )
    url = (
        f"/?decision_year={years[-1]}&decision_year={years[0]}&exclude_demo=true"
        "&q=urine+drug&drug=lyrica&letter=CM1&category=Pharmaceuticals&category=Nope"
    )
    parsed = view.parse(url, options)
    assert parsed.filters == Filters.build(
        decision_year=(years[0], years[-1]),
        exclude_synthetic=True,
        search="urine drug",
        drug=["pregabalin"],
        category=["Pharmaceuticals"],
    )
    assert parsed.dropped == ["category=Nope"]
    assert view.parse("", options).filters == Filters()


def test_with_text_download_matches_the_items(con) -> None:
    filters = Filters.build(search="urine", decision=["Overturned"])
    frames = list(search.items_text_batches(con, filters, batch_rows=7))
    text = pl.concat(frames)
    items = queries.items(con, filters)
    assert text.height == items.height > 0
    assert set(text.select("letter_id", "item_no").iter_rows()) == set(
        items.select("letter_id", "item_no").iter_rows()
    )
    assert set(text.columns) >= TEXT_COLUMNS


@pytest.mark.parametrize("present", [True, False])
def test_reasons_column_only_when_the_warehouse_has_it(con, present, monkeypatch) -> None:
    real = queries.run_sql

    def fake(con_, name, params=None, **kwargs):
        if name == "search_has_reasons":
            return pl.DataFrame({"present": [present]})
        return real(con_, name, params, **kwargs)

    monkeypatch.setattr(queries, "run_sql", fake)
    sql = search.items_text_sql(con)
    assert ("decision.reasons" in sql) is present
