-- The agreement table of source_concordance.sql and source_concordance_pairs.sql from their
-- counts (maximus_source, n, same): the share of n where the claims administrator cited the
-- same source, with its Wilson bounds; 'All sources' first, then most items first.
select
    maximus_source,
    n,
    same,
    same / nullif(n, 0) as same_rate,
    wilson_low(same, n) as same_lower,
    wilson_high(same, n) as same_upper,
    n < $small_n as small_sample
from counts
order by maximus_source = 'All sources' desc, n desc, maximus_source
