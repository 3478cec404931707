-- A scalar dimension's value as a list of one (text; [NULL] when none), so that compare.sql
-- asks list_contains of every shape. Expanded by queries.shape_sql for __GROUP_SET__.
[__SOURCE__::varchar]
