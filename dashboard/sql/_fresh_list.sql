-- An item's own list axis's bits of the kept values it is its letter's first with
-- (item_facts' __SOURCE___fresh_bits; crosstab_bits.sql's __PATTERN_FRESH__).
__SOURCE___fresh_bits & $__AXIS___mask::ubigint
