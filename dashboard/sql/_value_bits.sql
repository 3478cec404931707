-- The bits of the list filters' values (the build's dictionary value_bits,
-- etl/sql/value_bits.sql): every value of the list columns $bit_columns (their dimensions
-- $bit_dimensions, in the same order), its bit as a mask of <list_column>_bits, and whether no
-- other value of its list shares it (only those are filtered and counted by their bit).
select
    named.dimension,
    named.list_column,
    value_bits.value,
    (1::ubigint << value_bits.bit::ubigint) as bit,
    count(*) over (partition by value_bits.list_column, value_bits.bit) = 1 as unique_bit
from value_bits
join (
    select
        unnest($bit_dimensions::varchar[]) as dimension,
        unnest($bit_columns::varchar[]) as list_column
) as named using (list_column)
