-- The items under __FILTERS__ whose list __COLUMN__ is empty (_empty_list.sql), as one row of
-- rates_bits.sql's patterns placed under the dimension's label ($empties[__I__]; NULL: none).
select
    '__COLUMN__' as list_column,
    ($empties::varchar[])[__I__] as value,
    count(*) as n,
    count(*) filter (where overturned) as overturned,
    bitstring_agg(letter_key, 0, $letter_key_max::integer) as letters
from item_facts
where __FILTERS__ and __EMPTY_LIST__
having count(*) > 0
