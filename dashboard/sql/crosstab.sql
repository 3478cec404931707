-- Cross-tab of two dimensions: outcomes per (row value, column value) under the filters.
-- The axes come first (crosstab_axes.sql): $row_top / $col_top hold each axis's kept values
-- in axis order, in the column's type; every other value counts under $other, placed last.
-- __ROW__ and __COL__ are item_facts columns (constants from the dimension registry);
-- __ROW_VALUE__ / __COL_VALUE__ turn each into one value per row by its shape, __ROW_HAS__ /
-- __COL_HAS__ say whether an item has a value at all (as in crosstab_axes.sql). A list axis
-- overlaps: an item counts under each pair of its values, once per cell, also in the $other
-- cells. Cells are counted by their places on the axes (integers; the values are put back at
-- the end): list_position of a value among the kept ones, else one past them. A list holds a
-- value once (as the facet counts assume), so only an $other cell can meet an item twice:
-- __ITEM_ROWS__ (_item_rows_one.sql, _item_rows_many.sql) makes those rows distinct when an
-- axis is a list. __LETTERS__ counts a cell's distinct letters (_letters_bits.sql or
-- _letters_distinct.sql, chosen by queries.crosstab). $left_out comes from the axes' query.
-- paired and placed are not materialized: DuckDB would hold every item pair in memory (read
-- twice below), which unfiltered at 4M items overflowed the dashboard's 512 MB pool (the
-- default cross-tab 758-835 -> 619-658 ms; 40-60 ms more under one drug class).
with
paired as not materialized (
    select letter_key, item_no, __ROW__ as row_source, __COL__ as col_source, overturned
    from item_facts
    where __FILTERS__ and __ROW_HAS__ and __COL_HAS__
),
-- Two steps: two unnests in one select would be zipped, not crossed.
row_exploded as (
    select letter_key, item_no, overturned, __ROW_VALUE__ as row_key, col_source
    from paired
),
pairs as (
    select letter_key, item_no, overturned, row_key, __COL_VALUE__ as col_key
    from row_exploded
),
placed as not materialized (
    select
        letter_key,
        item_no,
        overturned,
        coalesce(list_position($row_top, row_key), len($row_top) + 1) as row_order,
        coalesce(list_position($col_top, col_key), len($col_top) + 1) as col_order
    from pairs
    where row_key is not null and col_key is not null
),
cell_items as (
    select letter_key, overturned, row_order, col_order
    from placed
    where row_order <= len($row_top) and col_order <= len($col_top)
    union all
    select letter_key, overturned, row_order, col_order
    from (
        select __ITEM_ROWS__ letter_key, item_no, overturned, row_order, col_order
        from placed
        where row_order > len($row_top) or col_order > len($col_top)
    )
),
cells as (
    select
        row_order,
        col_order,
        count(*) as n,
        count_if(overturned) as overturned,
        __LETTERS__ as letters
    from cell_items
    group by row_order, col_order
)
select
    coalesce(($row_top)[row_order]::varchar, $other::varchar) as row_value,
    coalesce(($col_top)[col_order]::varchar, $other::varchar) as col_value,
    row_order,
    col_order,
    row_order > len($row_top) as row_other,
    col_order > len($col_top) as col_other,
    letters,
    __RATES__,
    $left_out::bigint as left_out
from cells
order by row_order, col_order
