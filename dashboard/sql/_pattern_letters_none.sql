-- A pattern of items counts no letters in crosstab_bits.sql: the patterns of letters do
-- (_letter_patterns.sql), or its first items with each kept value (_placed_letters_fresh.sql).
0::bigint
