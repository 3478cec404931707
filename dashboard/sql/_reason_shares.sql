-- The shares of reason_by.sql and reason_by_pairs.sql: of a value's upheld items
-- (upheld_items), those giving the reason (upheld_with), with the Wilson bounds.
upheld_with / upheld_items as share,
wilson_low(upheld_with, upheld_items) as share_lower,
wilson_high(upheld_with, upheld_items) as share_upper,
upheld_items < $small_n as small_sample
