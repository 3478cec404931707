-- A cell's letters in crosstab_bits.sql from its patterns' flagged items (no letter in two).
sum(letters)::bigint
