-- Outcomes by drug_class (items without one are left out).
with
filtered as (
    select drug_class, overturned from item_facts where __FILTERS__
),
counts as (
    select drug_class, count(*) as n, count(*) filter (where overturned) as overturned
    from filtered
    where drug_class is not null
    group by drug_class
)
select drug_class, __RATES__
from counts
order by n desc, drug_class
