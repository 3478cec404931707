-- A pattern's letters in crosstab_bits.sql as bits of the letter numbers $letter_low to
-- $letter_high (an item's own field on an axis: a letter's items may fall in several
-- patterns of a cell): a run's range (queries.letter_slices; __LETTER_SLICE__ keeps its items).
bitstring_agg(letter_key, $letter_low::integer, $letter_high::integer)
