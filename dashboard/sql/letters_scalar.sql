-- Letters per value of a scalar dimension (__COLUMN__, a registry constant) under the filters:
-- the letters behind each row of its rate table (rates_scalar.sql), same values, same order.
with
filtered as (
    select __COLUMN__ as value, letter_key from item_facts where __FILTERS__
)
select value, count(distinct letter_key) as letters
from filtered
where value is not null
group by value
