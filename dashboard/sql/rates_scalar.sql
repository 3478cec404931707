-- Outcomes per value of a scalar dimension: __COLUMN__ is its item_facts column (a constant from
-- the dimension registry). Items without a value are left out. $by_count orders by most items
-- first, else by value. letters: the letters behind each row (counted as queries.letters_count
-- says).
with
filtered as (
    select __COLUMN__ as value, overturned, letter_key, __LETTER_FLAG__ as letter_flag
    from item_facts
    where __FILTERS__
),
counts as (
    select
        value,
        count(*) as n,
        count(*) filter (where overturned) as overturned,
        __LETTERS__ as letters
    from filtered
    where value is not null
    group by value
)
select value, letters, __RATES__
from counts
order by case when $by_count::boolean then n end desc, value
