-- Outcomes by years_to_decision (items whose letters do not state it are left out).
with
filtered as (
    select years_to_decision, overturned from item_facts where __FILTERS__
),
counts as (
    select years_to_decision, count(*) as n, count(*) filter (where overturned) as overturned
    from filtered
    where years_to_decision is not null
    group by years_to_decision
)
select years_to_decision, __RATES__
from counts
order by years_to_decision
