-- Per reason: how many upheld items give it (share of the slice's $upheld_items, with its 95%
-- Wilson interval) and how many overturned items give it. Read from the reason dimension's
-- rate table the page has already (reason_rates, registered by queries.shares_from: an item
-- counts under each of its reasons, items with none under the dimension's empty label), so
-- the items' reasons are not unnested a second time.
with
reasons as (
    select reason, n - overturned as upheld_with, overturned as overturned_with
    from reason_rates
)
select
    reason,
    upheld_with::bigint as upheld_with,
    $upheld_items::bigint as upheld_items,
    upheld_with / nullif($upheld_items, 0) as share,
    wilson_low(upheld_with, $upheld_items) as share_lower,
    wilson_high(upheld_with, $upheld_items) as share_upper,
    overturned_with::bigint as overturned_with,
    $overturned_items::bigint as overturned_items,
    $upheld_items < $small_n as small_sample
from reasons
order by upheld_with desc, overturned_with desc, reason
