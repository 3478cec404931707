-- Items per value of several list columns under __CONDITION__ (the filters, or true), by their
-- bits (the build's dictionary value_bits): the bits' patterns counted in one pass, a grouping
-- set per list (__BITS__: "drugs_bits, reviewer_specialties_bits, ...", __SETS__:
-- "(drugs_bits), ..."), and each value with a bit of its own sums the patterns that hold it;
-- the values that share a bit are counted from the lists of the items holding that bit
-- (__SHARED__: one "select '<dimension>' as dimension, unnest(<column>)::varchar as value from
-- item_facts where __CONDITION__ and <column>_bits & <mask> <> 0" per list with such values,
-- or an empty relation). __NAMED__: "('drug', 'drugs'), ...". At 4M items the patterns are a
-- few thousand rows: a fifth of the time of unnesting every list. Registry constants only.
with
named as (
    select * from (values __NAMED__) as t(dimension, list_column)
),
bits as (
    select
        named.dimension,
        value_bits.value,
        value_bits.bit,
        count(*) over (partition by value_bits.list_column, value_bits.bit) = 1 as own
    from value_bits
    join named using (list_column)
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
own_counts as (
    select bits.dimension, bits.value, sum(held.n)::bigint as n
    from held
    join named on held.bits_column = named.list_column || '_bits'
    join bits
        on bits.dimension = named.dimension
        and bits.own
        and (held.pattern & (1::ubigint << bits.bit::ubigint)) <> 0
    group by bits.dimension, bits.value
),
shared_items as (
    __SHARED__
),
shared_counts as (
    select dimension, value, count(*)::bigint as n
    from shared_items
    semi join (select dimension, value from bits where not own) as shared using (dimension, value)
    group by dimension, value
)
select dimension, value, n from own_counts
union all
select dimension, value, n from shared_counts
