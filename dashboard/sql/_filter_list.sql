-- A multiselect filter on a list column: the item's list holds any of the selected values. A
-- value "a + b" (a drug combination, e.g. Norco: "acetaminophen + hydrocodone") selects the
-- items whose list holds all of its parts.
($__PARAM__::varchar[] is null or list_has_any(__COLUMN__, $__PARAM__::varchar[])
 or list_bool_or(list_transform(
    (select list(string_split(v, ' + ')) from unnest($__PARAM__::varchar[]) as parts(v)
     where contains(v, ' + ')),
    lambda combination: list_has_all(__COLUMN__, combination))))
