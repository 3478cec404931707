-- A pattern's letters in crosstab_bits.sql as bits of the letter numbers 0..$letter_key_max
-- (an item's own field on an axis: a letter's items may fall in several patterns of a cell).
bitstring_agg(letter_key, 0, $letter_key_max::integer)
