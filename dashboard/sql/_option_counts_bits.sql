-- Items per value of several list columns under __CONDITION__ (the filters, or true), by their
-- bits (_value_bits.sql: the build's dictionary): the bits' patterns counted in one pass, a
-- grouping set per list (__BITS__: "drugs_bits, reviewer_specialties_bits, ...", __SETS__:
-- "(drugs_bits), ..."), and each value with a bit of its own sums the patterns that hold it;
-- the values that share a bit are counted from the lists of the items holding one of those
-- bits (__SHARED__: _option_counts_shared.sql per list with such values, or an empty
-- relation). At 4M items the patterns are a few thousand rows: a fifth of the time of
-- unnesting every list. Registry constants only.
with
bits as (
    __VALUE_BITS__
),
patterns as (
    select __BITS__, count(*) as n
    from item_facts
    where __CONDITION__
    group by grouping sets (__SETS__)
),
held as (
    unpivot patterns on columns(* exclude (n)) into name bits_column value pattern
),
__HELD_VALUES__,
own_counts as (
    select dimension, value, sum(n)::bigint as n
    from held_values
    group by dimension, value
),
shared_items as (
    __SHARED__
),
shared_counts as (
    select dimension, value, count(*)::bigint as n
    from shared_items
    semi join (select dimension, value from bits where not unique_bit) as shared
        using (dimension, value)
    group by dimension, value
)
select dimension, value, n from own_counts
union all
select dimension, value, n from shared_counts
