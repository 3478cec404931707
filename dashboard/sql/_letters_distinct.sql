-- The distinct letters of a group (any number of groups; see _letters_bits.sql).
count(distinct __KEY__)
