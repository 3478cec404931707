-- crosstab_bits.sql's patterns placed on the axes (_place_bits.sql: the kept values a pattern
-- holds, then one past them for the rest; an empty list, the place of $row_empty, one past
-- the kept ones when it is not kept), each axis's part of the patterns placed once and joined
-- back: patterns of letters can be 10^5 (reviewer state by guideline document at 4M items:
-- 129k), their parts a few thousand (there 420 -> 330 ms). With a few hundred patterns,
-- _placed_each.sql is 20 ms faster. A pattern's letters at its place: __PLACED_LETTERS__
-- (its own, or _placed_letters_fresh.sql's).
row_places as (
    select row_bits, row_none, row_rest, __ROW_PLACE__ as row_order
    from (select distinct row_bits, row_none, row_rest from patterns)
),
col_places as (
    select col_bits, col_none, col_rest, __COL_PLACE__ as col_order
    from (select distinct col_bits, col_none, col_rest from patterns)
),
placed as (
    select row_order, col_order, n, overturned, __PLACED_LETTERS__ as letters
    from patterns
    join row_places using (row_bits, row_none, row_rest)
    join col_places using (col_bits, col_none, col_rest)
),
