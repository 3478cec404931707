-- The dimensions the facet marts hold (the registry's, as of the last ingest): every one in
-- facet_counts; paired: in facet_pairs too (the filters); self_paired: paired with itself too
-- (a list filter, since a build that counts those pairs).
with
counted as (
    select distinct dimension from facet_counts
),
paired as (
    select dimension, bool_or(other = dimension) as self_paired
    from facet_pairs
    group by dimension
)
select
    counted.dimension,
    paired.dimension is not null as paired,
    coalesce(paired.self_paired, false) as self_paired
from counted
left join paired using (dimension)
