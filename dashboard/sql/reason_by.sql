-- Per (value of a scalar dimension __COLUMN__, reason): the share of that value's upheld items
-- giving the reason, for the filtered slice; the $top values with most upheld items only.
with
filtered as (
    select __COLUMN__ as value, reasons from item_facts
    where __FILTERS__ and not overturned and __COLUMN__ is not null
),
value_totals as (
    select value, count(*) as upheld_items from filtered group by value
),
top_values as (
    select value, upheld_items from value_totals order by upheld_items desc, value limit $top
),
exploded as (
    select value, unnest(reasons) as reason
    from filtered
    where value in (select value from top_values)
),
counts as (
    select value, reason, count(*) as upheld_with from exploded group by value, reason
)
select
    counts.value,
    counts.reason,
    counts.upheld_with::bigint as upheld_with,
    top_values.upheld_items::bigint as upheld_items,
    counts.upheld_with / top_values.upheld_items as share,
    wilson_low(counts.upheld_with, top_values.upheld_items) as share_lower,
    wilson_high(counts.upheld_with, top_values.upheld_items) as share_upper,
    top_values.upheld_items < $small_n as small_sample
from counts
join top_values using (value)
order by top_values.upheld_items desc, counts.value, counts.upheld_with desc
