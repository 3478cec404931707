-- Outcomes per value of several dimensions of one shape in one pass over the filtered items, a
-- grouping set per dimension (what one rates_<shape>.sql per dimension would give, one scan
-- instead of several): __COLUMNS__ are their item_facts columns, __SETS__ one set per column
-- (registry constants). value_rows holds a row per value to count, by shape
-- (_value_rows_scalar.sql: the items; _value_rows_list.sql: each value of each list, side by
-- side, and the empty lists under their labels; _value_rows_letters.sql: a row per letter of
-- the slice), and __ITEM_COUNTS__ counts its items (_item_counts.sql, or
-- _item_counts_letters.sql for a row per letter). set_id is grouping(__COLUMNS__): a bit per
-- column left out of the row's set, the first column highest. The rows without a value in
-- their set are one row of all nulls there (a list's padding too: its letters count nothing):
-- queries.rates_from leaves it out, and orders each dimension's rows.
with
-- Not materialized: a list shape reads it twice, and DuckDB would keep every filtered item's
-- lists in memory (as in rates_list.sql). Every column: inlined, it reads only those used (a
-- list shape's empty lists: their bits, _empty_list.sql).
filtered as not materialized (
    select * from item_facts where __FILTERS__
),
value_rows as (
    __VALUE_ROWS__
),
counts as (
    select
        grouping(__COLUMNS__) as set_id,
        __COLUMNS__,
        __ITEM_COUNTS__,
        __LETTERS__ as letters
    from value_rows
    group by grouping sets (__SETS__)
)
select set_id, __COLUMNS__, letters, __RATES__
from counts
