"""Compare in the browser: specialty A against specialty B, then holding the request category
fixed; the numbers shown are statsmodels / scipy run on counts taken from the warehouse."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from tests.browser.helpers import (
    assert_no_error,
    metric_value,
    open_app,
    wait_for_app,
    wait_for_charts,
    warehouse,
)

SIDES = """
    select
        category,
        case
            when list_contains(reviewer_specialties, $a)
                and list_contains(reviewer_specialties, $b) then 'both'
            when list_contains(reviewer_specialties, $a) then 'a'
            when list_contains(reviewer_specialties, $b) then 'b'
        end as side,
        count(*) as n,
        count(*) filter (where overturned) as k
    from item_facts
    group by all
    having side in ('a', 'b')
"""


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def choose(page: Page, label: str, option: str) -> None:
    label_text = page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True)
    page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has=label_text).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def test_specialty_a_against_b_holding_category_fixed(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    with warehouse(browser_warehouse) as con:
        ranked = [
            row[0]
            for row in con.execute(
                "select s, count(*) as n from (select unnest(reviewer_specialties) as s"
                " from item_facts) group by s order by n desc, s"
            ).fetchall()
        ]
        a = ranked[0]
        # B: the next specialty with items of its own and categories shared with A.
        for b in ranked[1:]:
            rows = con.execute(SIDES, {"a": a, "b": b}).fetchall()
            if sum(n for _, side, n, _ in rows if side == "b") >= 20:
                break
    open_app(page, f"{dashboard_url}/compare?adjust=none")
    choose(page, "A", a)
    choose(page, "B", b)
    choose(page, "Holding fixed", "Request category")
    # The default is kept out of the link (the URL follows the widgets: wait for it).
    expect(page).not_to_have_url(re.compile(r"adjust="), timeout=30_000)
    # No wait for b= in the link: A and B are the page's defaults when the warehouse holds only
    # demo letters, and a default stays out of the link (the newcomer's CI waited in vain).
    # The results of A and B are what to wait for (under load they lag).
    main = page.get_by_test_id("stMain")

    k1 = sum(k for _, side, _, k in rows if side == "a")
    n1 = sum(n for _, side, n, _ in rows if side == "a")
    k2 = sum(k for _, side, _, k in rows if side == "b")
    n2 = sum(n for _, side, n, _ in rows if side == "b")
    expect(metric_value(page, f"Overturn rate: {a}")).to_have_text(f"{k1 / n1:.1%}", timeout=30_000)
    expect(metric_value(page, f"Overturn rate: {b}")).to_have_text(f"{k2 / n2:.1%}", timeout=30_000)
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb")
    expect(
        main.get_by_text(f"95% CI {low * 100:+.1f} to {high * 100:+.1f} points", exact=True)
    ).to_be_visible()
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    cells = np.outer(table.sum(1), table.sum(0)) / table.sum()
    p = (
        sps.fisher_exact(table).pvalue
        if cells.min() < 5
        else proportions_ztest([k1, k2], [n1, n2])[1]
    )
    expect(metric_value(page, "p-value")).to_have_text(p_text(p))

    per_category: dict[str, dict[str, tuple[int, int]]] = {}
    for category, side, n, k in rows:
        if category is not None:
            per_category.setdefault(category, {})[side] = (k, n)
    tables = [
        np.array(
            [
                [sides["a"][0], sides["a"][1] - sides["a"][0]],
                [sides["b"][0], sides["b"][1] - sides["b"][0]],
            ]
        )
        for sides in per_category.values()
        if len(sides) == 2 and 0 < sides["a"][0] + sides["b"][0] < sides["a"][1] + sides["b"][1]
    ]
    library = StratifiedTable(tables)
    expect(metric_value(page, "Odds ratio holding request category fixed")).to_have_text(
        f"{library.oddsratio_pooled:.2f}"
    )
    low, high = library.oddsratio_pooled_confint()
    expect(
        main.get_by_text(f"95% CI {low:.2f}–{high:.2f} · {len(tables)} strata", exact=True)
    ).to_be_visible()
    expect(metric_value(page, "Common odds ratio = 1")).to_have_text(
        p_text(library.test_null_odds().pvalue)
    )
    expect(metric_value(page, "Strata agree")).to_have_text(
        p_text(library.test_equal_odds().pvalue)
    )
    # The league table's funnel plot is drawn.
    wait_for_charts(page, 1)
    assert_no_error(page)

    # The address bar reproduces the view.
    shared = page.url
    open_app(page, shared)
    expect(metric_value(page, "Odds ratio holding request category fixed")).to_have_text(
        f"{library.oddsratio_pooled:.2f}"
    )
