-- Two values $a and $b of one dimension, side by side, per stratum (Compare page).
-- __GROUP__ is a scalar item_facts column: an item is in group a or b by its value.
-- Strata: each value of __STRATUM__ (a list column; empty = $stratum_empty): an item
-- listing several counts in each of their strata.
-- __GROUP__ and __STRATUM__ are registry constants; values are bound.
with
filtered as (
    select
        __GROUP__::varchar as group_value,
        case when len(__STRATUM__) = 0 then [$stratum_empty::varchar] else __STRATUM__ end
            as stratum_list,
        overturned
    from item_facts
    where __FILTERS__
),
sided as (
    select
        case
            when group_value = $a::varchar then 'a'
            when group_value = $b::varchar then 'b'
        end as side,
        unnest(stratum_list) as stratum,
        overturned
    from filtered
)
select
    stratum,
    side,
    count(*) as n,
    count(*) filter (where overturned) as overturned
from sided
where side is not null
group by stratum, side
order by stratum, side
