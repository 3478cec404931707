-- A cell's distinct letters in crosstab_bits.sql: its patterns' bits of letter numbers or'ed.
coalesce(bit_count(bit_or(letters)), 0)
