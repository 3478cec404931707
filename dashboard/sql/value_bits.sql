-- The list filters' values and their bits (_value_bits.sql: the build's dictionary), for
-- queries.value_bits and queries.shared_bits.
with
bits as (
    __VALUE_BITS__
)
select dimension, value, bit, unique_bit
from bits
