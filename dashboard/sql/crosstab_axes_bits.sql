-- crosstab_axes.sql's row for two list axes with <column>_bits, counted from the patterns of
-- the items' bits (a few hundred groups) rather than by unnesting every item's two lists (at
-- 4M items, drug by reason unfiltered 190-290 ms -> 50-110). Each axis by _axis_bits.sql
-- (__ROW_AXIS__, __COL_AXIS__): a value's items are those of its bit when the bit is its own;
-- the values that share a bit are counted from the lists of the items holding one. An empty
-- list counts under $row_empty / $col_empty, with the items of a value of that name.
-- $row_values, $row_value_bits, $row_own: the dictionary of the row's list (each value, its
-- bit as a mask, whether the bit is its own; queries.bit_dictionary), $row_shared the bits
-- values share; the same for the column. patterns: how many groups crosstab_bits.sql counts
-- with these kept values (their bits, whether an item holds another value, an empty list),
-- for the budget of its letters. A list holds a value once, and a NULL value has no bit.
with
paired as (
    select
        __ROW___bits as row_bits,
        len(__ROW__) = 0 as row_none,
        __COL___bits as col_bits,
        len(__COL__) = 0 as col_none
    from item_facts
    where __FILTERS__ and __ROW_HAS__ and __COL_HAS__
),
patterns as materialized (
    select row_bits, row_none, col_bits, col_none, count(*) as n
    from paired
    group by all
),
__ROW_AXIS__,
__COL_AXIS__
select
    row_kept.top as row_top,
    col_kept.top as col_top,
    __FILTERED_ITEMS__ - coalesce((select sum(n) from patterns), 0) as left_out,
    (
        select count(*)
        from (
            select distinct
                row_bits & row_kept.mask,
                (row_bits & ~row_kept.mask) <> 0,
                row_none,
                col_bits & col_kept.mask,
                (col_bits & ~col_kept.mask) <> 0,
                col_none
            from patterns
        )
    ) as patterns
from row_kept, col_kept
