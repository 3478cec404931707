-- The values each pattern of a list's bits holds (held: the patterns unpivoted, a list's
-- bits column and its pattern per row; bits: _value_bits.sql), one row per pattern and value
-- with held's other columns beside it. Only values with a bit of their own: those that share
-- one are counted from their lists. Shared by _option_counts_bits.sql and rates_bits.sql.
held_values as (
    select bits.dimension, bits.list_column, bits.value, held.* exclude (bits_column, pattern)
    from held
    join bits
        on held.bits_column = bits.list_column || '_bits'
        and bits.unique_bit
        and (held.pattern & bits.bit) <> 0
)
