-- An item's own scalar axis's bit of its kept value where the item is its letter's first
-- with it (__SOURCE___fresh), as _pattern_scalar.sql gives it; else none (crosstab_bits.sql's
-- __PATTERN_FRESH__).
case
    when __SOURCE___fresh
        then coalesce(1::ubigint << (list_position($__AXIS___top, __SOURCE__) - 1)::ubigint, 0::ubigint)
    else 0::ubigint
end
