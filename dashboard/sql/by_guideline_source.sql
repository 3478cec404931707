-- Outcomes by guideline_source. An item counts once under EACH value its guideline_sources lists,
-- so the groups overlap and their n add up to more than the number of items.
with
filtered as (
    select guideline_sources, overturned from item_facts where __FILTERS__
),
exploded as (
    select
        unnest(case when len(guideline_sources) = 0 then ['(none cited)'] else guideline_sources end) as guideline_source,
        overturned
    from filtered
),
counts as (
    select guideline_source, count(*) as n, count(*) filter (where overturned) as overturned
    from exploded
    group by guideline_source
)
select guideline_source, __RATES__
from counts
order by n desc, guideline_source
