-- The selected values of a list filter whose bit no other value of that list shares, as one
-- test of the item's bits (item_facts' <column>_bits, etl/warehouse/derived.py): $..._mask ors
-- their bits (queries.bind_value_bits). At 4M items two to five times faster than reading the list.
-- $..._low is the mask's lowest bit: an item holding one of them has bits at least that high, a
-- plain comparison DuckDB can apply in the scan (when the filter is this test alone, not or'ed
-- with its list's), where it applies one test of bits like the first but not two; under two
-- list filters the scan then reads the other columns of fewer items (at 4M items under a
-- reason and a guideline source, the Guidelines page's queries 210 -> 199 ms).
((__COLUMN___bits & $__PARAM___mask::ubigint) <> 0 and __COLUMN___bits >= $__PARAM___low::ubigint)
