-- A list dimension's values (an empty list: [__EMPTY__], the dimension's "(none)" label, a bound
-- parameter). Expanded by queries.shape_sql for __GROUP_SET__ (compare.sql).
case when len(__SOURCE__) = 0 then [__EMPTY__::varchar] else __SOURCE__ end
