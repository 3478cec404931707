-- Outcomes by specialty. An item counts once under EACH value its reviewer_specialties lists,
-- so the groups overlap and their n add up to more than the number of items.
with
filtered as (
    select reviewer_specialties, overturned from item_facts where __FILTERS__
),
exploded as (
    select
        unnest(case when len(reviewer_specialties) = 0 then ['(not stated)'] else reviewer_specialties end) as specialty,
        overturned
    from filtered
),
counts as (
    select specialty, count(*) as n, count(*) filter (where overturned) as overturned
    from exploded
    group by specialty
)
select specialty, __RATES__
from counts
order by n desc, specialty
