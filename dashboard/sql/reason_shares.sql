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
    select unnest(reasons) as reason, overturned
    from filtered
),
listed as (
    select
        reason,
        count(*) filter (where not overturned) as upheld_with,
        count(*) filter (where overturned) as overturned_with
    from exploded
    group by reason
),
-- The items without a reason, counted apart (cheaper than a one-value list for each).
unlisted as (
    select
        $empty::varchar as reason,
        count(*) filter (where not overturned) as upheld_with,
        count(*) filter (where overturned) as overturned_with
    from filtered
    where len(reasons) = 0
    having count(*) > 0
),
counts as (
    select * from listed
    union all
    select * from unlisted
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
