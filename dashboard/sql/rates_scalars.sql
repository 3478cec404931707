-- Outcomes per value of several scalar dimensions in one pass over the filtered items, a
-- grouping set per dimension (what one rates_scalar.sql per dimension would give, one scan
-- instead of several): __COLUMNS__ are their item_facts columns, __SETS__ one set per column
-- (registry constants). set_id is grouping(__COLUMNS__): a bit per column left out of the
-- row's set, the first column highest. Items without a value are a row of all nulls in their
-- set: queries.rates_from leaves them out, and orders each dimension's rows.
with
filtered as (
    select __COLUMNS__, overturned, letter_key from item_facts where __FILTERS__
),
counts as (
    select
        grouping(__COLUMNS__) as set_id,
        __COLUMNS__,
        count(*) as n,
        count(*) filter (where overturned) as overturned,
        __LETTERS__ as letters
    from filtered
    group by grouping sets (__SETS__)
)
select set_id, __COLUMNS__, letters, __RATES__
from counts
