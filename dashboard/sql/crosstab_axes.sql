-- The two axes of a cross-tab (crosstab.sql counts its cells): of each axis, the $top_rows /
-- $top_cols values with the most items among the items that have a value on both sides (ties
-- by value), as a list in axis order (by rank when $row_by_count / $col_by_count, else by
-- value); the other values are grouped by crosstab.sql.
-- __ROW__ and __COL__ are item_facts columns (constants from the dimension registry);
-- __ROW_VALUE__ / __COL_VALUE__ turn each into one value per row by its shape (_value_scalar.sql:
-- the value; _value_list.sql: each value of the list, an empty list under $row_empty /
-- $col_empty), and __ROW_HAS__ / __COL_HAS__ (_has_<shape>.sql) say whether an item has a value
-- at all. left_out: the items under the filters without a value on either side: the items under
-- the filters (__FILTERED_ITEMS__: $filtered_items when the marts hold them, else a count)
-- less those with both (__PAIRED_ITEMS__: a scalar axis's ranked counts summed, each such
-- item holding one value of it; else a count of paired). One row.
-- paired is not materialized: read twice (each axis), and once more for left_out when neither
-- axis is scalar; materialized, its lists held in memory spilled under the dashboard's 512 MB
-- pool (at 4M items the axes of reviewer specialty by state 1.7-1.9 s -> 0.26 s, drug by
-- reason 0.55 -> 0.30; single scalar axes the same).
with
paired as not materialized (
    select __ROW__ as row_source, __COL__ as col_source
    from item_facts
    where __FILTERS__ and __ROW_HAS__ and __COL_HAS__
),
row_ranked as (
    select row_key, count(*) as n, row_number() over (order by count(*) desc, row_key) as axis_rank
    from (select __ROW_VALUE__ as row_key from paired)
    where row_key is not null
    group by row_key
),
col_ranked as (
    select col_key, count(*) as n, row_number() over (order by count(*) desc, col_key) as axis_rank
    from (select __COL_VALUE__ as col_key from paired)
    where col_key is not null
    group by col_key
)
-- The kept values in their own type (no cast per item in crosstab.sql); NULL when none.
-- Axis order: by rank, or (the ranks left NULL) by value.
select
    (
        select list(row_key order by case when $row_by_count::boolean then axis_rank end, row_key)
        from row_ranked
        where axis_rank <= $top_rows::integer
    ) as row_top,
    (
        select list(col_key order by case when $col_by_count::boolean then axis_rank end, col_key)
        from col_ranked
        where axis_rank <= $top_cols::integer
    ) as col_top,
    __FILTERED_ITEMS__ - __PAIRED_ITEMS__ as left_out
