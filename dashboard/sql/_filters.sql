-- The global filter predicate over item_facts, expanded where a query says __FILTERS__.
-- __CLAUSES__ is one clause per filter that is on, joined with "and": the dimension registry's
-- (dashboard/dimensions.py; _filter_scalar.sql, _filter_list.sql, _filter_range.sql), the
-- search (search_filter.sql) and the demo-letter switch (_filter_synthetic.sql). Every
-- selection is a bound parameter.
__CLAUSES__
