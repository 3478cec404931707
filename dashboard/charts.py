"""Pure chart builders: aggregated polars frame in, ``alt.Chart`` / layered chart out.

Every rate chart shows the 95% Wilson interval as an error bar or band, and small samples
(``small_sample`` column) are drawn faded and labelled in the tooltip. Colours come from the
Streamlit theme (``st.altair_chart(theme="streamlit")``), so charts follow light/dark mode.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Sequence
from typing import Any, Literal

import altair as alt
import polars as pl
from altair.utils import schemapi

# Altair checks every schema object against Vega-Lite's JSON schema as it is built (its debug
# mode): about a fifth of building a chart, on every rerun. The tests check every builder's
# whole spec instead (tests/dashboard/test_dashboard_charts_export.py).
schemapi.disable_debug_mode()

# Altair's own chart module (v5 or v6), for the steps of LayerChart.__init__ kept below.
_ALTAIR_API: Any = inspect.getmodule(alt.LayerChart)


class LayerChart(alt.LayerChart):
    """``alt.LayerChart``, built without Altair's copies of its layers.

    Altair's ``__init__`` deep-copies every layer twice to lift the layers' parameters to the
    chart, and ``to_dict`` copies the chart by running ``__init__`` again: about 60% of
    building and drawing a layered chart, on every rerun (with a selection, 15-30 ms a chart).
    Here a selection on a named layer is lifted as Altair lifts it (``_lifted_params``);
    data and sizes are lifted as Altair does. Anything else (an unnamed layer with a
    selection, a parameter on two layers) takes Altair's way. The tests check the specs equal
    Altair's."""

    def __init__(self, data: Any = alt.Undefined, layer: Sequence[Any] = (), **kwargs: Any):
        lifted = _lifted_params(kwargs.get("params", alt.Undefined), list(layer))
        if lifted is None:
            super().__init__(data=data, layer=list(layer), **kwargs)
            return
        params, layer = lifted
        if params:
            kwargs["params"] = params
        for spec in layer:
            _ALTAIR_API._check_if_valid_subspec(spec, "LayerChart")
            _ALTAIR_API._check_if_can_be_layered(spec)
        # alt.LayerChart's base (the schema class), past its __init__.
        super(alt.LayerChart, self).__init__(data=data, layer=layer, **kwargs)
        self.data, self.layer = _ALTAIR_API._combine_subchart_data(self.data, self.layer)
        sizes, self.layer = _ALTAIR_API._remove_layer_props(self, self.layer, LAYER_PROPS)
        for prop, value in sizes.items():
            self[prop] = value


def _lifted_params(top: Any, layer: list[Any]) -> tuple[list[Any], list[Any]] | None:
    """The chart's parameters and its layers as ``alt.LayerChart`` leaves them: each
    selection of a layer moved to the chart with that layer as its view (``views``), the
    layer without it. None where that takes Altair's own way: a selection on a layer without
    a name (Altair names it by a hash of the layer), one name on two selections (Altair
    merges identical ones), parameters on the chart and on a layer, an empty list of them
    (Altair drops it), a layered layer (Altair renames its layers)."""
    given = [top, *(getattr(spec, "params", alt.Undefined) for spec in layer)]
    if any(_empty(params) for params in given) or any(
        isinstance(spec, alt.LayerChart) for spec in layer
    ):
        return None
    held = [_has_params(getattr(spec, "params", None)) for spec in layer]
    if not any(held):
        if not _has_params(top):
            return [], layer
        # Lifted already (``to_dict`` builds the chart again): Altair keeps them as they are.
        if all(_lifted(param) for param in top):
            return list(top), layer
        return None
    if _has_params(top):
        return None
    params: list[Any] = []
    bare: list[Any] = []
    for spec, holds in zip(layer, held, strict=True):
        if not holds:
            bare.append(spec)
            continue
        if not isinstance(spec, alt.Chart) or not isinstance(spec.name, str):
            return None
        for param in spec.params:
            if type(param) is not alt.SelectionParameter or any(
                param.name == p.name for p in params
            ):
                return None
            selection = param.to_dict(validate=False)
            params.append(alt.TopLevelSelectionParameter(**selection, views=[spec.name]))
        spec = spec.copy(deep=False)
        spec.params = alt.Undefined
        bare.append(spec)
    return params, bare


def _empty(params: Any) -> bool:
    return params is not None and not alt.utils.is_undefined(params) and not params


def _lifted(param: Any) -> bool:
    """A chart's parameter as ``_lifted_params`` (or Altair) leaves it."""
    if isinstance(param, alt.VariableParameter):
        return True
    return isinstance(param, alt.TopLevelSelectionParameter) and bool(param.views)


# What alt.LayerChart moves from its layers to itself.
LAYER_PROPS = ("height", "width", "view")


def _has_params(params: Any) -> bool:
    return params is not None and not alt.utils.is_undefined(params) and bool(params)


Rate = Literal["overturn", "uphold", "same"]

DRUG_CLASS_SELECTION = "drug_class_pick"
# Bars a rate chart draws at most (most items first); pages say so when a table has more.
MAX_BARS = 40

RATE_TITLES: dict[Rate, str] = {
    "overturn": "Overturn rate",
    "uphold": "Uphold rate",
    "same": "Same source as claims administrator",
}

_PCT = ".1%"


def _rate_tooltip(dim: str, dim_title: str, rate: Rate) -> list[alt.Tooltip]:
    return [
        alt.Tooltip(f"{dim}:N", title=dim_title),
        alt.Tooltip("n:Q", title="Items (n)", format=","),
        alt.Tooltip(f"{rate}_rate:Q", title=RATE_TITLES[rate], format=_PCT),
        alt.Tooltip(f"{rate}_lower:Q", title="95% CI low", format=_PCT),
        alt.Tooltip(f"{rate}_upper:Q", title="95% CI high", format=_PCT),
        alt.Tooltip("sample:N", title="Sample"),
    ]


def _with_sample_label(frame: pl.DataFrame) -> pl.DataFrame:
    if "small_sample" not in frame.columns:
        return frame.with_columns(sample=pl.lit("ok"))
    return frame.with_columns(
        sample=pl.when(pl.col("small_sample")).then(pl.lit("small sample")).otherwise(pl.lit("ok"))
    )


def rate_bars(
    frame: pl.DataFrame,
    dim: str,
    *,
    dim_title: str | None = None,
    rate: Rate = "overturn",
    title: str = "",
    max_rows: int | None = MAX_BARS,
    selection: alt.Parameter | None = None,
) -> LayerChart:
    """Horizontal bars of ``<rate>_rate`` per ``dim`` with Wilson error bars, largest n first
    (the first ``max_rows``; None: all)."""
    dim_title = dim_title or dim.replace("_", " ").capitalize()
    data = _with_sample_label(frame if max_rows is None else frame.head(max_rows))
    order = data.get_column(dim).cast(pl.String).to_list() if data.height else []
    # No axis title (the section heading names the dimension; long titles get clipped). Labels
    # stop at 160 px so that a phone keeps room for the bars.
    y = alt.Y(f"{dim}:N", title=None, sort=order, axis=alt.Axis(labelLimit=160))
    # From 0 to the widest interval (rates are mostly small: a 0–100% axis left bars of a few
    # pixels, none on a phone); the legend below the bars for the same reason.
    x_scale = alt.Scale(zero=True, nice=True)
    legend = alt.Legend(orient="bottom")
    opacity: Any
    if selection is not None:
        # Typed, as alt.condition(...) would give: encode() turns a dict into its class through
        # Altair's from_dict, which hashes the whole schema first (~9 ms a channel).
        opacity = alt.OpacityValue(
            0.2,
            condition=alt.ConditionalParameterMarkPropFieldOrDatumDef(
                param=selection.name,
                field="sample",
                type="nominal",
                title="Sample",
                scale=alt.Scale(domain=["ok", "small sample"], range=[1, 0.4]),
                legend=legend,
            ),
        )
    else:
        opacity = alt.Opacity(
            "sample:N",
            title="Sample",
            scale=alt.Scale(domain=["ok", "small sample"], range=[1.0, 0.4]),
            legend=legend,
        )
    base = alt.Chart(data)
    bars = base.mark_bar().encode(
        x=alt.X(
            f"{rate}_rate:Q", title=RATE_TITLES[rate], scale=x_scale, axis=alt.Axis(format="%")
        ),
        y=y,
        opacity=opacity,
        tooltip=_rate_tooltip(dim, dim_title, rate),
    )
    if selection is not None:
        bars = bars.add_params(selection).properties(name="rate_bars")
    errors = base.mark_rule(strokeWidth=1.5, color="gray").encode(
        x=alt.X(f"{rate}_lower:Q", scale=x_scale),
        x2=alt.X2(f"{rate}_upper:Q"),
        y=y,
        tooltip=_rate_tooltip(dim, dim_title, rate),
    )
    labels = (
        base.mark_text(align="left", dx=4, fontSize=10, color="gray")
        .encode(
            x=alt.X(f"{rate}_upper:Q", scale=x_scale),
            y=y,
            text=alt.Text("n_label:N"),
        )
        .transform_calculate(n_label="'n=' + format(datum.n, ',')")
    )
    # A fixed step per bar: Vega-Lite sizes the plot to the number of rows.
    return LayerChart(layer=[bars, errors, labels], title=title, height=alt.Step(24))


def drug_class_bars(frame: pl.DataFrame, *, rate: Rate = "overturn") -> LayerChart:
    """Overturn rate by drug class; click a bar to select the class (param ``drug_class_pick``)."""
    pick = alt.selection_point(name=DRUG_CLASS_SELECTION, fields=["drug_class"], on="click")
    return rate_bars(
        frame,
        "drug_class",
        dim_title="Drug class",
        rate=rate,
        title=f"{RATE_TITLES[rate]} by drug class (click a bar to see its drugs)",
        max_rows=None,  # every class: the chart is where a class is picked
        selection=pick,
    )


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Vega-Lite breaks a line or band at a row without a value and keeps its x on the axis.
_BREAK: Literal["break-paths-show-domains"] = "break-paths-show-domains"


def _sequence(values: list[Any]) -> list[Any] | None:
    """Every value of an ordered axis from the first to the last: integers (years), quarters
    ``2016-Q3`` or months ``2016-07``; None for any other axis."""
    if all(isinstance(v, int) for v in values):
        return list(range(min(values), max(values) + 1))
    for pattern, per_year, fmt in ((_QUARTER, 4, "{}-Q{}"), (_MONTH, 12, "{}-{:02d}")):
        parts = [pattern.match(str(v)) for v in values]
        if all(parts):
            steps = [int(m.group(1)) * per_year + int(m.group(2)) - 1 for m in parts if m]
            return [
                fmt.format(step // per_year, step % per_year + 1)
                for step in range(min(steps), max(steps) + 1)
            ]
    return None


def with_gaps(frame: pl.DataFrame, x: str) -> pl.DataFrame:
    """A trend's rows plus an empty row (no n, no rate) for every value missing between its
    first and last, so that its line breaks there instead of bridging the gap."""
    values = [v for v in frame.get_column(x).to_list() if v is not None] if frame.height else []
    full = _sequence(values) if len(values) > 1 else None
    if full is None:
        return frame
    have = set(values)
    missing = [v for v in full if v not in have]
    if not missing:
        return frame
    gaps = pl.DataFrame({x: missing}, schema={x: frame.schema[x]})
    return pl.concat([frame, gaps], how="diagonal_relaxed").sort(x)


def _trend_layers(x_enc: alt.X, x_title: str, x: str, rate: Rate) -> list[alt.Chart]:
    """Band (Wilson interval), line and points; data comes from the enclosing LayerChart.
    Rows without a rate (``with_gaps``) break the band and the line."""
    y_scale = alt.Scale(domain=[0, 1])
    base = alt.Chart()
    band = base.mark_area(opacity=0.2, invalid=_BREAK).encode(
        x=x_enc, y=alt.Y(f"{rate}_lower:Q", scale=y_scale), y2=alt.Y2(f"{rate}_upper:Q")
    )
    line = base.mark_line(invalid=_BREAK).encode(
        x=x_enc,
        y=alt.Y(
            f"{rate}_rate:Q", title=RATE_TITLES[rate], scale=y_scale, axis=alt.Axis(format="%")
        ),
    )
    points = base.mark_point(filled=True, size=60).encode(
        x=x_enc,
        y=alt.Y(f"{rate}_rate:Q", scale=y_scale),
        shape=alt.Shape(
            "sample:N",
            title="Sample",
            scale=alt.Scale(domain=["ok", "small sample"], range=["circle", "triangle"]),
            legend=alt.Legend(orient="bottom"),  # below: a phone keeps the plot's width
        ),
        opacity=alt.Opacity(
            "sample:N", legend=None, scale=alt.Scale(domain=["ok", "small sample"], range=[1, 0.5])
        ),
        tooltip=_rate_tooltip(x, x_title, rate),
    )
    return [band, line, points]


def rate_trend(
    frame: pl.DataFrame,
    x: str,
    *,
    x_title: str | None = None,
    rate: Rate = "overturn",
    title: str = "",
) -> LayerChart:
    """Rate over an ordered integer axis (year, years since injury) with a Wilson band."""
    x_title = x_title or x.replace("_", " ").capitalize()
    x_enc = alt.X(f"{x}:O", title=x_title, axis=alt.Axis(labelAngle=0))
    return LayerChart(
        data=_with_sample_label(with_gaps(frame, x)),
        layer=_trend_layers(x_enc, x_title, x, rate),
        title=title,
        height=300,
    )


def decision_year_trend(frame: pl.DataFrame, published: pl.DataFrame) -> LayerChart:
    """Overturn rate by decision year (ours, per item, with Wilson band; the line breaks at
    years without items) and the published DWC / CWCI overturn shares (1 − the upheld share
    they publish) as reference points (``published``: publisher, year, value, reference)."""
    ref = published.select(
        pl.col("publisher"),
        pl.col("year").cast(pl.Int64).alias("decision_year"),
        pl.col("value").alias("published_overturn_share"),
        pl.col("reference"),
    )
    data = _with_sample_label(with_gaps(frame, "decision_year"))
    years = sorted(
        {int(y) for y in data.get_column("decision_year").to_list()}
        | {int(y) for y in ref.get_column("decision_year").to_list()}
    )
    x_enc = alt.X("decision_year:O", title="Decision year", sort=years, axis=alt.Axis(labelAngle=0))
    reference = (
        alt.Chart(ref)
        .mark_point(size=110, strokeWidth=2, shape="diamond")
        .encode(
            x=x_enc,
            y=alt.Y("published_overturn_share:Q", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "publisher:N",
                title="Published",
                scale=alt.Scale(domain=["DWC", "CWCI"], range=["#d62728", "#ff7f0e"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("publisher:N", title="Publisher"),
                alt.Tooltip("decision_year:O", title="Year"),
                alt.Tooltip(
                    "published_overturn_share:Q",
                    title="Published overturn share (1 − upheld share)",
                    format=_PCT,
                ),
                alt.Tooltip("reference:N", title="Source"),
            ],
        )
    )
    return LayerChart(
        data=data,
        layer=[*_trend_layers(x_enc, "Decision year", "decision_year", "overturn"), reference],
        title="Overturn rate by decision year — ours (per item, 95% CI) vs published",
        height=320,
    )


def timeliness_chart(frame: pl.DataFrame) -> LayerChart:
    """Median days from application to decision by priority, with the 25th–75th percentile."""
    base = alt.Chart(frame)
    y = alt.Y("priority:N", title="Priority")
    tooltip = [
        alt.Tooltip("priority:N", title="Priority"),
        alt.Tooltip("letters:Q", title="Letters (n)", format=","),
        alt.Tooltip("median_days:Q", title="Median days", format=".0f"),
        alt.Tooltip("p25_days:Q", title="25th percentile", format=".0f"),
        alt.Tooltip("p75_days:Q", title="75th percentile", format=".0f"),
        alt.Tooltip("p90_days:Q", title="90th percentile", format=".0f"),
    ]
    # Explicit colours, opaque enough for a dark background as well as a light one.
    iqr = base.mark_rule(strokeWidth=8, opacity=0.85, color="#4c9be8").encode(
        x=alt.X("p25_days:Q", title="Days from application received to decision"),
        x2=alt.X2("p75_days:Q"),  # channel objects: a string costs Altair a from_dict
        y=y,
        tooltip=tooltip,
    )
    median = base.mark_tick(thickness=3, size=20, color="#f58518").encode(
        x=alt.X("median_days:Q"), y=y, tooltip=tooltip
    )
    return LayerChart(
        layer=[iqr, median],
        title="Days to decision (median, 25th–75th percentile)",
        height=alt.Step(40),
    )


SHARE_TICKS = [0, 0.25, 0.5, 0.75, 1]


def share_bars(
    frame: pl.DataFrame,
    dim: str,
    *,
    share: str = "share",
    count: str = "present",
    total: str = "total",
    dim_title: str | None = None,
    title: str = "",
) -> alt.Chart:
    """Plain share bars (e.g. parse coverage per field)."""
    dim_title = dim_title or dim.replace("_", " ").capitalize()
    order = frame.get_column(dim).to_list() if frame.height else []
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{share}:Q",
                title="Share",
                scale=alt.Scale(domain=[0, 1]),
                # Fixed quarters: on a phone Vega drops every other label, keeping 0, 50 and
                # 100% (its own ticks stopped at 80%, and coverage is read against 100%).
                axis=alt.Axis(format="%", values=SHARE_TICKS, labelFlush=True),
            ),
            y=alt.Y(f"{dim}:N", title=dim_title, sort=order, axis=alt.Axis(labelLimit=260)),
            tooltip=[
                alt.Tooltip(f"{dim}:N", title=dim_title),
                alt.Tooltip(f"{share}:Q", title="Share", format=_PCT),
                alt.Tooltip(f"{count}:Q", title="Present", format=","),
                alt.Tooltip(f"{total}:Q", title="Total", format=","),
            ],
        )
        .properties(title=title, height=alt.Step(20))
    )


CELL_SELECTION = "cell_pick"


def crosstab_heatmap(
    frame: pl.DataFrame,
    *,
    row_title: str,
    col_title: str,
    rate: Rate = "overturn",
) -> LayerChart:
    """A heatmap of ``<rate>_rate`` per (``row_value``, ``col_value``) cell of a cross-tab
    (``queries.crosstab``), axes in ``row_order`` / ``col_order``. Every cell shows its rate
    and n; small samples have a dashed outline and a ``*``; the tooltip gives the 95% Wilson
    interval. Clicking a cell selects it (param ``cell_pick``: ``row_value``, ``col_value``)."""
    rows = frame.sort("row_order").get_column("row_value").unique(maintain_order=True).to_list()
    cols = frame.sort("col_order").get_column("col_value").unique(maintain_order=True).to_list()
    top = float(frame.get_column(f"{rate}_rate").fill_null(0.0).max() or 0.0)  # type: ignore[arg-type]
    data = _with_sample_label(frame).with_columns(
        cell_label=pl.format(
            "{}%\nn={}{}",
            (pl.col(f"{rate}_rate") * 100).round(0).cast(pl.Int64),
            pl.col("n"),
            pl.when(pl.col("small_sample")).then(pl.lit("*")).otherwise(pl.lit("")),
        ),
        dark=pl.col(f"{rate}_rate") > 0.6 * max(top, 1e-9),
    )
    pick = alt.selection_point(
        name=CELL_SELECTION, fields=["row_value", "col_value"], on="click", clear="dblclick"
    )
    # Every column's label, even where their boxes touch: Vega's overlap test hid two of three
    # at 1400 px, but slanted labels one step apart do not cross.
    x = alt.X(
        "col_value:N",
        title=col_title,
        sort=cols,
        axis=alt.Axis(orient="top", labelAngle=-35, labelLimit=180, labelOverlap=False),
    )
    y = alt.Y("row_value:N", title=row_title, sort=rows, axis=alt.Axis(labelLimit=240))
    tooltip = [
        alt.Tooltip("row_value:N", title=row_title),
        alt.Tooltip("col_value:N", title=col_title),
        alt.Tooltip("n:Q", title="Items (n)", format=","),
        alt.Tooltip("overturned:Q", title="Overturned", format=","),
        alt.Tooltip(f"{rate}_rate:Q", title=RATE_TITLES[rate], format=_PCT),
        alt.Tooltip(f"{rate}_lower:Q", title="95% CI low", format=_PCT),
        alt.Tooltip(f"{rate}_upper:Q", title="95% CI high", format=_PCT),
        alt.Tooltip("sample:N", title="Sample"),
    ]
    base = alt.Chart(data).encode(x=x, y=y)
    cells = (
        base.mark_rect(stroke="gray", strokeWidth=1)
        .encode(
            color=alt.Color(
                f"{rate}_rate:Q",
                title=RATE_TITLES[rate],
                scale=alt.Scale(scheme="blues", domain=[0, max(top, 0.01)]),
                legend=alt.Legend(format="%"),
            ),
            strokeDash=alt.StrokeDash(
                "sample:N",
                title="Sample",
                scale=alt.Scale(domain=["ok", "small sample"], range=[[1, 0], [4, 3]]),
            ),
            tooltip=tooltip,
        )
        .add_params(pick)
        .properties(name="crosstab_cells")
    )
    labels = base.mark_text(fontSize=10, lineBreak="\n").encode(
        text=alt.Text("cell_label:N"),
        color=alt.ColorValue(  # typed: see rate_bars
            "black",
            condition=alt.ConditionalPredicateValueDefGradientstringnullExprRef(
                test="datum.dark", value="white"
            ),
        ),
        tooltip=tooltip,
    )
    return LayerChart(layer=[cells, labels], height=alt.Step(34), width=alt.Step(70))


# A heatmap's narrowest legible width (ui.wide_chart): its row labels and colour legend, and
# each column at its step: a cross-tab cell's "100%" and "n=1234" in 10 px type; a reason
# heatmap's slanted labels clear of each other.
CROSSTAB_MIN_STEP = 44
CROSSTAB_MARGINS = 300
REASON_MIN_STEP = 24
REASON_MARGINS = 330


def crosstab_min_width(frame: pl.DataFrame) -> int:
    """The pixels under which ``crosstab_heatmap(frame)`` scrolls instead of shrinking."""
    return CROSSTAB_MARGINS + CROSSTAB_MIN_STEP * frame.get_column("col_value").n_unique()


def reason_heatmap_min_width(frame: pl.DataFrame) -> int:
    """The pixels under which ``reason_heatmap(frame, ...)`` scrolls instead of shrinking."""
    return REASON_MARGINS + REASON_MIN_STEP * frame.get_column("reason").n_unique()


def funnel_chart(
    groups: pl.DataFrame,
    limits: pl.DataFrame,
    p0: float,
    *,
    dim: str,
    dim_title: str,
) -> LayerChart:
    """A funnel plot: each group's overturn rate against its n (log scale), with the 95% and
    99.8% control limits (``limits``: ``n``, ``low_95``, ``high_95``, ``low_99_8``,
    ``high_99_8``) around the overall rate ``p0``. Points outside a limit are coloured;
    the tooltip gives the test and its Benjamini–Hochberg adjusted p-value."""
    status = (
        pl.when(pl.col("outside_99_8"))
        .then(pl.lit("outside 99.8%"))
        .when(pl.col("outside_95"))
        .then(pl.lit("outside 95%"))
        .otherwise(pl.lit("within limits"))
    )
    points_data = groups.with_columns(status=status)
    x_scale = alt.Scale(type="log", domainMin=1)
    y_scale = alt.Scale(domain=[0, 1], clamp=True)
    x = alt.X("n:Q", title="Items (n, log scale)", scale=x_scale)
    band = (
        alt.Chart(limits)
        .mark_area(opacity=0.12)
        .encode(x=x, y=alt.Y("low_99_8:Q", scale=y_scale), y2=alt.Y2("high_99_8:Q"))
    )
    lines = []
    for level, dash in (("95", [4, 3]), ("99_8", [1, 0])):
        for side in ("low", "high"):
            lines.append(
                alt.Chart(limits)
                .mark_line(color="gray", strokeDash=dash, strokeWidth=1)
                .encode(x=x, y=alt.Y(f"{side}_{level}:Q", scale=y_scale))
            )
    centre = (
        alt.Chart(pl.DataFrame({"p0": [p0]}))
        .mark_rule(color="gray")
        .encode(y=alt.Y("p0:Q", scale=y_scale))
    )
    points = (
        alt.Chart(points_data)
        .mark_point(filled=True, size=70)
        .encode(
            x=x,
            y=alt.Y(
                "overturn_rate:Q", title="Overturn rate", scale=y_scale, axis=alt.Axis(format="%")
            ),
            color=alt.Color(
                "status:N",
                title="Against the overall rate",
                # Below, in two columns: a phone keeps the plot's width and every label.
                legend=alt.Legend(orient="bottom", columns=2),
                scale=alt.Scale(
                    domain=["within limits", "outside 95%", "outside 99.8%"],
                    range=["#4c78a8", "#f58518", "#d62728"],
                ),
            ),
            tooltip=[
                alt.Tooltip(f"{dim}:N", title=dim_title),
                alt.Tooltip("n:Q", title="Items (n)", format=","),
                alt.Tooltip("overturn_rate:Q", title="Overturn rate", format=_PCT),
                alt.Tooltip("status:N", title="Funnel"),
                alt.Tooltip("p_value:Q", title="p (binomial test)", format=".3g"),
                alt.Tooltip("q_value:Q", title="q (Benjamini–Hochberg)", format=".3g"),
            ],
        )
    )
    return LayerChart(
        layer=[band, *lines, centre, points],
        title=f"Overturn rate by {dim_title.lower()} against n, with 95% and 99.8% limits",
        height=360,
    )


REASON_SELECTION = "reason_pick"


def reason_share_bars(frame: pl.DataFrame, *, selectable: bool = False) -> LayerChart:
    """Per reason (``queries.reason_shares``): the share of upheld items giving it, with its
    95% Wilson interval; clicking a bar selects the reason (param ``reason_pick``)."""
    data = frame.with_columns(
        sample=pl.when(pl.col("small_sample")).then(pl.lit("small sample")).otherwise(pl.lit("ok"))
    )
    order = data.get_column("reason").to_list() if data.height else []
    # As rate_bars: labels stop at 160 px, the axis at the widest interval and the legend
    # below, so that a phone keeps room for the bars (a 0-100% axis beside a legend left
    # them a few dozen pixels at 390 px).
    y = alt.Y("reason:N", title=None, sort=order, axis=alt.Axis(labelLimit=160))
    scale = alt.Scale(zero=True, nice=True)
    tooltip = [
        alt.Tooltip("reason:N", title="Reason"),
        alt.Tooltip("upheld_with:Q", title="Upheld items giving it", format=","),
        alt.Tooltip("upheld_items:Q", title="Upheld items (n)", format=","),
        alt.Tooltip("share:Q", title="Share of upheld items", format=_PCT),
        alt.Tooltip("share_lower:Q", title="95% CI low", format=_PCT),
        alt.Tooltip("share_upper:Q", title="95% CI high", format=_PCT),
        alt.Tooltip("overturned_with:Q", title="Overturned items giving it", format=","),
    ]
    base = alt.Chart(data)
    bars = base.mark_bar().encode(
        x=alt.X("share:Q", title="Share of upheld items", scale=scale, axis=alt.Axis(format="%")),
        y=y,
        opacity=alt.Opacity(
            "sample:N",
            title="Sample",
            scale=alt.Scale(domain=["ok", "small sample"], range=[1, 0.4]),
            legend=alt.Legend(orient="bottom"),
        ),
        tooltip=tooltip,
    )
    if selectable:
        bars = bars.add_params(
            alt.selection_point(name=REASON_SELECTION, fields=["reason"], on="click")
        ).properties(name="reason_bars")
    errors = base.mark_rule(strokeWidth=1.5, color="gray").encode(
        x=alt.X("share_lower:Q", scale=scale), x2=alt.X2("share_upper:Q"), y=y, tooltip=tooltip
    )
    return LayerChart(layer=[bars, errors], height=alt.Step(24))


def reason_heatmap(frame: pl.DataFrame, dim: str, dim_title: str) -> alt.Chart:
    """Share of each value's upheld items giving each reason (``queries.reason_by``): rows are
    the values (most upheld items first), columns the reasons; n in the tooltip."""
    rows = frame.get_column(dim).unique(maintain_order=True).to_list() if frame.height else []
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            # Every reason's label (slanted ones a step apart do not cross: REASON_MIN_STEP);
            # Vega's overlap test, by their boxes, hid every other one at a phone's width.
            x=alt.X(
                "reason:N",
                title=None,
                axis=alt.Axis(labelAngle=-40, labelLimit=200, labelOverlap=False),
            ),
            y=alt.Y(f"{dim}:N", title=None, sort=rows, axis=alt.Axis(labelLimit=220)),
            color=alt.Color(
                "share:Q",
                title="Share of upheld items",
                scale=alt.Scale(domain=[0, 1], scheme="blues"),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                alt.Tooltip(f"{dim}:N", title=dim_title),
                alt.Tooltip("reason:N", title="Reason"),
                alt.Tooltip("share:Q", title="Share of upheld items", format=_PCT),
                alt.Tooltip("share_lower:Q", title="95% CI low", format=_PCT),
                alt.Tooltip("share_upper:Q", title="95% CI high", format=_PCT),
                alt.Tooltip("upheld_with:Q", title="Giving it", format=","),
                alt.Tooltip("upheld_items:Q", title="Upheld items (n)", format=","),
            ],
        )
        .properties(height=alt.Step(22))
    )
