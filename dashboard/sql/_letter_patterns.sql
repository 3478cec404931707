-- crosstab_bits.sql's patterns of letters, where one axis is a letter's own field: each
-- letter's items' patterns or'ed (the kept values any of its items holds, whether any holds
-- another value or an empty list; the letter's own field the same in every item), counted
-- as letters only (no items). A letter falls in a cell exactly when one of its items does:
-- the letter's own field is every item's. 1.5M letters grouped at 4M items: 160-210 ms.
union all
select row_bits, row_none, row_rest, col_bits, col_none, col_rest, 0::ubigint, 0, 0, count(*)
from (
    select
        bit_or(row_bits) as row_bits,
        bool_or(row_none) as row_none,
        bool_or(row_rest) as row_rest,
        bit_or(col_bits) as col_bits,
        bool_or(col_none) as col_none,
        bool_or(col_rest) as col_rest
    from paired
    group by letter_key
)
group by all
