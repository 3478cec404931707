-- A scalar axis's place (crosstab.sql): the value's position among the kept values __TOP__
-- (a bound list), one past them for any other value. Expanded by queries.shape_sql for
-- __ROW_PLACES__ / __COL_PLACES__; _place_scalar.sql takes it as it is.
coalesce(list_position(__TOP__, __SOURCE__), len(__TOP__) + 1)
