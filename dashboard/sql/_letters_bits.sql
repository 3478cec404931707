-- The distinct letters of a group, as bits over the letter numbers 0..$letter_key_max: a few
-- times faster than a distinct count, at (letter_key_max / 8) bytes a group, so used where
-- the groups are few (queries.letters_count). __KEY__ is the letter number (NULL: not counted).
coalesce(bit_count(bitstring_agg(__KEY__, 0, $letter_key_max::integer)), 0)
