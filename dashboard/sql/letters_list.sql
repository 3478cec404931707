-- Letters per value of a list dimension (__COLUMN__, a registry constant) under the filters:
-- the letters behind each row of its rate table (rates_list.sql; an empty list counts under
-- $empty, left out when NULL).
with
filtered as (
    select __COLUMN__ as value_list, letter_key from item_facts where __FILTERS__
),
exploded as (
    select
        unnest(case when len(value_list) = 0 then [$empty::varchar] else value_list end) as value,
        letter_key
    from filtered
)
select value, count(distinct letter_key) as letters
from exploded
where value is not null
group by value
