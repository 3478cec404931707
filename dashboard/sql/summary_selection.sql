-- Headline numbers of one selection of one filter, read from the facet_counts mart instead of
-- counted over item_facts (queries.summary says when: the items holding one value, or one
-- value of several or a range of a letter's own field, whose items and letters add up over
-- its values). The selection as in _pair_counts.sql: $pair_dimension, its values $pair_values
-- or its range $pair_low..$pair_high. The mart's letters (all, demo ones) are distinct per
-- value, as summary.sql counts them. No row in the mart: no item.
with
mart as (
    select items, overturned, letters, synthetic_items, synthetic_letters
    from facet_counts
    where __CHOSEN__
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
