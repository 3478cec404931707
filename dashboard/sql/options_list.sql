-- Sidebar options of a list dimension (__COLUMN__, from the dimension registry) with their item
-- counts over the whole warehouse: an item counts once under each value its list holds.
with
fact as (
    select unnest(__COLUMN__) as value from item_facts
)
select value::varchar as value, count(*) as n
from fact
where value is not null
group by value
order by n desc, value
