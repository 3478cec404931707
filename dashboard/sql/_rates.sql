-- Rate columns over a relation with columns n (items) and overturned (items overturned).
-- Expanded where a query says __RATES__; wilson_lower/upper are macros from etl/sql/views.sql.
n::bigint as n,
overturned::bigint as overturned,
(n - overturned)::bigint as upheld,
overturned / nullif(n, 0) as overturn_rate,
wilson_lower(overturned, n) as overturn_lower,
wilson_upper(overturned, n) as overturn_upper,
(n - overturned) / nullif(n, 0) as uphold_rate,
1 - wilson_upper(overturned, n) as uphold_lower,
1 - wilson_lower(overturned, n) as uphold_upper,
n < $small_n as small_sample
