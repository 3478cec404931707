-- Whether a list dimension has a value (a row of _value_list.sql): a list with values, or an
-- empty one when it counts under a label (__EMPTY__). Expanded by queries.shape_sql.
(__SOURCE__ is not null and (len(__SOURCE__) > 0 or __EMPTY__::varchar is not null))
