-- A value "a + b" (a drug combination, e.g. Norco: "acetaminophen + hydrocodone") of a list
-- filter selects the items whose list holds all of its parts (part of _filter_list.sql).
or list_bool_or(list_transform(
    (select list(string_split(v, ' + ')) from unnest($__PARAM__::varchar[]) as parts(v)
     where contains(v, ' + ')),
    lambda combination: list_has_all(__COLUMN__, combination)))
