-- Outcomes by category (items without one are left out).
with
filtered as (
    select category, overturned from item_facts where __FILTERS__
),
counts as (
    select category, count(*) as n, count(*) filter (where overturned) as overturned
    from filtered
    where category is not null
    group by category
)
select category, __RATES__
from counts
order by n desc, category
