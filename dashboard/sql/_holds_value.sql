-- Whether an item's values (__SET__: _set_<shape>.sql) hold the value $__PARAM__; a list
-- value with a bit of its own is asked of the item's bits instead (_filter_list_bits.sql:
-- queries.holds_value says which).
list_contains(__SET__, $__PARAM__::varchar)
