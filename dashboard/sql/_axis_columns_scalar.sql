-- A scalar axis's column of crosstab_axes_bits.sql's patterns: its value (queries.pattern_sql).
__SOURCE__ as __AXIS___value
