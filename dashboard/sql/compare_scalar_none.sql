-- Two values $a and $b of one dimension, side by side, per stratum (Compare page).
-- __GROUP__ is a scalar item_facts column: an item is in group a or b by its value.
-- No strata: one stratum, '(all items)'.
-- __GROUP__ and __STRATUM__ are registry constants; values are bound.
with
filtered as (
    select
        __GROUP__::varchar as group_value,
        '(all items)' as stratum,
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
        stratum as stratum,
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
