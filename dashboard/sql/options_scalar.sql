-- Sidebar options of a scalar dimension (__COLUMN__, from the dimension registry): every value
-- the warehouse holds, with its items under the filters given (the other filters: a facet's
-- counts follow them, as Datasette's do). Values without items under them count 0 and come
-- last; with no filter, the counts are the whole warehouse's.
with
every_value as (
    select distinct __COLUMN__::varchar as value from item_facts
),
filtered as (
    select __COLUMN__::varchar as value from item_facts where __FILTERS__
),
counts as (
    select value, count(*) as n from filtered group by value
)
select every_value.value, coalesce(counts.n, 0) as n
from every_value
left join counts using (value)
where every_value.value is not null
order by n desc, every_value.value
