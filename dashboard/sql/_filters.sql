-- The global filter predicate over item_facts, expanded where a query says __FILTERS__.
-- __DIMENSIONS__ is one clause per filter of the dimension registry (dashboard/dimensions.py),
-- each from _filter_scalar.sql, _filter_list.sql or _filter_range.sql, joined with "and".
-- Every selection is a bound parameter; NULL means the filter is off.
__DIMENSIONS__
and (not $exclude_synthetic::boolean or not synthetic)
