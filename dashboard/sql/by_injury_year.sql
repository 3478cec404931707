-- Outcomes by injury_year (items whose letters do not state it are left out).
with
filtered as (
    select injury_year, overturned from item_facts where __FILTERS__
),
counts as (
    select injury_year, count(*) as n, count(*) filter (where overturned) as overturned
    from filtered
    where injury_year is not null
    group by injury_year
)
select injury_year, __RATES__
from counts
order by injury_year
