-- Whether a scalar dimension has a value (a row of _value_scalar.sql). Expanded by
-- queries.shape_sql for __ROW_HAS__, __COL_HAS__ (crosstab.sql).
__SOURCE__ is not null
