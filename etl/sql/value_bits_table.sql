-- The dictionary of the list filters' value bits (etl/sql/value_bits.sql fills it): one row per
-- value of a list column of item_facts, its bit in `<list_column>_bits`.
create or replace table value_bits (list_column varchar, value varchar, bit utinyint)
