-- A pattern of items counts no letters in crosstab_bits.sql: the patterns of letters do
-- (_letter_patterns.sql).
0::bigint
