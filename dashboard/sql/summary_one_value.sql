-- Headline numbers of the items holding one value of one filter ($dimension, $value), read from
-- the facet_counts mart instead of counted over item_facts: its letters (all, demo ones) are
-- distinct per value, as summary.sql counts them (queries.summary says when it applies). No row
-- in the mart: no item.
with
mart as (
    select items, overturned, letters, synthetic_items, synthetic_letters
    from facet_counts
    where dimension = $dimension and value = $value
),
counts as (
    select
        coalesce(sum(letters), 0)::bigint as letters,
        coalesce(sum(synthetic_letters), 0)::bigint as synthetic_letters,
        coalesce(sum(synthetic_items), 0)::bigint as synthetic_items,
        coalesce(sum(items), 0) as n,
        coalesce(sum(overturned), 0) as overturned
    from mart
)
select letters, synthetic_letters, synthetic_items, __RATES__
from counts
