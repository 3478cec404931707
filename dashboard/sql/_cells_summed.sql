-- The cells of a cross-tab by patterns (crosstab_bits.sql; crosstab_cells.sql, its runs'):
-- the counts of the rows `placed` added up per pair of places, __CELL_LETTERS__ the letters'
-- (queries.crosstab expands it before __CELL_LETTERS__).
cells as (
    select
        row_order,
        col_order,
        sum(n)::bigint as n,
        sum(overturned)::bigint as overturned,
        __CELL_LETTERS__ as letters
    from placed
    group by row_order, col_order
)
