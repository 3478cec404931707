-- A list axis of crosstab_axes_bits.sql, its values counted from the patterns' bits
-- (queries.pattern_sql expands it for the row or the column: __AXIS__ row or col, __SOURCE__
-- its item_facts column; _axis_columns_list.sql its columns of the patterns):
-- __AXIS___counted, ranked and kept by _axis_kept.sql.
-- A value is counted by its bit where the bit is its own ($__AXIS___own); the values that
-- share one, from the lists of the items holding a shared bit ($__AXIS___shared: those bits,
-- a few percent of the items); an empty list under $__AXIS___empty, with the items of a value
-- of that name (one key, as in crosstab_axes.sql).
__AXIS___dictionary as (
    select
        unnest($__AXIS___values::varchar[]) as value,
        unnest($__AXIS___value_bits::ubigint[]) as bit,
        unnest($__AXIS___own::boolean[]) as own
),
__AXIS___shared as (
    select value, count(*) as n
    from (
        select unnest(__SOURCE__) as value
        from item_facts
        where
            $__AXIS___shared::ubigint <> 0
            and (__SOURCE___bits & $__AXIS___shared::ubigint) <> 0
            and __FILTERS__ and __ROW_HAS__ and __COL_HAS__
    )
    where value in (select value from __AXIS___dictionary where not own)
    group by value
),
__AXIS___counted as (
    select value, bit, sum(n) as n
    from __AXIS___dictionary
    join patterns on (patterns.__AXIS___bits & __AXIS___dictionary.bit) <> 0
    where __AXIS___dictionary.own
    group by all
    union all
    select value, 0::ubigint, n
    from __AXIS___shared
    union all
    select $__AXIS___empty::varchar, 0::ubigint, sum(n)
    from patterns
    where __AXIS___none
    having count(*) > 0
)
