-- The selected values of a list filter whose bit no other value of that list shares, as one
-- test of the item's bits (item_facts' <column>_bits, etl/warehouse/derived.py): $..._mask ors
-- their bits (queries.bind_value_bits). At 4M items two to five times faster than reading the list.
(__COLUMN___bits & $__PARAM___mask::ubigint) <> 0
