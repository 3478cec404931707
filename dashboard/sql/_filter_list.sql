-- A multiselect filter on a list column: the item's list holds any of the selected values.
($__PARAM__::varchar[] is null or list_has_any(__COLUMN__, $__PARAM__::varchar[]))
