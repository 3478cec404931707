-- A scalar axis's part of a pattern of crosstab_bits.sql (crosstab_axes_bits.sql counts
-- them): its kept value's position, NULL for every other value (one place).
list_position(__AXIS___kept.top, __AXIS___value)
