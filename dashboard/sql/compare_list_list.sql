-- Two values $a and $b of one dimension, side by side, per stratum (Compare page).
-- __GROUP__ is a list item_facts column (an empty list counts as $group_empty): an item
-- listing both $a and $b is on side 'both', which the comparison leaves out.
-- Strata: each value of __STRATUM__ (a list column; empty = $stratum_empty): an item
-- listing several counts in each of their strata.
-- __GROUP__ and __STRATUM__ are registry constants; values are bound.
with
filtered as (
    select
        case when len(__GROUP__) = 0 then [$group_empty::varchar] else __GROUP__ end
            as group_list,
        case when len(__STRATUM__) = 0 then [$stratum_empty::varchar] else __STRATUM__ end
            as stratum_list,
        overturned
    from item_facts
    where __FILTERS__
),
sided as (
    select
        case
            when list_contains(group_list, $a::varchar)
                and list_contains(group_list, $b::varchar) then 'both'
            when list_contains(group_list, $a::varchar) then 'a'
            when list_contains(group_list, $b::varchar) then 'b'
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
