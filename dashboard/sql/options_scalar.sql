-- Sidebar options of a scalar dimension (__COLUMN__, from the dimension registry) with their
-- item counts over the whole warehouse.
with
fact as (
    select __COLUMN__ as value from item_facts
)
select value::varchar as value, count(*) as n
from fact
where value is not null
group by value
order by n desc, value
