-- The facet_counts mart, one registry dimension at a time (dashboard/dimensions.py; the build
-- writes __NAME__, __COLUMN__ and __VALUE__, the column's values one per row): the items and
-- overturned items of scope_facts (the build's item_facts rows in scope) per value. A list
-- counts an item once under each value it holds; no value (NULL, an empty list) is no row.
-- The dashboard's filter options without a filter set are these counts (options_*.sql count
-- the same way), and every value the warehouse holds is here.
with
facet as (
    select __VALUE__ as value, overturned from scope_facts
)
select
    '__NAME__' as dimension,
    value,
    count(*)::bigint as items,
    count_if(overturned)::bigint as overturned
from facet
where value is not null
group by value
