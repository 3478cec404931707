-- One selected value of a list filter (see _filter_list.sql).
list_contains(__COLUMN__, ($__PARAM__::varchar[])[__I__])
