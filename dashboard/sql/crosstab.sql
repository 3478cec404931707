-- Cross-tab of two dimensions: outcomes per (row value, column value) under the filters.
-- __ROW__ and __COL__ are item_facts columns (constants from the dimension registry);
-- __ROW_VALUE__ / __COL_VALUE__ turn each into one value per row by its shape (_value_scalar.sql:
-- the value; _value_list.sql: each value of the list, an empty list under $row_empty /
-- $col_empty, a NULL list left out), and __ROW_HAS__ / __COL_HAS__ (_has_<shape>.sql) say
-- whether an item has a value at all, so a list axis overlaps: an item counts under each pair
-- of its values, once per cell, also in the $other cells. Items without a value on either side
-- are left out (counted in left_out). Each axis keeps its $top_rows / $top_cols values with
-- the most items and groups the rest under $other; *_order is the axis order (most items first
-- when $row_by_count / $col_by_count, else by value), $other last. A list holds a value once
-- (as the facet counts assume), so only an $other cell can meet an item twice: __ITEM_ROWS__
-- (_item_rows_one.sql, _item_rows_many.sql) makes those rows distinct when an axis is a list.
-- __LETTERS__ counts a cell's distinct letters (_letters_bits.sql or _letters_distinct.sql,
-- chosen by queries.crosstab).
with
paired as (
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
row_ranked as (
    select row_key, row_number() over (order by count(*) desc, row_key) as row_rank
    from row_exploded
    group by row_key
),
row_axis as (
    select
        row_key,
        row_rank > $top_rows::integer as row_other,
        case when row_rank > $top_rows::integer then $other::varchar else row_key::varchar end
            as row_value,
        case
            when row_rank > $top_rows::integer then $top_rows::integer + 1
            when $row_by_count::boolean then row_rank
            else row_number() over (partition by row_rank <= $top_rows::integer order by row_key)
        end as row_order
    from row_ranked
),
col_ranked as (
    select col_key, row_number() over (order by count(*) desc, col_key) as col_rank
    from (select __COL_VALUE__ as col_key from paired)
    group by col_key
),
col_axis as (
    select
        col_key,
        col_rank > $top_cols::integer as col_other,
        case when col_rank > $top_cols::integer then $other::varchar else col_key::varchar end
            as col_value,
        case
            when col_rank > $top_cols::integer then $top_cols::integer + 1
            when $col_by_count::boolean then col_rank
            else row_number() over (partition by col_rank <= $top_cols::integer order by col_key)
        end as col_order
    from col_ranked
),
labelled as (
    select
        pairs.letter_key,
        pairs.item_no,
        pairs.overturned,
        row_axis.row_value,
        col_axis.col_value,
        row_axis.row_other or col_axis.col_other as in_other
    from pairs
    join row_axis using (row_key)
    join col_axis using (col_key)
),
cell_items as (
    select letter_key, overturned, row_value, col_value
    from labelled
    where not in_other
    union all
    select letter_key, overturned, row_value, col_value
    from (
        select __ITEM_ROWS__ letter_key, item_no, overturned, row_value, col_value
        from labelled
        where in_other
    )
),
cells as (
    select
        row_value,
        col_value,
        count(*) as n,
        count_if(overturned) as overturned,
        __LETTERS__ as letters
    from cell_items
    group by row_value, col_value
),
row_orders as (
    select row_value, min(row_order) as row_order, bool_or(row_other) as row_other
    from row_axis
    group by row_value
),
col_orders as (
    select col_value, min(col_order) as col_order, bool_or(col_other) as col_other
    from col_axis
    group by col_value
),
coverage as (
    select (select count(*) from item_facts where __FILTERS__) - (select count(*) from paired)
        as left_out
)
select
    row_value, col_value, row_order, col_order, row_other, col_other, letters, __RATES__, left_out
from cells
join row_orders using (row_value)
join col_orders using (col_value)
cross join coverage
order by row_order, col_order
