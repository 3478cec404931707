-- Outcomes by drug (generic ingredient) within one drug class; an item with a combination
-- product counts under each ingredient.
with
filtered as (
    select drug_class, drugs, overturned from item_facts where __FILTERS__
),
exploded as (
    select
        unnest(case when len(drugs) = 0 then ['(no drug named)'] else drugs end) as drug,
        overturned
    from filtered
    where drug_class = $pick_class
),
counts as (
    select drug, count(*) as n, count(*) filter (where overturned) as overturned
    from exploded
    group by drug
)
select $pick_class as drug_class, drug, __RATES__
from counts
order by n desc, drug
