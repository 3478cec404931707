-- A scalar dimension's value, one per row (NULL: no value). Expanded by queries.shape_sql for
-- __ROW_VALUE__, __COL_VALUE__ (crosstab.sql) and __STRATUM_VALUE__ (compare.sql); __SOURCE__
-- is the column (or a query's alias of it).
__SOURCE__
