-- The facet_pairs mart: the items and overturned items of scope_facts (the build's item_facts rows
-- in scope) per pair of values of two filters of the dashboard's registry
-- (dashboard/dimensions.py), in both directions: (dimension, value) with (other, other_value). The
-- dashboard's filter options under one filter are these counts: the items with value under
-- dimension, per value of every other filter; and its rate tables under one selection of a
-- letter's own field or one value of an item's, per value of another. Counted as facet_counts.sql
-- counts: a list counts an item once under each value it holds, so a list pair is counted once per
-- pair of its values. No value of dimension (NULL) is no row; no value of other (NULL, an empty
-- list) is other_value NULL: the items with value and nothing of other. letters: the letters
-- behind a pair of two of the letter's own fields (their first items), or of a letter's field and
-- an item's own (the items first in their letter with the item's value: the <column>_fresh flags
-- of item_facts), or of two items' own fields (their groups per letter). both_cited, same_source: the
-- agreement of MAXIMUS's guideline sources with the claims administrator's (the Guidelines
-- page's, as dashboard/sql/source_concordance.sql counts it: derived.PAIR_MEASURES says how).
-- The pairs below are written from the registry by etl/warehouse/derived.py (pair_sql), one
-- direction each: a grouping-sets pass (over the scalar filters, each list filter with the scalar
-- ones, each two list filters, each list filter with itself: the values its items list with a
-- value, its own value too: (v, v) holds the items listing v), a union of them, or for a few items
-- the same rows from one join of each item's values with each other; each row (dimension, value,
-- other, other_value, then derived.PAIR_MEASURES).
with
pairs as materialized (
    __PAIRS__
)
-- Each pair in both directions, its counts (every column but the four keys) as they are; a
-- list filter's pairs with itself are both already.
select *
from pairs
where value is not null
union all
select
    other, other_value, dimension, value, columns(* exclude (dimension, value, other, other_value))
from pairs
where other_value is not null and other <> dimension
