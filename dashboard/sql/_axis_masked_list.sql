-- A list axis's part of a pattern of crosstab_bits.sql (crosstab_axes_bits.sql counts them):
-- its kept values' bits, whether it holds another value, whether its list is empty.
__AXIS___bits & __AXIS___kept.mask,
(__AXIS___bits & ~__AXIS___kept.mask) <> 0,
__AXIS___none
