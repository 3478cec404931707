-- A scalar axis's columns of crosstab_bits.sql's patterns, as a list axis's
-- (_pattern_list.sql): its value's place among the kept ones ($__AXIS___top) as a bit of its
-- own (queries.crosstab_masks gives the kept places' bits: 1, 2, 4, ...), another value as
-- the rest; never an empty list (a NULL value is no item of the cross-tab).
coalesce(1::ubigint << (list_position($__AXIS___top, __SOURCE__) - 1)::ubigint, 0::ubigint)
    as __AXIS___bits,
false as __AXIS___none,
list_position($__AXIS___top, __SOURCE__) is null as __AXIS___rest
