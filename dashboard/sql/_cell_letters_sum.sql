-- A cell's letters in crosstab_bits.sql, its patterns' added up: patterns of items counted by
-- their flagged items (no letter in two), or patterns of letters (_letter_patterns.sql).
sum(letters)::bigint
