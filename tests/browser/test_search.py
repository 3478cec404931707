"""Search in the browser (issue 14): a brand name in the search and in the Drug filter, the
search as a filter changing the Overview numbers and the CSV, the ranked list with highlighted
snippets, the reader's marked matches, and similar decisions. Expected numbers come from the
search index and the warehouse directly, not from the dashboard's code."""

from __future__ import annotations

import csv
import io
import os
import re
import urllib.parse
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from etl.search.engine import SearchIndex
from tests.browser.helpers import (
    assert_no_error,
    filter_widget,
    metric_value,
    open_app,
    pick,
    wait_for_app,
    warehouse,
)
from tests.browser.helpers import download as save
from tests.search.conftest import open_index

Key = tuple[str, int]


@pytest.fixture(scope="module")
def index(browser_warehouse: Path) -> SearchIndex:
    return open_index(Path(os.path.realpath(browser_warehouse)))


def matches(index: SearchIndex, text: str) -> set[Key]:
    compiled = index.compile(text)
    return {(h.letter_id, h.item_no) for h in index.top(compiled, max(index.count(compiled), 1))}


def counts(db: Path, where: str, params: list | None = None) -> tuple[int, int]:
    with warehouse(db) as con:
        row = con.execute(
            f"select count(*), count(distinct letter_id) from item_facts where {where}",
            params or [],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def query_values(url: str, name: str) -> list[str]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get(name, [])


def test_a_brand_in_the_url_becomes_its_generic(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    items, letters = counts(browser_warehouse, "list_contains(drugs, 'pregabalin')")
    assert items > 0
    open_app(page, f"{dashboard_url}/?drug=Lyrica")
    assert_no_error(page)
    expect(metric_value(page, "Disputed items")).to_have_text(f"{items:,}")
    expect(metric_value(page, "Letters")).to_have_text(f"{letters:,}")
    expect(page).to_have_url(re.compile(r"drug=pregabalin"))
    assert query_values(page.url, "drug") == ["pregabalin"]

    # Norco: the items holding hydrocodone AND acetaminophen, not every acetaminophen item.
    both, _ = counts(browser_warehouse, "list_has_all(drugs, ['hydrocodone', 'acetaminophen'])")
    alone, _ = counts(browser_warehouse, "list_contains(drugs, 'acetaminophen')")
    assert 0 < both < alone
    open_app(page, f"{dashboard_url}/?drug=Norco")
    expect(metric_value(page, "Disputed items")).to_have_text(f"{both:,}")
    expect(page).to_have_url(re.compile(r"drug=acetaminophen"))
    assert query_values(page.url, "drug") == ["acetaminophen + hydrocodone"]


def test_typing_a_brand_in_the_drug_filter_selects_its_generic(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    items, _ = counts(browser_warehouse, "list_contains(drugs, 'pregabalin')")
    open_app(page, f"{dashboard_url}/")
    drug = filter_widget(page, re.compile(r"^Drug \("))
    pick(page, re.compile(r"^Drug \("), "Lyrica", "lyrica → pregabalin")
    expect(page).to_have_url(re.compile(r"drug=pregabalin"))
    expect(metric_value(page, "Disputed items")).to_have_text(f"{items:,}")
    expect(drug).to_contain_text("pregabalin")


def test_q_changes_the_overview_numbers_and_the_csv(
    page: Page, dashboard_url: str, browser_warehouse: Path, index: SearchIndex
) -> None:
    want = matches(index, "lyrica")
    pregabalin, _ = counts(browser_warehouse, "list_contains(drugs, 'pregabalin')")
    assert len(want) >= pregabalin > 0  # the brand finds the generic's items (and more)
    open_app(page, f"{dashboard_url}/")
    page.get_by_test_id("stSidebar").get_by_label("Search", exact=True).fill("lyrica")
    page.keyboard.press("Enter")
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"q=lyrica"))
    expect(metric_value(page, "Disputed items")).to_have_text(f"{len(want):,}")
    letters = {letter for letter, _ in want}
    expect(metric_value(page, "Letters")).to_have_text(f"{len(letters):,}")
    expect(page.get_by_text("Search: “lyrica”", exact=False).first).to_be_visible()

    download = save(page, page.get_by_role("button", name="Download CSV", exact=True))
    assert re.fullmatch(r"imr_items_q-lyrica_\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert {(r["letter_id"], int(r["item_no"])) for r in rows} == want

    download = save(page, page.get_by_role("button", name="Download CSV with text", exact=True))
    assert download.suggested_filename.startswith("imr_items_text_q-lyrica_")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text("utf-8-sig"))))
    assert {(r["letter_id"], int(r["item_no"])) for r in rows} == want
    assert all(r["rationale"] for r in rows)


def test_q_with_a_filter_on_another_page(
    page: Page, dashboard_url: str, browser_warehouse: Path, index: SearchIndex
) -> None:
    with warehouse(browser_warehouse) as con:
        upheld = {
            (r[0], r[1])
            for r in con.execute(
                "select letter_id, item_no from item_facts where decision = 'Upheld'"
            ).fetchall()
        }
    want = matches(index, '"urine drug screen"') & upheld
    assert want
    open_app(page, f"{dashboard_url}/letters?decision=Upheld&q=%22urine+drug+screen%22")
    letters = {letter for letter, _ in want}
    caption = f"{len(want):,} items in {len(letters):,} letters"
    expect(page.get_by_text(re.compile("^" + re.escape(caption)))).to_be_visible()


def test_the_letters_page_ranks_matches_with_highlighted_snippets(
    page: Page, dashboard_url: str, index: SearchIndex
) -> None:
    compiled = index.compile("urine drug screen")
    best = index.top(compiled, 50)
    assert len(best) > 3
    open_app(page, f"{dashboard_url}/letters?q=urine+drug+screen")
    assert_no_error(page)
    listed = page.locator("li.imr-match")
    expect(listed).to_have_count(len(best))
    # Best first: the index's order.
    first = listed.first.locator("a").inner_text()
    assert first.endswith(f", item {best[0].item_no}")
    marks = page.locator("li.imr-match mark[title='search match']")
    expect(marks.first).to_be_visible()
    marked = {m.lower() for m in marks.all_inner_texts()}
    assert marked and marked <= {"urine", "drug", "screen"}, marked

    # A match's link opens its letter below, the matches marked in its text. (The first
    # match's letter is the one open by default: take another one's.)
    other = next(h for h in best if h.letter_id != best[0].letter_id)
    listed.nth(best.index(other)).locator("a").click()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"letter=" + re.escape(other.letter_id)))
    case = page.get_by_test_id("stMain").get_by_test_id("stText").first
    expect(case).to_contain_text(" · decided ")
    reader = page.get_by_test_id("stMain").locator("div.imr-text mark[title='search match']")
    expect(reader.first).to_be_visible()
    assert {m.lower() for m in reader.all_inner_texts()} <= {"urine", "drug", "screen"}


def test_similar_decisions_from_the_reader_and_by_url(
    page: Page, dashboard_url: str, browser_warehouse: Path, index: SearchIndex
) -> None:
    with warehouse(browser_warehouse) as con:
        letter_id, item_no, request, rationale = con.execute(
            "select letter_id, item_no, request, rationale from decisions"
            " join letters using (letter_id) where drug_class = 'Opioids'"
            " and not synthetic order by letter_id, item_no limit 1"
        ).fetchone()  # type: ignore[misc]
    open_app(page, f"{dashboard_url}/letters?letter={letter_id}")
    page.get_by_role("link", name="Similar decisions").nth(item_no - 1).click()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(r"/similar\?"))
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Similar decisions", exact=True)).to_be_visible()
    assert_no_error(page)

    compiled = index.compile(f'letter_id:"{letter_id}"')
    key = next(h.key for h in index.top(compiled, 100) if h.item_no == item_no)
    texts = {"request": request, "rationale": rationale}
    similar = index.similar(key, texts, 20, ("drug_class", "Opioids"))
    with warehouse(browser_warehouse) as con:
        decided = dict(
            ((r[0], r[1]), r[2])
            for r in con.execute(
                "select letter_id, item_no, decision from item_facts where drug_class = 'Opioids'"
            ).fetchall()
        )
    overturned = sum(1 for h in similar if decided[(h.letter_id, h.item_no)] == "Overturned")
    expect(metric_value(page, "Similar decisions")).to_have_text(f"{len(similar):,}")
    expect(metric_value(page, "Overturn rate")).to_have_text(f"{overturned / len(similar):.1%}")
    expect(main.get_by_text("Guideline sections cited in the overturned ones")).to_be_visible()

    # The same page by URL alone.
    open_app(page, f"{dashboard_url}/similar?letter_id={letter_id}&item_no={item_no}")
    expect(metric_value(page, "Similar decisions")).to_have_text(f"{len(similar):,}")
    open_app(page, f"{dashboard_url}/similar?letter_id=%3Cscript%3E&item_no=x")
    assert_no_error(page)
    assert page.evaluate("typeof window.__xss") == "undefined"
