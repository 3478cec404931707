-- A multiselect filter on a list column: the item's list holds any of the selected values.
-- __ANY_OF__ is a list_contains per selected value (_filter_list_value.sql, __I__ its place in
-- the list; twice as fast a row as list_filter), or _filter_list_any.sql for many values or
-- values not known when the text is built. __COMBINATIONS__ is _filter_list_combinations.sql
-- when a selected value is a combination.
($__PARAM__::varchar[] is null
 or __ANY_OF__
 __COMBINATIONS__)
