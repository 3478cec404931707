-- A pattern's letters in crosstab_bits.sql, by the item flagged for its letter (both axes the
-- letter's own fields: its letters are those of its flagged items, each in one pattern).
count(*) filter (where letter_flag)
