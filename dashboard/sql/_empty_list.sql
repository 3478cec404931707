-- An item whose list __COLUMN__ is empty. Its bits (item_facts' <column>_bits, 0 whenever
-- the list is empty: etl/warehouse/derived.py) are tested first, so the list itself is read
-- only for the items without bits: at 4M items 40-50 ms less a filtered rates query that
-- counts the empty lists apart (rates_list.sql, _value_rows_list.sql; queries.empty_list, which
-- tests the length alone where the warehouse has no bits for the list).
(__COLUMN___bits = 0 and len(__COLUMN__) = 0)
