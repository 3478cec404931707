-- A list axis's columns of crosstab_bits.sql's patterns (queries.pattern_sql; __SOURCE__ the
-- item_facts column): its kept values' bits ($__AXIS___mask their or), whether it holds
-- another value (a bit of $__AXIS___rest_mask) and whether its list is empty.
__SOURCE___bits & $__AXIS___mask::ubigint as __AXIS___bits,
len(__SOURCE__) = 0 as __AXIS___none,
(__SOURCE___bits & $__AXIS___rest_mask::ubigint) <> 0 as __AXIS___rest
