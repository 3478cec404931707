-- reason_by.sql's table under one selection of one filter, summed from the reason_pairs mart
-- (queries.reasons_together says when) instead of counted from the items: per value of each
-- dimension of $by_dimensions (in their columns' order), its upheld items (the mart's reason
-- NULL) and those giving each reason, for the $top values with most upheld items. The
-- selection as in _pair_counts.sql: $pair_dimension, its values $pair_values or its range
-- $pair_low..$pair_high (several values add up: an item has one value of a scalar).
-- $set_ids: the set_id reason_by.sql gives each dimension. __COLUMNS__: each dimension's
-- column ("case when place = 1 then value::varchar end as category, ...": registry constants
-- and catalog types).
with
mart as (
    select other, other_value, reason, upheld
    from reason_pairs
    where __CHOSEN__
        and other in (select unnest($by_dimensions::varchar[]))
),
counts as (
    select
        list_position($by_dimensions::varchar[], other) as place,
        other_value as value,
        reason,
        sum(upheld)::bigint as upheld
    from mart
    group by other, other_value, reason
),
top_values as (
    select place, value, upheld as upheld_items
    from counts
    where reason is null
    qualify row_number() over (partition by place order by upheld desc, value) <= $top
),
with_reason as (
    select place, value, reason, upheld as upheld_with
    from counts
    where reason is not null
)
select
    ($set_ids::bigint[])[place] as set_id,
    __COLUMNS__,
    with_reason.reason,
    with_reason.upheld_with,
    top_values.upheld_items,
    __REASON_SHARES__
from with_reason
join top_values using (place, value)
order by set_id, top_values.upheld_items desc, value, with_reason.upheld_with desc, reason
