-- The highest letter number of item_facts (0 when empty): the bits _letters_bits.sql needs.
select coalesce(max(letter_key), 0) as letter_key_max from item_facts
