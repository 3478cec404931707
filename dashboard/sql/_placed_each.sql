-- crosstab_bits.sql's patterns placed on the axes, each pattern in turn (_place_bits.sql: the
-- kept values a pattern holds, then one past them for the rest; an empty list, the place of
-- $row_empty, one past the kept ones when it is not kept): for a few thousand patterns at
-- most (_placed_parts.sql for more).
row_placed as (
    select
        col_bits,
        col_none,
        col_rest,
        n,
        overturned,
        letters,
        __ROW_PLACE__ as row_order
    from patterns
),
placed as (
    select
        row_order,
        n,
        overturned,
        letters,
        __COL_PLACE__ as col_order
    from row_placed
),
