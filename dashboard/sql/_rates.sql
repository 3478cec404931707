-- Rate columns over a relation with columns n (items) and overturned (items overturned).
-- Expanded where a query says __RATES__; wilson_low/high are the dashboard's macros (_macros.sql).
n::bigint as n,
overturned::bigint as overturned,
(n - overturned)::bigint as upheld,
overturned / nullif(n, 0) as overturn_rate,
wilson_low(overturned, n) as overturn_lower,
wilson_high(overturned, n) as overturn_upper,
(n - overturned) / nullif(n, 0) as uphold_rate,
1 - wilson_high(overturned, n) as uphold_lower,
1 - wilson_low(overturned, n) as uphold_upper,
n < $small_n as small_sample
