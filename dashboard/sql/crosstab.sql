-- Cross-tab of two dimensions: outcomes per (row value, column value) under the filters.
-- The axes come first (crosstab_axes.sql): $row_top / $col_top hold each axis's kept values
-- in axis order, in the column's type; every other value counts under $other, placed last.
-- __ROW_HAS__ / __COL_HAS__ say whether an item has a value at all (as in crosstab_axes.sql);
-- the fragments name the axes' item_facts columns (constants from the dimension registry).
-- Cells are counted by their places on the axes (integers; the values are put back at the
-- end): the places of an item on an axis (_places_<shape>.sql; multi-line fragments, so their
-- tokens are not named here) are the positions of its values among the kept ones, else one
-- past them; then one row per place (_place_<shape>.sql). A list axis overlaps: an item
-- counts under each pair of its places, once per cell, also in an $other cell where several
-- of its values fall (its other place is kept once, before the rows are made: one pass,
-- where a distinct over the other cells' rows read the items twice; the default cross-tab's
-- cells at 4M items 450-480 -> 270-320 ms).
-- __LETTERS__ counts a cell's distinct letters (_letters_flagged.sql, by the item flagged
-- __LETTER_FLAG__ in each letter; else _letters_bits.sql or _letters_distinct.sql: chosen by
-- queries.crosstab_letters). $left_out comes from the axes' query.
with
paired as (
    select
        letter_key,
        overturned,
        __LETTER_FLAG__ as letter_flag,
        __ROW_PLACES__ as row_places,
        __COL_PLACES__ as col_places
    from item_facts
    where __FILTERS__ and __ROW_HAS__ and __COL_HAS__
),
-- Two steps: two unnests in one select would be zipped, not crossed.
row_placed as (
    select letter_key, overturned, letter_flag, __ROW_PLACE__ as row_order, col_places
    from paired
),
placed as (
    select letter_key, overturned, letter_flag, row_order, __COL_PLACE__ as col_order
    from row_placed
),
cells as (
    select
        row_order,
        col_order,
        count(*) as n,
        count_if(overturned) as overturned,
        __LETTERS__ as letters
    from placed
    where row_order is not null and col_order is not null
    group by row_order, col_order
)
__CROSSTAB_OUT__
