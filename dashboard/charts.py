"""Pure chart builders: aggregated polars frame in, ``alt.Chart`` / layered chart out.

Every rate chart shows the 95% Wilson interval as an error bar or band, and small samples
(``small_sample`` column) are drawn faded and labelled in the tooltip. Colours come from the
Streamlit theme (``st.altair_chart(theme="streamlit")``), so charts follow light/dark mode.
"""

from __future__ import annotations

from typing import Any, Literal

import altair as alt
import polars as pl

Rate = Literal["overturn", "uphold", "same"]

DRUG_CLASS_SELECTION = "drug_class_pick"

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
    max_rows: int = 40,
    selection: alt.Parameter | None = None,
) -> alt.LayerChart:
    """Horizontal bars of ``<rate>_rate`` per ``dim`` with Wilson error bars, largest n first."""
    dim_title = dim_title or dim.replace("_", " ").capitalize()
    data = _with_sample_label(frame.head(max_rows))
    order = data.get_column(dim).cast(pl.String).to_list() if data.height else []
    # No axis title (the section heading names the dimension; long titles get clipped).
    y = alt.Y(f"{dim}:N", title=None, sort=order, axis=alt.Axis(labelLimit=260))
    x_scale = alt.Scale(domain=[0, 1])
    opacity: Any
    if selection is not None:
        opacity = alt.condition(
            selection,
            alt.Opacity(
                "sample:N",
                title="Sample",
                scale=alt.Scale(domain=["ok", "small sample"], range=[1, 0.4]),
            ),
            alt.value(0.2),
        )
    else:
        opacity = alt.Opacity(
            "sample:N",
            title="Sample",
            scale=alt.Scale(domain=["ok", "small sample"], range=[1.0, 0.4]),
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
        bars = bars.add_params(selection)
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
    return alt.LayerChart(layer=[bars, errors, labels], title=title, height=alt.Step(24))


def drug_class_bars(frame: pl.DataFrame, *, rate: Rate = "overturn") -> alt.LayerChart:
    """Overturn rate by drug class; click a bar to select the class (param ``drug_class_pick``)."""
    pick = alt.selection_point(name=DRUG_CLASS_SELECTION, fields=["drug_class"], on="click")
    return rate_bars(
        frame,
        "drug_class",
        dim_title="Drug class",
        rate=rate,
        title=f"{RATE_TITLES[rate]} by drug class (click a bar to see its drugs)",
        selection=pick,
    )


def _trend_layers(x_enc: alt.X, x_title: str, x: str, rate: Rate) -> list[alt.Chart]:
    """Band (Wilson interval), line and points; data comes from the enclosing LayerChart."""
    y_scale = alt.Scale(domain=[0, 1])
    base = alt.Chart()
    band = base.mark_area(opacity=0.2).encode(
        x=x_enc, y=alt.Y(f"{rate}_lower:Q", scale=y_scale), y2=alt.Y2(f"{rate}_upper:Q")
    )
    line = base.mark_line().encode(
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
    rate: Rate = "uphold",
    title: str = "",
) -> alt.LayerChart:
    """Rate over an ordered integer axis (year, years since injury) with a Wilson band."""
    x_title = x_title or x.replace("_", " ").capitalize()
    x_enc = alt.X(f"{x}:O", title=x_title, axis=alt.Axis(labelAngle=0))
    return alt.LayerChart(
        data=_with_sample_label(frame),
        layer=_trend_layers(x_enc, x_title, x, rate),
        title=title,
        height=300,
    )


def decision_year_trend(frame: pl.DataFrame, published: pl.DataFrame) -> alt.LayerChart:
    """Uphold rate by decision year (ours, per item, with Wilson band) and the published
    DWC / CWCI upheld shares as reference points (``published``: publisher, year, value)."""
    ref = published.select(
        pl.col("publisher"),
        pl.col("year").cast(pl.Int64).alias("decision_year"),
        pl.col("value").alias("published_upheld_share"),
        pl.col("reference"),
    )
    years = sorted(
        {int(y) for y in frame.get_column("decision_year").to_list()}
        | {int(y) for y in ref.get_column("decision_year").to_list()}
    )
    x_enc = alt.X("decision_year:O", title="Decision year", sort=years, axis=alt.Axis(labelAngle=0))
    reference = (
        alt.Chart(ref)
        .mark_point(size=110, strokeWidth=2, shape="diamond")
        .encode(
            x=x_enc,
            y=alt.Y("published_upheld_share:Q", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "publisher:N",
                title="Published",
                scale=alt.Scale(domain=["DWC", "CWCI"], range=["#d62728", "#ff7f0e"]),
            ),
            tooltip=[
                alt.Tooltip("publisher:N", title="Publisher"),
                alt.Tooltip("decision_year:O", title="Year"),
                alt.Tooltip(
                    "published_upheld_share:Q", title="Published upheld share", format=_PCT
                ),
                alt.Tooltip("reference:N", title="Source"),
            ],
        )
    )
    return alt.LayerChart(
        data=_with_sample_label(frame),
        layer=[*_trend_layers(x_enc, "Decision year", "decision_year", "uphold"), reference],
        title="Uphold rate by decision year — ours (per item, 95% CI) vs published",
        height=320,
    )


def timeliness_chart(frame: pl.DataFrame) -> alt.LayerChart:
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
    iqr = base.mark_rule(strokeWidth=6, opacity=0.4).encode(
        x=alt.X("p25_days:Q", title="Days from application received to decision"),
        x2="p75_days:Q",
        y=y,
        tooltip=tooltip,
    )
    median = base.mark_tick(thickness=3, size=20).encode(x="median_days:Q", y=y, tooltip=tooltip)
    return alt.LayerChart(
        layer=[iqr, median],
        title="Days to decision (median, 25th–75th percentile)",
        height=alt.Step(40),
    )


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
                axis=alt.Axis(format="%"),
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
