-- Outcomes by guideline_document. An item counts once under EACH value its guideline_documents lists,
-- so the groups overlap and their n add up to more than the number of items.
with
filtered as (
    select guideline_documents, overturned from item_facts where __FILTERS__
),
exploded as (
    select
        unnest(case when len(guideline_documents) = 0 then ['(none cited)'] else guideline_documents end) as guideline_document,
        overturned
    from filtered
),
counts as (
    select guideline_document, count(*) as n, count(*) filter (where overturned) as overturned
    from exploded
    group by guideline_document
)
select guideline_document, __RATES__
from counts
order by n desc, guideline_document
