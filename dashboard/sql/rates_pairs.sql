-- Outcomes per value of several dimensions under one selection, as rates_sets.sql gives them
-- (set_id, a column per dimension, letters, the rates), summed from the facet_pairs mart (a
-- selected scalar's own values from facet_counts) instead of counted from the items
-- (queries.summable says when: the letters must be those the mart counts). The
-- selection as in _pair_counts.sql:
-- $pair_dimension, its values $pair_values or its range $pair_low..$pair_high; beside it
-- $pair_outcome: the items of either outcome (NULL), or only the overturned ones (true) or
-- the rest (false), with their letters (__LETTERS_OVERTURNED__, __LETTERS_UPHELD__: the
-- mart's columns); then a selected scalar's own rows are its pairs with that value
-- ($outcome_value) of the outcome's dimension ($outcome_dimension).
-- $pair_dimensions: the dimensions counted, in their columns' order; $empties: each one's
-- label of no value (NULL: such items left out, as rates_sets.sql leaves them); $set_ids: the
-- set_id rates_sets.sql gives each. __COLUMNS__: each dimension's column, the value cast to
-- its type in that dimension's rows ("case when place = 1 then value::integer end as
-- decision_year, ...": registry constants and catalog types).
with
pairs as (
    select
        other,
        other_value,
        case
            when $pair_outcome::boolean is null then items
            when $pair_outcome::boolean then overturned
            else items - overturned
        end as items,
        case when $pair_outcome::boolean = false then 0 else overturned end as overturned,
        case
            when $pair_outcome::boolean is null then letters
            when $pair_outcome::boolean then __LETTERS_OVERTURNED__
            else __LETTERS_UPHELD__
        end as letters
    from facet_pairs
    where __CHOSEN__
        and other in (select unnest($pair_dimensions::varchar[]))
),
-- The selected dimension's own rows, when it is counted and $own_from_counts (a scalar: its
-- selected values; a list's own rows are its pairs with itself, above): facet_counts', or
-- with one outcome its pairs with that outcome.
own_rows as (
    select dimension, value, items, overturned, letters
    from facet_counts
    where $pair_outcome::boolean is null
    union all
    select dimension, value, items, overturned, letters
    from facet_pairs
    where $pair_outcome::boolean is not null
        and other = $outcome_dimension::varchar
        and other_value = $outcome_value::varchar
),
selected as (
    select dimension as other, value as other_value, items, overturned, letters
    from own_rows
    where __CHOSEN__
        and list_contains($pair_dimensions::varchar[], dimension)
        and $own_from_counts::boolean
),
both_marts as (
    select * from pairs
    union all
    select * from selected
),
counts as (
    select
        list_position($pair_dimensions::varchar[], other) as place,
        coalesce(
            other_value,
            ($empties::varchar[])[list_position($pair_dimensions::varchar[], other)]
        ) as value,
        sum(items)::bigint as n,
        sum(overturned)::bigint as overturned,
        sum(letters)::bigint as letters
    from both_marts
    group by other, other_value
    -- one outcome: the pairs of values no item of it holds
    having sum(items) > 0
)
select ($set_ids::bigint[])[place] as set_id, __COLUMNS__, letters, __RATES__
from counts
