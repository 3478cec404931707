"""Chart builders (pure), CSV export, settings, and the connection's warehouse swap detection;
expected numbers come from the tests' own SQL over the warehouse (``expected.py``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

import altair as alt
import polars as pl
import pytest

from dashboard import charts, export, queries, reference
from dashboard.filters import Filters
from dashboard.settings import DEFAULT_DB, DEFAULT_SMALL_N
from etl.settings import load_settings
from tests.browser import hostile

ALL = Filters()


def encodings(chart: alt.LayerChart) -> list[dict]:
    spec = chart.to_dict()  # validates against the Vega-Lite schema
    return [layer.get("encoding", {}) for layer in spec["layer"]]


def fields(chart: alt.LayerChart) -> set[str]:
    out: set[str] = set()
    for enc in encodings(chart):
        for channel in enc.values():
            for item in channel if isinstance(channel, list) else [channel]:
                if isinstance(item, dict) and "field" in item:
                    out.add(item["field"])
    return out


def test_rate_bars_encode_rate_interval_and_n(con):
    frame = queries.rates_by(con, ALL, "category")
    chart = charts.rate_bars(frame, "category")
    assert isinstance(chart, alt.LayerChart)
    assert all(isinstance(layer, alt.Chart) for layer in chart.layer)
    assert {"category", "overturn_rate", "overturn_lower", "overturn_upper", "n"} <= fields(chart)
    # error bars: a rule from lower to upper
    rule = encodings(chart)[1]
    assert rule["x"]["field"] == "overturn_lower" and rule["x2"]["field"] == "overturn_upper"
    assert "sample" in fields(chart)  # small samples drawn differently


def test_trend_layers_have_data(con, oracle):
    chart = charts.rate_trend(queries.rates_by(con, ALL, "injury_year"), "injury_year")
    spec = chart.to_dict()
    years = oracle.execute("select count(distinct injury_year) from item_facts").fetchone()[0]
    rows = spec["datasets"][spec["data"]["name"]]
    # Years without items are empty rows (issue 13: the line breaks there, never bridges).
    assert len([r for r in rows if r["n"] is not None]) == years
    low, high = oracle.execute(
        "select min(injury_year), max(injury_year) from item_facts"
    ).fetchone()
    assert len(rows) == high - low + 1
    assert all("data" not in layer for layer in spec["layer"])


def test_charts_get_aggregated_rows_only(con):
    frame = queries.rates_by(con, ALL, "category")
    chart = charts.rate_bars(frame, "category")
    values = chart.to_dict()["datasets"]
    assert sum(len(rows) for rows in values.values()) == frame.height


def test_drug_class_chart_has_click_selection(con):
    chart = charts.drug_class_bars(queries.rates_by(con, ALL, "drug_class"))
    spec = chart.to_dict()
    params = spec.get("params", []) + [
        p for layer in spec["layer"] for p in layer.get("params", [])
    ]
    assert params[0]["name"] == charts.DRUG_CLASS_SELECTION
    assert params[0]["select"]["fields"] == ["drug_class"]
    assert params[0]["select"]["on"] == "click"
    assert params[0]["select"]["type"] == "point"


def test_decision_year_trend_has_published_reference_points(con):
    # The overturn rate on every chart (issue 13): published upheld shares as 1 − share.
    published = reference.published_overturn_share()
    chart = charts.decision_year_trend(queries.rates_by(con, ALL, "decision_year"), published)
    assert {"decision_year", "overturn_rate", "overturn_lower", "overturn_upper"} <= fields(chart)
    assert {"published_overturn_share", "publisher"} <= fields(chart)
    datasets = chart.to_dict()["datasets"]
    ref_rows = next(rows for rows in datasets.values() if rows and "publisher" in rows[0])
    assert {(r["publisher"], r["decision_year"]) for r in ref_rows} >= {
        ("DWC", 2014),
        ("CWCI", 2024),
    }


def test_other_charts(con):
    assert "median_days" in fields(charts.timeliness_chart(queries.timeliness(con, ALL)))
    assert "injury_year" in fields(
        charts.rate_trend(queries.rates_by(con, ALL, "injury_year"), "injury_year")
    )
    concord = charts.rate_bars(queries.source_concordance(con, ALL), "maximus_source", rate="same")
    assert "same_rate" in fields(concord)
    coverage = queries.parse_coverage(con).filter(pl.col("layout") == "all")
    bars = charts.share_bars(coverage, "field")
    assert isinstance(bars, alt.Chart)
    assert bars.to_dict()["encoding"]["x"]["field"] == "share"
    # Coverage is read against 100%: the axis always has that tick, whatever the width.
    assert bars.to_dict()["encoding"]["x"]["axis"]["values"][-1] == 1


def test_charts_accept_empty_frames(con):
    empty = queries.rates_by(con, Filters.build(category=["none"]), "category")
    charts.rate_bars(empty, "category").to_dict()
    charts.decision_year_trend(
        queries.rates_by(con, Filters.build(category=["none"]), "decision_year"),
        reference.published_upheld_share(),
    ).to_dict()


def test_published_figures_keep_their_sources():
    frame = reference.published_figures()
    assert frame.columns == ["publisher", "year", "metric", "value", "reference"]
    upheld = reference.published_upheld_share()
    assert upheld.filter((pl.col("publisher") == "DWC") & (pl.col("year") == 2014)).item(
        0, "value"
    ) == pytest.approx(0.914)
    assert upheld.get_column("reference").null_count() == 0


# --- CSV -----------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Norco 10/325", "Norco 10/325"),
        ("a=b", "a=b"),
    ],
)
def test_csv_injection_neutralised(cell, expected):
    assert export.neutralise(cell) == expected
    frame = pl.DataFrame({"text": [cell], "n": [-5], "items": [[cell, "ok"]]})
    row = read_csv(export.to_csv_bytes(frame))[0]
    assert row["text"] == expected
    assert row["n"] == "-5"  # numbers are not text: left alone
    assert row["items"] == expected + "; ok" if cell[0] in "=+-@\t" else cell + "; ok"


def _cell(value: object) -> str:
    """What a warehouse value must look like in the CSV (Python only, no dashboard code)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_item_csv_from_the_warehouse(con, oracle):
    frame = queries.items(con, ALL)
    rows = read_csv(export.to_csv_bytes(frame))
    columns = frame.columns
    want = oracle.execute(
        f"select {', '.join(columns)} from item_facts order by decision_date, letter_id, item_no"
    ).fetchall()
    assert len(rows) == len(want) == frame.height
    assert list(rows[0]) == columns
    # Every cell: formula-like text neutralised, everything else exactly as in the warehouse.
    neutralised = plain = 0
    for row, values in zip(rows, want, strict=True):
        for column, value in zip(columns, values, strict=True):
            assert row[column] == _cell(value), (column, value, row[column])
            if isinstance(value, str) and value[:1] in export.FORMULA_START:
                neutralised += 1
            elif value is not None:
                plain += 1
    assert neutralised >= len(hostile.FORMULA_ITEMS) and plain > 10 * len(rows)
    crafted = {r["request"] for r in rows if r["case_number"] == hostile.FORMULA_CASE}
    assert crafted == {"'" + request for request, _ in hostile.FORMULA_ITEMS}
    markup = next(r for r in rows if r["case_number"] == hostile.MARKUP_CASE)
    assert markup["request"] == hostile.MARKUP_REQUEST  # not formula-like: unchanged


def test_file_name_carries_the_filters():
    day = dt.date(2026, 1, 31)
    assert export.file_name("items", ALL, day) == "imr_items_all_2026-01-31.csv"
    filters = Filters.build(drug_class=["Opioids", "NSAID"], decision_year=(2015, 2016))
    assert (
        export.file_name("by_drug_class", filters, day)
        == "imr_by_drug_class_drug_class-NSAID+Opioids_decision_year-2015-2016_2026-01-31.csv"
    )
    nasty = Filters.build(drug=["../../etc/passwd"], state=['a"b;c'])
    name = export.file_name("items", nasty, day)
    assert "/" not in name and '"' not in name and ";" not in name
    long = Filters.build(drug=[f"drug{i}" for i in range(100)])
    assert len(export.file_name("items", long, day)) < 180


def test_filters_normalise_input():
    f = Filters.build(category="Surgery", drug=["b", "a", "a", ""], injury_year=(2015, 2012))
    assert f.get("category") == ("Surgery",)
    assert f.get("drug") == ("a", "b")
    assert f.get("injury_year") == (2012, 2015)
    assert f.get("state") == ()
    assert f.params()["filter_injury_year_min"] == 2012
    assert f.params()["filter_state"] is None
    assert Filters() == Filters.build() and Filters().describe() == []
    assert "Request category: Surgery" in f.describe()
    assert "Injury year: 2012–2015" in f.describe()
    with pytest.raises(TypeError, match="not filter dimensions"):
        Filters.build(drugs=["a"])
    with pytest.raises(KeyError):
        f.get("nothing")


def test_filters_narrow_to_one_value():
    mine = Filters.build(drug_class=["Opioids", "NSAID"], decision=["Upheld"])
    assert mine.narrow("drug_class", "Opioids").get("drug_class") == ("Opioids",)
    assert mine.narrow("drug_class", "Opioids").get("decision") == ("Upheld",)
    assert Filters().narrow("drug_class", "Opioids").params()["filter_drug_class"] == ["Opioids"]
    # A value outside the selection: an empty (matches nothing) selection, not "all".
    assert mine.narrow("drug_class", "Muscle Relaxant").params()["filter_drug_class"] == []
    with pytest.raises(ValueError, match="multiselect"):
        mine.narrow("injury_year", "2015")


# --- settings and connection ------------------------------------------------------------------


def test_settings_from_env():
    assert load_settings({}).db == Path(DEFAULT_DB)
    assert load_settings({}).small_n == DEFAULT_SMALL_N
    got = load_settings({"IMR_DB": "/x.duckdb", "IMR_SMALL_N": "50"})
    assert (got.db, got.small_n) == (Path("/x.duckdb"), 50)
    with pytest.raises(SystemExit, match="IMR_SMALL_N"):
        load_settings({"IMR_SMALL_N": "lots"})
    with pytest.raises(AttributeError):
        load_settings({}).small_n = 3  # type: ignore[misc]


def test_connection_follows_the_symlink_swap(tmp_path, warehouse, oracle):
    import duckdb

    from dashboard.connection import WarehouseMissing, _Holder

    def marker(con: duckdb.DuckDBPyConnection, column: str = "marker") -> list[tuple]:
        return queries.cursor(con).sql(f"select {column} from item_facts").fetchall()

    items = oracle.execute("select count(*) from item_facts").fetchall()
    second = tmp_path / "second.duckdb"
    with duckdb.connect(str(second)) as c:
        c.execute("create table item_facts as select 1 as marker")
    link = tmp_path / "current.duckdb"
    os.symlink(warehouse, link)
    holder = _Holder()
    con1, id1 = holder.get(link)
    assert marker(con1, "count(*)") == items
    assert holder.get(link)[0] is con1  # unchanged file: same connection
    tmp_link = tmp_path / "next.duckdb"
    os.symlink(second, tmp_link)
    os.replace(tmp_link, link)  # the atomic swap ingest does
    con2, id2 = holder.get(link)
    assert con2 is not con1 and id2 != id1
    assert marker(con2) == [(1,)]
    # replaced in place under the same name (no symlink): picked up too
    plain = tmp_path / "plain.duckdb"
    with duckdb.connect(str(plain)) as c:
        c.execute("create table item_facts as select 1 as marker")
    con3, _ = holder.get(plain)
    assert marker(con3) == [(1,)]
    replacement = tmp_path / "replacement.duckdb"
    with duckdb.connect(str(replacement)) as c:
        c.execute("create table item_facts as select 2 as marker")
    os.replace(replacement, plain)
    con4, _ = holder.get(plain)
    assert marker(con4) == [(2,)]
    with pytest.raises(WarehouseMissing):
        holder.get(tmp_path / "missing.duckdb")
    with pytest.raises(duckdb.Error):  # read-only
        queries.cursor(con2).execute("create table t (x int)")
    # The session's macros are there on every cursor, whatever the warehouse holds.
    assert queries.cursor(con4).sql("select wilson_low(0, 0)").fetchall() == [(None,)]


def test_cache_keys_tell_every_argument_apart():
    from dataclasses import dataclass

    from dashboard.connection import cache_key

    opioids = Filters.build(drug_class=["Opioids"])
    years = Filters.build(drug_class=["Opioids"], injury_year=(2014, 2016))
    args = [
        (1,), (True,), (1.0,), ("1",), (None,), ((1,),), ((1, 2),), ((12,),), (("a,b",),),
        (("a", "b"),), (ALL,), (opioids,), (years,), (Filters(search="x"),),
        (Filters(exclude_synthetic=True),), (opioids, "specialty"), (opioids, "state"),
        (frozenset({"a", "b"}),), (frozenset({"a"}),),
    ]  # fmt: skip
    keys = [cache_key(a) for a in args]
    assert len(set(keys)) == len(args)
    assert cache_key((Filters.build(drug_class=["Opioids"]),)) == keys[args.index((opioids,))]
    # 1 and 9 share a slot of a small set: they iterate in the order they went in.
    assert list(frozenset([1, 9])) != list(frozenset([9, 1]))
    assert cache_key(frozenset([9, 1])) == cache_key(frozenset([1, 9]))

    @dataclass
    class Loose:
        x: int = 1

    for loose in ([1], {"a": 1}, pl.DataFrame({"a": [1]}), Loose(), (1, [2]), {1}):
        with pytest.raises(TypeError):
            cache_key(loose)


def test_streamed_csv_equals_one_shot(con, oracle):
    from dashboard.export import batches_to_csv_bytes

    one_shot = export.to_csv_bytes(queries.items(con, ALL))
    streamed = batches_to_csv_bytes(queries.items_batches(con, ALL, batch_rows=50))
    assert streamed == one_shot
    opioids = Filters.build(drug_class=["Opioids"])
    want = oracle.execute("select count(*) from item_facts where drug_class = 'Opioids'")
    rows = read_csv(batches_to_csv_bytes(queries.items_batches(con, opioids)))
    assert len(rows) == want.fetchone()[0]
    nothing = Filters.build(drug_class=["nothing"])
    assert read_csv(batches_to_csv_bytes(queries.items_batches(con, nothing))) == []


def test_every_chart_the_pages_draw_validates(con) -> None:
    # The pages skip Altair's schema check (ui.altair_chart): it is made here, for the
    # builders the tests above do not already check, from the warehouse's own frames.
    from dashboard import stats

    rates = queries.rates_by(con, ALL, "specialty")
    row = queries.summary(con, ALL).row(0, named=True)
    p0 = row["overturned"] / row["n"]
    funnel = stats.funnel_frame(rates, "specialty", p0)
    curve = pl.DataFrame(stats.funnel_curve(p0, int(funnel.get_column("n").max() or 2)))
    built = [
        charts.funnel_chart(funnel, curve, p0, dim="specialty", dim_title="Specialty"),
        charts.reason_share_bars(queries.reason_shares(con, ALL), selectable=True),
        charts.reason_heatmap(queries.reason_by(con, ALL, "category"), "category", "Category"),
    ]
    for chart in built:
        assert chart.to_dict()  # validate=True: raises on a spec Vega-Lite would refuse
    assert built[0].to_dict(validate=False) == built[0].to_dict()


def _layered_builders(con) -> dict:
    """Every layered chart builder, on the test warehouse."""
    from dashboard import stats

    rates = queries.rates_by(con, ALL, "specialty")
    row = queries.summary(con, ALL).row(0, named=True)
    p0 = row["overturned"] / row["n"]
    funnel = stats.funnel_frame(rates, "specialty", p0)
    curve = pl.DataFrame(stats.funnel_curve(p0, int(funnel.get_column("n").max() or 2)))
    return {
        "rate_bars": lambda: charts.rate_bars(rates, "specialty"),
        "rate_bars_selectable": lambda: charts.rate_bars(
            rates, "specialty", selection=alt.selection_point(fields=["specialty"])
        ),
        "drug_class_bars": lambda: charts.drug_class_bars(queries.rates_by(con, ALL, "drug_class")),
        "rate_trend": lambda: charts.rate_trend(
            queries.rates_by(con, ALL, "injury_year"), "injury_year", title="Injury year"
        ),
        "decision_year_trend": lambda: charts.decision_year_trend(
            queries.rates_by(con, ALL, "decision_year"), reference.published_overturn_share()
        ),
        "timeliness_chart": lambda: charts.timeliness_chart(queries.timeliness(con, ALL)),
        "crosstab_heatmap": lambda: charts.crosstab_heatmap(
            queries.crosstab(con, ALL, "specialty", "category"),
            row_title="Specialty",
            col_title="Category",
        ),
        "funnel_chart": lambda: charts.funnel_chart(
            funnel, curve, p0, dim="specialty", dim_title="Specialty"
        ),
        "reason_share_bars": lambda: charts.reason_share_bars(queries.reason_shares(con, ALL)),
        "reason_share_bars_selectable": lambda: charts.reason_share_bars(
            queries.reason_shares(con, ALL), selectable=True
        ),
        # Sizes set on a layer move to the chart (no builder does this yet).
        "sized_layers": lambda: charts.LayerChart(
            layer=[
                alt.Chart(rates).mark_bar().encode(x="n:Q").properties(height=120, width=200),
                alt.Chart(rates).mark_rule().encode(x="n:Q").properties(height=120),
            ]
        ),
    }


def test_layered_charts_equal_altairs(con, monkeypatch) -> None:
    # charts.LayerChart skips Altair's copies of the layers, lifting a named layer's selection
    # itself: every layered builder's spec must be the one alt.LayerChart gives.
    builders = _layered_builders(con)
    rates = queries.rates_by(con, ALL, "specialty")

    def layers(*params: list, names: tuple = (None, None)) -> charts.LayerChart:
        drawn = []
        for mark, held, name in zip(("bar", "rule"), params, names, strict=True):
            chart = alt.Chart(rates).mark_bar() if mark == "bar" else alt.Chart(rates).mark_rule()
            chart = chart.encode(x="n:Q")
            if held:
                chart = chart.add_params(*held)
            if name:
                chart = chart.properties(name=name)
            drawn.append(chart)
        return charts.LayerChart(layer=drawn)

    pick = alt.selection_point(name="pick", fields=["specialty"])
    brush = alt.selection_interval(name="brush", encodings=["x"])
    width = alt.param(name="width", value=3)
    # Altair's way: a selection on an unnamed layer, one selection on two layers, a variable,
    # an empty list of parameters (Altair drops it), a layered layer (Altair renames its own).
    builders["unnamed_selection"] = lambda: layers([pick], [])
    builders["shared_selection"] = lambda: layers([pick], [pick], names=("a", "b"))
    builders["variable"] = lambda: layers([width], [], names=("a", None))
    builders["empty_params"] = lambda: charts.LayerChart(
        layer=[alt.Chart(rates).mark_bar().encode(x="n:Q").properties(params=[])], params=[]
    )
    builders["layered_layer"] = lambda: charts.LayerChart(
        layer=[layers([pick], [], names=("t", None)), alt.Chart(rates).mark_rule().encode(x="n:Q")]
    )
    # Lifted here: selections on named layers, one each or two on one.
    builders["two_selections"] = lambda: layers([pick], [brush], names=("a", "b"))
    builders["both_on_one"] = lambda: layers([pick, brush], [], names=("a", None))
    altairs_way = {
        "unnamed_selection",
        "shared_selection",
        "variable",
        "empty_params",
        "layered_layer",
    }
    lifted_by_altair = []
    combine = charts._ALTAIR_API._combine_subchart_params

    def counted(*args, **kwargs):
        lifted_by_altair.append(1)
        return combine(*args, **kwargs)

    monkeypatch.setattr(charts._ALTAIR_API, "_combine_subchart_params", counted)
    ours, specs = {}, {}
    for name, build in builders.items():
        lifted_by_altair.clear()
        ours[name] = build()
        # Twice: to_dict copies the chart through its __init__.
        specs[name] = (ours[name].to_dict(), ours[name].to_dict())
        assert bool(lifted_by_altair) == (name in altairs_way), name
    assert all(isinstance(chart, charts.LayerChart) for chart in ours.values())
    assert {"two_selections", "both_on_one"} <= {
        name for name, (spec, _) in specs.items() if "params" in spec
    }
    monkeypatch.setattr(charts, "LayerChart", alt.LayerChart)
    for name, build in builders.items():
        altairs = build()
        assert type(altairs) is alt.LayerChart
        assert specs[name] == (altairs.to_dict(), altairs.to_dict()), name


def test_chart_builders_give_altair_channel_objects(con, monkeypatch) -> None:
    # A channel given to encode() as text or a dict (alt.condition gives one) is turned into
    # its class by Altair's from_dict, which hashes the whole Vega-Lite schema first (~9 ms a
    # channel, at every page run): the builders give channel objects.
    from altair.utils import schemapi

    builders = {k: b for k, b in _layered_builders(con).items() if k != "sized_layers"}
    builders["reason_heatmap"] = lambda: charts.reason_heatmap(
        queries.reason_by(con, ALL, "category"), "category", "Category"
    )
    converters = []
    original = schemapi._FromDict.__init__

    def counted(self, *args, **kwargs):
        converters.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(schemapi._FromDict, "__init__", counted)
    for name, build in builders.items():
        converters.clear()
        build()
        assert not converters, name
