-- A pattern's letters in crosstab_bits.sql where one axis (__OWN__) is an item's own scalar
-- field and the other the letter's own, under filters of the letter's fields: each letter's
-- first item with its kept value (__LETTER_FLAG__, item_facts' <column>_fresh; the letter's
-- field the same in every item, the filters keep a letter's items or none). The "(other)"
-- value's letters, where a letter could hold two of its values, come from _rest_letters.sql.
count_if(letter_flag and not __OWN___rest)
