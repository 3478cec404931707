-- crosstab_axes.sql's row for two axes, lists with <column>_bits or a list and a scalar,
-- counted from the patterns of the items' bits and values (a few hundred groups) rather than
-- by unnesting every item's lists (at 4M items, drug by reason unfiltered 190-290 ms ->
-- 50-110). Each axis by the fragments of its shape (queries.pattern_sql): its columns of the
-- patterns (__ROW_COLUMNS__: _axis_columns_<shape>.sql), its values counted (__ROW_AXIS__:
-- _axis_<shape>.sql), ranked and kept (__ROW_KEPT__: _axis_kept.sql) and its part of a pattern of crosstab_bits.sql (__ROW_MASKED__:
-- _axis_masked_<shape>.sql). A list value's items are those of its bit when the bit is its
-- own; the values that share a bit are counted from the lists of the items holding one. An
-- empty list counts under $row_empty / $col_empty, with the items of a value of that name.
-- $row_values, $row_value_bits, $row_own: the dictionary of a row's list (each value, its
-- bit as a mask, whether the bit is its own; queries.bit_dictionary), $row_shared the bits
-- values share; the same for the column. patterns: how many groups crosstab_bits.sql counts
-- with these kept values (their bits, whether an item holds another value, an empty list),
-- for the budget of its letters. A list holds a value once, and a NULL value has no bit.
with
paired as (
    select __ROW_COLUMNS__, __COL_COLUMNS__
    from item_facts
    where __FILTERS__ and __ROW_HAS__ and __COL_HAS__
),
patterns as materialized (
    select *, count(*) as n
    from paired
    group by all
),
__ROW_AXIS__,
__ROW_KEPT__,
__COL_AXIS__,
__COL_KEPT__
select
    row_kept.top as row_top,
    col_kept.top as col_top,
    __FILTERED_ITEMS__ - coalesce((select sum(n) from patterns), 0) as left_out,
    (select count(*) from (select distinct __ROW_MASKED__, __COL_MASKED__ from patterns))
        as patterns
from row_kept, col_kept
