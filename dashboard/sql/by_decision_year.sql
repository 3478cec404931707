-- Outcomes by decision_year (items whose letters do not state it are left out).
with
filtered as (
    select decision_year, overturned from item_facts where __FILTERS__
),
counts as (
    select decision_year, count(*) as n, count(*) filter (where overturned) as overturned
    from filtered
    where decision_year is not null
    group by decision_year
)
select decision_year, __RATES__
from counts
order by decision_year
