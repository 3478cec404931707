-- Headline numbers for the filtered slice.
with
filtered as (
    select letter_key, overturned, synthetic from item_facts where __FILTERS__
),
counts as (
    select
        count(distinct letter_key) as letters,
        count(distinct letter_key) filter (where synthetic) as synthetic_letters,
        count(*) filter (where synthetic)::bigint as synthetic_items,
        count(*) as n,
        count(*) filter (where overturned) as overturned
    from filtered
)
select letters, synthetic_letters, synthetic_items, __RATES__
from counts
