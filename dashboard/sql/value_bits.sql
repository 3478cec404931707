-- The bits of the list filters' values (the build's dictionary value_bits,
-- etl/sql/value_bits.sql): every value of the list columns $columns (their dimensions
-- $dimensions, in the same order), its bit as a mask of <column>_bits, and whether no other
-- value of its list shares it (only those are filtered and counted by their bit).
with
named as (
    select unnest($dimensions::varchar[]) as dimension, unnest($columns::varchar[]) as list_column
),
held as (
    select named.dimension, value_bits.value, value_bits.bit
    from value_bits
    join named using (list_column)
)
select
    dimension,
    value,
    (1::ubigint << bit::ubigint) as bit,
    count(*) over (partition by dimension, bit) = 1 as unique_bit
from held
