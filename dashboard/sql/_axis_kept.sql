-- An axis of crosstab_axes_bits.sql ranked: its values (__AXIS___counted: _axis_<shape>.sql)
-- by items, ties by value, as crosstab_axes.sql ranks them; __AXIS___kept the kept values in
-- axis order (top; by rank when $__AXIS___by_count, else by value) and their bits or'ed
-- (mask: none for a scalar). Expanded by queries.pattern_sql.
__AXIS___ranked as (
    select
        value,
        bit_or(bit) as bit,
        row_number() over (order by sum(n) desc, value) as axis_rank
    from __AXIS___counted
    group by value
),
__AXIS___kept as (
    select
        list(value order by case when $__AXIS___by_count::boolean then axis_rank end, value)
            as top,
        coalesce(bit_or(bit), 0::ubigint) as mask
    from __AXIS___ranked
    where axis_rank <= __TOP_N__::integer
)
