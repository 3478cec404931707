-- Outcomes by request category and subcategory.
with
filtered as (
    select category, subcategory, overturned from item_facts where __FILTERS__
),
counts as (
    select
        coalesce(category, '(unclassified)') as category,
        coalesce(subcategory, '(none)') as subcategory,
        count(*) as n,
        count(*) filter (where overturned) as overturned
    from filtered
    group by all
)
select category, subcategory, __RATES__
from counts
order by category, n desc, subcategory
