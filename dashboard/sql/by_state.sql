-- Outcomes by state. An item counts once under EACH value its reviewer_states lists,
-- so the groups overlap and their n add up to more than the number of items.
with
filtered as (
    select reviewer_states, overturned from item_facts where __FILTERS__
),
exploded as (
    select
        unnest(case when len(reviewer_states) = 0 then ['(not stated)'] else reviewer_states end) as state,
        overturned
    from filtered
),
counts as (
    select state, count(*) as n, count(*) filter (where overturned) as overturned
    from exploded
    group by state
)
select state, __RATES__
from counts
order by n desc, state
