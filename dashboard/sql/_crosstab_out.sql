-- The cells of a cross-tab (crosstab.sql, crosstab_bits.sql: `cells`, one row per pair of
-- places on the axes) with their values put back ($other beyond the kept ones), the rates and
-- $left_out (the axes' query's).
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
