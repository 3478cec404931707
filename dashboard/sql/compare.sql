-- Two values $a and $b of one dimension, side by side, per stratum (Compare page).
-- __HOLDS_A__, __HOLDS_B__: whether the item holds $a, $b (queries.holds_value: in its values
-- as a list, _set_<shape>.sql, an empty list as [$group_empty]; or by the value's own bit);
-- an item listing both $a and $b is on side 'both', which the comparison leaves out.
-- __STRATUM_SOURCE__ is the strata's column (null: none); __STRATUM_VALUE__: the item's
-- strata, one row each (_value_scalar.sql: the value of a scalar
-- column, NULL when it has none; _value_list.sql: each value of a list column, empty =
-- $stratum_empty, so an item listing several counts in each; _value_none.sql: no strata,
-- one stratum, $all_items, as the pooled rows are).
-- Each side is counted per stratum and over all strata (pooled: the crude comparison, one scan
-- for the Compare page's two sections; at 4M items a second scan cost 65-200 ms). Letters are
-- counted as queries.letters_count says. Columns are registry constants; values are bound.
with
filtered as (
    select
        letter_key,
        __HOLDS_A__ as has_a,
        __HOLDS_B__ as has_b,
        __STRATUM_SOURCE__ as stratum_source,
        overturned
    from item_facts
    where __FILTERS__
),
-- Materialized: read twice below (one scan of item_facts for both counts).
sided as materialized (
    select
        case
            when has_a and has_b then 'both'
            when has_a then 'a'
            when has_b then 'b'
        end as side,
        letter_key,
        stratum_source,
        overturned
    from filtered
    where has_a or has_b
),
-- An item once under each of its strata, and once pooled.
counted as (
    select (__STRATUM_VALUE__)::varchar as stratum, side, false as pooled, letter_key, overturned
    from sided
    union all
    select $all_items::varchar, side, true, letter_key, overturned
    from sided
)
select
    stratum,
    side,
    pooled,
    count(*) as n,
    count(*) filter (where overturned) as overturned,
    __LETTERS__ as letters
from counted
group by pooled, stratum, side
order by pooled, stratum, side
