-- An item's own list axis's empty list where the item is its letter's first with one (its
-- one flag in __SOURCE___fresh), as the bit of the empty label's place among the kept values
-- ($__AXIS___fresh_masks; crosstab_bits.sql's __PATTERN_FRESH__, with _fresh_list.sql's).
case
    when len(__SOURCE__) = 0 and __SOURCE___fresh[1]
        then ($__AXIS___fresh_masks::ubigint[])[list_position($__AXIS___top::varchar[], $__AXIS___empty::varchar)]
    else 0::ubigint
end
