-- Per (value of each scalar dimension, reason): the share of that value's upheld items giving
-- the reason, for the filtered slice; per dimension, the $top values with most upheld items
-- only. One pass for several dimensions: __COLUMNS__ are their item_facts columns, __SETS__ a
-- grouping set per column, __REASON_SETS__ the same with reason; set_id is
-- grouping(__COLUMNS__) (as in rates_sets.sql). In a set only its own column has a value, so
-- __VALUE_KEY__ (coalesce of the columns as text) names the value and ordering by all the
-- columns orders by it. queries.reasons_from splits the dimensions. Registry constants only.
with
-- Not materialized: read twice (value_totals, exploded), unfiltered it held 3.7M items' lists
-- (505-546 -> 245-249 ms at 4M items under the dashboard's 512 MB pool; no change filtered).
filtered as not materialized (
    select __COLUMNS__, reasons from item_facts where __FILTERS__ and not overturned
),
value_totals as (
    select grouping(__COLUMNS__) as set_id, __COLUMNS__, count(*) as upheld_items
    from filtered
    group by grouping sets (__SETS__)
),
top_values as (
    select set_id, __VALUE_KEY__ as value_key, __COLUMNS__, upheld_items
    from value_totals
    where __VALUE_KEY__ is not null
    qualify row_number() over (partition by set_id order by upheld_items desc, __COLUMNS__)
        <= $top
),
exploded as (
    select __COLUMNS__, unnest(reasons) as reason
    from filtered
),
counts as (
    select
        grouping(__COLUMNS__) as set_id,
        __VALUE_KEY__ as value_key,
        reason,
        count(*) as upheld_with
    from exploded
    group by grouping sets (__REASON_SETS__)
)
select
    top_values.set_id,
    __TOP_COLUMNS__,
    counts.reason,
    counts.upheld_with::bigint as upheld_with,
    top_values.upheld_items::bigint as upheld_items,
    __REASON_SHARES__
from counts
join top_values using (set_id, value_key)
order by
    top_values.set_id,
    top_values.upheld_items desc,
    __TOP_COLUMNS__,
    counts.upheld_with desc,
    counts.reason
