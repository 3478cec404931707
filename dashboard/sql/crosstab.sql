-- Cross-tab of two dimensions: outcomes per (row value, column value) under the filters.
-- __ROW__ and __COL__ are item_facts columns (constants from the dimension registry);
-- __ROW_VALUE__ / __COL_VALUE__ turn each into one value per row by its shape (_value_scalar.sql:
-- the value; _value_list.sql: each value of the list, an empty list under $row_empty /
-- $col_empty, a NULL list left out), so a list axis overlaps: an item counts under each pair
-- of its values, once per cell, also in the $other cells. Items without a value on either side
-- are left out (counted in left_out). Each axis keeps its $top_rows / $top_cols values with
-- the most items and groups the rest under $other; *_order is the axis order (most items
-- first when $row_by_count / $col_by_count, else by value), $other last. Items are counted
-- through _item_count_<one|many>.sql and _item_rows_<one|many>.sql: with two scalar axes an
-- item is one pair, and the distinct counts (most of the time at 4M items) are not needed.
with
filtered as (
    select letter_key, item_no, __ROW__ as row_source, __COL__ as col_source, overturned
    from item_facts
    where __FILTERS__
),
-- Two steps: two unnests in one select would be zipped, not crossed.
row_exploded as (
    select letter_key, item_no, __ROW_VALUE__ as row_key, col_source, overturned
    from filtered
),
pairs as (
    select letter_key, item_no, row_key, col_key, overturned
    from (
        select letter_key, item_no, row_key, __COL_VALUE__ as col_key, overturned
        from row_exploded
        where row_key is not null
    )
    where col_key is not null
),
row_ranked as (
    select
        row_key,
        row_number() over (order by __ITEM_COUNT__ desc, row_key)
            as row_rank
    from pairs
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
    select
        col_key,
        row_number() over (order by __ITEM_COUNT__ desc, col_key)
            as col_rank
    from pairs
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
    select __ITEM_ROWS__
        pairs.letter_key,
        pairs.item_no,
        row_axis.row_value,
        col_axis.col_value,
        row_axis.row_order,
        col_axis.col_order,
        row_axis.row_other,
        col_axis.col_other,
        pairs.overturned
    from pairs
    join row_axis using (row_key)
    join col_axis using (col_key)
),
cells as (
    select
        row_value,
        col_value,
        min(row_order) as row_order,
        min(col_order) as col_order,
        bool_or(row_other) as row_other,
        bool_or(col_other) as col_other,
        count(*) as n,
        count(*) filter (where overturned) as overturned,
        count(distinct letter_key) as letters
    from labelled
    group by row_value, col_value
),
coverage as (
    select
        (select count(*) from filtered)
        - (select __ITEM_COUNT__ from pairs) as left_out
)
select
    row_value, col_value, row_order, col_order, row_other, col_other, letters, __RATES__, left_out
from cells, coverage
order by row_order, col_order
