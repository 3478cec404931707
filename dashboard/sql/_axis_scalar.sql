-- A scalar axis of crosstab_axes_bits.sql, its values counted from the patterns (no bits):
-- __AXIS___counted, ranked and kept by _axis_kept.sql (as crosstab_axes.sql ranks them).
__AXIS___counted as (
    select __AXIS___value as value, 0::ubigint as bit, sum(n) as n
    from patterns
    group by __AXIS___value
)
