-- crosstab_bits.sql's letters of the "(other)" value of an item's own scalar axis (__OWN__;
-- _pattern_letters_fresh.sql counts its kept values'): each letter once per pattern of the
-- letter's own field (the same in every item), among its items of other values only. At 4M
-- items unfiltered, reviewer state by subcategory (half the items "(other)"): with each
-- letter's items' patterns or'ed (_letter_patterns.sql, every item) the cells 430 ms, 270
-- this way.
union all
select row_bits, row_none, row_rest, col_bits, col_none, col_rest, 0, 0, count(*)
from (
    select distinct row_bits, row_none, row_rest, col_bits, col_none, col_rest, letter_key
    from paired
    where __OWN___rest
)
group by all
