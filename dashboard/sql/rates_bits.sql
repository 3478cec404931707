-- rates_sets.sql's frame (but its rows of no value) for list dimensions whose every value has
-- a bit of its own (item_facts' <column>_bits; queries.pattern_bound says when), from the
-- patterns of those bits instead of every item's values unnested. The filtered items are
-- grouped by each list's bits (a grouping set per list, __BIT_SETS__:
-- "(guideline_sources_bits), ..."), a pattern's letters as bits of letter numbers
-- ($letter_key_max; the build's count of each list's patterns bounds how many). Each value
-- then sums the patterns that hold its bit and ors their letters (a list holds a value once,
-- as crosstab_bits.sql relies on too). An empty list counts under its dimension's label
-- ($empties, in the order of __BITS__), read apart (_empty_bits.sql; none for a dimension
-- without a label). __SET_ID__ and __VALUE_COLUMNS__ put each value in its dimension's
-- column, as rates_sets.sql's grouping sets do. At 4M items under a reason and a guideline
-- source, the guideline sources' and documents' tables 78 -> 47 ms, the reasons' 37 -> 25 (a
-- median of 5 each, against the lists). Registry constants only.
with
bits as (
    __VALUE_BITS__
),
patterns as (
    select
        __BITS__,
        count(*) as n,
        count(*) filter (where overturned) as overturned,
        bitstring_agg(letter_key, 0, $letter_key_max::integer) as letters
    from item_facts
    where __FILTERS__
    group by grouping sets (__BIT_SETS__)
),
held as (
    unpivot patterns on __BITS__ into name bits_column value pattern
),
__HELD_VALUES__,
empty as (
    __EMPTIES__
),
counts as (
    select
        list_column,
        value,
        sum(n) as n,
        sum(overturned) as overturned,
        coalesce(bit_count(bit_or(letters)), 0) as letters
    from (
        select list_column, value, n, overturned, letters from held_values
        union all
        select * from empty
    )
    where value is not null
    group by list_column, value
)
select (__SET_ID__)::bigint as set_id, __VALUE_COLUMNS__, letters, __RATES__
from counts
