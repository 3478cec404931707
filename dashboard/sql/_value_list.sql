-- A list dimension's values, one row each: an empty list gives one row of __EMPTY__ (the
-- dimension's "(none)" label, a bound parameter), a NULL list none. Expanded by
-- queries.shape_sql (see _value_scalar.sql).
unnest(case when len(__SOURCE__) = 0 then [__EMPTY__::varchar] else __SOURCE__ end)
