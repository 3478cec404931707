-- Outcomes per value of a list dimension: __COLUMN__ is its varchar[] item_facts column (a
-- constant from the dimension registry). An item counts once under EACH value its list holds,
-- so the groups overlap and their n add up to more than the number of items; an item with an
-- empty list counts under $empty (left out when $empty is NULL). $by_count orders by most
-- items first, else by value. letters: the letters behind each row (counted as
-- queries.letters_count says).
with
-- Not materialized: read twice (listed, unlisted), DuckDB would keep every filtered item's list
-- in memory; unfiltered, over the dashboard's 512 MB pool, that spilled to disk (guideline
-- documents at 4M items: 1.5 s; a second scan costs about 10 ms under a filter). Every
-- column: inlined, it reads only those used (unlisted: the list's bits, _empty_list.sql).
filtered as not materialized (
    select *, __LETTER_FLAG__ as letter_flag from item_facts where __FILTERS__
),
exploded as (
    select unnest(__COLUMN__) as value, overturned, letter_key, letter_flag
    from filtered
),
listed as (
    select
        value,
        count(*) as n,
        count(*) filter (where overturned) as overturned,
        __LETTERS__ as letters
    from exploded
    where value is not null
    group by value
),
-- The items with an empty list, counted apart: giving each a one-value list to unnest
-- doubled the cost of the whole query.
unlisted as (
    select
        $empty::varchar as value,
        count(*) as n,
        count(*) filter (where overturned) as overturned,
        __LETTERS__ as letters
    from filtered
    where __EMPTY_LIST__ and $empty::varchar is not null
    having count(*) > 0
),
counts as (
    select * from listed
    union all
    select * from unlisted
)
select value, letters, __RATES__
from counts
order by case when $by_count::boolean then n end desc, value
