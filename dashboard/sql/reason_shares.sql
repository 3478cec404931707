-- For the filtered slice: per reason, how many upheld items give it (share of the upheld items,
-- with its 95% Wilson interval) and how many overturned items give it. An item counts under
-- each of its reasons; items with none count under $empty.
with
filtered as (
    select reasons, overturned from item_facts where __FILTERS__
),
totals as (
    select
        count(*) filter (where not overturned) as upheld_items,
        count(*) filter (where overturned) as overturned_items
    from filtered
),
exploded as (
    select
        unnest(case when len(reasons) = 0 then [$empty::varchar] else reasons end) as reason,
        overturned
    from filtered
),
counts as (
    select
        reason,
        count(*) filter (where not overturned) as upheld_with,
        count(*) filter (where overturned) as overturned_with
    from exploded
    group by reason
)
select
    counts.reason,
    counts.upheld_with::bigint as upheld_with,
    totals.upheld_items::bigint as upheld_items,
    counts.upheld_with / nullif(totals.upheld_items, 0) as share,
    wilson_low(counts.upheld_with, totals.upheld_items) as share_lower,
    wilson_high(counts.upheld_with, totals.upheld_items) as share_upper,
    counts.overturned_with::bigint as overturned_with,
    totals.overturned_items::bigint as overturned_items,
    totals.upheld_items < $small_n as small_sample
from counts, totals
order by counts.upheld_with desc, counts.overturned_with desc, counts.reason
