-- Headline numbers of one selection of one filter and one value of the decision, read from the
-- facet_pairs mart instead of counted over item_facts (queries.summary says when: the mart
-- counts the letters of the pair, which add up over the selection's values, and the warehouse's
-- items are all demo ones ($demo) or none, which the pairs do not count apart). The selection
-- as in _pair_counts.sql: $pair_dimension, its values $pair_values or its range
-- $pair_low..$pair_high; the decision $outcome_dimension's value $outcome_value. Or, with
-- $outcome_value NULL, every value of $outcome_dimension, a letter's own field whose values (no
-- value among them) add up to the selection's items and letters: the headline of two filters
-- selected together (queries._summed_pair). No row in the mart: no item.
with
pairs as (
    select items, overturned, letters
    from facet_pairs
    where __CHOSEN__
        and other = $outcome_dimension::varchar
        and (other_value = $outcome_value::varchar or $outcome_value::varchar is null)
),
counts as (
    select
        coalesce(sum(letters), 0)::bigint as letters,
        case when $demo::boolean then coalesce(sum(letters), 0) else 0 end::bigint
            as synthetic_letters,
        case when $demo::boolean then coalesce(sum(items), 0) else 0 end::bigint
            as synthetic_items,
        coalesce(sum(items), 0) as n,
        coalesce(sum(overturned), 0) as overturned
    from pairs
)
select letters, synthetic_letters, synthetic_items, __RATES__
from counts
