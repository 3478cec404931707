-- Headline numbers for the filtered slice (letters counted as queries.letters_count says).
with
filtered as (
    select letter_key, __LETTER_FLAG__ as letter_flag, overturned, synthetic
    from item_facts
    where __FILTERS__
),
counts as (
    select
        __LETTERS__ as letters,
        __SYNTHETIC_LETTERS__ as synthetic_letters,
        count(*) filter (where synthetic)::bigint as synthetic_items,
        count(*) as n,
        count(*) filter (where overturned) as overturned
    from filtered
)
select letters, synthetic_letters, synthetic_items, __RATES__
from counts
