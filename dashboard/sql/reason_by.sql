-- Per (value of each scalar dimension, reason): the share of that value's upheld items giving
-- the reason, for the filtered slice; per dimension, the $top values with most upheld items
-- only. One pass for several dimensions: __COLUMNS__ are their item_facts columns, __SETS__ a
-- grouping set per column, __REASON_SETS__ the same with reason; set_id is
-- grouping(__COLUMNS__) (as in rates_sets.sql). In a set only its own column has a value, so
-- __VALUE_KEY__ (coalesce of the columns as text) names the value and ordering by all the
-- columns orders by it. queries.reasons_from splits the dimensions. Registry constants only.
-- __REASON_COUNTS__ defines value_totals (set_id, the columns, upheld_items) and counts
-- (set_id, value_key, reason, upheld_with): _reason_counts_bits.sql or _reason_counts_lists.sql.
with
__REASON_COUNTS__,
top_values as (
    select set_id, __VALUE_KEY__ as value_key, __COLUMNS__, upheld_items
    from value_totals
    where __VALUE_KEY__ is not null
    qualify row_number() over (partition by set_id order by upheld_items desc, __COLUMNS__)
        <= $top
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
