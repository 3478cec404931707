-- A multiselect filter on a scalar column: the item's value is one of the selected values.
($__PARAM__::varchar[] is null or list_contains($__PARAM__::varchar[], __COLUMN__::varchar))
