"""The Reasons page and the letter reader's reason marks, against the tests' own SQL."""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest

from dashboard import dimensions
from dashboard.filters import Filters
from tests.dashboard import expected
from tests.dashboard.test_dashboard_apptest import frame_with, run_page

pytestmark = pytest.mark.usefixtures("app_env")

NONE_FOUND = "(none found)"


def _shares(oracle, filters: Filters) -> dict[str, tuple[int, int, int]]:
    """reason -> (upheld items giving it, upheld items, overturned items giving it)."""
    facts = expected.rows(oracle, filters, "reasons, overturned")
    upheld = sum(1 for _, overturned in facts if not overturned)
    by: Counter[tuple[str, bool]] = Counter()
    for reasons, overturned in facts:
        for reason in reasons or [NONE_FOUND]:
            by[reason, overturned] += 1
    names = {reason for reason, _ in by}
    return {r: (by[r, False], upheld, by[r, True]) for r in names}


def test_reasons_page_shares_and_rates(oracle):
    at = run_page("reasons", drug_class="Opioids")
    filters = Filters.build(drug_class=["Opioids"])
    want = _shares(oracle, filters)
    assert any(r != NONE_FOUND for r in want), "the fixture should give opioid items reasons"
    shown = frame_with(at, "share")
    got = {
        row["reason"]: (
            int(row["upheld_with"]),
            int(row["upheld_items"]),
            int(row["overturned_with"]),
        )
        for _, row in shown.iterrows()
    }
    assert got == want
    for _, row in shown.iterrows():
        low, high = expected.wilson(int(row["upheld_with"]), int(row["upheld_items"]))
        assert abs(row["share_lower"] - low) < 1e-9 and abs(row["share_upper"] - high) < 1e-9
    # The overturn rate where each finding is present: the registry's rate table.
    rates = next(df.value for df in at.dataframe if {"reason", "n"} <= set(df.value.columns))
    shown_rates = [(r["reason"], int(r["n"]), int(r["overturned"])) for _, r in rates.iterrows()]
    assert shown_rates == expected.rates(oracle, filters, dimensions.get("reason"))
    # Examples of the first reason, each with its evidence sentence marked.
    picked = at.selectbox(key="example_reason").value
    assert picked in want
    marked = [b.proto.body for b in at.get("html") if f'title="Reason: {picked}"' in b.proto.body]
    assert marked, "no example sentence marked"


def test_reasons_by_group_under_one_filter(oracle):
    """The "Reasons by" tables under one filter (read from the reason_pairs mart): per group of
    the registry's reasons_by dimensions, its upheld items and those giving each reason, for
    the 15 groups with most upheld items — counted here from the items."""
    at = run_page("reasons", drug_class="Opioids")
    filters = Filters.build(drug_class=["Opioids"])
    for dim in dimensions.REASONS_BY:
        facts = expected.rows(oracle, filters, f"{dim.column}, reasons, overturned")
        upheld = Counter(v for v, _, over in facts if not over and v is not None)
        top = sorted(upheld, key=lambda v: (-upheld[v], v))[:15]
        with_reason = Counter(
            (v, r) for v, reasons, over in facts if not over and v in top for r in reasons
        )
        shown = next(
            df.value for df in at.dataframe if {dim.name, "upheld_with"} <= set(df.value.columns)
        )
        got = {
            (row[dim.name], row["reason"]): (int(row["upheld_with"]), int(row["upheld_items"]))
            for _, row in shown.iterrows()
        }
        assert got and got == {(v, r): (n, upheld[v]) for (v, r), n in with_reason.items()}


def test_reason_filter_from_the_url(oracle):
    reason = expected.top_value(oracle, dimensions.get("reason"))
    at = run_page("overview", reason=reason)
    filters = Filters.build(reason=[reason])
    assert {m.label: m.value for m in at.metric}["Disputed items"] == (
        f"{expected.summary(oracle, filters)['n']:,}"
    )


def test_the_letter_reader_marks_each_reason_sentence(oracle):
    letter_id, rationale, item_no = oracle.execute(
        "select d.letter_id, d.rationale, d.item_no from decisions d"
        " where len(d.reasons) >= 2 order by d.letter_id, d.item_no limit 1"
    ).fetchone()
    evidence = oracle.execute(
        "select reason, start_offset, end_offset from reason_evidence"
        " where letter_id = ? and item_no = ? order by start_offset",
        [letter_id, item_no],
    ).fetchall()
    at = run_page("letters", letter=letter_id)
    bodies = [b.proto.body for b in at.get("html") if "Rationale:" in b.proto.body]
    assert len(bodies) >= item_no
    body = bodies[item_no - 1]
    marks = [
        (reason, html.unescape(content))
        for reason, content in re.findall(r'<mark title="Reason: ([a-z_]+)">(.*?)</mark>', body)
    ]
    reasons = {r for r, _, _ in evidence}
    assert marks and {r for r, _ in marks} <= reasons
    # Every evidence sentence is marked whole (one mark when two reasons share a sentence).
    for start, end in {(s, e) for _, s, e in evidence}:
        assert rationale[start:end] in {content for _, content in marks}


@pytest.mark.parametrize("by_bits", [True, False], ids=["by bits", "by lists"])
@pytest.mark.parametrize("chosen", [{}, {"drug_class": ["Opioids"]}], ids=["all", "opioids"])
@pytest.mark.parametrize("within_the_latest_year", [True, False], ids=["latest year", "all years"])
def test_reason_examples_are_the_newest_items_with_their_sentence(
    con, oracle, chosen, within_the_latest_year, by_bits, monkeypatch
):
    """The examples are looked for in the latest decision year first, then in every year
    when it holds too few: both give the newest items of the whole slice. A reason with a bit
    of its own is asked of the items' bits, else of their lists: the same items."""
    from dashboard import queries

    asked: list[str] = []
    real_run = queries.run_sql

    def recorded(session, name, params=None, **kwargs):
        if name == "reason_examples":
            asked.append(queries.load_sql(name, fragments=kwargs.get("fragments")))
        return real_run(session, name, params, **kwargs)

    monkeypatch.setattr(queries, "run_sql", recorded)
    if not by_bits:
        monkeypatch.setattr(queries, "value_bits", lambda session: {})
    filters = Filters.build(**chosen)
    reason = oracle.execute(
        "select reason from reason_evidence group by reason order by count(*) desc limit 1"
    ).fetchone()[0]
    facts = expected.rows(oracle, filters, "letter_id, item_no, decision_date, reasons")
    giving = [(d, letter, item) for letter, item, d, reasons in facts if reason in reasons]
    latest = max(d.year for d, _, _ in giving if d is not None)
    in_latest = sum(1 for d, _, _ in giving if d is not None and d.year == latest)
    assert 0 < in_latest < len(giving) - 5
    limit = min(5, in_latest) if within_the_latest_year else in_latest + 5
    got = queries.reason_examples(con, filters, reason, limit=limit)
    # Newest first (undated last), then by letter and item.
    giving.sort(key=lambda t: (t[0] is None, -(t[0].toordinal()) if t[0] else 0, t[1], t[2]))
    sentences = dict(
        ((letter, item), sentence)
        for letter, item, sentence in oracle.execute(
            "select letter_id, item_no, sentence from reason_evidence where reason = ?", [reason]
        ).fetchall()
    )
    want = [(letter, item, sentences[letter, item]) for _, letter, item in giving[:limit]]
    assert len(want) == limit
    assert list(got.select("letter_id", "item_no", "sentence").iter_rows()) == want
    assert asked and all(("reasons_bits &" in sql) is by_bits for sql in asked)
