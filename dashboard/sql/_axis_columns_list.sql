-- A list axis's columns of crosstab_axes_bits.sql's patterns: its bits and whether its list is
-- empty (queries.pattern_sql; __SOURCE__ the item_facts column).
__SOURCE___bits as __AXIS___bits,
len(__SOURCE__) = 0 as __AXIS___none
